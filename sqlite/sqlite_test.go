package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
)

// testSealer is a real AES-256-GCM keyring with a fresh key.
func testSealer(t testing.TB) *keyring.Keyring {
	t.Helper()
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	kr, err := keyring.New(key)
	require.NoError(t, err)
	return kr
}

// openAt opens and migrates the database at path, closed at cleanup.
func openAt(t testing.TB, path string, sealer mksync.SecretSealer) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(context.Background()))
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) mksync.Store {
		return openAt(t, filepath.Join(t.TempDir(), "mksync.db"), testSealer(t))
	})
}

func TestSecretsAreSealedInTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mksync.db")
	db := openAt(t, path, testSealer(t))
	storetest.CheckSecretsSealed(t, db, func() []byte {
		var all []byte
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			b, err := os.ReadFile(p)
			if !os.IsNotExist(err) {
				require.NoError(t, err)
			}
			all = append(all, b...)
		}
		require.True(t, bytes.Contains(all, []byte("4242")), "the dump should hold the company id in clear")
		return all
	})
}

func TestOpenDoesNotMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mksync.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Sealer: testSealer(t)})
	require.NoError(t, err)
	defer db.Close()

	st, err := db.MigrationStatus(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	require.Equal(t, int64(1), st[0].Version)
	require.Equal(t, "00001_init.sql", st[0].Name)
	for _, m := range st {
		require.False(t, m.Applied)
	}
	_, err = db.FindTenantByID(ctx, "x")
	require.Equal(t, mksync.EINTERNAL, mksync.ErrorCode(err), "no tables before Migrate")

	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.Migrate(ctx), "migrating twice is a no-op")
	st, err = db.MigrationStatus(ctx)
	require.NoError(t, err)
	for _, m := range st {
		require.True(t, m.Applied)
		require.False(t, m.AppliedAt.IsZero())
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	require.ErrorContains(t, err, "Sealer")
	_, err = sqlite.Open(t.Context(), "bad?path", sqlite.Options{Sealer: testSealer(t)})
	require.Error(t, err)
}

// Two *DB on one file stand for two processes (the server and a CLI
// command): both write at once, neither fails on a lock, and each sees the
// other's writes.
func TestTwoProcessesShareOneFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mksync.db")
	sealer := testSealer(t)
	a := openAt(t, path, sealer)
	b, err := sqlite.Open(ctx, path, sqlite.Options{Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })

	tn := mksync.Tenant{Name: "shared"}
	require.NoError(t, a.CreateTenant(ctx, &tn))

	const perWriter = 100
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for w, db := range []*sqlite.DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				c := mksync.Contact{Name: fmt.Sprintf("w%d-%d", w, i)}
				if err := db.CreateContact(ctx, tn.ID, &c); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					// A long transaction on one side, writes on the other.
					err := db.InTx(ctx, tn.ID, func(tx mksync.Store) error {
						for j := range 5 {
							c := mksync.Contact{Name: fmt.Sprintf("tx%d-%d-%d", w, i, j)}
							if err := tx.CreateContact(ctx, tn.ID, &c); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
				if _, _, err := db.FindContacts(ctx, tn.ID, mksync.ListFilter{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	want := 4 * (perWriter + perWriter/10*5)
	for _, db := range []*sqlite.DB{a, b} {
		n := 0
		for _, err := range db.AllContacts(ctx, tn.ID) {
			require.NoError(t, err)
			n++
		}
		require.Equal(t, want, n)
	}
}

// A reader streaming a large table does not block the writer: All* read in
// chunks and hold no connection between them.
func TestStreamingDoesNotBlockWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openAt(t, filepath.Join(t.TempDir(), "mksync.db"), testSealer(t))
	tn := mksync.Tenant{Name: "s"}
	require.NoError(t, db.CreateTenant(ctx, &tn))
	cs := make([]mksync.Contact, 1200)
	for i := range cs {
		cs[i] = mksync.Contact{Name: fmt.Sprintf("c%d", i)}
	}
	require.NoError(t, db.UpsertContacts(ctx, tn.ID, cs))
	n := 0
	for _, err := range db.AllContacts(ctx, tn.ID) {
		require.NoError(t, err)
		if n%400 == 0 {
			c := mksync.Contact{Name: "written while streaming"}
			require.NoError(t, db.CreateContact(ctx, tn.ID, &c))
		}
		n++
	}
	require.GreaterOrEqual(t, n, 1200)
}

// The server and a CLI command may both migrate a fresh file at start.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mksync.db")
	sealer := testSealer(t)
	dbs := make([]*sqlite.DB, 3)
	for i := range dbs {
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{Sealer: sealer})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(t.Context())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	tn := mksync.Tenant{Name: "after race"}
	require.NoError(t, dbs[2].CreateTenant(t.Context(), &tn))
}

// The database and its WAL files are private to the service's user, also
// when the folder already exists (the review found them 0644 then).
func TestDatabaseFilesArePrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // exists before Open
	path := filepath.Join(dir, "mksync.db")
	db := openAt(t, path, testSealer(t))
	tn := mksync.Tenant{Name: "files"}
	require.NoError(t, db.CreateTenant(context.Background(), &tn))
	for _, name := range []string{"mksync.db", "mksync.db-wal", "mksync.db-shm"} {
		info, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), name)
	}
}

// A sealed secret is bound to its tenant's row and its column: copied into
// another tenant's row, or into another column, it does not open, and
// reading those credentials fails instead of handing one tenant another's
// secret key.
func TestSealedSecretsAreBoundToTheirRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mksync.db")
	db := openAt(t, path, testSealer(t))
	ids := make([]string, 2)
	for i := range ids {
		tn := mksync.Tenant{Name: fmt.Sprintf("tenant %d", i)}
		require.NoError(t, db.CreateTenant(ctx, &tn))
		ids[i] = tn.ID
		c := mksync.MetakockaCredentials{CompanyID: fmt.Sprint(i + 1), SecretKey: mksync.Secret(fmt.Sprintf("secret-key-of-tenant-%d", i))}
		require.NoError(t, db.SetCredentials(ctx, tn.ID, &c))
	}
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := raw.ExecContext(ctx, q, args...)
		require.NoError(t, err)
	}
	// Tenant 1's secret key copied into tenant 0's row.
	exec("UPDATE credentials SET secret_key_sealed = (SELECT secret_key_sealed FROM credentials WHERE tenant_id = ?) WHERE tenant_id = ?", ids[1], ids[0])
	_, err = db.FindCredentials(ctx, ids[0])
	require.Equal(t, mksync.EINTERNAL, mksync.ErrorCode(err), "%v", err)
	c, err := db.FindCredentials(ctx, ids[1])
	require.NoError(t, err, "the original still opens")
	require.Equal(t, "secret-key-of-tenant-1", c.SecretKey.Reveal())
	// Tenant 1's webhook secret copied into its secret key column.
	exec("UPDATE credentials SET secret_key_sealed = webhook_secret_sealed WHERE tenant_id = ?", ids[1])
	_, err = db.FindCredentials(ctx, ids[1])
	require.Equal(t, mksync.EINTERNAL, mksync.ErrorCode(err), "%v", err)
}

// While another writer holds the database (a long sync, another process),
// authenticating a token is a read that does not wait for it (the use is
// written afterwards), and a write that times out is EUNAVAILABLE, which
// the API answers 503 with Retry-After, not an internal error.
func TestBusyWriterDoesNotBlockAuthentication(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mksync.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Sealer: testSealer(t), BusyTimeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	tn := mksync.Tenant{Name: "busy"}
	require.NoError(t, db.CreateTenant(ctx, &tn))
	_, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	tok := mksync.APIToken{Name: "ci", Hash: hash}
	require.NoError(t, db.CreateAPIToken(ctx, tn.ID, &tok))

	// Another connection takes the write lock and keeps it.
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	conn, err := raw.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	used := time.Now().UTC().Truncate(time.Second)
	start := time.Now()
	got, err := db.AuthenticateAPIToken(ctx, hash, used)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 500*time.Millisecond, "authentication waited on the writer")
	require.NotNil(t, got.LastUsedAt)

	tn2 := mksync.Tenant{Name: "blocked"}
	err = db.CreateTenant(ctx, &tn2)
	require.Equal(t, mksync.EUNAVAILABLE, mksync.ErrorCode(err), "%v", err)

	// Once the writer is done, the use is stored.
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	require.NoError(t, db.Close())
	again := openAt(t, path, testSealer(t))
	toks, err := again.ListAPITokens(ctx, tn.ID)
	require.NoError(t, err)
	require.Len(t, toks, 1)
	require.NotNil(t, toks[0].LastUsedAt, "the use was written")
	require.True(t, toks[0].LastUsedAt.Equal(used))
}
