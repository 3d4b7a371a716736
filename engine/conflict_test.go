package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

func TestConflictPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy    mksync.ConflictPolicy
		dir       mksync.Direction
		wantName  string // local name afterwards
		wantMK    string // Metakocka name afterwards
		wantState mksync.SyncState
	}{
		{mksync.CRMWins, mksync.ToMetakocka, "crm", "crm", mksync.StateSynced},
		{mksync.CRMWins, mksync.FromMetakocka, "crm", "crm", mksync.StateSynced},
		{mksync.MetakockaWins, mksync.ToMetakocka, "mk", "mk", mksync.StateSynced},
		{mksync.MetakockaWins, mksync.FromMetakocka, "mk", "mk", mksync.StateSynced},
		// Partners carry no change time: Metakocka's change counts from
		// when mksync first saw it (this sync), after the CRM's edit.
		{mksync.NewestWins, mksync.ToMetakocka, "mk", "mk", mksync.StateSynced},
		{mksync.NewestWins, mksync.FromMetakocka, "mk", "mk", mksync.StateSynced},
	} {
		t.Run(string(tc.policy)+"/"+string(tc.dir), func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: tc.policy}})
			ctx := context.Background()
			c := newContact(t, b)
			_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
			require.NoError(t, err)
			m := b.mapping(t, mksync.EntityContact, c.ID)
			c.Name = "crm"
			require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
			_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: m.MetakockaID, Customer: "mk"})
			require.NoError(t, err)

			run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: tc.dir}
			require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
			require.Equal(t, 1, run.Result.Conflicts, "%+v", run.Result)
			got, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
			require.NoError(t, err)
			require.Equal(t, tc.wantName, got.Name)
			require.Equal(t, tc.wantMK, b.fake.Partners(b.company)[0].Customer)
			require.Equal(t, tc.wantState, b.mapping(t, mksync.EntityContact, c.ID).State)
			ers, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{Category: "SYNC"})
			require.NoError(t, err)
			require.Len(t, ers, 1)
			require.Equal(t, mksync.ECONFLICT, ers[0].Code)
			// The conflict names the field and both values.
			require.Contains(t, ers[0].Message, "name changed in the CRM and in Metakocka")
			require.Equal(t, []any{map[string]any{"field": "name", "crm": "crm", "metakocka": "mk"}}, jsonRoundTrip(t, ers[0].Details["fields"]))
		})
	}
}

func TestNewestWinsUsesDocumentChangeTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	b := setup(t, setupOpts{})
	s := &session{e: b.e, settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins}}
	require.Equal(t, winCRM, s.decide(now, now.Add(-time.Minute)))
	require.Equal(t, winMetakocka, s.decide(now, now.Add(time.Minute)))
	require.Equal(t, winMetakocka, s.decide(now, now), "Metakocka wins a tie")
	// No Metakocka time (partners, products): Metakocka's change counts
	// from when mksync first saw it, which is now (the engine's clock).
	clockNow := b.e.clock.Now()
	require.Equal(t, winMetakocka, s.decide(clockNow.Add(-time.Second), time.Time{}))
	require.Equal(t, winCRM, s.decide(clockNow.Add(time.Hour), time.Time{}))
	require.Equal(t, now, parseMkTime("2025-05-01T14:00:00+02:00").UTC())
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	other, otherCompany := b.addTenant(t, "17", mksync.SyncSettings{})
	c, p := newContact(t, b), newProduct(t, b)
	d := newDocument(t, b, mksync.KindOrder, c, p)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)

	require.Empty(t, b.fake.Partners(otherCompany))
	require.Empty(t, b.fake.Products(otherCompany))
	require.Empty(t, b.fake.Documents(otherCompany))
	for _, et := range mksync.EntityTypes {
		recs, _, err := b.e.ListNotInCRM(ctx, other, et, mksync.Page{})
		require.NoError(t, err)
		require.Empty(t, recs, et)
		run := mksync.SyncRun{EntityType: et, Direction: mksync.FromMetakocka}
		require.NoError(t, runToEnd(ctx, b.e, other, &run, nil))
		require.Zero(t, run.Result.Created+run.Result.Updated, et)
		_, err = b.e.Mapping(ctx, other, et, map[mksync.EntityType]string{mksync.EntityContact: c.ID, mksync.EntityProduct: p.ID, mksync.EntitySalesDocument: d.ID}[et])
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	}
	// The other tenant cannot push the first tenant's record.
	_, err = b.e.SyncToMetakocka(ctx, other, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	mkid := b.mapping(t, mksync.EntityContact, c.ID).MetakockaID
	_, err = b.e.SyncFromMetakocka(ctx, other, mksync.EntityContact, mkid)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "company 17 has no such partner")
}

func TestStaleCacheNeverDuplicatesOrMisMaps(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c1, c2 := newContact(t, b), newContact(t, b)
	p := newProduct(t, b)
	for _, id := range []string{c1.ID, c2.ID} {
		_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, id)
		require.NoError(t, err)
	}
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	m1, m2 := b.mapping(t, mksync.EntityContact, c1.ID), b.mapping(t, mksync.EntityContact, c2.ID)

	// Poison the caches: c1 looks unmapped, c2 looks mapped to c1's
	// partner, the product looks unmapped, and c1's partner is remembered
	// under c2 in the metadata cache.
	b.e.cache.mappings.Set(cacheKey{b.tenant, mksync.EntityContact, c1.ID}, mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c1.ID})
	b.e.cache.mappings.Set(cacheKey{b.tenant, mksync.EntityContact, c2.ID}, m1)
	b.e.cache.byMkID.Set(cacheKey{b.tenant, mksync.EntityContact, m2.MetakockaID}, c1.ID)
	b.e.cache.mappings.Set(cacheKey{b.tenant, mksync.EntityProduct, p.ID}, mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID})

	c1.Name, c2.Name = "c1 new", "c2 new"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c1))
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c2))
	for _, id := range []string{c1.ID, c2.ID} {
		_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, id)
		require.NoError(t, err)
	}
	d := newDocument(t, b, mksync.KindOffer, c2, p)
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)

	require.Len(t, b.fake.Partners(b.company), 2, "no duplicate partner")
	require.Len(t, b.fake.Products(b.company), 1, "no duplicate product")
	names := map[string]string{}
	for _, fp := range b.fake.Partners(b.company) {
		names[fp.MkID] = fp.Customer
	}
	require.Equal(t, "c1 new", names[m1.MetakockaID])
	require.Equal(t, "c2 new", names[m2.MetakockaID])
	require.Equal(t, m1, withoutTimes(b.mapping(t, mksync.EntityContact, c1.ID), m1))
	require.Equal(t, m2.MetakockaID, b.mapping(t, mksync.EntityContact, c2.ID).MetakockaID)
	// The document went to c2's partner, whatever the cache said.
	require.Equal(t, m2.MetakockaID, b.fake.Documents(b.company)[0].Partner.MkID)

	// A mapping write naming an mk_id mapped to another record is refused.
	s := &session{e: b.e, tenantID: b.tenant}
	bad := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c2.ID, MetakockaID: m1.MetakockaID, State: mksync.StateSynced}
	require.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(s.saveMapping(ctx, &bad)))
	st := b.e.CacheStats()
	require.Positive(t, st.MappingHits+st.MappingMisses)
}

// withoutTimes returns got with want's times, hashes and synced fields, to
// compare ids.
func withoutTimes(got, want mksync.Mapping) mksync.Mapping {
	got.LastSyncedAt, got.UpdatedAt, got.PushedHash, got.PulledHash, got.TenantID = want.LastSyncedAt, want.UpdatedAt, want.PushedHash, want.PulledHash, want.TenantID
	got.SyncedView, got.SyncedRemoteView = want.SyncedView, want.SyncedRemoteView
	return got
}

// jsonRoundTrip is v as it reads back from JSON (an error record's details
// after the store).
func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
