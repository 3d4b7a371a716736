package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/postgres/pgtest"
)

// A worker SIGKILLed at random points of a bulk push is restarted each
// time; the run resumes from its checkpoint and ends with exact counts, and
// the simulator holds every contact exactly once. On SQLite the worker is
// killed once, on PostgreSQL three times.
func TestWorkerCrashResumesBulkRun(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: runs processes for tens of seconds")
	}
	t.Run("sqlite", func(t *testing.T) {
		runCrashTest(t, "sqlite:"+filepath.Join(t.TempDir(), "mksync.db"), nil, 1)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := postgresDSN(t)
		key := testEncryptionKey(t)
		t.Setenv("MKSYNC_ENCRYPTION_KEY", key)
		runCrashTest(t, dsn, []string{"MKSYNC_ENCRYPTION_KEY=" + key}, 3)
	})
}

// runCrashTest pushes crashRecords contacts in one bulk run on the database
// dsn names, worked by `mksync worker` processes (env added to theirs), and
// SIGKILLs the working process kills times at random points, starting a new
// one after each kill.
func runCrashTest(t *testing.T, dsn string, env []string, kills int) {
	n := crashRecords(t)
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	// Kill points: run progress (records checkpointed) in [n/10, 8n/10],
	// each followed by a random pause so that the kill lands in the middle
	// of a batch rather than just after a checkpoint.
	points := make([]int, kills)
	for i := range points {
		points[i] = n/10 + rng.IntN(max(1, 7*n/10))
	}
	slices.Sort(points)

	base := startFake(t, []string{"16:8899"}, "--latency", "2ms")
	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "16:8899", n)
	const batch = 50 // the fixture's batch size

	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))

	started := time.Now()
	w, _ := startProc(t, "worker-1", "worker started", env, workerArgs(dsn, "--no-migrate")...)
	var killedAt []string
	last := 0 // records checkpointed at the last kill
	for i, point := range points {
		// Wait for the point, and for this process to have made progress
		// of its own (a point below the last kill's is reached at once).
		goal := max(point, last+batch)
		var cur mksync.SyncRun
		require.Eventually(t, func() bool {
			var err error
			cur, err = st.FindSyncRun(context.Background(), f.tenantID, run.ID)
			require.NoError(t, err)
			return cur.Processed >= goal || cur.Status.Final()
		}, 120*time.Second, 10*time.Millisecond, "kill %d: run at %d of %d", i+1, cur.Processed, goal)
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		w.kill()
		atKill, err := st.FindSyncRun(t.Context(), f.tenantID, run.ID)
		require.NoError(t, err)
		require.False(t, atKill.Status.Final(), "kill %d: the run finished before the kill (seed %d)", i+1, seed)
		killedAt = append(killedAt, fmt.Sprintf("%d after %v", atKill.Processed, time.Since(started).Round(time.Millisecond)))
		last = atKill.Processed
		w, _ = startProc(t, fmt.Sprintf("worker-%d", i+2), "worker started", env, workerArgs(dsn, "--no-migrate")...)
	}
	lastKill := time.Now()
	// A killed worker's job waits for River's rescuer (which runs on the
	// leader, itself re-elected after a kill) before another worker takes
	// it up: about a minute per kill on PostgreSQL. The bound is generous
	// so that a loaded CI machine does not turn that wait into a failure.
	got := waitRunFinal(t, st, f.tenantID, run.ID, time.Duration(kills)*150*time.Second)
	finished := time.Since(started)
	w.stop()

	checkRunExact(t, got, n)
	// Records redone after a resume count as created (a partner an earlier
	// attempt made is adopted) or skipped (mapped and unchanged): never as
	// updates or conflicts.
	require.Zero(t, got.Result.Updated, "result %+v", got.Result)
	require.Zero(t, got.Result.Conflicts, "result %+v", got.Result)
	require.Equal(t, n, got.Result.Created+got.Result.Skipped)
	fig := checkPushed(t, st, base, f)
	t.Logf("crash (%s, seed %d): %d contacts, %d SIGKILLs at run progress %v; finished in %v (%v after the last kill); "+
		"created %d skipped %d updated %d failed %d; simulator: %d partners, %d add_partner calls, %d duplicates, %d missing",
		strings.SplitN(dsn, ":", 2)[0], seed, n, kills, killedAt, finished.Round(time.Millisecond), time.Since(lastKill).Round(time.Millisecond),
		got.Result.Created, got.Result.Skipped, got.Result.Updated, got.Result.Failed, fig.partners, fig.creates, fig.duplicates, fig.missing)
}

// A worker stopped (SIGTERM) in the middle of a bulk push ends its slice at
// a batch boundary; another one continues from the checkpoint: exact
// counts, every contact once in the simulator.
func TestWorkerStopResumesBulkRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	const n = 1500
	base := startFake(t, []string{"16:8899"}, "--latency", "2ms")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "16:8899", n)
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))

	w, _ := startProc(t, "worker-1", "worker started", nil, workerArgs(dsn, "--no-migrate", "--bulk-slice", "1m", "--bulk-timeout", "2m", "--rescue-stuck-after", "3m", "--stop-timeout", "30s")...)
	var atStop mksync.SyncRun
	require.Eventually(t, func() bool {
		var err error
		atStop, err = st.FindSyncRun(context.Background(), f.tenantID, run.ID)
		require.NoError(t, err)
		return atStop.Processed >= n/3
	}, 120*time.Second, 20*time.Millisecond)
	stopped := time.Now()
	w.stop()
	t.Logf("stop: SIGTERM at %d processed; the worker exited after %v", atStop.Processed, time.Since(stopped).Round(time.Millisecond))
	mid, err := st.FindSyncRun(t.Context(), f.tenantID, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunRunning, mid.Status)
	require.Less(t, mid.Processed, n)

	startProc(t, "worker-2", "worker started", nil, workerArgs(dsn, "--no-migrate")...)
	got := waitRunFinal(t, st, f.tenantID, run.ID, 120*time.Second)
	checkRunExact(t, got, n)
	checkPushed(t, st, base, f)
	errs, _, err := st.FindErrorRecords(t.Context(), f.tenantID, mksync.ErrorFilter{})
	require.NoError(t, err)
	require.Empty(t, errs, "a stop is not a failure")
}

// With one bulk worker, a small tenant's run queued behind a big import
// finishes while the import still runs: the import yields after each slice.
func TestWorkerBulkFairness(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	base := startFake(t, []string{"41:k41", "42:k42"}, "--latency", "2ms")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
	st := openTestStore(t, dsn)
	big := newCRMFixture(t, st, base, "41:k41", 1000)
	small := newCRMFixture(t, st, base, "42:k42", 30)
	q := enqueuer(t, st)
	bigRun := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, q.StartSync(t.Context(), big.tenantID, &bigRun, nil))

	startProc(t, "worker", "worker started", nil, workerArgs(dsn, "--no-migrate", "--workers", "1", "--bulk-slice", "300ms")...)
	require.Eventually(t, func() bool {
		r, err := st.FindSyncRun(context.Background(), big.tenantID, bigRun.ID)
		require.NoError(t, err)
		return r.Processed > 0
	}, 60*time.Second, 20*time.Millisecond)
	smallRun := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI}
	require.NoError(t, q.StartSync(t.Context(), small.tenantID, &smallRun, nil))
	checkRunExact(t, waitRunFinal(t, st, small.tenantID, smallRun.ID, 60*time.Second), 30)
	bigNow, err := st.FindSyncRun(t.Context(), big.tenantID, bigRun.ID)
	require.NoError(t, err)
	t.Logf("fairness: the small run finished with the import at %d/%d", bigNow.Processed, 1000)
	require.False(t, bigNow.Status.Final(), "the small run finished while the import ran")
	checkRunExact(t, waitRunFinal(t, st, big.tenantID, bigRun.ID, 120*time.Second), 1000)
	checkPushed(t, st, base, big)
	checkPushed(t, st, base, small)
}

// A run whose records Metakocka refuses for bad credentials is stopped
// after its first batches, marked failed, and alerted on — not sent record
// by record to be refused.
func TestRejectedCredentialsStopRun(t *testing.T) {
	base := startFake(t, []string{"16:8899"})
	st := openTestStore(t, "sqlite:"+filepath.Join(t.TempDir(), "mksync.db"))
	f := newCRMFixture(t, st, base, "16:not-the-secret", 1000)
	fl := jobFlags{bulkWorkers: 1, interactiveWorkers: 1, bulkSlice: time.Minute, bulkTimeout: 2 * time.Minute,
		jobTimeout: time.Minute, rescueAfter: 5 * time.Minute, stopTimeout: time.Second,
		pacing: metakocka.PacingConfig{RequestsPerSecond: 200}}
	o := fl.options(slog.New(slog.DiscardHandler))
	o.Store, o.NoMigrate = st, true
	a, err := app.Start(t.Context(), app.Config{}, o)
	require.NoError(t, err)
	defer a.Close()
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, a.Jobs.StartSync(t.Context(), f.tenantID, &run, nil))
	got := waitRunFinal(t, st, f.tenantID, run.ID, 60*time.Second)
	require.Equal(t, mksync.RunFailed, got.Status)
	refused := fakeCalls(t, base, "16", "add_partner", "auth_error") + fakeCalls(t, base, "16", "get_partner", "auth_error")
	t.Logf("rejected credentials: stopped at %d of 1000 contacts after %d refused calls", got.Processed, refused)
	require.Less(t, got.Processed, 1000, "stopped early")
	require.Eventually(t, func() bool {
		open, _, err := st.FindAlerts(t.Context(), f.tenantID, mksync.AlertOpen, mksync.Page{})
		require.NoError(t, err)
		return slices.ContainsFunc(open, func(a mksync.Alert) bool { return a.Key == alerts.RuleMetakockaAuth })
	}, 10*time.Second, 50*time.Millisecond)
}

// postgresDSN returns a URL of the test server whose connections use a
// fresh schema (nothing migrated), with a pool big enough for workers.
func postgresDSN(t *testing.T) (dsn, schema string) {
	t.Helper()
	base := pgtest.URL(t)
	schema = pgtest.Schema(t, base)
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("pool_max_conns", "12")
	u.RawQuery = q.Encode()
	return u.String(), schema
}
