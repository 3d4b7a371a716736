package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func testSyncRuns(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "runs")

	r := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI, Status: mksync.RunQueued, Total: 120}
	require.NoError(t, s.CreateSyncRun(ctx, tid, &r))
	require.NotEmpty(t, r.ID)
	requireRecentUTC(t, r.CreatedAt)
	got, err := s.FindSyncRun(ctx, tid, r.ID)
	require.NoError(t, err)
	requireSame(t, r, got)
	require.Nil(t, got.StartedAt)

	// Progress, result with per-record errors, checkpoint, times.
	started := time.Date(2025, 4, 1, 8, 0, 0, 250000000, time.UTC)
	finished := started.Add(90 * time.Second)
	got.Status = mksync.RunPartial
	got.Processed = 125
	got.Checkpoint = "0190f3c4-0000-7000-8000-000000000120"
	got.StartedAt = &started
	got.FinishedAt = &finished
	got.Result = mksync.SyncResult{
		Success: false, Created: 100, Updated: 10, Skipped: 7, Failed: 2, Conflicts: 1, Linked: 3, Ambiguous: 2,
		Errors: []mksync.RecordError{
			{ID: "c-1", Code: mksync.EINVALID, Error: "name is required", ErrorID: "e-1"},
			{ID: "c-2", Code: mksync.EUPSTREAM, Error: "Metakocka timed out"},
		},
	}
	require.NoError(t, s.UpdateSyncRun(ctx, tid, &got))
	again, err := s.FindSyncRun(ctx, tid, r.ID)
	require.NoError(t, err)
	requireSame(t, got, again)
	require.Equal(t, 125, again.Result.Processed(), "linked and ambiguous records are kept too")

	// Not found; invalid.
	_, err = s.FindSyncRun(ctx, tid, "0190f3c4-0000-7000-8000-0000000000ff")
	requireCode(t, err, mksync.ENOTFOUND)
	ghost := got
	ghost.ID = "0190f3c4-0000-7000-8000-0000000000ff"
	requireCode(t, s.UpdateSyncRun(ctx, tid, &ghost), mksync.ENOTFOUND)
	bad := mksync.SyncRun{EntityType: "widgets", Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunQueued}
	requireCode(t, s.CreateSyncRun(ctx, tid, &bad), mksync.EINVALID)
	bad = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: "sideways", Trigger: mksync.TriggerAPI, Status: mksync.RunQueued}
	requireCode(t, s.CreateSyncRun(ctx, tid, &bad), mksync.EINVALID)
	bad = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Trigger: mksync.TriggerAPI, Status: "exploded"}
	requireCode(t, s.CreateSyncRun(ctx, tid, &bad), mksync.EINVALID)
	badUpd := again
	badUpd.Status = "exploded"
	requireCode(t, s.UpdateSyncRun(ctx, tid, &badUpd), mksync.EINVALID)

	// More runs; lists are newest first and filter by entity, direction, status.
	mk := func(et mksync.EntityType, d mksync.Direction, st mksync.RunStatus) string {
		r := mksync.SyncRun{EntityType: et, Direction: d, Trigger: mksync.TriggerSchedule, Status: st}
		require.NoError(t, s.CreateSyncRun(ctx, tid, &r))
		return r.ID
	}
	p1 := mk(mksync.EntityProduct, mksync.FromMetakocka, mksync.RunSucceeded)
	p2 := mk(mksync.EntityProduct, mksync.ToMetakocka, mksync.RunRunning)
	p3 := mk(mksync.EntityProduct, mksync.FromMetakocka, mksync.RunFailed)
	d1 := mk(mksync.EntitySalesDocument, mksync.FromMetakocka, mksync.RunSucceeded)

	list := func(f mksync.SyncRunFilter) func(p mksync.Page) ([]mksync.SyncRun, string, error) {
		return func(p mksync.Page) ([]mksync.SyncRun, string, error) {
			f.Page = p
			return s.FindSyncRuns(ctx, tid, f)
		}
	}
	ids := func(rs []mksync.SyncRun) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	require.Equal(t, []string{d1, p3, p2, p1, r.ID}, ids(pageAll(t, 2, list(mksync.SyncRunFilter{}))))
	require.Equal(t, []string{p3, p2, p1}, ids(pageAll(t, 1, list(mksync.SyncRunFilter{EntityType: mksync.EntityProduct}))))
	require.Equal(t, []string{d1, p3, p1}, ids(pageAll(t, 10, list(mksync.SyncRunFilter{Direction: mksync.FromMetakocka}))))
	require.Equal(t, []string{d1, p1}, ids(pageAll(t, 10, list(mksync.SyncRunFilter{Status: mksync.RunSucceeded}))))
	require.Equal(t, []string{p1}, ids(pageAll(t, 10, list(mksync.SyncRunFilter{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Status: mksync.RunSucceeded}))))
	first, _, err := s.FindSyncRuns(ctx, tid, mksync.SyncRunFilter{Status: mksync.RunPartial})
	require.NoError(t, err)
	require.Len(t, first, 1)
	requireSame(t, again, first[0], "lists carry the full result")
}
