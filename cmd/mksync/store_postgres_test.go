package main

import (
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/keyring"
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
