package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
)

// overlapRunner is a fakeRunner that records how many slices of one run
// ran at the same time.
type overlapRunner struct {
	*fakeRunner
	mu      sync.Mutex
	active  map[string]int
	maxSeen int
}

func (o *overlapRunner) WorkRun(ctx context.Context, tenantID, runID string, stop func() bool) (bool, error) {
	o.mu.Lock()
	o.active[runID]++
	o.maxSeen = max(o.maxSeen, o.active[runID])
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.active[runID]--
		o.mu.Unlock()
	}()
	return o.fakeRunner.WorkRun(ctx, tenantID, runID, stop)
}

func (o *overlapRunner) overlap() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.maxSeen
}

// A run whose worker died mid-slice (its job still running in River's
// eyes, its lease no longer renewed) is taken over once the lease expired,
// long before River's stuck-job rescue (left at its default, 10 minutes),
// and finishes from its checkpoint with every record synced once.
func TestDeadWorkersRunIsTakenOver(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		ctx := t.Context()
		f := newFakeRunner(d.store)
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		q := newJobs(t, d, jobs.Config{Store: d.store, Runner: f, NoWorkers: true})
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, q.StartSync(ctx, tenant, &run, nil))

		// What a SIGKILLed worker leaves: the run half done, its job
		// running, its lease held by the dead slice.
		half, err := d.store.FindSyncRun(ctx, tenant, run.ID)
		require.NoError(t, err)
		half.Status, half.Processed, half.Checkpoint, half.Result.Created = mksync.RunRunning, 4, "4|", 4
		require.NoError(t, d.store.UpdateSyncRun(ctx, tenant, &half))
		require.NoError(t, d.exec(ctx, "UPDATE river_job SET state = 'running', attempt = 1 WHERE kind = ?", jobs.SyncRunArgs{}.Kind()))
		const lease = 600 * time.Millisecond
		dead, err := d.store.AcquireRunLease(ctx, tenant, run.ID, "dead-worker job 1 attempt 1", time.Now(), time.Now().Add(lease))
		require.NoError(t, err)

		cfg := testConfig(d.store, f)
		cfg.RunLease = lease
		started := time.Now()
		newJobs(t, d, cfg)
		got := waitRun(t, d.store, tenant, run.ID, 10*time.Second)
		resumed := time.Since(started)
		require.Equal(t, mksync.RunSucceeded, got.Status)
		require.Equal(t, 10, got.Processed)
		require.Equal(t, 10, got.Result.Created)
		counts := f.syncedCounts(tenant, mksync.EntityContact, mksync.ToMetakocka)
		require.Len(t, counts, 6, "only the records after the checkpoint")
		for id, n := range counts {
			require.Equal(t, 1, n, "record %s", id)
		}
		require.Less(t, resumed, 5*time.Second, "taken over after about one lease, not River's rescue")
		// The dead slice is fenced: its token no longer renews anything.
		requireCode(t, d.store.RenewRunLease(ctx, tenant, run.ID, dead.Token, time.Now().Add(time.Hour)), mksync.ECONFLICT)
		t.Logf("run taken over and finished %v after a live worker started (lease %v)", resumed.Round(time.Millisecond), lease)
	})
}

// A slow but live slice (each batch takes five leases, as a Metakocka call
// of 50 s against the default 15 s lease would) keeps its lease by its
// heartbeats: two processes working the bulk queue never run the same run
// at once, and nothing is synced twice.
func TestSlowSliceIsNeverRunTwice(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		ctx := t.Context()
		const lease = 600 * time.Millisecond
		o := &overlapRunner{fakeRunner: newFakeRunner(d.store), active: map[string]int{}}
		o.BatchDelay = 5 * lease
		o.Batch = 5
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		cfg := testConfig(d.store, o)
		cfg.RunLease = lease
		cfg.BulkSlice = 20 * time.Millisecond // every batch ends a slice: many chances to overlap
		a := newJobs(t, d, cfg)
		if strings.HasSuffix(t.Name(), "/postgres") { // on SQLite one process works jobs
			newJobs(t, d, cfg)
		}
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, a.StartSync(ctx, tenant, &run, nil))
		got := waitRun(t, d.store, tenant, run.ID, 20*time.Second)
		require.Equal(t, mksync.RunSucceeded, got.Status)
		require.Equal(t, 1, o.overlap(), "slices of one run at once")
		require.Equal(t, 10, got.Result.Created)
		for id, n := range o.syncedCounts(tenant, mksync.EntityContact, mksync.ToMetakocka) {
			require.Equal(t, 1, n, "record %s", id)
		}
	})
}

// requireCode asserts that err carries the domain error code.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, mksync.ErrorCode(err), "%v", err)
}

// statsStore counts RefreshStatistics calls, as the postgres store would
// serve them.
type statsStore struct {
	mksync.Store
	mu    sync.Mutex
	calls []mksync.EntityType
}

func (s *statsStore) RefreshStatistics(_ context.Context, et mksync.EntityType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, et)
	return nil
}

func (s *statsStore) refreshed() []mksync.EntityType {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mksync.EntityType(nil), s.calls...)
}

// A slice that processed 1,000 records or more refreshes its tables'
// statistics (on a store that needs it); a small run does not.
func TestLargeSliceRefreshesStatistics(t *testing.T) {
	d := openSQLite(t)
	st := &statsStore{Store: d.store}
	f := newFakeRunner(d.store)
	small := newTenant(t, d.store, "small", mksync.SyncSettings{})
	large := newTenant(t, d.store, "large", mksync.SyncSettings{})
	f.Records[large] = 1200
	f.Batch = 100
	j := newJobs(t, d, testConfig(st, f))

	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, j.StartSync(t.Context(), small, &run, nil))
	waitRun(t, d.store, small, run.ID, 10*time.Second)
	require.Empty(t, st.refreshed(), "10 records")

	run = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, j.StartSync(t.Context(), large, &run, nil))
	got := waitRun(t, d.store, large, run.ID, 10*time.Second)
	require.Equal(t, 1200, got.Processed)
	require.Eventually(t, func() bool { return len(st.refreshed()) > 0 }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, []mksync.EntityType{mksync.EntityProduct}, st.refreshed())
}
