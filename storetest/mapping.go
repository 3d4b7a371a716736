package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func testMappings(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "maps")
	a, b := sampleContact("A"), sampleContact("B")
	require.NoError(t, s.CreateContact(ctx, tid, &a))
	require.NoError(t, s.CreateContact(ctx, tid, &b))

	synced := time.Date(2025, 3, 1, 10, 11, 12, 123456000, time.UTC)
	m := mksync.Mapping{
		EntityType: mksync.EntityContact, EntityID: a.ID, MetakockaID: "1001", CountCode: "MKS-A",
		PushedHash: "h-push", PulledHash: "h-pull", State: mksync.StateSynced, LastSyncedAt: synced,
		// The synced fields, byte for byte (the engine compares them as
		// written): non-ASCII text, escapes, an inner list.
		SyncedView:       `{"name":"Čebelica d.o.o.","email":"a\u003cb@x.si","lines":[{"q":"1"}]}`,
		SyncedRemoteView: `{"name":"Čebelica d.o.o.","email":""}`,
	}
	require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	require.Equal(t, tid, m.TenantID)
	requireRecentUTC(t, m.UpdatedAt)

	got, err := s.FindMapping(ctx, tid, mksync.EntityContact, a.ID)
	require.NoError(t, err)
	requireSame(t, m, got)
	require.True(t, got.LastSyncedAt.Equal(synced), "sub-second times survive")
	byMK, err := s.FindMappingByMetakockaID(ctx, tid, mksync.EntityContact, "1001")
	require.NoError(t, err)
	requireSame(t, got, byMK)
	_, err = s.FindMappingByMetakockaID(ctx, tid, mksync.EntityProduct, "1001")
	requireCode(t, err, mksync.ENOTFOUND, "mappings are per entity type")

	// Same local record again: replaced, not duplicated; the synced
	// fields are replaced too (an empty remote view: both sides agreed).
	m.SyncedView, m.SyncedRemoteView = `{"name":"B"}`, ""
	m.MetakockaID = "1002"
	m.State = mksync.StateFailed
	m.LastError = "err-1"
	require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	got, err = s.FindMapping(ctx, tid, mksync.EntityContact, a.ID)
	require.NoError(t, err)
	require.Equal(t, "1002", got.MetakockaID)
	require.Equal(t, "err-1", got.LastError)
	require.Equal(t, `{"name":"B"}`, got.SyncedView)
	require.Empty(t, got.SyncedRemoteView)
	_, err = s.FindMappingByMetakockaID(ctx, tid, mksync.EntityContact, "1001")
	requireCode(t, err, mksync.ENOTFOUND)

	// Unique in the other direction: one mk_id, one local record.
	mb := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: b.ID, MetakockaID: "1002", State: mksync.StateSynced}
	requireCode(t, s.UpsertMapping(ctx, tid, &mb), mksync.ECONFLICT)
	_, err = s.FindMapping(ctx, tid, mksync.EntityContact, b.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	// Empty mk_ids (not created in Metakocka yet) never clash.
	mb.MetakockaID = ""
	mb.State = mksync.StatePending
	require.NoError(t, s.UpsertMapping(ctx, tid, &mb))
	ma2 := got
	ma2.MetakockaID = ""
	require.NoError(t, s.UpsertMapping(ctx, tid, &ma2))

	// The mappings of a page of records in one call: unmapped ids are
	// absent, another entity type's mappings are not included.
	c := sampleContact("C")
	require.NoError(t, s.CreateContact(ctx, tid, &c))
	of, err := s.FindMappingsOf(ctx, tid, mksync.EntityContact, []string{a.ID, b.ID, c.ID, "0190f3c4-0000-7000-8000-0000000000fe"})
	require.NoError(t, err)
	require.Len(t, of, 2)
	one, err := s.FindMapping(ctx, tid, mksync.EntityContact, a.ID)
	require.NoError(t, err)
	requireSame(t, one, of[a.ID])
	require.Equal(t, b.ID, of[b.ID].EntityID)
	of, err = s.FindMappingsOf(ctx, tid, mksync.EntityProduct, []string{a.ID, b.ID})
	require.NoError(t, err)
	require.Empty(t, of)
	of, err = s.FindMappingsOf(ctx, tid, mksync.EntityContact, nil)
	require.NoError(t, err)
	require.Empty(t, of)
	_, err = s.FindMappingsOf(ctx, tid, "invoice", []string{a.ID})
	requireCode(t, err, mksync.EINVALID)
	_, err = s.FindMappingsOf(ctx, tid, mksync.EntityContact, make([]string, mksync.MaxMappingsOf+1))
	requireCode(t, err, mksync.EINVALID)
	many := make([]string, mksync.MaxMappingsOf)
	for i := range many {
		many[i] = fmt.Sprintf("0190f3c4-0000-7000-8000-%012d", i)
	}
	many[17] = a.ID
	of, err = s.FindMappingsOf(ctx, tid, mksync.EntityContact, many)
	require.NoError(t, err)
	require.Len(t, of, 1, "a full page of ids in one query")

	// Only existing records of this tenant can be mapped; types and states are checked.
	ghost := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: "0190f3c4-0000-7000-8000-0000000000ff", MetakockaID: "9", State: mksync.StateSynced}
	requireCode(t, s.UpsertMapping(ctx, tid, &ghost), mksync.ENOTFOUND)
	wrongType := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: a.ID, MetakockaID: "9", State: mksync.StateSynced}
	requireCode(t, s.UpsertMapping(ctx, tid, &wrongType), mksync.ENOTFOUND)
	badType := mksync.Mapping{EntityType: "invoice", EntityID: a.ID, State: mksync.StateSynced}
	requireCode(t, s.UpsertMapping(ctx, tid, &badType), mksync.EINVALID)
	badState := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: a.ID, State: "done"}
	requireCode(t, s.UpsertMapping(ctx, tid, &badState), mksync.EINVALID)
	unsyncedState := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: a.ID, State: mksync.StateUnsynced}
	requireCode(t, s.UpsertMapping(ctx, tid, &unsyncedState), mksync.EINVALID)

	// Updating a record: synced → pending; other states stay.
	mb.MetakockaID, mb.State, mb.SyncedView = "2002", mksync.StateSynced, `{"name":"B"}`
	require.NoError(t, s.UpsertMapping(ctx, tid, &mb))
	ma2.MetakockaID, ma2.State = "2001", mksync.StateConflict
	require.NoError(t, s.UpsertMapping(ctx, tid, &ma2))
	require.NoError(t, s.UpdateContact(ctx, tid, &b))
	require.NoError(t, s.UpdateContact(ctx, tid, &a))
	got, err = s.FindMapping(ctx, tid, mksync.EntityContact, b.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StatePending, got.State)
	require.Equal(t, "2002", got.MetakockaID, "turning pending keeps the link")
	require.Equal(t, `{"name":"B"}`, got.SyncedView, "turning pending keeps the synced fields (the merge's base)")
	got, err = s.FindMapping(ctx, tid, mksync.EntityContact, a.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateConflict, got.State)

	// Delete.
	require.NoError(t, s.DeleteMapping(ctx, tid, mksync.EntityContact, a.ID))
	_, err = s.FindMapping(ctx, tid, mksync.EntityContact, a.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteMapping(ctx, tid, mksync.EntityContact, a.ID), mksync.ENOTFOUND)
	// The freed mk_id can be mapped again.
	mb.MetakockaID = "2001"
	require.NoError(t, s.UpsertMapping(ctx, tid, &mb))
	// Deleting the record deletes its mapping.
	require.NoError(t, s.DeleteContact(ctx, tid, b.ID))
	_, err = s.FindMapping(ctx, tid, mksync.EntityContact, b.ID)
	requireCode(t, err, mksync.ENOTFOUND)
}

func testMappingLists(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "maplists")

	const n = 1050
	cs := make([]mksync.Contact, n)
	for i := range cs {
		cs[i] = sampleContact(fmt.Sprintf("M %04d", i))
	}
	require.NoError(t, s.UpsertContacts(ctx, tid, cs))
	p := sampleProduct("ONE")
	require.NoError(t, s.CreateProduct(ctx, tid, &p))

	// Map all but the last 50; states cycle.
	require.NoError(t, s.InTx(ctx, tid, func(tx mksync.Store) error {
		for i, c := range cs[:n-50] {
			m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, MetakockaID: fmt.Sprintf("MK%05d", i), CountCode: fmt.Sprintf("CC-%05d", i), State: mksync.SyncStates[i%4],
				SyncedView: fmt.Sprintf(`{"name":"M %04d"}`, i)}
			if i%3 == 0 {
				m.SyncedRemoteView = fmt.Sprintf(`{"name":"Metakocka %04d"}`, i)
			}
			if err := tx.UpsertMapping(ctx, tid, &m); err != nil {
				return err
			}
		}
		pm := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, MetakockaID: "MK00001", State: mksync.StateSynced}
		return tx.UpsertMapping(ctx, tid, &pm)
	}))

	all := collect(t, s.AllMappings(ctx, tid, mksync.EntityContact))
	require.Len(t, all, n-50)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].EntityID, all[i].EntityID, "mappings stream in entity id order")
	}
	require.Len(t, collect(t, s.AllMappings(ctx, tid, mksync.EntityProduct)), 1)
	require.Empty(t, collect(t, s.AllMappings(ctx, tid, mksync.EntitySalesDocument)))

	// The states are the mappings without their synced views.
	states := collect(t, s.AllMappingStates(ctx, tid, mksync.EntityContact))
	require.Len(t, states, len(all))
	first := all[slices.IndexFunc(all, func(m mksync.Mapping) bool { return m.MetakockaID == "MK00000" })]
	require.Equal(t, `{"name":"M 0000"}`, first.SyncedView, "AllMappings keeps the views")
	require.Equal(t, `{"name":"Metakocka 0000"}`, first.SyncedRemoteView)
	for i := range all {
		want := all[i]
		want.SyncedView, want.SyncedRemoteView = "", ""
		require.Equal(t, want, states[i])
	}
	require.Len(t, collect(t, s.AllMappingStates(ctx, tid, mksync.EntityProduct)), 1)
	require.Empty(t, collect(t, s.AllMappingStates(ctx, tid, mksync.EntitySalesDocument)))

	counts, err := s.CountMappingsByState(ctx, tid, mksync.EntityContact)
	require.NoError(t, err)
	require.Equal(t, map[mksync.SyncState]int{
		mksync.StateSynced: 250, mksync.StatePending: 250, mksync.StateConflict: 250, mksync.StateFailed: 250,
		mksync.StateAmbiguous: 0, mksync.StateDeletedInMetakocka: 0, mksync.StateUnsynced: 50,
	}, counts)
	counts, err = s.CountMappingsByState(ctx, tid, mksync.EntitySalesDocument)
	require.NoError(t, err)
	require.Equal(t, map[mksync.SyncState]int{
		mksync.StateSynced: 0, mksync.StatePending: 0, mksync.StateConflict: 0, mksync.StateFailed: 0, mksync.StateUnsynced: 0,
		mksync.StateAmbiguous: 0, mksync.StateDeletedInMetakocka: 0,
	}, counts)

	list := func(f mksync.ListFilter) func(p mksync.Page) ([]mksync.Mapping, string, error) {
		return func(p mksync.Page) ([]mksync.Mapping, string, error) {
			f.Page = p
			return s.FindMappings(ctx, tid, mksync.EntityContact, f)
		}
	}
	failed := pageAll(t, 60, list(mksync.ListFilter{State: mksync.StateFailed}))
	require.Len(t, failed, 250)
	for _, m := range failed {
		require.Equal(t, mksync.StateFailed, m.State)
	}
	everything := pageAll(t, 333, list(mksync.ListFilter{}))
	require.Len(t, everything, n-50)
	found, _, err := s.FindMappings(ctx, tid, mksync.EntityContact, mksync.ListFilter{Search: "mk0001"})
	require.NoError(t, err)
	require.Len(t, found, 10)
	found, _, err = s.FindMappings(ctx, tid, mksync.EntityContact, mksync.ListFilter{Search: "cc-00999"})
	require.NoError(t, err)
	require.Len(t, found, 1)
	none, _, err := s.FindMappings(ctx, tid, mksync.EntityContact, mksync.ListFilter{State: mksync.StateUnsynced})
	require.NoError(t, err)
	require.Empty(t, none, "a mapping is never unsynced")
	_, _, err = s.FindMappings(ctx, tid, mksync.EntityContact, mksync.ListFilter{Page: mksync.Page{After: "!!"}})
	requireCode(t, err, mksync.EINVALID)
}

func testCursors(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "cursors")
	_, err := s.GetCursor(ctx, tid, "documents.last_change")
	requireCode(t, err, mksync.ENOTFOUND)
	require.NoError(t, s.SetCursor(ctx, tid, "documents.last_change", "2025-01-01 10:00:00"))
	v, err := s.GetCursor(ctx, tid, "documents.last_change")
	require.NoError(t, err)
	require.Equal(t, "2025-01-01 10:00:00", v)
	require.NoError(t, s.SetCursor(ctx, tid, "documents.last_change", "2025-01-02 10:00:00"))
	v, err = s.GetCursor(ctx, tid, "documents.last_change")
	require.NoError(t, err)
	require.Equal(t, "2025-01-02 10:00:00", v)
	require.NoError(t, s.SetCursor(ctx, tid, "other", ""))
	v, err = s.GetCursor(ctx, tid, "other")
	require.NoError(t, err)
	require.Empty(t, v)
	requireCode(t, s.SetCursor(ctx, "0190f3c4-0000-7000-8000-00000000ffff", "x", "y"), mksync.ENOTFOUND)
}
