package observe_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
)

// testNow is the fixed time of the store and API under test.
func testNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// openStore opens a migrated, empty SQLite store in a temp dir.
func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	kr, err := keyring.New(key)
	require.NoError(t, err)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mksync.db"),
		sqlite.Options{Sealer: kr, Logger: observe.Discard(), Now: testNow})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	return db
}
