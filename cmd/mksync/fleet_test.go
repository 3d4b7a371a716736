package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/postgres/pgtest"
)

// Two worker processes on one PostgreSQL share the bulk runs: each works
// slices of them (a run moves between processes between slices), and every
// record is pushed exactly once.
func TestTwoWorkersSplitBulkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dsn, schema := postgresDSN(t)
	companies := []string{"21:k21", "22:k22", "23:k23", "24:k24"}
	base := startFake(t, companies, "--latency", "2ms")
	env := []string{"MKSYNC_ENCRYPTION_KEY=" + testEncryptionKey(t)}
	t.Setenv("MKSYNC_ENCRYPTION_KEY", strings.TrimPrefix(env[0], "MKSYNC_ENCRYPTION_KEY="))
	st := openTestStore(t, dsn)

	var fixtures []crmFixture
	var runs []mksync.SyncRun
	q := enqueuer(t, st)
	for _, c := range companies {
		f := newCRMFixture(t, st, base, c, 400)
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, q.StartSync(t.Context(), f.tenantID, &run, nil))
		fixtures, runs = append(fixtures, f), append(runs, run)
	}
	args := workerArgs(dsn, "--no-migrate", "--workers", "1", "--bulk-slice", "300ms")
	a, _ := startProc(t, "worker-a", "worker started", env, args...)
	b, _ := startProc(t, "worker-b", "worker started", env, args...)
	for i, f := range fixtures {
		checkRunExact(t, waitRunFinal(t, st, f.tenantID, runs[i].ID, 120*time.Second), len(f.contacts))
		checkPushed(t, st, base, f)
	}
	a.stop()
	b.stop()

	// Who worked what: River appends the client id to attempted_by at
	// every fetch of a job (every slice).
	conn, err := pgx.Connect(t.Context(), pgtest.URL(t))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SELECT attempted_by FROM "+pgx.Identifier{schema, "river_job"}.Sanitize()+" WHERE kind = 'mksync_sync_run'")
	require.NoError(t, err)
	clients := map[string]int{}
	shared := 0
	for rows.Next() {
		var by []string
		require.NoError(t, rows.Scan(&by))
		distinct := map[string]bool{}
		for _, c := range by {
			clients[c]++
			distinct[c] = true
		}
		if len(distinct) > 1 {
			shared++
		}
	}
	require.NoError(t, rows.Err())
	t.Logf("slices per worker process: %v; runs worked by both processes: %d of %d", clients, shared, len(runs))
	require.Len(t, clients, 2, "both processes worked bulk slices")
}

// testEncryptionKey is a key for MKSYNC_ENCRYPTION_KEY, so that processes
// on one PostgreSQL share it.
func testEncryptionKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Three processes started at the same moment on a fresh database migrate
// it once between them, and all serve: a run queued afterwards completes.
func TestFleetStartsOnFreshDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dsn, schema := postgresDSN(t)
	key := testEncryptionKey(t)
	env := []string{"MKSYNC_ENCRYPTION_KEY=" + key}
	t.Setenv("MKSYNC_ENCRYPTION_KEY", key)
	base := startFake(t, []string{"31:k31"})

	var procs []*proc
	for i := range 3 { // Start returns at once: the three begin within milliseconds
		procs = append(procs, launchProc(t, fmt.Sprintf("fleet-%d", i), env, workerArgs(dsn)...))
	}
	for _, p := range procs {
		p.waitFor("worker started")
	}

	conn, err := pgx.Connect(t.Context(), pgtest.URL(t))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var gooseRows, gooseVersions, riverRows, riverVersions int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version_id) FROM "+pgx.Identifier{schema, "goose_db_version"}.Sanitize()).Scan(&gooseRows, &gooseVersions))
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version) FROM "+pgx.Identifier{schema, "river_migration"}.Sanitize()).Scan(&riverRows, &riverVersions))
	require.Equal(t, gooseVersions, gooseRows, "each app migration applied once")
	require.Equal(t, riverVersions, riverRows, "each River migration applied once")
	require.Positive(t, riverVersions)

	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "31:k31", 120)
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))
	checkRunExact(t, waitRunFinal(t, st, f.tenantID, run.ID, 60*time.Second), 120)
	checkPushed(t, st, base, f)
	for _, p := range procs {
		p.stop()
	}
}
