package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
)

// TestStartPreviewAndApply: a preview and the apply of a plan are stored
// with their flags, and are unique apart from a real run of the same scope
// (a preview never stands in for a sync, nor a sync for a preview), while a
// double click on the same preview makes one run.
func TestStartPreviewAndApply(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		j := newJobs(t, d, jobs.Config{Store: d.store, Runner: newFakeRunner(d.store), NoWorkers: true})
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		start := func(dry bool, plan string) mksync.SyncRun {
			t.Helper()
			run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI,
				DryRun: dry, PlanRunID: plan}
			ids := []string(nil)
			if plan != "" {
				ids = []string{"c-1"}
			}
			require.NoError(t, j.StartSync(t.Context(), tenant, &run, ids))
			return run
		}
		real := start(false, "")
		preview := start(true, "")
		require.NotEqual(t, real.ID, preview.ID, "a preview is not the sync running")
		require.Equal(t, preview.ID, start(true, "").ID, "a double click makes one preview")
		stored, err := d.store.FindSyncRun(t.Context(), tenant, preview.ID)
		require.NoError(t, err)
		require.True(t, stored.DryRun)
		apply := start(false, preview.ID)
		require.NotEqual(t, real.ID, apply.ID)
		stored, err = d.store.FindSyncRun(t.Context(), tenant, apply.ID)
		require.NoError(t, err)
		require.Equal(t, preview.ID, stored.PlanRunID)
		require.False(t, stored.DryRun)
	})
}
