package engine

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// chaosSize is the records per entity of TestBulkSyncConvergesUnderFaults:
// 2,000 by default, 300 with -short, MKSYNC_CHAOS_N to change.
func chaosSize(t *testing.T) int {
	if v := os.Getenv("MKSYNC_CHAOS_N"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		return n
	}
	if testing.Short() {
		return 300
	}
	return 2000
}

func TestBulkSyncConvergesUnderFaults(t *testing.T) {
	n := chaosSize(t)
	// The client timeout is far below the simulator's 2 s hangs, and far
	// above what a busy 2-core machine under -race needs for an answer: a
	// shorter one turns ordinary slowness into spurious failures after the
	// faults are cleared.
	// The price list is chosen: a fresh tenant's first product run would
	// start with the price list discovery, and a run whose discovery meets
	// a 429 burst is interrupted and resumed by its job, which this test's
	// single WorkRun does not do (discovery has its own tests).
	b := setup(t, setupOpts{timeout: 600 * time.Millisecond, settings: mksync.SyncSettings{BatchSize: 50, Concurrency: 8, Pricelist: "MPC"}})
	ctx := context.Background()

	cs := make([]mksync.Contact, n)
	ps := make([]mksync.Product, n)
	for i := range n {
		cs[i] = mksync.Contact{Name: fmt.Sprintf("Chaos contact %05d", i), Email: fmt.Sprintf("c%05d@example.com", i), City: "Koper", Country: "SI"}
		if i%10 == 0 {
			cs[i].Country = "Italy"
		}
		ps[i] = mksync.Product{Code: fmt.Sprintf("CH-%05d", i), Name: fmt.Sprintf("Chaos product %05d", i), Unit: "kos",
			Price: decimal.New(int64(100+i), -2), TaxRate: decimal.NewFromInt(22), Sales: true}
	}
	require.NoError(t, b.store.UpsertContacts(ctx, b.tenant, cs))
	require.NoError(t, b.store.UpsertProducts(ctx, b.tenant, ps))
	kinds := []mksync.DocumentKind{mksync.KindOffer, mksync.KindOrder, mksync.KindInvoice}
	for i := range n {
		d := mksync.SalesDocument{Kind: kinds[i%3], Date: mksync.NewDate(2025, 1, 1+i%28), ContactID: cs[(i*7)%n].ID, Currency: "EUR",
			Lines: []mksync.DocumentLine{
				{ProductID: ps[i].ID, Quantity: decimal.NewFromInt(1), UnitPrice: ps[i].Price, TaxRate: decimal.NewFromInt(22)},
				{ProductID: ps[(i*13+5)%n].ID, Quantity: decimal.NewFromInt(2), UnitPrice: decimal.NewFromInt(3), TaxRate: decimal.RequireFromString("9.5")},
			}}
		require.NoError(t, b.store.CreateSalesDocument(ctx, b.tenant, &d))
	}

	b.fake.SetFaults(b.company, mkfake.Faults{ErrorRate: 0.10, HangRate: 0.05, HangFor: 2 * time.Second, CommitThenFailRate: 0.02})
	// 429 bursts hit every first round. Later rounds see the other faults
	// only: a burst of 10 every second would otherwise land, attempt after
	// attempt, on the one record a tail round retries, and no client could
	// converge through that (real Metakocka rate limits are per company and
	// clear when the caller waits, which the client does).
	var bursting atomic.Bool
	stopBursts := make(chan struct{})
	burstsDone := make(chan struct{})
	go func() {
		defer close(burstsDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopBursts:
				return
			case <-tick.C:
				if bursting.Load() {
					b.fake.FailNext(b.company, 10, mkfake.FaultRateLimit)
				}
			}
		}
	}()

	started := time.Now()
	failures := 0
	rounds := map[mksync.EntityType]int{}
	for _, et := range mksync.EntityTypes {
		for round := 1; ; round++ {
			run := mksync.SyncRun{EntityType: et, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
			bursting.Store(round == 1)
			err := runToEnd(ctx, b.e, b.tenant, &run, nil)
			bursting.Store(false)
			require.NoError(t, err)
			failures += run.Result.Failed
			rounds[et] = round
			for _, e := range run.Result.Errors[:min(2, len(run.Result.Errors))] {
				t.Logf("%s round %d (%d failed): %s", et, round, run.Result.Failed, e.Error)
			}
			if run.Result.Failed == 0 {
				break
			}
			require.Less(t, round, 10, "%s did not converge: %+v", et, run.Result.Errors[:min(3, len(run.Result.Errors))])
		}
	}
	close(stopBursts)
	<-burstsDone
	b.fake.ClearFaults(b.company)
	st := b.fake.Stats()

	// Both sides equal, no duplicates.
	partners, products, docs := b.fake.Partners(b.company), b.fake.Products(b.company), b.fake.Documents(b.company)
	require.Len(t, partners, n)
	require.Len(t, products, n)
	require.Len(t, docs, n)
	unique := func(what string, keys []string) {
		seen := map[string]bool{}
		for _, k := range keys {
			require.False(t, seen[k], "duplicate %s %q", what, k)
			seen[k] = true
		}
	}
	var pcc, pnames, prc, prcodes, dcc []string
	for _, p := range partners {
		pcc, pnames = append(pcc, p.CountCode), append(pnames, p.Customer)
	}
	for _, p := range products {
		prc, prcodes = append(prc, p.CountCode), append(prcodes, p.Code)
	}
	for _, d := range docs {
		dcc = append(dcc, d.DocType+"/"+d.CountCode)
	}
	unique("partner count_code", pcc)
	unique("partner name", pnames)
	unique("product count_code", prc)
	unique("product code", prcodes)
	unique("document count_code", dcc)
	foreign := 0
	for _, d := range docs {
		if d.DocType == "sales_bill_foreign" {
			foreign++
		}
	}
	require.Positive(t, foreign)

	for _, et := range mksync.EntityTypes {
		counts, err := b.store.CountMappingsByState(ctx, b.tenant, et)
		require.NoError(t, err)
		require.Equal(t, n, counts[mksync.StateSynced], "%s: %v", et, counts)
	}
	// A final resync of everything is a no-op.
	b.fake.ResetStats()
	for _, et := range mksync.EntityTypes {
		run := mksync.SyncRun{EntityType: et, Direction: mksync.ToMetakocka}
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
		require.Equal(t, n, run.Result.Skipped)
	}
	require.Zero(t, b.fake.Stats().Total)
	// Pulling everything back changes nothing either.
	for _, et := range mksync.EntityTypes {
		run := mksync.SyncRun{EntityType: et, Direction: mksync.FromMetakocka}
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
		require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%s: %+v", et, run.Result)
	}
	require.Zero(t, writes(b.fake.Stats()))

	// Every failure left an error record.
	records := 0
	page := mksync.ErrorFilter{Category: "SYNC", Page: mksync.Page{Limit: 1000}}
	for {
		ers, next, err := b.store.FindErrorRecords(ctx, b.tenant, page)
		require.NoError(t, err)
		records += len(ers)
		if next == "" {
			break
		}
		page.After = next
	}
	require.GreaterOrEqual(t, records, failures)
	injected := int64(0)
	for _, m := range st.Methods {
		injected += m[mkfake.OutcomeHTTP5xx] + m[mkfake.OutcomeHang] + m[mkfake.OutcomeCommitThenFail] + m[mkfake.OutcomeRateLimited]
	}
	t.Logf("chaos: %d records per entity, %d requests, %d faults injected (%d commit-then-fail), %d record failures over rounds %v, %d error records, duplicates 0, %s",
		n, st.Total, injected, func() int64 {
			var c int64
			for _, m := range st.Methods {
				c += m[mkfake.OutcomeCommitThenFail]
			}
			return c
		}(), failures, rounds, records, time.Since(started).Round(time.Millisecond))
}
