package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// firstDay is the first-day company (TestFirstDayMatchesExistingRecords):
// what was seeded and what the linked records must map to.
type firstDay struct {
	want       map[string]string // contact name → pre-existing partner mk_id
	productIDs map[string]string // product code → pre-existing mk_id
	taxBefore  map[string]int
}

// seedFirstDay seeds 300 partners and 200 products in the simulator and
// 200 contacts (120 the same companies by tax number in varied forms or by
// e-mail, 10 matching two partners each) and 150 products (100 with
// existing codes) in the CRM.
func seedFirstDay(t *testing.T, b *bundle) firstDay {
	t.Helper()
	ctx := context.Background()
	mk, err := metakocka.New(metakocka.Config{BaseURL: b.url, CompanyID: b.company, SecretKey: mksync.Secret("secret-" + b.company),
		Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}})
	require.NoError(t, err)
	fd := firstDay{want: map[string]string{}, productIDs: map[string]string{}}
	mkForms, crmForms := []string{"SI%08d", "SI %08d", "%08d"}, []string{"si%08d", "%08d", "SI %08d", "SI-%08d"}
	var contacts []mksync.Contact
	add := func(c mksync.Contact) {
		c.Street, c.PostNumber, c.City, c.Country = "Cesta 9", "2000", "Maribor", "SI"
		contacts = append(contacts, c)
	}
	for i := range 120 {
		name := fmt.Sprintf("Firma %03d d.o.o.", i)
		if i < 80 {
			fd.want[name] = addPartner(t, mk, name, fmt.Sprintf(mkForms[i%3], 10000000+i), "")
			add(mksync.Contact{Name: name, TaxID: fmt.Sprintf(crmForms[i%4], 10000000+i)})
			continue
		}
		fd.want[name] = addPartner(t, mk, name, "", fmt.Sprintf("Info%d@Firma.si", i))
		add(mksync.Contact{Name: name, Email: fmt.Sprintf("info%d@firma.SI", i)})
	}
	for i := range 10 {
		tax := 20000000 + i
		addPartner(t, mk, fmt.Sprintf("Dvojnik %d A", i), fmt.Sprintf("SI%08d", tax), "")
		addPartner(t, mk, fmt.Sprintf("Dvojnik %d B", i), fmt.Sprintf("%08d", tax), "")
		add(mksync.Contact{Name: fmt.Sprintf("Dvojnik %d", i), TaxID: fmt.Sprintf("SI %08d", tax)})
	}
	for i := range 160 {
		addPartner(t, mk, fmt.Sprintf("Samo MK %03d", i), fmt.Sprintf("SI%08d", 30000000+i), "")
	}
	for i := range 70 {
		add(mksync.Contact{Name: fmt.Sprintf("Nova %03d", i), TaxID: fmt.Sprintf("SI%08d", 40000000+i), Email: fmt.Sprintf("nova%d@example.com", i)})
	}
	require.NoError(t, b.store.UpsertContacts(ctx, b.tenant, contacts))
	fd.taxBefore = taxCounts(b.fake.Partners(b.company))
	for i := range 200 {
		_, err = mk.ProductAdd(ctx, metakocka.Product{Code: fmt.Sprintf("P-%03d", i), Name: fmt.Sprintf("Izdelek %d", i), Unit: "kos"})
		require.NoError(t, err)
	}
	products := make([]mksync.Product, 150)
	for i := range products {
		code := fmt.Sprintf("P-%03d", i)
		if i >= 100 {
			code = fmt.Sprintf("N-%03d", i)
		}
		products[i] = mksync.Product{Code: code, Name: "CRM " + code, Unit: "kos", Sales: true}
	}
	require.NoError(t, b.store.UpsertProducts(ctx, b.tenant, products))
	for _, p := range b.fake.Products(b.company) {
		fd.productIDs[p.Code] = p.MkID
	}
	return fd
}

// preview runs a dry run of "sync all" of et in dir to its end.
func preview(t *testing.T, b *bundle, et mksync.EntityType, dir mksync.Direction, ids []string) mksync.SyncRun {
	t.Helper()
	run := &mksync.SyncRun{EntityType: et, Direction: dir, DryRun: true}
	require.NoError(t, runToEnd(context.Background(), b.e, b.tenant, run, ids))
	require.True(t, run.DryRun)
	return *run
}

// applyPlan applies the plan of the preview previewID to its end.
func applyPlan(t *testing.T, b *bundle, previewID string) mksync.SyncRun {
	t.Helper()
	ctx := context.Background()
	run, ids, err := mksync.PrepareApply(ctx, b.store, b.tenant, previewID)
	require.NoError(t, err)
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, ids))
	require.Equal(t, previewID, run.PlanRunID)
	return run
}

// planOf reads the whole plan of the run.
func planOf(t *testing.T, b *bundle, runID string) map[string]mksync.PlanItem {
	t.Helper()
	out := map[string]mksync.PlanItem{}
	for after := ""; ; {
		items, next, err := b.store.FindPlanItems(context.Background(), b.tenant, runID, mksync.Page{After: after, Limit: 1000})
		require.NoError(t, err)
		for _, it := range items {
			out[it.Key] = it
		}
		if next == "" {
			return out
		}
		after = next
	}
}

// TestPreviewFirstDayThenApply is the done-when with a preview: a
// preview of "sync all to Metakocka" reports 70 creates, 120 links and 10
// ambiguous contacts and 50 creates and 100 links of products with zero
// write calls and nothing written locally; applying the plans leaves 370
// partners and 250 products, every linked record on its pre-existing mk_id.
func TestPreviewFirstDayThenApply(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	fd := seedFirstDay(t, b)
	b.fake.ResetStats()

	cp := preview(t, b, mksync.EntityContact, mksync.ToMetakocka, nil)
	require.Equal(t, mksync.RunSucceeded, cp.Status)
	require.Equal(t, 70, cp.Result.Created, "%+v", cp.Result)
	require.Equal(t, 120, cp.Result.Linked)
	require.Equal(t, 10, cp.Result.Ambiguous)
	require.Zero(t, cp.Result.Failed)
	pp := preview(t, b, mksync.EntityProduct, mksync.ToMetakocka, nil)
	require.Equal(t, 50, pp.Result.Created, "%+v", pp.Result)
	require.Equal(t, 100, pp.Result.Linked)

	st := b.fake.Stats()
	require.Zero(t, st.Writes(), "a preview makes no write call: %v", st.Methods)
	require.Positive(t, st.Calls("get_partner", mkfake.OutcomeOK), "it reads")
	for _, et := range []mksync.EntityType{mksync.EntityContact, mksync.EntityProduct} {
		ms, _, err := b.store.FindMappings(ctx, b.tenant, et, mksync.ListFilter{})
		require.NoError(t, err)
		require.Empty(t, ms, "a preview writes no mapping")
	}
	ers, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{})
	require.NoError(t, err)
	require.Empty(t, ers, "a preview writes no error record")

	totals, err := b.store.CountPlanItems(ctx, b.tenant, cp.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.PlanTotals{mksync.PlanCreateThere: 70, mksync.PlanLink: 120, mksync.PlanAmbiguous: 10}, totals)
	plan := planOf(t, b, cp.ID)
	linkedByName := 0
	for c, err := range b.store.AllContacts(ctx, b.tenant) {
		require.NoError(t, err)
		it := plan[c.ID]
		if id, ok := fd.want[c.Name]; ok {
			require.Equal(t, mksync.PlanLink, it.Action, c.Name)
			require.Equal(t, id, it.MetakockaID, c.Name)
			require.Contains(t, []string{"tax number", "e-mail"}, it.MatchedBy)
			linkedByName++
		}
		switch it.Action {
		case mksync.PlanAmbiguous:
			require.Len(t, it.Candidates, 2, c.Name)
		case mksync.PlanCreateThere:
			require.Contains(t, changedFields(it.Changes), "name", "a create lists the fields it sends")
		}
	}
	require.Equal(t, 120, linkedByName)

	ca := applyPlan(t, b, cp.ID)
	require.Equal(t, 70, ca.Result.Created, "%+v", ca.Result)
	require.Equal(t, 120, ca.Result.Linked)
	require.Equal(t, 10, ca.Result.Ambiguous)
	require.Zero(t, ca.Result.Failed)
	pa := applyPlan(t, b, pp.ID)
	require.Equal(t, 50, pa.Result.Created, "%+v", pa.Result)
	require.Equal(t, 100, pa.Result.Linked)

	partners := b.fake.Partners(b.company)
	require.Len(t, partners, 370)
	require.Len(t, b.fake.Products(b.company), 250)
	for key, n := range taxCounts(partners) {
		if before, ok := fd.taxBefore[key]; ok {
			require.Equal(t, before, n, "tax number %s is on no more partners than before", key)
		}
	}
	for c, err := range b.store.AllContacts(ctx, b.tenant) {
		require.NoError(t, err)
		if id, ok := fd.want[c.Name]; ok {
			require.Equal(t, id, b.mapping(t, mksync.EntityContact, c.ID).MetakockaID, c.Name)
		}
	}
	for p, err := range b.store.AllProducts(ctx, b.tenant) {
		require.NoError(t, err)
		if id, ok := fd.productIDs[p.Code]; ok {
			require.Equal(t, id, b.mapping(t, mksync.EntityProduct, p.ID).MetakockaID, p.Code)
		}
	}
}

func changedFields(cs []mksync.FieldChange) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Field)
	}
	return out
}

// TestPreviewUpdatesFieldByFieldAndApplyRedecidesMoved: a preview of a push
// lists an update field by field (old → new) and of a pull the change it
// would bring in, writing nothing on either side; applying the push plan
// writes the record that did not move and refuses, reporting both
// decisions, the one changed again in the CRM since the preview.
func TestPreviewUpdatesFieldByFieldAndApplyRedecidesMoved(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c1, c2 := newContact(t, b), newContact(t, b)
	for _, c := range []mksync.Contact{c1, c2} {
		_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
		require.NoError(t, err)
	}
	m1, m2 := b.mapping(t, mksync.EntityContact, c1.ID), b.mapping(t, mksync.EntityContact, c2.ID)
	rename := func(c *mksync.Contact, name string) {
		c.Name = name
		require.NoError(t, b.store.UpdateContact(ctx, b.tenant, c))
	}
	old1, old2 := c1.Name, c2.Name
	rename(&c1, "Renamed One")
	rename(&c2, "Renamed Two")
	before := b.mapping(t, mksync.EntityContact, c1.ID)
	b.fake.ResetStats()

	pv := preview(t, b, mksync.EntityContact, mksync.ToMetakocka, nil)
	require.Equal(t, 2, pv.Result.Updated, "%+v", pv.Result)
	require.Zero(t, b.fake.Stats().Writes())
	plan := planOf(t, b, pv.ID)
	require.Equal(t, mksync.PlanUpdateThere, plan[c1.ID].Action)
	require.Equal(t, m1.MetakockaID, plan[c1.ID].MetakockaID)
	require.Equal(t, []mksync.FieldChange{{Field: "name", Old: old1, New: "Renamed One"}}, plan[c1.ID].Changes)
	require.Equal(t, []mksync.FieldChange{{Field: "name", Old: old2, New: "Renamed Two"}}, plan[c2.ID].Changes)
	require.Equal(t, before, b.mapping(t, mksync.EntityContact, c1.ID), "the mapping is untouched")

	// c2 moves again after the preview: applying does not write it.
	rename(&c2, "Renamed Again")
	ap := applyPlan(t, b, pv.ID)
	require.Equal(t, 1, ap.Result.Updated, "%+v", ap.Result)
	require.Equal(t, 1, ap.Result.Failed)
	require.Equal(t, mksync.ECONFLICT, ap.Result.Errors[0].Code)
	require.Contains(t, ap.Result.Errors[0].Error, "changed since the preview")
	byID := map[string]string{}
	for _, p := range b.fake.Partners(b.company) {
		byID[p.MkID] = p.Customer
	}
	require.Equal(t, "Renamed One", byID[m1.MetakockaID])
	require.Equal(t, old2, byID[m2.MetakockaID], "a record moved since the preview is not applied")

	// A pull preview lists what Metakocka would bring in and writes nothing.
	// The billing address changes by its mk_id (update_partner.md).
	pushed, err := b.store.FindContactByID(ctx, b.tenant, c1.ID)
	require.NoError(t, err)
	_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: m1.MetakockaID, Customer: "Renamed One",
		PartnerDeliveryAddressList: metakocka.List[metakocka.Address]{{MkID: pushed.PartnerIDs.BillingAddress, Street: "New street 1"}}})
	require.NoError(t, err)
	b.fake.ResetStats()
	pl := preview(t, b, mksync.EntityContact, mksync.FromMetakocka, nil)
	require.Zero(t, b.fake.Stats().Writes())
	it := planOf(t, b, pl.ID)[m1.MetakockaID]
	require.Equal(t, mksync.PlanUpdateHere, it.Action, "%+v", pl.Result)
	require.Equal(t, c1.ID, it.LocalID)
	require.Equal(t, []mksync.FieldChange{{Field: "street", Old: c1.Street, New: "New street 1"}}, it.Changes)
	got, err := b.store.FindContactByID(ctx, b.tenant, c1.ID)
	require.NoError(t, err)
	require.Equal(t, c1.Street, got.Street, "a pull preview writes no record")
}

// TestPreviewEveryEntityBothWays: previews of products and sales documents
// in both directions, single and all, decide without a write call and
// write nothing locally; a document whose partner and products are not in
// Metakocka (or not in the CRM) yet is planned as if they came first.
func TestPreviewEveryEntityBothWays(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newProduct(t, b)
	d := newDocument(t, b, mksync.KindOrder, c, p)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	dm := b.mapping(t, mksync.EntitySalesDocument, d.ID)
	pm := b.mapping(t, mksync.EntityProduct, p.ID)
	// A new document whose contact and product are new too.
	d2 := newDocument(t, b, mksync.KindOrder, newContact(t, b), newProduct(t, b))

	// A second tenant on the same company, with an empty CRM, pulls.
	other := mksync.Tenant{Name: "empty CRM"}
	require.NoError(t, b.store.CreateTenant(ctx, &other))
	require.NoError(t, b.store.SetCredentials(ctx, other.ID, &mksync.MetakockaCredentials{
		CompanyID: b.company, SecretKey: mksync.Secret("secret-" + b.company), BaseURL: b.url}))
	b.fake.ResetStats()

	push := preview(t, b, mksync.EntitySalesDocument, mksync.ToMetakocka, nil)
	require.Equal(t, 1, push.Result.Created, "%+v", push.Result)
	require.Equal(t, 1, push.Result.Skipped)
	it := planOf(t, b, push.ID)[d2.ID]
	require.Equal(t, mksync.PlanCreateThere, it.Action, "%+v", it)
	one := preview(t, b, mksync.EntityProduct, mksync.ToMetakocka, []string{p.ID})
	require.Equal(t, 1, one.Result.Skipped, "%+v", one.Result)

	pulls := map[mksync.EntityType]mksync.SyncRun{}
	for _, et := range []mksync.EntityType{mksync.EntityProduct, mksync.EntitySalesDocument} {
		run := &mksync.SyncRun{EntityType: et, Direction: mksync.FromMetakocka, DryRun: true}
		require.NoError(t, runToEnd(ctx, b.e, other.ID, run, nil))
		pulls[et] = *run
	}
	require.Equal(t, mksync.RunSucceeded, pulls[mksync.EntityProduct].Status)
	require.Equal(t, 1, pulls[mksync.EntityProduct].Result.Created, "%+v", pulls[mksync.EntityProduct].Result)
	require.Equal(t, 1, pulls[mksync.EntitySalesDocument].Result.Created, "%+v", pulls[mksync.EntitySalesDocument].Result)
	single := &mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka, DryRun: true}
	require.NoError(t, runToEnd(ctx, b.e, other.ID, single, []string{dm.MetakockaID}))
	items, _, err := b.store.FindPlanItems(ctx, other.ID, single.ID, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.Equal(t, mksync.PlanCreateHere, items[0].Action)
	require.Equal(t, dm.MetakockaID, items[0].MetakockaID)
	require.Contains(t, changedFields(items[0].Changes), "lines[0].quantity")
	prodItems, _, err := b.store.FindPlanItems(ctx, other.ID, pulls[mksync.EntityProduct].ID, mksync.Page{})
	require.NoError(t, err)
	require.Equal(t, pm.MetakockaID, prodItems[0].Key)

	require.Zero(t, b.fake.Stats().Writes(), "previews make no write call")
	for _, et := range []mksync.EntityType{mksync.EntityContact, mksync.EntityProduct, mksync.EntitySalesDocument} {
		ms, _, err := b.store.FindMappings(ctx, other.ID, et, mksync.ListFilter{})
		require.NoError(t, err)
		require.Empty(t, ms, "a pull preview maps nothing (%s)", et)
	}
	n := 0
	for _, err := range b.store.AllContacts(ctx, other.ID) {
		require.NoError(t, err)
		n++
	}
	require.Zero(t, n, "a pull preview of documents creates no contact")
	_, err = b.store.FindMapping(ctx, b.tenant, mksync.EntitySalesDocument, d2.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
}

// TestPreviewListsPolicyDeletes: under delete_in_metakocka a preview of a
// bulk push lists the product deleted in the CRM as "delete in Metakocka"
// (and deletes nothing); applying the plan deletes exactly it and forgets
// its tombstone. A planned delete whose tombstone was forgotten since the
// preview (the record restored) is not carried out. Under keep nothing is
// planned.
func TestPreviewListsPolicyDeletes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		policy  mksync.DeletePolicy
		planned bool
	}{
		{mksync.DeleteKeep, false},
		{mksync.DeleteInMetakocka, true},
	} {
		b := setup(t, setupOpts{settings: mksync.SyncSettings{DeletePolicy: tt.policy}})
		ctx := context.Background()
		gone, kept, restored := newProduct(t, b), newProduct(t, b), newProduct(t, b)
		for _, p := range []mksync.Product{gone, kept, restored} {
			_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
			require.NoError(t, err)
		}
		goneMk := b.mapping(t, mksync.EntityProduct, gone.ID).MetakockaID
		restoredMk := b.mapping(t, mksync.EntityProduct, restored.ID).MetakockaID
		require.NoError(t, b.store.DeleteProduct(ctx, b.tenant, gone.ID))
		require.NoError(t, b.store.DeleteProduct(ctx, b.tenant, restored.ID))
		fresh := newProduct(t, b)
		b.fake.ResetStats()

		pv := preview(t, b, mksync.EntityProduct, mksync.ToMetakocka, nil)
		require.Zero(t, b.fake.Stats().Writes(), "%s: a preview deletes nothing", tt.policy)
		require.Len(t, b.fake.Products(b.company), 3)
		plan := planOf(t, b, pv.ID)
		require.Equal(t, mksync.PlanCreateThere, plan[fresh.ID].Action)
		if !tt.planned {
			require.NotContains(t, plan, gone.ID, tt.policy)
			continue
		}
		it := plan[gone.ID]
		require.Equal(t, mksync.PlanDeleteThere, it.Action, "%+v", it)
		require.Equal(t, goneMk, it.MetakockaID)
		require.Contains(t, it.Reason, "deletion policy")
		require.Equal(t, mksync.PlanDeleteThere, plan[restored.ID].Action)
		totals, err := b.store.CountPlanItems(ctx, b.tenant, pv.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.PlanTotals{mksync.PlanDeleteThere: 2, mksync.PlanCreateThere: 1}, totals)
		_, err = b.store.FindTombstone(ctx, b.tenant, mksync.EntityProduct, goneMk)
		require.NoError(t, err, "a preview keeps the tombstone")

		// The second deleted product is restored on purpose after the preview.
		require.NoError(t, b.store.DeleteTombstone(ctx, b.tenant, mksync.EntityProduct, restoredMk))
		ap := applyPlan(t, b, pv.ID)
		require.Equal(t, 1, ap.Result.Created, "%+v", ap.Result)
		require.Equal(t, 1, ap.Result.Updated, "the delete")
		require.Equal(t, 1, ap.Result.Failed)
		require.Equal(t, mksync.ECONFLICT, ap.Result.Errors[0].Code)
		mkIDs := map[string]bool{}
		for _, p := range b.fake.Products(b.company) {
			mkIDs[p.MkID] = true
		}
		require.False(t, mkIDs[goneMk], "the planned delete was made")
		require.True(t, mkIDs[restoredMk], "a restored record is not deleted")
		require.Len(t, mkIDs, 3, "kept, restored and the new one")
		_, err = b.store.FindTombstone(ctx, b.tenant, mksync.EntityProduct, goneMk)
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "its tombstone is forgotten")
	}
}

// TestTwoRecordsMatchingOnePartner: two CRM contacts that match the same
// Metakocka partner (a CRM duplicate) are not both linked, nor is the
// second created again: in a preview and in a real run alike, one is
// linked and the other left ambiguous, its reason naming the first; the
// plan applies as previewed whichever record the run decides first.
func TestTwoRecordsMatchingOnePartner(t *testing.T) {
	t.Parallel()
	for _, viaPreview := range []bool{true, false} {
		b := setup(t, setupOpts{})
		ctx := context.Background()
		mk := b.mk(t)
		partner := addPartner(t, mk, "Edina d.o.o.", "SI55555555", "")
		var ids []string
		for _, tax := range []string{"55555555", "SI 55555555"} {
			c := mksync.Contact{Name: "Edina " + tax, TaxID: tax, Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
			require.NoError(t, b.store.CreateContact(ctx, b.tenant, &c))
			ids = append(ids, c.ID)
		}
		run := &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
		if viaPreview {
			b.fake.ResetStats()
			pv := preview(t, b, mksync.EntityContact, mksync.ToMetakocka, nil)
			require.Zero(t, b.fake.Stats().Writes())
			require.Equal(t, 1, pv.Result.Linked, "%+v", pv.Result)
			require.Equal(t, 1, pv.Result.Ambiguous)
			plan := planOf(t, b, pv.ID)
			var linked, amb mksync.PlanItem
			for _, id := range ids {
				switch it := plan[id]; it.Action {
				case mksync.PlanLink:
					linked = it
				case mksync.PlanAmbiguous:
					amb = it
				}
			}
			require.Equal(t, partner, linked.MetakockaID)
			require.Equal(t, []string{partner}, amb.Candidates)
			require.Contains(t, amb.Reason, "matched by contact "+linked.Key+" in this run")
			*run = applyPlan(t, b, pv.ID)
		} else {
			require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
		}
		require.Equal(t, 1, run.Result.Linked, "%+v", run.Result)
		require.Equal(t, 1, run.Result.Ambiguous)
		require.Zero(t, run.Result.Failed+run.Result.Created)
		require.Len(t, b.fake.Partners(b.company), 1, "no second partner")
		states := map[mksync.SyncState]string{}
		for _, id := range ids {
			m := b.mapping(t, mksync.EntityContact, id)
			states[m.State] = m.LastError
			if m.State == mksync.StateSynced {
				require.Equal(t, partner, m.MetakockaID)
			}
		}
		require.Contains(t, states, mksync.StateSynced)
		require.Contains(t, states, mksync.StateAmbiguous)
		er, err := b.store.FindErrorRecord(ctx, b.tenant, states[mksync.StateAmbiguous])
		require.NoError(t, err)
		require.Contains(t, er.Message, "in this run")
	}
}

// TestSingleRecordPreviewSettlesOpenConflict: a single-record preview
// (an explicit sync's preview) of a record with an open conflict plans what
// the explicit sync does — the CRM's values to Metakocka, Metakocka's from
// it — while a preview of the same record as a selection plans the
// conflict; applying the explicit plan syncs the record explicitly.
func TestSingleRecordPreviewSettlesOpenConflict(t *testing.T) {
	t.Parallel()
	for _, dir := range []mksync.Direction{mksync.ToMetakocka, mksync.FromMetakocka} {
		b := setup(t, setupOpts{})
		ctx := context.Background()
		c := newContact(t, b)
		_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
		require.NoError(t, err)
		m := b.mapping(t, mksync.EntityContact, c.ID)
		c.Name = "CRM name"
		require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
		_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: m.MetakockaID, Customer: "Metakocka name"})
		require.NoError(t, err)
		m = b.mapping(t, mksync.EntityContact, c.ID)
		m.State = mksync.StateConflict
		require.NoError(t, b.store.UpsertMapping(ctx, b.tenant, &m))
		key, want, name := c.ID, mksync.PlanUpdateThere, "CRM name"
		if dir == mksync.FromMetakocka {
			key, want, name = m.MetakockaID, mksync.PlanUpdateHere, "Metakocka name"
		}
		b.fake.ResetStats()

		selected := preview(t, b, mksync.EntityContact, dir, []string{key})
		require.Equal(t, mksync.PlanConflict, planOf(t, b, selected.ID)[key].Action, "%s: a selection leaves it open", dir)
		single := &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: dir, DryRun: true, Explicit: true}
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, single, []string{key}))
		it := planOf(t, b, single.ID)[key]
		require.Equal(t, want, it.Action, "%s: %+v", dir, it)
		require.Contains(t, changedFields(it.Changes), "name")
		require.Zero(t, b.fake.Stats().Writes())
		require.Equal(t, mksync.StateConflict, b.mapping(t, mksync.EntityContact, c.ID).State)

		ap := applyPlan(t, b, single.ID)
		require.Zero(t, ap.Result.Failed, "%s: %+v", dir, ap.Result)
		got := b.mapping(t, mksync.EntityContact, c.ID)
		require.Equal(t, mksync.StateSynced, got.State, dir)
		local, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
		require.NoError(t, err)
		require.Equal(t, name, local.Name, dir)
		for _, p := range b.fake.Partners(b.company) {
			require.Equal(t, name, p.Customer, dir)
		}
	}
}
