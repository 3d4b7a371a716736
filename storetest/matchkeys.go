package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// testRecordKeys: products are found by barcode and sales documents by
// number + contact + date, per tenant; an empty key finds nothing.
func testRecordKeys(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "record-keys")
	other := newDocFixture(t, s, "record-keys-other")
	// p1 and p2 share sampleProduct's barcode: two candidates.
	twin, err := s.FindProductsByBarcode(ctx, f.tenant, f.p1.Barcode)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{f.p1.ID, f.p2.ID}, []string{twin[0].ID, twin[1].ID})
	require.Len(t, twin, 2, "the other tenant's products with the same barcode are not found")
	f.p2.Barcode = "3830000000099"
	require.NoError(t, s.UpdateProduct(ctx, f.tenant, &f.p2))
	one, err := s.FindProductsByBarcode(ctx, f.tenant, "3830000000099")
	require.NoError(t, err)
	require.Len(t, one, 1)
	require.Equal(t, f.p2.ID, one[0].ID)
	require.Equal(t, f.p2.Code, one[0].Code, "the whole product is read")
	none, err := s.FindProductsByBarcode(ctx, f.tenant, "")
	require.NoError(t, err)
	require.Empty(t, none, "an empty barcode matches nothing")

	d := f.document("2025-K1")
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &d))
	od := other.document("2025-K1")
	require.NoError(t, s.CreateSalesDocument(ctx, other.tenant, &od))
	ids := func(number, contactID string, date mksync.Date) []string {
		t.Helper()
		got, err := s.FindSalesDocumentIDsByNumber(ctx, f.tenant, number, contactID, date)
		require.NoError(t, err)
		return got
	}
	require.Equal(t, []string{d.ID}, ids("2025-K1", f.contact.ID, d.Date))
	require.Empty(t, ids("2025-K1", f.contact.ID, mksync.NewDate(2025, 2, 1)), "another date")
	require.Empty(t, ids("2025-K1", other.contact.ID, d.Date), "another contact (and tenant)")
	require.Empty(t, ids("2025-K2", f.contact.ID, d.Date))
	require.Empty(t, ids("", f.contact.ID, d.Date))
}

// testEmailKeyUnicode: e-mail matching ignores case beyond ASCII ("Ž" is
// "ž"), after a create, an update and an upsert.
func testEmailKeyUnicode(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "email-unicode")
	c := sampleContact("Žan")
	c.Email = "ŽAN@ČEBELA.SI"
	require.NoError(t, s.CreateContact(ctx, tid, &c))
	find := func(v string) []string {
		t.Helper()
		cs, err := s.FindContactsByKey(ctx, tid, mksync.KeyEmail, []string{mksync.NormKey(mksync.KeyEmail, v)})
		require.NoError(t, err)
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	require.Equal(t, []string{c.ID}, find("žan@čebela.si"))
	c.Email = "Ćiril@Čebela.si"
	require.NoError(t, s.UpdateContact(ctx, tid, &c))
	require.Equal(t, []string{c.ID}, find("ĆIRIL@ČEBELA.SI"))
	require.Empty(t, find("žan@čebela.si"), "the old address no longer matches")
	c.Email = "ŠPELA@čebela.si"
	require.NoError(t, s.UpsertContacts(ctx, tid, []mksync.Contact{c}))
	require.Equal(t, []string{c.ID}, find("špela@ČEBELA.si"))
}

// testDocumentTombstoneKind: a deleted sales document's tombstone keeps
// its kind (the deletion policy deletes orders only); others have none.
func testDocumentTombstoneKind(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "tomb-kind")
	order := f.document("2025-O1")
	order.Kind = mksync.KindOrder
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &order))
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &mksync.Mapping{EntityType: mksync.EntitySalesDocument, EntityID: order.ID,
		MetakockaID: "8001", CountCode: "2025-O1", State: mksync.StateSynced}))
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: f.p2.ID,
		MetakockaID: "8002", State: mksync.StateSynced}))
	requireCode(t, s.DeleteSalesDocument(ctx, f.tenant, "no-such-document"), mksync.ENOTFOUND)
	require.NoError(t, s.DeleteSalesDocument(ctx, f.tenant, order.ID))
	require.NoError(t, s.DeleteProduct(ctx, f.tenant, f.p2.ID))
	got, err := s.FindTombstone(ctx, f.tenant, mksync.EntitySalesDocument, "8001")
	require.NoError(t, err)
	require.Equal(t, mksync.KindOrder, got.Kind)
	require.Equal(t, order.ID, got.EntityID)
	ts, _, err := s.FindTombstones(ctx, f.tenant, mksync.EntityProduct, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	require.Empty(t, ts[0].Kind, "a product has no kind")

	// A refused delete (the contact is used by a document) keeps no
	// tombstone and keeps the mapping.
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: f.contact.ID,
		MetakockaID: "8003", State: mksync.StateSynced}))
	used := f.document("2025-O2")
	used.Lines = used.Lines[:1] // p2 is gone
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &used))
	requireCode(t, s.DeleteContact(ctx, f.tenant, f.contact.ID), mksync.ECONFLICT)
	_, err = s.FindTombstone(ctx, f.tenant, mksync.EntityContact, "8003")
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.FindMapping(ctx, f.tenant, mksync.EntityContact, f.contact.ID)
	require.NoError(t, err, "the mapping of a record that was not deleted stays")
}
