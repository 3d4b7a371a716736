package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func sampleContact(name string) mksync.Contact {
	return mksync.Contact{
		Name:               name,
		BusinessEntity:     true,
		TaxID:              "SI12345678",
		RegistrationNumber: "1234567000",
		Email:              "info@example.com",
		Phone:              "+386 1 234 56 78",
		Mobile:             "+386 41 234 567",
		Street:             "Dunajska cesta 1",
		PostNumber:         "1000",
		City:               "Ljubljana",
		Province:           "Osrednjeslovenska",
		Country:            "SI",
		Notes:              "first line\nsecond line, \"quoted\" 'and' ünïcødé",
	}
}

func testContacts(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "acme")

	// Create fills id, tenant, times and version.
	c := sampleContact("Čebelarstvo Novak d.o.o.")
	require.NoError(t, s.CreateContact(ctx, tid, &c))
	require.NotEmpty(t, c.ID)
	require.Equal(t, tid, c.TenantID)
	require.EqualValues(t, 1, c.Version)
	requireRecentUTC(t, c.CreatedAt)
	requireRecentUTC(t, c.UpdatedAt)

	got, err := s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	requireSame(t, c, got)

	// A caller-chosen id is kept; reusing one is a conflict.
	c2 := sampleContact("Second")
	c2.ID = "0190f3c4-0000-7000-8000-000000000001"
	require.NoError(t, s.CreateContact(ctx, tid, &c2))
	require.Equal(t, "0190f3c4-0000-7000-8000-000000000001", c2.ID)
	dup := sampleContact("Dup")
	dup.ID = c2.ID
	requireCode(t, s.CreateContact(ctx, tid, &dup), mksync.ECONFLICT)

	// Validation: EINVALID and nothing written.
	bad := sampleContact("")
	bad.Email = "not an email"
	err = s.CreateContact(ctx, tid, &bad)
	requireCode(t, err, mksync.EINVALID)
	require.Contains(t, mksync.ErrorDetails(err), "name")
	require.Contains(t, mksync.ErrorDetails(err), "email")
	all := collect(t, s.AllContacts(ctx, tid))
	require.Len(t, all, 2)

	// Unknown tenant.
	orphan := sampleContact("Orphan")
	requireCode(t, s.CreateContact(ctx, "0190f3c4-0000-7000-8000-00000000ffff", &orphan), mksync.ENOTFOUND)

	// Update with the current version bumps it.
	upd := got
	upd.Name = "Čebelarstvo Novak s.p."
	upd.Notes = ""
	require.NoError(t, s.UpdateContact(ctx, tid, &upd))
	require.EqualValues(t, 2, upd.Version)
	require.False(t, upd.UpdatedAt.Before(got.UpdatedAt))
	got2, err := s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	requireSame(t, upd, got2)
	require.Equal(t, "Čebelarstvo Novak s.p.", got2.Name)
	require.True(t, got2.CreatedAt.Equal(c.CreatedAt), "update must keep created_at")

	// A stale version is a conflict and changes nothing.
	stale := got // version 1
	stale.Name = "Stale write"
	requireCode(t, s.UpdateContact(ctx, tid, &stale), mksync.ECONFLICT)
	got3, err := s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	requireSame(t, got2, got3)

	// An invalid update is EINVALID and changes nothing.
	inv := got3
	inv.Name = strings.Repeat("x", 101)
	requireCode(t, s.UpdateContact(ctx, tid, &inv), mksync.EINVALID)

	// Missing records.
	_, err = s.FindContactByID(ctx, tid, "0190f3c4-0000-7000-8000-0000000000ff")
	requireCode(t, err, mksync.ENOTFOUND)
	ghost := sampleContact("Ghost")
	ghost.ID = "0190f3c4-0000-7000-8000-0000000000ff"
	ghost.Version = 1
	requireCode(t, s.UpdateContact(ctx, tid, &ghost), mksync.ENOTFOUND)
	requireCode(t, s.DeleteContact(ctx, tid, ghost.ID), mksync.ENOTFOUND)

	// Delete.
	require.NoError(t, s.DeleteContact(ctx, tid, c.ID))
	_, err = s.FindContactByID(ctx, tid, c.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteContact(ctx, tid, c.ID), mksync.ENOTFOUND)
}

func testContactLists(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "lists")

	var ids []string
	for i := range 23 {
		c := sampleContact(fmt.Sprintf("Contact %02d", i))
		c.Email = fmt.Sprintf("c%02d@example.com", i)
		if i == 7 {
			c.Name = "ŠPELA Žagar"
		}
		require.NoError(t, s.CreateContact(ctx, tid, &c))
		ids = append(ids, c.ID)
	}

	// Pages in id order, cursors opaque.
	list := func(f mksync.ListFilter) func(p mksync.Page) ([]mksync.Contact, string, error) {
		return func(p mksync.Page) ([]mksync.Contact, string, error) {
			f.Page = p
			return s.FindContacts(ctx, tid, f)
		}
	}
	got := pageAll(t, 5, list(mksync.ListFilter{}))
	require.Len(t, got, 23)
	for i, c := range got {
		require.Equal(t, ids[i], c.ID, "contacts must list in id (creation) order")
	}
	// Default limit and exact-fit last page.
	first, next, err := s.FindContacts(ctx, tid, mksync.ListFilter{})
	require.NoError(t, err)
	require.Len(t, first, 23)
	require.Empty(t, next)
	exact := pageAll(t, 23, list(mksync.ListFilter{}))
	require.Len(t, exact, 23)

	// A malformed cursor is the caller's mistake.
	_, _, err = s.FindContacts(ctx, tid, mksync.ListFilter{Page: mksync.Page{After: "%%%not-a-cursor"}})
	requireCode(t, err, mksync.EINVALID)

	// Search: case-insensitive, Unicode, name or email.
	found, _, err := s.FindContacts(ctx, tid, mksync.ListFilter{Search: "špela"})
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, ids[7], found[0].ID)
	found, _, err = s.FindContacts(ctx, tid, mksync.ListFilter{Search: "C05@EXAMPLE"})
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, ids[5], found[0].ID)
	for _, wild := range []string{"%", "_", `\`} {
		found, _, err = s.FindContacts(ctx, tid, mksync.ListFilter{Search: wild})
		require.NoError(t, err)
		require.Empty(t, found, "wildcards in search must be literal: %q", wild)
	}
	found = pageAll(t, 4, list(mksync.ListFilter{Search: "contact 1"}))
	require.Len(t, found, 10)

	// Filter by sync state.
	for i, st := range map[int]mksync.SyncState{1: mksync.StateSynced, 2: mksync.StatePending, 3: mksync.StateSynced, 4: mksync.StateFailed} {
		m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: ids[i], MetakockaID: fmt.Sprintf("MK%d", i), State: st}
		require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	}
	synced := pageAll(t, 1, list(mksync.ListFilter{State: mksync.StateSynced}))
	require.Len(t, synced, 2)
	require.Equal(t, ids[1], synced[0].ID)
	require.Equal(t, ids[3], synced[1].ID)
	unsynced := pageAll(t, 7, list(mksync.ListFilter{State: mksync.StateUnsynced}))
	require.Len(t, unsynced, 19)
	for _, c := range unsynced {
		require.NotContains(t, []string{ids[1], ids[2], ids[3], ids[4]}, c.ID)
	}
	failed, _, err := s.FindContacts(ctx, tid, mksync.ListFilter{State: mksync.StateFailed, Search: "contact 04"})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	none, next, err := s.FindContacts(ctx, tid, mksync.ListFilter{State: mksync.StateConflict})
	require.NoError(t, err)
	require.Empty(t, none)
	require.Empty(t, next)

	// Limits are capped.
	_, _, err = s.FindContacts(ctx, tid, mksync.ListFilter{Page: mksync.Page{Limit: 5000}})
	require.NoError(t, err)
}

func testContactUpsertAndStream(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "bulk")

	// More than one internal batch / chunk (≤ 500 each).
	const n = 1234
	cs := make([]mksync.Contact, n)
	for i := range cs {
		cs[i] = sampleContact(fmt.Sprintf("Bulk %04d", i))
	}
	require.NoError(t, s.UpsertContacts(ctx, tid, cs))
	for _, c := range cs {
		require.NotEmpty(t, c.ID, "upsert must fill ids in the slice")
	}

	all := collect(t, s.AllContacts(ctx, tid))
	require.Len(t, all, n)
	seen := map[string]bool{}
	for i, c := range all {
		require.False(t, seen[c.ID])
		seen[c.ID] = true
		if i > 0 {
			require.Less(t, all[i-1].ID, c.ID, "AllContacts must stream in id order")
		}
		require.EqualValues(t, 1, c.Version)
	}

	// Stopping early is fine.
	count := 0
	for _, err := range s.AllContacts(ctx, tid) {
		require.NoError(t, err)
		count++
		if count == 3 {
			break
		}
	}
	require.Equal(t, 3, count)
	// The store is still usable afterwards (no leaked connection or tx).
	require.NoError(t, s.UpsertContacts(ctx, tid, []mksync.Contact{sampleContact("After break")}))

	// Replace by id bumps the version and turns a synced mapping pending.
	target := all[600]
	m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: target.ID, MetakockaID: "MK-600", State: mksync.StateSynced}
	require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	target.Name = "Replaced"
	target.Version = 0 // upserts do not check versions
	require.NoError(t, s.UpsertContacts(ctx, tid, []mksync.Contact{target}))
	got, err := s.FindContactByID(ctx, tid, target.ID)
	require.NoError(t, err)
	require.Equal(t, "Replaced", got.Name)
	require.EqualValues(t, 2, got.Version)
	require.True(t, got.CreatedAt.Equal(all[600].CreatedAt))
	mm, err := s.FindMapping(ctx, tid, mksync.EntityContact, target.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StatePending, mm.State)

	// One invalid record: EINVALID and nothing of the call is written.
	batch := []mksync.Contact{sampleContact("New A"), sampleContact(""), sampleContact("New B")}
	batch[0].ID = "0190f3c4-0000-7000-8000-00000000aaaa"
	requireCode(t, s.UpsertContacts(ctx, tid, batch), mksync.EINVALID)
	_, err = s.FindContactByID(ctx, tid, batch[0].ID)
	requireCode(t, err, mksync.ENOTFOUND)
	require.Len(t, collect(t, s.AllContacts(ctx, tid)), n+1)

	// An empty upsert is a no-op.
	require.NoError(t, s.UpsertContacts(ctx, tid, nil))
}
