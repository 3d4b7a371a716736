package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// testTombstones: deleting a mapped record keeps a tombstone of its mk_id
// (an unmapped one or one without an mk_id keeps none), per tenant; it can
// be listed, found and forgotten.
func testTombstones(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "tombs")
	other := newTenant(t, s, "tombs-other")

	mapped, pending, plain := sampleContact("mapped"), sampleContact("pending"), sampleContact("plain")
	for _, c := range []*mksync.Contact{&mapped, &pending, &plain} {
		require.NoError(t, s.CreateContact(ctx, tid, c))
	}
	require.NoError(t, s.UpsertMapping(ctx, tid, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: mapped.ID,
		MetakockaID: "7001", CountCode: "cc-7001", State: mksync.StateSynced}))
	require.NoError(t, s.UpsertMapping(ctx, tid, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: pending.ID,
		State: mksync.StatePending}))
	p := sampleProduct("TOMB-1")
	require.NoError(t, s.CreateProduct(ctx, tid, &p))
	require.NoError(t, s.UpsertMapping(ctx, tid, &mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID,
		MetakockaID: "7002", State: mksync.StateSynced}))

	_, err := s.FindTombstone(ctx, tid, mksync.EntityContact, "7001")
	requireCode(t, err, mksync.ENOTFOUND)
	for _, id := range []string{mapped.ID, pending.ID, plain.ID} {
		require.NoError(t, s.DeleteContact(ctx, tid, id))
	}
	require.NoError(t, s.DeleteProduct(ctx, tid, p.ID))

	got, err := s.FindTombstone(ctx, tid, mksync.EntityContact, "7001")
	require.NoError(t, err)
	require.Equal(t, mapped.ID, got.EntityID)
	require.Equal(t, "cc-7001", got.CountCode)
	require.Equal(t, mksync.EntityContact, got.EntityType)
	require.False(t, got.DeletedAt.IsZero())
	_, err = s.FindMapping(ctx, tid, mksync.EntityContact, mapped.ID)
	requireCode(t, err, mksync.ENOTFOUND)

	list, next, err := s.FindTombstones(ctx, tid, mksync.EntityContact, mksync.Page{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, list, 1, "a record without an mk_id leaves no tombstone")
	list, _, err = s.FindTombstones(ctx, tid, mksync.EntityProduct, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "7002", list[0].MetakockaID)
	_, _, err = s.FindTombstones(ctx, tid, "planet", mksync.Page{})
	requireCode(t, err, mksync.EINVALID)

	// Another tenant sees none and cannot forget it.
	_, err = s.FindTombstone(ctx, other, mksync.EntityContact, "7001")
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteTombstone(ctx, other, mksync.EntityContact, "7001"), mksync.ENOTFOUND)
	list, _, err = s.FindTombstones(ctx, other, mksync.EntityContact, mksync.Page{})
	require.NoError(t, err)
	require.Empty(t, list)

	// Paging.
	for i := range 3 {
		c := sampleContact(fmt.Sprintf("paged %d", i))
		require.NoError(t, s.CreateContact(ctx, tid, &c))
		require.NoError(t, s.UpsertMapping(ctx, tid, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID,
			MetakockaID: fmt.Sprintf("800%d", i), State: mksync.StateSynced}))
		require.NoError(t, s.DeleteContact(ctx, tid, c.ID))
	}
	page, next, err := s.FindTombstones(ctx, tid, mksync.EntityContact, mksync.Page{Limit: 3})
	require.NoError(t, err)
	require.Len(t, page, 3)
	require.NotEmpty(t, next)
	page, next, err = s.FindTombstones(ctx, tid, mksync.EntityContact, mksync.Page{Limit: 3, After: next})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Empty(t, next)

	require.NoError(t, s.DeleteTombstone(ctx, tid, mksync.EntityContact, "7001"))
	_, err = s.FindTombstone(ctx, tid, mksync.EntityContact, "7001")
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteTombstone(ctx, tid, mksync.EntityContact, "7001"), mksync.ENOTFOUND)
}

// testContactKeys: contacts are found by tax number, registration number
// and e-mail whatever their spacing, dots, dashes and case, per tenant.
func testContactKeys(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "keys")
	other := newTenant(t, s, "keys-other")
	a, b, c := sampleContact("Key A"), sampleContact("Key B"), sampleContact("Key C")
	a.TaxID, a.RegistrationNumber, a.Email = "SI 12.345-678", "12 34 567", "Info@Firma.SI"
	b.TaxID, b.Email = "12345678", ""
	c.TaxID, c.Email = "", "someone@else.si"
	for _, x := range []*mksync.Contact{&a, &b, &c} {
		require.NoError(t, s.CreateContact(ctx, tid, x))
	}
	o := sampleContact("Key other")
	o.TaxID, o.Email = "SI12345678", "info@firma.si"
	require.NoError(t, s.CreateContact(ctx, other, &o))

	ids := func(k mksync.ContactKey, vs ...string) []string {
		t.Helper()
		for i, v := range vs {
			vs[i] = mksync.NormKey(k, v)
		}
		cs, err := s.FindContactsByKey(ctx, tid, k, vs)
		require.NoError(t, err)
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	require.Equal(t, []string{a.ID}, ids(mksync.KeyTaxNumber, "si12345678"))
	require.ElementsMatch(t, []string{a.ID, b.ID}, ids(mksync.KeyTaxNumber, "SI12345678", "12345678"))
	require.Equal(t, []string{a.ID}, ids(mksync.KeyRegistrationNumber, "1234567"))
	require.Equal(t, []string{a.ID}, ids(mksync.KeyEmail, " INFO@firma.si"))
	require.Empty(t, ids(mksync.KeyEmail, "nobody@firma.si"))
	require.Empty(t, ids(mksync.KeyTaxNumber, "99999999"))

	_, err := s.FindContactsByKey(ctx, tid, "name", []string{"x"})
	requireCode(t, err, mksync.EINVALID)
	_, err = s.FindContactsByKey(ctx, tid, mksync.KeyEmail, nil)
	requireCode(t, err, mksync.EINVALID)
}

// testLinkCounts: CountLinks counts, per tenant and entity type, the
// records linked to a Metakocka record (any state but deleted in
// Metakocka), those with no mapping, the ambiguous ones, those deleted in
// Metakocka, and the tombstones.
func testLinkCounts(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "links")
	other := newTenant(t, s, "links-other")
	states := []struct {
		state mksync.SyncState
		mkID  bool
	}{
		{mksync.StateSynced, true}, {mksync.StateSynced, true}, {mksync.StatePending, true}, {mksync.StateConflict, true},
		{mksync.StateFailed, true},
		{mksync.StatePending, false}, // a create under way: not linked, not to create
		{mksync.StateFailed, false},  // a create that failed
		{mksync.StateAmbiguous, false}, {mksync.StateAmbiguous, false}, {mksync.StateAmbiguous, false},
		{mksync.StateDeletedInMetakocka, true}, {mksync.StateDeletedInMetakocka, true},
	}
	for i, st := range states {
		c := sampleContact(fmt.Sprintf("link %d", i))
		require.NoError(t, s.CreateContact(ctx, tid, &c))
		m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, State: st.state}
		if st.mkID {
			m.MetakockaID = fmt.Sprintf("55%03d", i)
		}
		require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	}
	for i := range 4 {
		c := sampleContact(fmt.Sprintf("unlinked %d", i))
		require.NoError(t, s.CreateContact(ctx, tid, &c))
	}
	// Two tombstones: linked records deleted in the CRM (not counted as
	// records any more).
	for i := range 2 {
		c := sampleContact(fmt.Sprintf("deleted %d", i))
		require.NoError(t, s.CreateContact(ctx, tid, &c))
		require.NoError(t, s.UpsertMapping(ctx, tid, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID,
			MetakockaID: fmt.Sprintf("66%03d", i), State: mksync.StateSynced}))
		require.NoError(t, s.DeleteContact(ctx, tid, c.ID))
	}
	p := sampleProduct("LINK-1")
	require.NoError(t, s.CreateProduct(ctx, tid, &p))
	require.NoError(t, s.UpsertMapping(ctx, tid, &mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, State: mksync.StateAmbiguous}))
	oc := sampleContact("other's")
	require.NoError(t, s.CreateContact(ctx, other, &oc))
	require.NoError(t, s.UpsertMapping(ctx, other, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: oc.ID, MetakockaID: "77001", State: mksync.StateSynced}))

	tests := []struct {
		tenant string
		et     mksync.EntityType
		want   mksync.LinkCounts
	}{
		{tid, mksync.EntityContact, mksync.LinkCounts{Linked: 5, ToCreate: 4, Ambiguous: 3, DeletedInMetakocka: 2, Tombstones: 2}},
		{tid, mksync.EntityProduct, mksync.LinkCounts{Ambiguous: 1}},
		{tid, mksync.EntitySalesDocument, mksync.LinkCounts{}},
		{other, mksync.EntityContact, mksync.LinkCounts{Linked: 1}},
	}
	for _, tt := range tests {
		got, err := s.CountLinks(ctx, tt.tenant, tt.et)
		require.NoError(t, err, tt.et)
		require.Equal(t, tt.want, got, "%s of %s", tt.et, tt.tenant)
	}
	_, err := s.CountLinks(ctx, tid, "planet")
	requireCode(t, err, mksync.EINVALID)
}
