package metakocka_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/metakocka/redisbudget"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
)

// twoRedisRates returns two RateStores on two Redis clients (two
// processes) sharing one key space, skipping when no Redis is configured
// unless MKSYNC_REQUIRE_REDIS=1 makes that a failure.
func twoRedisRates(t *testing.T) [2]metakocka.RateStore {
	t.Helper()
	u := os.Getenv("MKSYNC_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("MKSYNC_REQUIRE_REDIS") == "1" {
			t.Fatal("MKSYNC_REQUIRE_REDIS=1 but MKSYNC_TEST_REDIS_URL is unset")
		}
		t.Skip("Redis tests skipped: set MKSYNC_TEST_REDIS_URL to run them")
	}
	opts, err := redis.ParseURL(u)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "mksync-test:rate:" + hex.EncodeToString(b[:]) + ":"
	var out [2]metakocka.RateStore
	for i := range out {
		c := redis.NewClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, c.Ping(t.Context()).Err())
		out[i] = redisbudget.New(c, prefix)
	}
	return out
}

// arrivals records when the simulator received each request.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.times = append(a.times, time.Now())
		a.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// peakPerSecond is the most requests that arrived within any one second.
func (a *arrivals) peakPerSecond() int {
	a.mu.Lock()
	ts := append([]time.Time(nil), a.times...)
	a.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	peak, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= time.Second {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}

// Two processes' Pacers (each with its own connection to the shared
// store), each working one run of the same company with the same
// concurrency, keep the company within its requests per second together —
// counted by the simulator over every one-second window — and each run gets
// half of them (±10 points): reservations are served in the order they
// arrive, whatever process asks. On one process (SQLite) the two runs share
// the process's MemoryRates. With a MemoryRates per process the same load
// doubles the rate: the bound the shared stores exist for.
func TestSharedRateBoundsTwoProcessesFairly(t *testing.T) {
	const (
		rps      = 20
		burst    = 2
		duration = 2500 * time.Millisecond
		perRun   = 4 // goroutines of each run
	)
	db1, url, schema := pgtest.Store(t, postgres.Options{MaxConns: 8})
	db2, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema, MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	one := &metakocka.MemoryRates{}
	for _, tc := range []struct {
		name    string
		rates   func(t *testing.T) [2]metakocka.RateStore
		bounded bool
	}{
		{"postgres", func(*testing.T) [2]metakocka.RateStore { return [2]metakocka.RateStore{db1, db2} }, true},
		{"redis", twoRedisRates, true},
		{"one process in memory", func(*testing.T) [2]metakocka.RateStore { return [2]metakocka.RateStore{one, one} }, true},
		{"memory per process", func(*testing.T) [2]metakocka.RateStore {
			return [2]metakocka.RateStore{&metakocka.MemoryRates{}, &metakocka.MemoryRates{}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rates := tc.rates(t)
			fake := mkfake.New(mkfake.Options{Seed: 7})
			fake.AddCompany(testCompany, testSecret)
			fake.SetFaults(testCompany, mkfake.Faults{Latency: 2 * time.Millisecond})
			var seen arrivals
			srv := httptest.NewServer(seen.wrap(fake))
			t.Cleanup(func() {
				fake.Close()
				srv.Close()
			})
			var counts [2]atomic.Int64
			ctx, cancel := context.WithTimeout(context.Background(), duration)
			defer cancel()
			var wg sync.WaitGroup
			for run, store := range rates {
				pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: rps, Burst: burst, MaxInFlight: 32, Rates: store})
				require.NoError(t, err)
				c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
					HTTPClient: srv.Client(), Pacer: pacer})
				require.NoError(t, err)
				for range perRun {
					wg.Go(func() {
						for ctx.Err() == nil {
							if _, err := c.ProductList(ctx, metakocka.ProductListRequest{Limit: 1}); err == nil {
								counts[run].Add(1)
							}
						}
					})
				}
			}
			wg.Wait()
			a, b := counts[0].Load(), counts[1].Load()
			peak := seen.peakPerSecond()
			t.Logf("%s: %d + %d requests in %s, peak %d in one second (budget %d/s, burst %d)", tc.name, a, b, duration, peak, rps, burst)
			if !tc.bounded {
				require.Greater(t, peak, rps+burst+1)
				return
			}
			// A GCRA lets burst go at once, then one per 1/rps: at most
			// rps+burst in a second; one more for a request that waited in
			// transit while the next did not.
			require.LessOrEqual(t, peak, rps+burst+1)
			total := float64(a + b)
			require.GreaterOrEqual(t, total, 0.8*rps*duration.Seconds(), "the runs used the budget")
			assert.InDelta(t, 0.5, float64(a)/total, 0.1, "each run's share")
		})
	}
}

// A reservation given back (its request's context ended while it waited)
// lets the next request go one interval sooner: at 1/s with a burst of 1,
// the third reservation waits about 1 s rather than 2. Every store.
func TestCancelledReservationLetsTheNextGoSooner(t *testing.T) {
	db, _, _ := pgtest.Store(t, postgres.Options{})
	for _, tc := range []struct {
		name  string
		rates func(t *testing.T) metakocka.RateStore
	}{
		{"memory", func(*testing.T) metakocka.RateStore { return &metakocka.MemoryRates{} }},
		{"postgres", func(*testing.T) metakocka.RateStore { return db }},
		{"redis", func(t *testing.T) metakocka.RateStore { return twoRedisRates(t)[0] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rates, ctx, company := tc.rates(t), t.Context(), "cancel-"+tc.name
			reserve := func() time.Duration {
				t.Helper()
				d, err := rates.ReserveRequest(ctx, company, 1, 1)
				require.NoError(t, err)
				return d
			}
			require.Zero(t, reserve())
			require.Greater(t, reserve(), 500*time.Millisecond, "the second waits its turn")
			require.NoError(t, rates.CancelRequest(ctx, company, 1, 1))
			d := reserve()
			require.Greater(t, d, 500*time.Millisecond)
			require.Less(t, d, 1500*time.Millisecond, "the given-back moment went to the next")
			require.NoError(t, rates.CancelRequest(ctx, "cancel-none-"+tc.name, 1, 1), "a company without reservations")
		})
	}
}

// A request whose context ends while it waits for its reserved moment gives
// the reservation back: the next goes one interval after the first, not
// two.
func TestPacerGivesBackTheReservationOfACancelledRequest(t *testing.T) {
	fake := mkfake.New(mkfake.Options{Seed: 7})
	fake.AddCompany(testCompany, testSecret)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close()
		srv.Close()
	})
	rates := &metakocka.MemoryRates{}
	pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: 1, Burst: 1, Rates: rates})
	require.NoError(t, err)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacer: pacer})
	require.NoError(t, err)
	_, err = c.ProductList(t.Context(), metakocka.ProductListRequest{Limit: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = c.ProductList(ctx, metakocka.ProductListRequest{Limit: 1})
	require.Error(t, err, "cancelled while it waited for its moment")
	d, err := rates.ReserveRequest(t.Context(), testCompany, 1, 1)
	require.NoError(t, err)
	require.Less(t, d, 1500*time.Millisecond, "the cancelled request's moment went to the next")
}
