package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

func TestLinkUnlinkRelink(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	one := addPartner(t, mk, "One d.o.o.", "SI55555551", "")
	two := addPartner(t, mk, "Two d.o.o.", "SI55555552", "")
	c := newContact(t, b)
	other := newContact(t, b)
	b.fake.ResetStats()

	// By mk_id: a pending mapping, nothing written on either side.
	m, err := b.e.Link(ctx, b.tenant, mksync.EntityContact, c.ID, one)
	require.NoError(t, err)
	require.Equal(t, one, m.MetakockaID)
	require.Equal(t, mksync.StatePending, m.State)
	require.Zero(t, writes(b.fake.Stats()), "linking writes nothing to Metakocka")
	got, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, c.Version, got.Version, "linking writes nothing to the CRM record")

	// The Metakocka record is taken: another record cannot link to it.
	_, err = b.e.Link(ctx, b.tenant, mksync.EntityContact, other.ID, one)
	require.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(err))
	_, err = b.e.Link(ctx, b.tenant, mksync.EntityContact, other.ID, "404404404")
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	_, err = b.e.Link(ctx, b.tenant, mksync.EntityContact, "missing", one)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))

	// Re-link by count_code.
	var twoCode string
	for _, p := range b.fake.Partners(b.company) {
		if p.MkID == two {
			twoCode = p.CountCode
		}
	}
	require.NotEmpty(t, twoCode)
	m, err = b.e.Link(ctx, b.tenant, mksync.EntityContact, c.ID, twoCode)
	require.NoError(t, err)
	require.Equal(t, two, m.MetakockaID)

	// The next sync compares and follows the policy: the CRM record is
	// newer, so it goes over the linked partner; no partner is created.
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Zero(t, res.Created)
	require.Equal(t, two, b.mapping(t, mksync.EntityContact, c.ID).MetakockaID)
	require.Len(t, b.fake.Partners(b.company), 2)

	// Unlink: the mapping is gone, the next push creates on purpose.
	require.NoError(t, b.e.Unlink(ctx, b.tenant, mksync.EntityContact, c.ID))
	_, err = b.store.FindMapping(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(b.e.Unlink(ctx, b.tenant, mksync.EntityContact, c.ID)))
}

func TestDeletedProductStaysDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	p := newProduct(t, b)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	mkID := b.mapping(t, mksync.EntityProduct, p.ID).MetakockaID

	// Deleted in the CRM on purpose: a full pull does not bring it back.
	require.NoError(t, b.store.DeleteProduct(ctx, b.tenant, p.ID))
	for range 2 {
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}, nil))
	}
	all := collectProducts(t, b)
	require.Empty(t, all, "not re-created by a full pull")
	ts, _, err := b.store.FindTombstones(ctx, b.tenant, mksync.EntityProduct, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	require.Equal(t, mkID, ts[0].MetakockaID)

	// Forgetting the tombstone lets a pull recreate it on purpose.
	require.NoError(t, b.store.DeleteTombstone(ctx, b.tenant, mksync.EntityProduct, mkID))
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}, nil))
	all = collectProducts(t, b)
	require.Len(t, all, 1)
	require.Equal(t, p.Code, all[0].Code)

	// Re-linking a record to a tombstoned Metakocka record forgets the
	// tombstone.
	require.NoError(t, b.store.DeleteProduct(ctx, b.tenant, all[0].ID))
	q := newProduct(t, b)
	_, err = b.e.Link(ctx, b.tenant, mksync.EntityProduct, q.ID, mkID)
	require.NoError(t, err)
	_, err = b.store.FindTombstone(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
}

func collectProducts(t *testing.T, b *bundle) []mksync.Product {
	t.Helper()
	var out []mksync.Product
	for p, err := range b.store.AllProducts(context.Background(), b.tenant) {
		require.NoError(t, err)
		out = append(out, p)
	}
	return out
}

func TestDeletionPolicy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		policy  mksync.DeletePolicy
		remains int
		tombs   int
	}{
		{mksync.DeleteKeep, 1, 1},
		{mksync.DeleteInMetakocka, 0, 0},
	} {
		b := setup(t, setupOpts{settings: mksync.SyncSettings{DeletePolicy: tt.policy}})
		ctx := context.Background()
		p := newProduct(t, b)
		_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
		require.NoError(t, err)
		require.NoError(t, b.store.DeleteProduct(ctx, b.tenant, p.ID))
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}, nil))
		require.Len(t, b.fake.Products(b.company), tt.remains, tt.policy)
		ts, _, err := b.store.FindTombstones(ctx, b.tenant, mksync.EntityProduct, mksync.Page{})
		require.NoError(t, err)
		require.Len(t, ts, tt.tombs, tt.policy)
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}, nil))
		require.Empty(t, collectProducts(t, b), "%s: not re-created by a full pull", tt.policy)
	}
}

// TestCreateNewAfterAmbiguous: an ambiguous contact's error record names
// its candidates with their titles, and "create new" makes a new partner
// on purpose, without matching again; a linked record is refused.
func TestCreateNewAfterAmbiguous(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	twinA := addPartner(t, mk, "Twin d.o.o.", "SI87654321", "")
	twinB := addPartner(t, mk, "Twin 2 d.o.o.", "87654321", "")
	c := mksync.Contact{Name: "Twin CRM", TaxID: "87654321", Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
	require.NoError(t, b.store.CreateContact(ctx, b.tenant, &c))
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	m := b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateAmbiguous, m.State)
	er, err := b.store.FindErrorRecord(ctx, b.tenant, m.LastError)
	require.NoError(t, err)
	ids, titles := er.Details["candidates"].([]any), er.Details["titles"].([]any)
	require.Len(t, titles, len(ids))
	named := map[any]any{}
	for i := range ids {
		named[ids[i]] = titles[i]
	}
	require.Equal(t, map[any]any{twinA: "Twin d.o.o.", twinB: "Twin 2 d.o.o."}, named)

	res, err := b.e.CreateNew(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "%+v", res)
	m = b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateSynced, m.State)
	require.NotContains(t, []string{twinA, twinB}, m.MetakockaID)
	require.Len(t, b.fake.Partners(b.company), 3, "one new partner, made on purpose")

	_, err = b.e.CreateNew(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(err), "a linked record is not created again")
	_, err = b.e.CreateNew(ctx, b.tenant, "invoice_lines", c.ID)
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
}

// TestDeletionPolicyDeletesSalesOrders: under delete_in_metakocka a sales
// order deleted in the CRM is deleted in Metakocka (delete_document) at the
// next bulk push of documents, and its tombstone forgotten; an invoice,
// which Metakocka documents no delete for, stays there with its
// tombstone. A refused delete writes an error record and keeps the
// tombstone, and the next push deletes it. Under keep nothing is deleted.
func TestDeletionPolicyDeletesSalesOrders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		policy mksync.DeletePolicy
		refuse bool
		// what Metakocka and the tombstones hold after the first push
		remains, tombs int
	}{
		{mksync.DeleteKeep, false, 2, 2},
		{mksync.DeleteInMetakocka, false, 1, 1},
		{mksync.DeleteInMetakocka, true, 2, 2},
	} {
		b := setup(t, setupOpts{settings: mksync.SyncSettings{DeletePolicy: tt.policy}})
		ctx := context.Background()
		c, p := newContact(t, b), newProduct(t, b)
		order, invoice := newDocument(t, b, mksync.KindOrder, c, p), newDocument(t, b, mksync.KindInvoice, c, p)
		push := func() mksync.SyncResult {
			run := &mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
			require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
			return run.Result
		}
		require.Equal(t, 2, push().Created)
		orderMk := b.mapping(t, mksync.EntitySalesDocument, order.ID).MetakockaID
		require.NoError(t, b.store.DeleteSalesDocument(ctx, b.tenant, order.ID))
		require.NoError(t, b.store.DeleteSalesDocument(ctx, b.tenant, invoice.ID))
		if tt.refuse {
			// More than the client's retries of a safe call.
			b.fake.FailNextMethod(b.company, "delete_document", 20, mkfake.FaultOprError)
		}
		push()
		name := fmt.Sprintf("%s refuse=%v", tt.policy, tt.refuse)
		require.Len(t, b.fake.Documents(b.company), tt.remains, name)
		ts, _, err := b.store.FindTombstones(ctx, b.tenant, mksync.EntitySalesDocument, mksync.Page{})
		require.NoError(t, err)
		require.Len(t, ts, tt.tombs, name)
		for _, d := range b.fake.Documents(b.company) {
			if tt.remains == 1 {
				require.NotEqual(t, orderMk, d.MkID, "%s: the order is gone", name)
			}
		}
		if !tt.refuse {
			continue
		}
		ers, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{EntityID: orderMk})
		require.NoError(t, err)
		require.Len(t, ers, 1, "%s: the refusal is recorded", name)
		b.fake.ClearFaults(b.company)
		push()
		require.Len(t, b.fake.Documents(b.company), 1, "%s: the next push deletes it", name)
		ts, _, err = b.store.FindTombstones(ctx, b.tenant, mksync.EntitySalesDocument, mksync.Page{})
		require.NoError(t, err)
		require.Len(t, ts, 1, "%s: the invoice's tombstone stays", name)
		require.NotEqual(t, orderMk, ts[0].MetakockaID)
	}
}
