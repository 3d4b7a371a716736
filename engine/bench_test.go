package engine

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// BenchmarkPushContacts pushes 5,000 new contacts to a simulator answering
// every call after 20 ms, at concurrency 8. The latency-bound limit is
// 8 / 20 ms = 400 records/s; limit_ratio is the share of it reached
// (target ≥ 0.9). peak_in_flight is the most requests the simulator served
// at once: it must not exceed 8, or the limit would not be one.
func BenchmarkPushContacts(b *testing.B) {
	const n, conc, latency = 5000, 8, 20 * time.Millisecond
	ctx := context.Background()
	var (
		total time.Duration
		peak  int64
	)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := setup(b, setupOpts{settings: mksync.SyncSettings{BatchSize: 50, Concurrency: conc}})
		cs := make([]mksync.Contact, n)
		for j := range cs {
			cs[j] = mksync.Contact{Name: fmt.Sprintf("Bench contact %d", j), Email: fmt.Sprintf("b%d@example.com", j), City: "Ljubljana", Country: "SI"}
		}
		require.NoError(b, w.store.UpsertContacts(ctx, w.tenant, cs))
		w.fake.SetFaults(w.company, mkfake.Faults{Latency: latency})
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
		b.StartTimer()
		start := time.Now()
		require.NoError(b, runToEnd(ctx, w.e, w.tenant, &run, nil))
		total += time.Since(start)
		b.StopTimer()
		require.Equal(b, n, run.Result.Created, "%+v", run.Result)
		peak = max(peak, w.fake.Stats().PeakInFlight[w.company])
	}
	require.LessOrEqual(b, peak, int64(conc))
	b.ReportMetric(float64(peak), "peak_in_flight")
	rps := float64(n*b.N) / total.Seconds()
	b.ReportMetric(rps, "records/s")
	b.ReportMetric(rps/(float64(conc)/latency.Seconds()), "limit_ratio")
}

// BenchmarkNoopResyncProducts resyncs 100,000 products that are all
// unchanged since their last push: it must make zero Metakocka calls
// (writes reported) and take ≤ 3 s.
func BenchmarkNoopResyncProducts(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	w := setup(b, setupOpts{})
	s, err := w.e.session(ctx, w.tenant)
	require.NoError(b, err)
	const chunk = 2000
	for off := 0; off < n; off += chunk {
		ps := make([]mksync.Product, chunk)
		for j := range ps {
			k := off + j
			ps[j] = mksync.Product{Code: "NOOP-" + strconv.Itoa(k), Name: "Product " + strconv.Itoa(k), Unit: "kos",
				Price: decimal.New(int64(k), -2), TaxRate: decimal.NewFromInt(22), Sales: true}
		}
		require.NoError(b, w.store.UpsertProducts(ctx, w.tenant, ps))
		require.NoError(b, w.store.InTx(ctx, w.tenant, func(tx mksync.Store) error {
			for j, p := range ps {
				h := payloadHash(s.viewOfProduct(&p))
				m := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, MetakockaID: strconv.Itoa(1_000_000 + off + j),
					CountCode: CountCode(p.ID), PushedHash: h, PulledHash: h, State: mksync.StateSynced, LastSyncedAt: time.Now()}
				if err := tx.UpsertMapping(ctx, w.tenant, &m); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	w.fake.ResetStats()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
		start := time.Now()
		require.NoError(b, runToEnd(ctx, w.e, w.tenant, &run, nil))
		total += time.Since(start)
		require.Equal(b, n, run.Result.Skipped, "%+v", run.Result)
	}
	b.StopTimer()
	st := w.fake.Stats()
	b.ReportMetric(total.Seconds()/float64(b.N), "s/resync")
	b.ReportMetric(float64(writes(st)), "writes")
	b.ReportMetric(float64(st.Total), "mk_calls")
}
