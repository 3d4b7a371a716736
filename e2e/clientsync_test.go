package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app/apptest"
	"github.com/mksync/mksync/client"
	"github.com/mksync/mksync/metakocka/mkfake"
)

func wait(t *testing.T, c *client.Client, runID string) mksync.SyncRun {
	t.Helper()
	require.NotEmpty(t, runID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	polls := 0
	run, err := c.WaitSyncRun(ctx, runID, client.WaitOptions{Interval: 20 * time.Millisecond, Progress: func(mksync.SyncRun) { polls++ }})
	require.NoError(t, err)
	require.True(t, run.Status.Final(), run.Status)
	require.Positive(t, polls)
	return run
}

func TestSyncContactBothWays(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{RateLimitSync: 100})
	ctx := context.Background()

	ct, err := b.a.CreateContact(ctx, newContact("Sync d.o.o."))
	require.NoError(t, err)
	_, found, err := b.a.Mapping(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)
	require.False(t, found)

	res, err := b.a.SyncToMetakocka(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)
	require.True(t, res.Success, "%+v", res)
	require.Equal(t, 1, res.Created)
	require.NotNil(t, res.Errors)

	m, found, err := b.a.Mapping(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)
	require.True(t, found)
	require.NotEmpty(t, m.MetakockaID)
	require.Equal(t, mksync.StateSynced, m.State)
	require.False(t, m.LastSyncedAt.IsZero())
	got, err := b.a.Contact(ctx, ct.ID)
	require.NoError(t, err)
	require.NotNil(t, got.Mapping)
	require.Equal(t, m.MetakockaID, got.Mapping.MetakockaID)
	partners := b.d.Fake.Partners(b.ta.Company)
	require.Len(t, partners, 1)

	res, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Skipped, "unchanged: %+v", res)

	upd := got.Contact
	upd.Phone = "+386 1 234 5678"
	_, err = b.a.UpdateContact(ctx, upd)
	require.NoError(t, err)
	res, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Updated, "%+v", res)

	res, err = b.a.SyncFromMetakocka(ctx, mksync.EntityContact, m.MetakockaID)
	require.NoError(t, err)
	require.True(t, res.Success, "%+v", res)
	require.Zero(t, res.Failed)

	ms, err := b.a.Mappings(ctx, mksync.EntityContact, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, ms.Items, 1)

	// Tenant B cannot sync A's record, nor read its mapping.
	_, err = b.b.SyncToMetakocka(ctx, mksync.EntityContact, ct.ID)
	apiError(t, err, 404, mksync.ENOTFOUND)
	_, _, err = b.b.Mapping(ctx, mksync.EntityContact, ct.ID)
	apiError(t, err, 404, mksync.ENOTFOUND)
}

func TestBulkRunsAndPulls(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{RateLimitSync: 100})
	ctx := context.Background()
	b.d.Fake.SeedDemo(b.ta.Company)

	remote, err := b.a.ListNotInCRM(ctx, mksync.EntityContact, client.PageOptions{Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, remote.Items)
	require.Equal(t, mksync.EntityContact, remote.Items[0].EntityType)

	res, err := b.a.SyncFromMetakocka(ctx, mksync.EntityContact, remote.Items[0].MetakockaID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "%+v", res)

	// Metakocka cannot list partners, so a contact pull over "all"
	// refreshes the mapped ones.
	runID, err := b.a.SyncAllFromMetakocka(ctx, mksync.EntityContact)
	require.NoError(t, err)
	run := wait(t, b.a, runID)
	require.Equal(t, mksync.RunSucceeded, run.Status, "%+v", run.Result)
	require.Equal(t, mksync.FromMetakocka, run.Direction)
	require.Equal(t, 1, run.Result.Skipped, "%+v", run.Result)

	runID, err = b.a.SyncAllFromMetakocka(ctx, mksync.EntityProduct)
	require.NoError(t, err)
	run = wait(t, b.a, runID)
	require.Equal(t, mksync.RunSucceeded, run.Status, "%+v", run.Result)
	require.Positive(t, run.Result.Created, "%+v", run.Result)
	products, err := b.a.ListProducts(ctx, client.ListOptions{State: mksync.StateSynced, PageOptions: client.PageOptions{Limit: 1000}})
	require.NoError(t, err)
	require.Len(t, products.Items, run.Result.Created)

	// Push: one new product by id (bulk), then everything.
	p, err := b.a.CreateProduct(ctx, newProduct("BULK-1"))
	require.NoError(t, err)
	runID, err = b.a.SyncManyToMetakocka(ctx, mksync.EntityProduct, []string{p.ID})
	require.NoError(t, err)
	run = wait(t, b.a, runID)
	require.Equal(t, mksync.RunSucceeded, run.Status, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Created)
	_, err = b.a.SyncManyToMetakocka(ctx, mksync.EntityProduct, []string{"missing"})
	e := apiError(t, err, 404, mksync.ENOTFOUND)
	require.Equal(t, "missing", e.Details["productIds[0]"])

	runID, err = b.a.SyncAllToMetakocka(ctx, mksync.EntityContact)
	require.NoError(t, err)
	run = wait(t, b.a, runID)
	require.Equal(t, mksync.RunSucceeded, run.Status, "%+v", run.Result)
	require.Zero(t, run.Result.Created+run.Result.Updated, "pulled contacts are unchanged: %+v", run.Result)

	runs, err := b.a.SyncRuns(ctx, client.SyncRunListOptions{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka})
	require.NoError(t, err)
	require.Len(t, runs.Items, 1)
	got, err := b.a.SyncRun(ctx, runs.Items[0].ID)
	require.NoError(t, err)
	require.Equal(t, runs.Items[0].ID, got.ID)
	_, err = b.b.SyncRun(ctx, got.ID)
	apiError(t, err, 404, mksync.ENOTFOUND)
}

func TestSalesDocumentSyncAndFailureRecords(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{RateLimitSync: 100})
	ctx := context.Background()
	ct, err := b.a.CreateContact(ctx, newContact("Doc buyer"))
	require.NoError(t, err)
	p, err := b.a.CreateProduct(ctx, newProduct("DOC-1"))
	require.NoError(t, err)
	d, err := b.a.CreateSalesDocument(ctx, mksync.SalesDocument{Kind: mksync.KindInvoice, Date: mksync.NewDate(2026, 2, 2), ContactID: ct.ID, Currency: "EUR",
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("5.50"), TaxRate: decimal.NewFromInt(22)}}})
	require.NoError(t, err)
	res, err := b.a.SyncToMetakocka(ctx, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "%+v", res)
	m, found, err := b.a.Mapping(ctx, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.True(t, found)
	require.NotEmpty(t, m.MetakockaID)

	// A single-record sync that Metakocka refuses answers the envelope;
	// the engine's own error record is there too.
	ct2, err := b.a.CreateContact(ctx, newContact("Refused"))
	require.NoError(t, err)
	b.d.Fake.FailNextMethod(b.ta.Company, "add_partner", 10, mkfake.FaultOprError)
	_, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, ct2.ID)
	e := apiError(t, err, 502, mksync.EUPSTREAM)
	rec, err := b.a.ErrorRecord(ctx, e.ErrorID)
	require.NoError(t, err)
	require.Equal(t, mksync.EUPSTREAM, rec.Code)
	recs, err := b.a.ErrorRecords(ctx, client.ErrorListOptions{Category: "SYNC", EntityID: ct2.ID})
	require.NoError(t, err)
	require.NotEmpty(t, recs.Items)
	m2, found, err := b.a.Mapping(ctx, mksync.EntityContact, ct2.ID)
	require.NoError(t, err)
	if found {
		require.NotEqual(t, mksync.StateSynced, m2.State)
	}
}

func TestCancelSyncRun(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{RateLimitSync: 100})
	ctx := context.Background()
	apiError(t, b.a.CancelSyncRun(ctx, "no-such-run"), 404, mksync.ENOTFOUND)
	b.d.Fake.SeedDemo(b.ta.Company)
	b.d.Fake.SetFaults(b.ta.Company, mkfake.Faults{Latency: 50 * time.Millisecond})
	runID, err := b.a.SyncAllFromMetakocka(ctx, mksync.EntityProduct)
	require.NoError(t, err)
	require.NoError(t, b.a.CancelSyncRun(ctx, runID))
	run := wait(t, b.a, runID)
	require.Equal(t, mksync.RunCancelled, run.Status)
}
