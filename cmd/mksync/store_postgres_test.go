package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
)

// The same commands against PostgreSQL (MKSYNC_TEST_POSTGRES_URL; skipped
// without it unless MKSYNC_REQUIRE_POSTGRES=1).
func TestCommandsOnPostgres(t *testing.T) {
	cliEnv(t)
	db := pgCLIDatabase(t)

	out := mustRun(t, "", "migrate", "status", "--db", db)
	require.Contains(t, out, "00001_init.sql")
	require.Contains(t, out, "pending")
	checkRiverMigrations(t, out, "pending", riverMigrations(t, riverpgxv5.New(nil)))
	mustRun(t, "", "migrate", "--db", db)
	out = mustRun(t, "", "migrate", "status", "--db", db)
	require.NotContains(t, out, "  pending  ") // the state column (a River migration's name has the word)
	checkRiverMigrations(t, out, "applied", riverMigrations(t, riverpgxv5.New(nil)))

	id := strings.TrimSpace(mustRun(t, "", "tenant", "create", "--name", "PG tenant", "--db", db))
	require.NotEmpty(t, id)
	require.Contains(t, mustRun(t, "", "tenant", "list", "--db", db), id)
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--tenant", id, "--db", db))
	require.True(t, strings.HasPrefix(token, "mks_"))
	mustRun(t, "pg-secret", "credentials", "set", "--tenant", id, "--company-id", "1", "--db", db)
	require.Equal(t, "1\n", mustRun(t, "", "credentials", "rotate-key", "--db", db))
}

// A process with job workers sizes its PostgreSQL pool from its own worker
// counts when the URL has no pool_max_conns (as the README's does not
// need to), so the default needs no warning; a pool_max_conns in the URL
// is kept, and one too small for the workers is warned about.
func TestWorkerPoolSizedFromWorkers(t *testing.T) {
	base := pgCLIDatabase(t)
	defaults := jobFlags{bulkWorkers: jobs.DefaultBulkWorkers, interactiveWorkers: jobs.DefaultInteractiveWorkers}
	for _, tc := range []struct {
		name     string
		url      string
		flags    jobFlags
		wantPool int32
		warns    bool
	}{
		{"defaults, URL silent", base, defaults, int32(jobs.DefaultBulkWorkers + jobs.DefaultInteractiveWorkers + 6), false},
		{"more workers, URL silent", base, jobFlags{bulkWorkers: 16, interactiveWorkers: 4}, 26, false},
		{"URL says enough", base + "&pool_max_conns=40", defaults, 40, false},
		{"URL says too few", base + "&pool_max_conns=5", defaults, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := dbFlags{db: tc.url, poolConns: tc.flags.poolConns()}
			st, err := f.open(t.Context(), streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			require.Equal(t, tc.wantPool, st.(*postgres.DB).Pool().Config().MaxConns)
			logs := &observe.LogBuffer{}
			cfg := tc.flags.config(st, nil, slog.New(slog.NewTextHandler(logs, nil)))
			_, err = newJobs(st, cfg, metakocka.PacingConfig{}, slog.New(slog.NewTextHandler(logs, nil)))
			require.NoError(t, err)
			require.Equal(t, tc.warns, strings.Contains(logs.String(), "pool is small"), "logs: %s", logs)
		})
	}
}

// pgCLIDatabase returns the URL of a fresh schema of the test database and
// sets an encryption key for the commands (after cliEnv, which clears it).
func pgCLIDatabase(t *testing.T) string {
	t.Helper()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	t.Setenv(keyring.EnvKey, keyring.EncodeKey(key).Reveal())
	return url + sep + "search_path=" + schema
}
