package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
)

// sqliteStore is a migrated SQLite store in a temp dir.
func sqliteStore(t testing.TB) mksync.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bench.db"), sqlite.Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	return db
}

// postgresStore is a migrated PostgreSQL store in a fresh schema (skips
// without MKSYNC_TEST_POSTGRES_URL unless PostgreSQL is required).
func postgresStore(t testing.TB) mksync.Store {
	t.Helper()
	db, _, _ := pgtest.Store(t, postgres.Options{Sealer: storetest.FakeSealer{}, MaxConns: 16})
	return db
}

// envInt reads a size from the environment, def when unset.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// A small Run on each entity type: every phase converges and the figures
// are filled in (no timing assertions).
func TestRunSmall(t *testing.T) {
	for _, et := range mksync.EntityTypes {
		t.Run(string(et), func(t *testing.T) {
			rep, err := Run(context.Background(), Config{Store: sqliteStore(t), Records: 40, Entity: et,
				Latency: 2 * time.Millisecond, Jitter: time.Millisecond, SequentialRecords: 10})
			require.NoError(t, err)
			require.Zero(t, rep.NoopWriteCalls)
			require.Zero(t, rep.NoopCalls)
			require.Equal(t, 40, rep.PullUpdated)
			require.Positive(t, rep.PushRecordsPerSec)
			require.Positive(t, rep.SpeedupVsSequential)
			require.Positive(t, rep.PeakHeapBytes)
			require.Positive(t, rep.SimulatorHeapBytes)
			require.Positive(t, rep.EngineHeapBytes, "the engine holds caches at the end of a run")
			require.Equal(t, rep.PeakHeapBytes, rep.SimulatorHeapBytes+rep.EngineHeapBytes)
			require.LessOrEqual(t, rep.P50Ms, rep.P99Ms)
			require.GreaterOrEqual(t, rep.CallsPerRecord, 1.0)
		})
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Store: sqliteStore(t), Records: -1},
		{Store: sqliteStore(t), Entity: "partner"},
		{Store: sqliteStore(t), Concurrency: mksync.MaxConcurrency + 1},
		{Store: sqliteStore(t), Latency: -time.Millisecond},
		{Store: sqliteStore(t), Capacity: -1},
		{Store: sqliteStore(t), Sweep: []int{0}},
	} {
		_, err := Run(context.Background(), cfg)
		require.Error(t, err, "%+v", cfg)
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
	}
}

// benchPush pushes n new contacts per iteration at 20 ms × 8 and reports
// records/s and the ratio to the latency-bound limit (400 records/s).
func benchPush(b *testing.B, st func(testing.TB) mksync.Store, n int) {
	const conc, latency = 8, 20 * time.Millisecond
	ctx := context.Background()
	w, err := NewWorld(WorldConfig{Store: st(b)})
	require.NoError(b, err)
	defer w.Close()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: conc, BatchSize: 50})
		require.NoError(b, err)
		require.NoError(b, Seed(ctx, w, tenant, company, mksync.EntityContact, n))
		w.Fake.SetFaults(company, mkfake.Faults{Latency: latency})
		b.StartTimer()
		res, err := Push(ctx, w, tenant, mksync.EntityContact)
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, n, res.Run.Result.Created)
		total += res.Elapsed
	}
	rps := float64(n*b.N) / total.Seconds()
	b.ReportMetric(rps, "records/s")
	b.ReportMetric(rps/(conc/latency.Seconds()), "limit_ratio")
}

// BenchmarkPushSQLite: 2,000 new contacts (MKSYNC_BENCH_N) at 20 ms × 8.
func BenchmarkPushSQLite(b *testing.B) {
	benchPush(b, sqliteStore, envInt(b, "MKSYNC_BENCH_N", 2000))
}

// BenchmarkPushPostgres is BenchmarkPushSQLite on PostgreSQL.
func BenchmarkPushPostgres(b *testing.B) {
	benchPush(b, postgresStore, envInt(b, "MKSYNC_BENCH_N", 2000))
}

// benchNoop resyncs n unchanged products (pushed once without latency)
// and reports seconds per resync and its write calls (must be 0).
func benchNoop(b *testing.B, st func(testing.TB) mksync.Store, n int) {
	ctx := context.Background()
	w, err := NewWorld(WorldConfig{Store: st(b)})
	require.NoError(b, err)
	defer w.Close()
	tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: 16, BatchSize: 100})
	require.NoError(b, err)
	require.NoError(b, Seed(ctx, w, tenant, company, mksync.EntityProduct, n))
	res, err := Push(ctx, w, tenant, mksync.EntityProduct)
	require.NoError(b, err)
	require.Equal(b, n, res.Run.Result.Created)
	b.ResetTimer()
	var total time.Duration
	var writes int64
	for i := 0; i < b.N; i++ {
		res, err := Push(ctx, w, tenant, mksync.EntityProduct)
		require.NoError(b, err)
		require.Equal(b, n, res.Run.Result.Skipped, "%+v", res.Run.Result)
		total += res.Elapsed
		writes += WriteCalls(res.Stats)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/resync")
	b.ReportMetric(float64(writes), "writes")
}

// BenchmarkNoopResyncSQLite: 20,000 unchanged products (MKSYNC_BENCH_NOOP_N;
// the figure is 100,000).
func BenchmarkNoopResyncSQLite(b *testing.B) {
	benchNoop(b, sqliteStore, envInt(b, "MKSYNC_BENCH_NOOP_N", 20000))
}

// BenchmarkNoopResyncPostgres is BenchmarkNoopResyncSQLite on PostgreSQL.
func BenchmarkNoopResyncPostgres(b *testing.B) {
	benchNoop(b, postgresStore, envInt(b, "MKSYNC_BENCH_NOOP_N", 20000))
}

// BenchmarkPullContacts pulls 1,000 contacts (MKSYNC_BENCH_N) changed in
// Metakocka at 20 ms × 8 (one get_partner per contact).
func BenchmarkPullContacts(b *testing.B) {
	const conc, latency = 8, 20 * time.Millisecond
	n := envInt(b, "MKSYNC_BENCH_N", 1000)
	ctx := context.Background()
	w, err := NewWorld(WorldConfig{Store: sqliteStore(b)})
	require.NoError(b, err)
	defer w.Close()
	tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: conc, BatchSize: 50})
	require.NoError(b, err)
	require.NoError(b, Seed(ctx, w, tenant, company, mksync.EntityContact, n))
	_, err = Push(ctx, w, tenant, mksync.EntityContact)
	require.NoError(b, err)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w.Fake.SetFaults(company, mkfake.Faults{})
		require.NoError(b, ChangeInMetakocka(ctx, w, tenant, company, mksync.EntityContact, fmt.Sprintf("round %d", i)))
		w.Fake.SetFaults(company, mkfake.Faults{Latency: latency})
		b.StartTimer()
		res, err := Pull(ctx, w, tenant, mksync.EntityContact)
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, n, res.Run.Result.Updated)
		total += res.Elapsed
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "records/s")
}

// An adaptive run against a capacity-limited simulator with a sweep fills
// the adaptive figures: the push stays under the 429 threshold (twice the
// capacity), the sweep names its best fixed concurrency, and the ratio is
// the push's rate over it.
func TestRunAdaptiveSweep(t *testing.T) {
	rep, err := Run(context.Background(), Config{Store: sqliteStore(t), Records: 300, Latency: 5 * time.Millisecond,
		Adaptive: true, Capacity: 4, Sweep: []int{2, 4}, SequentialRecords: 10})
	require.NoError(t, err)
	require.True(t, rep.Adaptive)
	require.Equal(t, mksync.MaxConcurrency, rep.Concurrency, "the ceiling")
	require.Equal(t, 4, rep.Capacity)
	require.Positive(t, rep.PeakInFlight)
	require.Less(t, rep.RateLimitedShare, 0.05)
	require.Positive(t, rep.SecondsTo90Percent)
	require.LessOrEqual(t, rep.SecondsTo90Percent, rep.PushSeconds+0.2)
	require.Len(t, rep.SweepRecordsPerSec, 2)
	require.Contains(t, []int{2, 4}, rep.BestFixedConcurrency)
	require.Equal(t, rep.SweepRecordsPerSec[rep.BestFixedConcurrency], rep.BestFixedRecordsPerSec)
	require.InDelta(t, rep.PushRecordsPerSec/rep.BestFixedRecordsPerSec, rep.AdaptiveRatio, 1e-9)
}

func TestSecondsTo90(t *testing.T) {
	ramp := []progressPoint{ // 10 records/s for 2 s, then 100/s
		{500 * time.Millisecond, 5}, {time.Second, 10}, {1500 * time.Millisecond, 15}, {2 * time.Second, 20},
		{2500 * time.Millisecond, 70}, {3 * time.Second, 120}, {3500 * time.Millisecond, 170}, {4 * time.Second, 220},
	}
	for _, tc := range []struct {
		name    string
		curve   []progressPoint
		overall float64
		want    float64
	}{
		{"reached once the last second is fast", ramp, 55, 2.5},
		{"a higher bar is reached later", ramp, 100, 3},
		{"never: the whole push", ramp, 1000, 4.2},
		{"no samples: the whole push", nil, 10, 4.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, secondsTo90(tc.curve, tc.overall, 4200*time.Millisecond), 1e-9)
		})
	}
}

func TestRateLimitedShare(t *testing.T) {
	require.Zero(t, rateLimitedShare(mkfake.Stats{}))
	st := mkfake.Stats{Total: 200, Methods: map[string]map[string]int64{
		"add_partner": {mkfake.OutcomeOK: 190, mkfake.OutcomeRateLimited: 3},
		"get_partner": {mkfake.OutcomeRateLimited: 1, mkfake.OutcomeOK: 6},
	}}
	require.InDelta(t, 0.02, rateLimitedShare(st), 1e-9)
}
