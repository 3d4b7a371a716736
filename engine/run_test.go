package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

func TestRunResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 5, Concurrency: 3}})
	ctx := context.Background()
	var ids []string
	for range 23 {
		ids = append(ids, newContact(t, b).ID)
	}
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, nil))
	require.Zero(t, run.Total, "a run over all records counts while it runs")
	// As if a crash happened after the first 10 were committed.
	run.Status, run.Processed = mksync.RunRunning, 10
	run.Result.Skipped = 10
	run.Checkpoint = checkpoint{After: ids[9]}.encode()
	require.NoError(t, b.store.UpdateSyncRun(ctx, b.tenant, &run))

	done, err := workToEnd(ctx, b.e, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunSucceeded, done.Status)
	require.Equal(t, 23, done.Processed)
	require.Equal(t, 23, done.Total)
	require.Equal(t, 13, done.Result.Created)
	require.Len(t, b.fake.Partners(b.company), 13, "records before the checkpoint are not redone")

	// Running a finished run again does nothing.
	again, err := workToEnd(ctx, b.e, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, done.Result, again.Result)
}

// A run's concurrency setting is the most Metakocka requests it has in
// flight: its workers outnumber it (they read and write mappings between
// calls), but the simulator never serves more of them at once.
func TestRunConcurrencyBoundsRequestsInFlight(t *testing.T) {
	t.Parallel()
	const conc = 3
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 5, Concurrency: conc}})
	ctx := context.Background()
	for range 30 {
		newContact(t, b)
	}
	b.fake.SetFaults(b.company, mkfake.Faults{Latency: 15 * time.Millisecond})
	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, 30, run.Result.Created, "%+v", run.Result)
	require.Equal(t, int64(conc), b.fake.Stats().PeakInFlight[b.company])
}

func TestRunNamedIDsAndCancel(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 2, Concurrency: 1}})
	ctx := context.Background()
	var ids []string
	for range 6 {
		ids = append(ids, newProduct(t, b).ID)
	}
	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, ids[:3]))
	require.Equal(t, 3, run.Result.Created)
	require.Len(t, b.fake.Products(b.company), 3)

	// A cancelled run stops between batches.
	run = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, ids[3:]))
	run.Status = mksync.RunCancelled
	require.NoError(t, b.store.UpdateSyncRun(ctx, b.tenant, &run))
	done, err := workToEnd(ctx, b.e, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunCancelled, done.Status)

	run = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, ids[3:]))
	run.Status = mksync.RunRunning
	require.NoError(t, b.store.UpdateSyncRun(ctx, b.tenant, &run))
	b.fake.FailNextMethod(b.company, "product_add", 1, "http_500")
	// Every call now takes 150 ms, so the first batch (2 records, one of them
	// retried) is still in flight for at least 300 ms after its first call
	// is answered: that is when the run is cancelled, whatever the machine's
	// speed.
	b.fake.SetFaults(b.company, mkfake.Faults{Latency: 150 * time.Millisecond})
	cancelled := make(chan error, 1)
	go func() {
		for b.fake.Stats().Calls("product_add", mkfake.OutcomeHTTP5xx) == 0 {
			time.Sleep(time.Millisecond)
		}
		cur, err := b.store.FindSyncRun(ctx, b.tenant, run.ID)
		if err == nil {
			cur.Status = mksync.RunCancelled
			err = b.store.UpdateSyncRun(ctx, b.tenant, &cur)
		}
		cancelled <- err
	}()
	done, err = workToEnd(ctx, b.e, b.tenant, run.ID)
	require.NoError(t, err)
	require.NoError(t, <-cancelled)
	require.Equal(t, mksync.RunCancelled, done.Status)
	require.Less(t, done.Processed, 3, "the run stops at the first batch boundary")
}

func TestListUnsyncedOnBothSides(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	b.fake.SeedDemo(b.company)
	local := newProduct(t, b)
	recs, _, err := b.e.ListNotInMetakocka(ctx, b.tenant, mksync.EntityProduct, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, local.ID, recs[0].ID)

	nProducts := len(b.fake.Products(b.company))
	var all []mksync.RemoteRecord
	page := mksync.Page{Limit: 3}
	for {
		got, next, err := b.e.ListNotInCRM(ctx, b.tenant, mksync.EntityProduct, page)
		require.NoError(t, err)
		all = append(all, got...)
		if next == "" {
			break
		}
		page.After = next
	}
	require.Len(t, all, nProducts)
	docs, _, err := b.e.ListNotInCRM(ctx, b.tenant, mksync.EntitySalesDocument, mksync.Page{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, docs, len(b.fake.Documents(b.company)))
	partners, _, err := b.e.ListNotInCRM(ctx, b.tenant, mksync.EntityContact, mksync.Page{Limit: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, partners)

	// Pull one: it leaves the list.
	_, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, all[0].MetakockaID)
	require.NoError(t, err)
	again, _, err := b.e.ListNotInCRM(ctx, b.tenant, mksync.EntityProduct, mksync.Page{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, again, nProducts-1)
	_, _, err = b.e.ListNotInCRM(ctx, b.tenant, mksync.EntityProduct, mksync.Page{After: "x"})
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
}

// countingObserver counts the records it is told about, per direction.
type countingObserver struct {
	mu sync.Mutex
	n  map[mksync.Direction]int
}

func (o *countingObserver) OnRecord(_ mksync.EntityType, dir mksync.Direction, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d >= 0 {
		o.n[dir]++
	}
}

// The RecordObserver hears of every record a worker processed, and of none
// that was decided without work.
func TestRecordObserverSeesWorkedRecords(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{n: map[mksync.Direction]int{}}
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 4, Concurrency: 3}, cfg: func(c *Config) { c.RecordObserver = obs }})
	ctx := context.Background()
	for range 10 {
		newContact(t, b)
	}
	for range 2 { // the second run is a no-op resync
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	}
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Equal(t, map[mksync.Direction]int{mksync.ToMetakocka: 10, mksync.FromMetakocka: 10}, obs.n)
}

func TestBatchIdleCountsLinksAndAmbiguousAsWork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		b    batchDone
		idle bool
	}{
		{"all skipped", batchDone{res: mksync.SyncResult{Skipped: 50}}, true},
		{"a create", batchDone{res: mksync.SyncResult{Skipped: 49, Created: 1}}, false},
		{"a link", batchDone{res: mksync.SyncResult{Skipped: 49, Linked: 1}}, false},
		{"an ambiguous match", batchDone{res: mksync.SyncResult{Skipped: 49, Ambiguous: 1}}, false},
		{"a planned item", batchDone{res: mksync.SyncResult{Skipped: 49}, plan: []mksync.PlanItem{{Key: "a", Action: mksync.PlanLink}}}, false},
	} {
		require.Equal(t, tc.idle, batchIdle(tc.b), tc.name)
	}
}

func TestCredentialsRejectedNotWhenRecordsLinked(t *testing.T) {
	t.Parallel()
	unauth := []mksync.RecordError{{ID: "a", Code: mksync.EUNAUTHORIZED}}
	require.True(t, credentialsRejected(mksync.SyncResult{Failed: 1, Errors: unauth}))
	require.False(t, credentialsRejected(mksync.SyncResult{Failed: 1, Linked: 1, Errors: unauth}))
	require.False(t, credentialsRejected(mksync.SyncResult{Failed: 1, Ambiguous: 1, Errors: unauth}))
}
