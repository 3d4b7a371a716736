package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// testPlans: a preview's plan is kept per run, paged in key order, replaced
// item by item (a resumed preview decides a record again), counted by
// action, and keeps the hashes the preview saw.
func testPlans(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "plans")
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Status: mksync.RunQueued, DryRun: true}
	require.NoError(t, s.CreateSyncRun(ctx, tid, &run))
	got, err := s.FindSyncRun(ctx, tid, run.ID)
	require.NoError(t, err)
	require.True(t, got.DryRun)
	apply := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Status: mksync.RunQueued, PlanRunID: run.ID}
	require.NoError(t, s.CreateSyncRun(ctx, tid, &apply))
	got, err = s.FindSyncRun(ctx, tid, apply.ID)
	require.NoError(t, err)
	require.Equal(t, run.ID, got.PlanRunID)
	require.False(t, got.DryRun)

	items := []mksync.PlanItem{
		{Key: "c-3", Action: mksync.PlanCreateThere, LocalID: "c-3", LocalHash: "h3",
			Changes: []mksync.FieldChange{{Field: "name", New: "Firma"}}},
		{Key: "c-1", Action: mksync.PlanLink, LocalID: "c-1", MetakockaID: "700", MatchedBy: "tax number", LocalHash: "h1", RemoteHash: "r1", Forced: true},
		{Key: "c-2", Action: mksync.PlanAmbiguous, LocalID: "c-2", Candidates: []string{"701", "702"}},
	}
	require.NoError(t, s.SavePlanItems(ctx, tid, run.ID, items))
	page, next, err := s.FindPlanItems(ctx, tid, run.ID, mksync.Page{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []mksync.PlanItem{items[1], items[2]}, page)
	require.Equal(t, "c-2", next)
	page, next, err = s.FindPlanItems(ctx, tid, run.ID, mksync.Page{Limit: 2, After: next})
	require.NoError(t, err)
	require.Equal(t, []mksync.PlanItem{items[0]}, page)
	require.Empty(t, next)

	// Deciding c-3 again replaces its item.
	items[0].Action, items[0].MetakockaID, items[0].MatchedBy = mksync.PlanLink, "703", "e-mail"
	require.NoError(t, s.SavePlanItems(ctx, tid, run.ID, items[:1]))
	one, err := s.FindPlanItem(ctx, tid, run.ID, "c-3")
	require.NoError(t, err)
	require.Equal(t, items[0], one)
	totals, err := s.CountPlanItems(ctx, tid, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.PlanTotals{mksync.PlanLink: 2, mksync.PlanAmbiguous: 1}, totals)

	_, err = s.FindPlanItem(ctx, tid, run.ID, "c-9")
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.SavePlanItems(ctx, tid, "no-such-run", items), mksync.ENOTFOUND)
	requireCode(t, s.SavePlanItems(ctx, tid, run.ID, []mksync.PlanItem{{Key: "x"}}), mksync.EINVALID)
	_, _, err = s.FindPlanItems(ctx, tid, "no-such-run", mksync.Page{})
	requireCode(t, err, mksync.ENOTFOUND)
	empty, _, err := s.FindPlanItems(ctx, tid, apply.ID, mksync.Page{})
	require.NoError(t, err)
	require.Empty(t, empty)
}

// planOf stores a one-item plan on the tenant's run and returns its key.
func planOf(t *testing.T, s mksync.Store, tenantID, runID string) string {
	t.Helper()
	require.NoError(t, s.SavePlanItems(t.Context(), tenantID, runID, []mksync.PlanItem{{Key: "k-1", Action: mksync.PlanCreateThere}}))
	return "k-1"
}
