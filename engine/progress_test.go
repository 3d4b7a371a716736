package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// liveObserver reads the run's live and stored progress as each record is
// done.
type liveObserver struct {
	mu      sync.Mutex
	e       *Engine
	store   mksync.Store
	tenant  string
	runID   string
	live    []int
	stored  []int
	totals  []int
	running bool
}

func (o *liveObserver) OnRecord(mksync.EntityType, mksync.Direction, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.e.LiveProgress(o.tenant, o.runID)
	o.running = o.running || ok
	run, err := o.store.FindSyncRun(context.Background(), o.tenant, o.runID)
	if err != nil {
		panic(err)
	}
	o.live, o.stored, o.totals = append(o.live, p.Processed), append(o.stored, run.Processed), append(o.totals, p.Total)
}

// LiveProgress counts every record as it is done, while the stored
// progress waits for the batch; it is gone once the run is final, and
// another tenant does not see it.
func TestLiveProgressCountsRecordsBeforeTheBatchCommits(t *testing.T) {
	t.Parallel()
	obs := &liveObserver{}
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 100, Concurrency: 1}, cfg: func(c *Config) { c.RecordObserver = obs }})
	obs.e, obs.store, obs.tenant = b.e, b.store, b.tenant
	ctx := context.Background()
	for range 6 {
		newContact(t, b)
	}
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, nil))
	obs.runID = run.ID
	done, err := workToEnd(ctx, b.e, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunSucceeded, done.Status)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.True(t, obs.running)
	require.Len(t, obs.live, 6)
	for i, n := range obs.live {
		// Workers overlap: by the i-th record done, at least i+1 are.
		require.GreaterOrEqual(t, n, i+1, "record %d", i)
	}
	require.Equal(t, 6, obs.live[5])
	require.Equal(t, []int{0, 0, 0, 0, 0, 0}, obs.stored, "the one batch commits at the end")
	require.Equal(t, 6, obs.totals[len(obs.totals)-1], "the total of a run over all records is counted")
	_, ok := b.e.LiveProgress(b.tenant, run.ID)
	require.False(t, ok, "a final run has no live count")
}

func TestLiveProgressIsPerTenant(t *testing.T) {
	t.Parallel()
	var e Engine
	lr, done := e.live.start("tenant-a", mksync.SyncRun{ID: "run-1", Processed: 3, Total: 10}, time.Unix(0, 0))
	lr.processed.Add(2)
	p, ok := e.LiveProgress("tenant-a", "run-1")
	require.True(t, ok)
	require.Equal(t, mksync.LiveProgress{Processed: 5, Total: 10, Since: time.Unix(0, 0), ProcessedAtSince: 3}, p)
	_, ok = e.LiveProgress("tenant-b", "run-1")
	require.False(t, ok)
	done()
	_, ok = e.LiveProgress("tenant-a", "run-1")
	require.False(t, ok)
}
