package alerts_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
)

// The adapters implement the Metakocka client's hooks (alerts does not
// import metakocka, so the check lives here).
var (
	_ metakocka.Observer       = alerts.MetakockaObserver{}
	_ metakocka.PacingObserver = alerts.MetakockaObserver{}
	_ metakocka.BudgetObserver = alerts.MetakockaObserver{}
)

// fakeClock is a settable clock shared by the store and the alerts services.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sleep makes retry waits instant while advancing the time (metakocka.Clock).
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// newStore opens a migrated SQLite store in a temp dir with one tenant, and
// returns it with the tenant's id.
func newStore(t testing.TB, clk *fakeClock) (*sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	kr, err := keyring.New(key)
	require.NoError(t, err)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: kr, Logger: observe.Discard(), Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	tn := mksync.Tenant{Name: "Tenant A"}
	require.NoError(t, db.CreateTenant(ctx, &tn))
	return db, tn.ID
}

// flushAll waits until the evaluator evaluated every queued event and the
// notifier delivered (or gave up) every notice that produced.
func flushAll(t testing.TB, a *alerts.Alerter, n *alerts.Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, a.Flush(ctx))
	require.NoError(t, n.Flush(ctx))
}
