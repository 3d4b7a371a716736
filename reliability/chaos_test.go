package reliability

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/bench"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// TestChaosTwoWays syncs N records per entity both ways while the
// simulator injects 20 % HTTP 5xx (503 and 500), 5 % hangs past the
// client's timeout (2 s; the client gives up after 150 ms, 1.5 s for list
// windows), 2 % commit-then-fail (the write is done, the caller
// gets 503 or a hang) and 429 bursts (every request for 150 ms of each second):
//
//   - N contacts, N products and N sales documents made in the CRM are
//     pushed;
//   - N partners, N products and N sales orders made in Metakocka are
//     pulled (the partners with the orders that name them).
//
// Every run is done once with all faults, then, with the faults but no
// more 429 bursts, pushes are repeated until they have no failed record
// and the records a pull failed are pulled again by id until none fails
// (an interrupted run is resumed). Afterwards both sides hold the same 2N records of each
// type, none twice, every one mapped and synced; every failed record has
// its error record; and a resync both ways changes nothing.
//
// N is MKSYNC_RELIABILITY_N (the 5,000); the CI size is 400 (100
// with -short), which takes about a minute on two loaded cores with -race.
func TestChaosTwoWays(t *testing.T) {
	n := size(t, 400, 100)
	ctx := context.Background()
	obs := &counter{}
	st := sqliteStore(t)
	w := newWorld(t, st, 150*time.Millisecond, obs)
	tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: 8, BatchSize: 50})
	require.NoError(t, err)

	// The CRM's records.
	cs, ps := bench.Contacts("crm", n), bench.Products("CRM", n)
	require.NoError(t, st.UpsertContacts(ctx, tenant, cs))
	require.NoError(t, st.UpsertProducts(ctx, tenant, ps))
	ds := bench.Documents(n, cs, ps)
	for lo := 0; lo < n; lo += 500 {
		require.NoError(t, st.InTx(ctx, tenant, func(tx mksync.Store) error {
			for i := lo; i < min(n, lo+500); i++ {
				if err := tx.CreateSalesDocument(ctx, tenant, &ds[i]); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	// Metakocka's records.
	require.NoError(t, bench.SeedMetakocka(ctx, w, company, n))

	w.Fake.ResetStats()
	faults := mkfake.Faults{ErrorRate: 0.20, HangRate: 0.05, HangFor: 2 * time.Second, CommitThenFailRate: 0.02}
	w.Fake.SetFaults(company, faults)
	stopBursts := startBursts(w.Fake, company, faults, time.Second, 150*time.Millisecond)

	started := time.Now()
	var (
		failures int
		resumes  int
		errorIDs []string
		rounds   = map[string]int{}
	)
	steps := []struct {
		et  mksync.EntityType
		dir mksync.Direction
	}{
		{mksync.EntityContact, mksync.ToMetakocka},
		{mksync.EntityProduct, mksync.ToMetakocka},
		{mksync.EntitySalesDocument, mksync.ToMetakocka},
		{mksync.EntityProduct, mksync.FromMetakocka},
		{mksync.EntitySalesDocument, mksync.FromMetakocka},
		{mksync.EntityContact, mksync.FromMetakocka},
	}
	// One pass of every run under all faults, 429 bursts included; then
	// again until no record is left failed, without the bursts (a burst can
	// outlast a record's retries). Pushes are rerun whole (unchanged
	// records are skipped without a call); a pull reads every record again,
	// so with 2N records some always fail at these rates: the failed ones
	// are pulled again by id, as a user (or the API) would.
	failed := map[string][]string{}
	for pass := 1; pass <= 2; pass++ {
		if pass == 2 {
			stopBursts()
		}
		for _, step := range steps {
			name := string(step.et) + " " + string(step.dir)
			for round := 1; ; round++ {
				var ids []string
				if pass == 2 && step.dir == mksync.FromMetakocka {
					if ids = failed[name]; len(ids) == 0 {
						break
					}
				}
				out := runToEnd(t, w, tenant, step.et, step.dir, ids...)
				r := out.run.Result
				failures += r.Failed
				resumes += out.resumes
				rounds[name]++
				failed[name] = nil
				for _, e := range r.Errors {
					require.NotEmpty(t, e.ErrorID, "failed record %s has no error record", e.ID)
					errorIDs = append(errorIDs, e.ErrorID)
					failed[name] = append(failed[name], e.ID)
				}
				require.Equal(t, r.Failed, len(failed[name]), "%s: every failed record is listed (fewer than MaxRunErrors)", name)
				if pass == 1 || r.Failed == 0 {
					break
				}
				require.Less(t, round, 10, "%s does not converge: %v", name, r.Errors[:min(3, len(r.Errors))])
			}
		}
	}
	stopBursts()
	w.Fake.ClearFaults(company)
	chaos := w.Fake.Stats()
	elapsed := time.Since(started)

	// Both sides equal, nothing twice, nothing lost.
	partners, products, docs := w.Fake.Partners(company), w.Fake.Products(company), w.Fake.Documents(company)
	require.Len(t, partners, 2*n, "partners in Metakocka")
	require.Len(t, products, 2*n, "products in Metakocka")
	require.Len(t, docs, 2*n, "documents in Metakocka")
	var pcc, pnames, prc, prcodes, dcc []string
	mkNames := map[string]string{}
	for _, p := range partners {
		pcc, pnames = append(pcc, p.CountCode), append(pnames, p.Customer)
		mkNames[p.MkID] = p.Customer
	}
	mkProducts := map[string]string{}
	for _, p := range products {
		prc, prcodes = append(prc, p.CountCode), append(prcodes, p.Code)
		mkProducts[p.MkID] = p.Code + "|" + p.Name
	}
	mkDocs := map[string]int{}
	for _, d := range docs {
		dcc = append(dcc, d.DocType+"/"+d.CountCode)
		mkDocs[d.MkID] = len(d.Products)
	}
	requireUnique(t, "partner count_code", pcc)
	requireUnique(t, "partner name", pnames)
	requireUnique(t, "product count_code", prc)
	requireUnique(t, "product code", prcodes)
	requireUnique(t, "document", dcc)

	local := map[mksync.EntityType]map[string]string{mksync.EntityContact: {}, mksync.EntityProduct: {}, mksync.EntitySalesDocument: {}}
	var localNames []string
	for c, err := range st.AllContacts(ctx, tenant) {
		require.NoError(t, err)
		local[mksync.EntityContact][c.ID] = c.Name
		localNames = append(localNames, c.Name)
	}
	requireUnique(t, "local contact name", localNames)
	for p, err := range st.AllProducts(ctx, tenant) {
		require.NoError(t, err)
		local[mksync.EntityProduct][p.ID] = p.Code + "|" + p.Name
	}
	localLines := map[string]int{}
	for d, err := range st.AllSalesDocuments(ctx, tenant) {
		require.NoError(t, err)
		local[mksync.EntitySalesDocument][d.ID] = d.ID
		localLines[d.ID] = len(d.Lines)
	}
	for _, et := range mksync.EntityTypes {
		require.Len(t, local[et], 2*n, "local %s records", et)
		ms := allMappings(t, st, tenant, et)
		require.Len(t, ms, 2*n, "%s mappings", et)
		var mkIDs []string
		for _, m := range ms {
			require.Equal(t, mksync.StateSynced, m.State, "%s %s", et, m.EntityID)
			mkIDs = append(mkIDs, m.MetakockaID)
			switch et {
			case mksync.EntityContact:
				require.Equal(t, mkNames[m.MetakockaID], local[et][m.EntityID], "contact %s ⇄ partner %s", m.EntityID, m.MetakockaID)
			case mksync.EntityProduct:
				require.Equal(t, mkProducts[m.MetakockaID], local[et][m.EntityID], "product %s ⇄ %s", m.EntityID, m.MetakockaID)
			case mksync.EntitySalesDocument:
				require.Equal(t, mkDocs[m.MetakockaID], localLines[m.EntityID], "document %s ⇄ %s lines", m.EntityID, m.MetakockaID)
			}
		}
		requireUnique(t, string(et)+" mk_id", mkIDs)
	}

	// Every failure is accounted for in an error record.
	records := errorRecords(t, st, tenant)
	require.GreaterOrEqual(t, records, failures)
	for _, id := range errorIDs {
		_, err := st.FindErrorRecord(ctx, tenant, id)
		require.NoError(t, err, "error record %s", id)
	}

	// A resync both ways changes nothing on either side.
	w.Fake.ResetStats()
	for _, step := range steps {
		out := runToEnd(t, w, tenant, step.et, step.dir)
		r := out.run.Result
		require.Zero(t, r.Created+r.Updated+r.Failed+r.Conflicts, "%s %s after convergence: %+v", step.et, step.dir, r)
	}
	require.Zero(t, bench.WriteCalls(w.Fake.Stats()), "writes to Metakocka after convergence")

	injected, ctf := faultsInjected(chaos)
	fmt.Printf("chaos: %d records per entity each way (%d in all), %d requests, %d faults injected (%d 5xx, %d hangs, %d commit-then-fail, %d 429), %d client retries, %d record failures (all with error records: %d), %d resumed runs, rounds %v, duplicates 0, lost 0, %s\n",
		n, 6*n, chaos.Total, injected, count(chaos, mkfake.OutcomeHTTP5xx), count(chaos, mkfake.OutcomeHang), ctf, count(chaos, mkfake.OutcomeRateLimited),
		obs.retries.Load(), failures, records, resumes, rounds, elapsed.Round(time.Millisecond))
}

// count sums one outcome over every method.
func count(st mkfake.Stats, outcome string) int64 {
	var n int64
	for _, m := range st.Methods {
		n += m[outcome]
	}
	return n
}

// startBursts answers every request of the company with HTTP 429 for
// length out of each interval (on top of base, the company's faults the
// rest of the time) until the returned stop is called. The bursts are
// spans of time, so they do not pile up while few requests are made.
func startBursts(fake *mkfake.Server, company string, base mkfake.Faults, every, length time.Duration) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer fake.SetFaults(company, base)
		burst := base
		burst.RateLimitRate = 1
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			fake.SetFaults(company, burst)
			select {
			case <-quit:
				return
			case <-time.After(length):
			}
			fake.SetFaults(company, base)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); wg.Wait() }) }
}
