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
