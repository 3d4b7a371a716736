package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/sqlite"
)

// runCLI runs mksync in-process with stdin and returns stdout and stderr.
func runCLI(t testing.TB, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// mustRun runs mksync and fails the test on error.
func mustRun(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := runCLI(t, stdin, args...)
	require.NoError(t, err, "mksync %v\nstderr: %s", args, errOut)
	return out
}

// cliEnv clears the variables that would point the CLI elsewhere.
func cliEnv(t testing.TB) {
	t.Setenv("MKSYNC_DB", "")
	t.Setenv(keyring.EnvKey, "")
	t.Setenv(keyring.EnvOldKeys, "")
}

// openDirect opens the CLI's database the way another process would.
func openDirect(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	kr, err := keyring.LoadFile(keyring.KeyFileFor(path))
	require.NoError(t, err)
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Sealer: kr})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestMigrateCommand(t *testing.T) {
	cliEnv(t)
	path := filepath.Join(t.TempDir(), "m.db")
	db := "sqlite:" + path

	out := mustRun(t, "", "migrate", "status", "--db", db)
	require.Contains(t, out, "00001_init.sql")
	require.Contains(t, out, "pending")
	checkRiverMigrations(t, out, "pending", riverMigrations(t, riversqlite.New(nil)))

	latest := latestMigration(t, "../../sqlite/migrations")
	out = mustRun(t, "", "migrate", "--db", db)
	require.Equal(t, fmt.Sprintf("database is at version %d\n", latest), out)
	out = mustRun(t, "", "migrate", "up", "--db", db)
	require.Equal(t, fmt.Sprintf("database is at version %d\n", latest), out)

	out = mustRun(t, "", "migrate", "status", "--db", db)
	require.Contains(t, out, "applied")
	require.NotContains(t, out, "  pending  ") // the state column (a River migration's name has the word)
	checkRiverMigrations(t, out, "applied", riverMigrations(t, riversqlite.New(nil)))

	_, _, err := runCLI(t, "", "migrate", "sideways", "--db", db)
	require.Error(t, err)
}

// riverMigrations are the migrations River bundles for driver.
func riverMigrations[TTx any](t *testing.T, driver riverdriver.Driver[TTx]) []rivermigrate.Migration {
	t.Helper()
	m, err := rivermigrate.New(driver, nil)
	require.NoError(t, err)
	return m.AllVersions()
}

// checkRiverMigrations checks that `migrate status` output lists every
// migration of want (River's for the database), each in state.
func checkRiverMigrations(t *testing.T, out, state string, want []rivermigrate.Migration) {
	t.Helper()
	require.NotEmpty(t, want)
	got := map[string]string{}           // "version name" -> state
	cols := regexp.MustCompile(`\s{2,}`) // tabwriter pads columns with 2+ spaces; names have single ones
	for _, line := range strings.Split(out, "\n") {
		f := cols.Split(strings.TrimSpace(line), -1)
		if len(f) >= 4 && f[0] == migrationSetRiver {
			got[f[1]+" "+f[2]] = f[3]
		}
	}
	require.Len(t, got, len(want), "river rows in:\n%s", out)
	for _, v := range want {
		require.Equal(t, state, got[fmt.Sprintf("%d %s", v.Version, v.Name)], "river migration %d %s in:\n%s", v.Version, v.Name, out)
	}
}

func TestTenantTokenCredentialsCommands(t *testing.T) {
	cliEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "mksync.db")
	db := "sqlite:" + path

	// tenant create prints only the id.
	out := mustRun(t, "", "tenant", "create", "--name", "Acme d.o.o.", "--db", db)
	id := strings.TrimSpace(out)
	require.Equal(t, id+"\n", out)
	_, err := uuid.Parse(id)
	require.NoError(t, err)
	info, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "the data folder is private")
	key, err := os.Stat(keyring.KeyFileFor(path))
	require.NoError(t, err, "a key file is generated beside the database")
	require.Equal(t, os.FileMode(0o600), key.Mode().Perm())

	// MKSYNC_DB is honoured like --db.
	t.Setenv("MKSYNC_DB", db)
	mustRun(t, "", "tenant", "create", "--name", "Second")
	out = mustRun(t, "", "tenant", "list")
	require.Contains(t, out, id)
	require.Contains(t, out, "Acme d.o.o.")
	require.Contains(t, out, "Second")
	t.Setenv("MKSYNC_DB", "")

	_, _, err = runCLI(t, "", "tenant", "create", "--db", db)
	require.Error(t, err, "--name is required")

	// token create prints only the token, once.
	out = mustRun(t, "", "token", "create", "--tenant", id, "--name", "crm", "--db", db)
	token := strings.TrimSpace(out)
	require.Equal(t, token+"\n", out)
	require.True(t, strings.HasPrefix(token, mksync.TokenPrefix))

	direct := openDirect(t, path)
	tok, err := direct.AuthenticateAPIToken(t.Context(), mksync.HashToken(token), time.Now())
	require.NoError(t, err)
	require.Equal(t, id, tok.TenantID)
	require.Equal(t, "crm", tok.Name)

	out = mustRun(t, "", "token", "list", "--tenant", id, "--db", db)
	require.Contains(t, out, tok.ID)
	require.NotContains(t, out, token, "list never shows tokens")

	mustRun(t, "", "token", "revoke", "--tenant", id, tok.ID, "--db", db)
	_, err = direct.AuthenticateAPIToken(t.Context(), mksync.HashToken(token), time.Now())
	require.Equal(t, mksync.EUNAUTHORIZED, mksync.ErrorCode(err))
	_, _, err = runCLI(t, "", "token", "revoke", "--tenant", id, "0190f3c4-0000-7000-8000-0000000000ff", "--db", db)
	require.Error(t, err)
	_, _, err = runCLI(t, "", "token", "create", "--db", db)
	require.ErrorContains(t, err, "--tenant")
	_, _, err = runCLI(t, "", "token", "create", "--tenant", "0190f3c4-0000-7000-8000-0000000000ff", "--db", db)
	require.Error(t, err, "unknown tenant")

	// credentials set reads the secret from stdin, never argv.
	const secret = "mk-secret-0123456789-must-not-leak"
	out, errOut, err := runCLI(t, secret+"\n", "credentials", "set", "--tenant", id, "--company-id", "6371", "--db", db)
	require.NoError(t, err, errOut)
	require.Empty(t, out)
	require.NotContains(t, errOut, secret)
	c, err := direct.FindCredentials(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, secret, c.SecretKey.Reveal())
	require.Equal(t, "6371", c.CompanyID)
	require.Equal(t, mksync.DefaultMetakockaURL, c.BaseURL)
	hook := c.WebhookID

	_, _, err = runCLI(t, "", "credentials", "set", "--tenant", id, "--company-id", "6371", "--db", db)
	require.ErrorContains(t, err, "stdin")

	// Setting again keeps the webhook and, without --metakocka-url, the URL.
	mustRun(t, "second-secret", "credentials", "set", "--tenant", id, "--company-id", "6372", "--metakocka-url", "http://127.0.0.1:9", "--db", db)
	mustRun(t, "third-secret", "credentials", "set", "--tenant", id, "--company-id", "6373", "--db", db)
	c, err = direct.FindCredentials(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, "third-secret", c.SecretKey.Reveal())
	require.Equal(t, "http://127.0.0.1:9", c.BaseURL)
	require.Equal(t, hook, c.WebhookID)

	// No plaintext secret in the database files.
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.False(t, bytes.Contains(b, []byte("third-secret")))
		require.False(t, bytes.Contains(b, []byte(secret)))
	}

	// rotate-key adds a key to the file and re-seals every secret with it.
	before, err := keyring.LoadFile(keyring.KeyFileFor(path))
	require.NoError(t, err)
	out = mustRun(t, "", "credentials", "rotate-key", "--db", db)
	require.Equal(t, "1\n", out)
	after, err := keyring.LoadFile(keyring.KeyFileFor(path))
	require.NoError(t, err)
	require.Len(t, after.IDs(), len(before.IDs())+1)
	require.NotEqual(t, before.CurrentID(), after.CurrentID())
	fresh := openDirect(t, path)
	c, err = fresh.FindCredentials(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, "third-secret", c.SecretKey.Reveal())
	// Only the new key is needed now.
	newOnly, err := keyring.New(mustCurrentKey(t, keyring.KeyFileFor(path)))
	require.NoError(t, err)
	onlyNew, err := sqlite.Open(t.Context(), path, sqlite.Options{Sealer: newOnly})
	require.NoError(t, err)
	defer onlyNew.Close()
	c, err = onlyNew.FindCredentials(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, "third-secret", c.SecretKey.Reveal())
}

// mustCurrentKey reads the last (current) key of a key file.
func mustCurrentKey(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var last string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			last = line
		}
	}
	key, err := keyring.ParseKey(last)
	require.NoError(t, err)
	return key
}

func TestDefaultDatabaseAndNoMigrate(t *testing.T) {
	cliEnv(t)
	dir := t.TempDir()
	t.Chdir(dir)

	// --no-migrate on a fresh file: the tables are not there.
	_, _, err := runCLI(t, "", "tenant", "list", "--no-migrate")
	require.Error(t, err)

	out := mustRun(t, "", "tenant", "create", "--name", "Default")
	require.NotEmpty(t, strings.TrimSpace(out))
	info, err := os.Stat(filepath.Join(dir, "mksync-data"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	_, err = os.Stat(filepath.Join(dir, "mksync-data", "mksync.db"))
	require.NoError(t, err)
	out = mustRun(t, "", "tenant", "list", "--no-migrate")
	require.Contains(t, out, "Default")
}

func TestParseDB(t *testing.T) {
	for in, want := range map[string]dbTarget{
		"":                        {path: "./mksync-data/mksync.db"},
		"sqlite:/var/lib/m.db":    {path: "/var/lib/m.db"},
		"sqlite:///var/lib/m.db":  {path: "/var/lib/m.db"},
		"data/m.db":               {path: "data/m.db"},
		"postgres://u:p@h/db":     {url: "postgres://u:p@h/db"},
		"postgresql://u@h/db?x=1": {url: "postgresql://u@h/db?x=1"},
	} {
		got, err := parseDB(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := parseDB("sqlite:")
	require.Error(t, err)
	require.NotContains(t, dbTarget{url: "postgres://u:secretpw@h/db"}.String(), "secretpw")
}

// latestMigration is the highest version among the NNNNN_name.sql files
// of dir, so that the test follows new migrations.
func latestMigration(t *testing.T, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	require.NoError(t, err)
	latest := 0
	for _, f := range files {
		var v int
		if _, err := fmt.Sscanf(filepath.Base(f), "%05d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	require.Positive(t, latest)
	return latest
}
