package observe_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
)

// The adapters implement the Metakocka client's hooks (observe cannot
// import metakocka, so the check lives here).
var (
	_ metakocka.Observer       = observe.MetakockaObserver{}
	_ metakocka.PacingObserver = observe.MetakockaObserver{}
	_ metakocka.BudgetObserver = observe.MetakockaObserver{}
)

// fakeClock is a settable clock shared by the store and observe's services.
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

// newMetrics returns metrics on a fresh registry.
func newMetrics(t testing.TB, opts observe.MetricsOptions) (*observe.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := observe.NewMetrics(reg, opts)
	require.NoError(t, err)
	return m, reg
}

// value returns the value of the series of family name whose labels include
// all of want (a counter's or gauge's value, a histogram's sample count),
// summed over matching series; 0 when none matches.
func value(t testing.TB, reg prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !labelsMatch(m, want) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, lp := range m.GetLabel() {
		got[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// mksyncFamilies returns the names of the gathered mksync_ families.
func mksyncFamilies(t testing.TB, reg prometheus.Gatherer) []string {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var out []string
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "mksync_") {
			out = append(out, f.GetName())
		}
	}
	return out
}
