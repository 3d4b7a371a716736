package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka"
)

func TestSyncRunCompletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		j := newJobs(t, d, testConfig(d.store, f))
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})

		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), tenant, &run, nil))
		require.NotEmpty(t, run.ID)
		require.Equal(t, mksync.RunQueued, run.Status)

		got := waitRun(t, d.store, tenant, run.ID, 10*time.Second)
		require.Equal(t, mksync.RunSucceeded, got.Status)
		require.Equal(t, 10, got.Processed)
		require.Equal(t, 10, got.Result.Created)
		counts := f.syncedCounts(tenant, mksync.EntityContact, mksync.ToMetakocka)
		require.Len(t, counts, 10)
		for id, n := range counts {
			require.Equal(t, 1, n, "record %s", id)
		}
	})
}

func TestStartSyncValidates(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		j := newJobs(t, d, jobs.Config{Store: d.store, Runner: newFakeRunner(d.store), NoWorkers: true})
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		bad := mksync.SyncRun{EntityType: "invoice", Direction: mksync.ToMetakocka}
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(j.StartSync(t.Context(), tenant, &bad, nil)))
		bad = mksync.SyncRun{EntityType: mksync.EntityContact, Direction: "sideways"}
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(j.StartSync(t.Context(), tenant, &bad, nil)))
		unknown := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(j.StartSync(t.Context(), "no-such-tenant", &unknown, nil)))
	})
}

// A double click (or a burst of them, at once) makes one run while its job
// is active; other scopes and other tenants get their own; a finished run
// does not block the next.
func TestStartSyncUnique(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		j := newJobs(t, d, jobs.Config{Store: d.store, Runner: newFakeRunner(d.store), NoWorkers: true})
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		other := newTenant(t, d.store, "globex", mksync.SyncSettings{})
		start := func(tenantID string, et mksync.EntityType, dir mksync.Direction, ids []string) mksync.SyncRun {
			t.Helper()
			run := mksync.SyncRun{EntityType: et, Direction: dir, Trigger: mksync.TriggerUI}
			require.NoError(t, j.StartSync(t.Context(), tenantID, &run, ids))
			return run
		}

		first := start(tenant, mksync.EntityContact, mksync.ToMetakocka, nil)
		var wg sync.WaitGroup
		ids := make([]string, 8)
		for i := range ids {
			wg.Go(func() {
				run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI}
				if err := j.StartSync(context.Background(), tenant, &run, nil); err != nil {
					ids[i] = err.Error()
					return
				}
				ids[i] = run.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			require.Equal(t, first.ID, id)
		}
		runs, _, err := d.store.FindSyncRuns(t.Context(), tenant, mksync.SyncRunFilter{})
		require.NoError(t, err)
		require.Len(t, runs, 1, "a double click makes one run")

		require.NotEqual(t, first.ID, start(tenant, mksync.EntityContact, mksync.FromMetakocka, nil).ID, "other direction")
		require.NotEqual(t, first.ID, start(tenant, mksync.EntityProduct, mksync.ToMetakocka, nil).ID, "other entity")
		require.NotEqual(t, first.ID, start(other, mksync.EntityContact, mksync.ToMetakocka, nil).ID, "other tenant")
		some := start(tenant, mksync.EntityContact, mksync.ToMetakocka, []string{"b", "a"})
		require.NotEqual(t, first.ID, some.ID, "a set of ids is another scope")
		require.Equal(t, some.ID, start(tenant, mksync.EntityContact, mksync.ToMetakocka, []string{"a", "b"}).ID, "same ids, any order")
		require.Equal(t, 2, some.Total)

		// Work the queue; afterwards the same click makes a new run.
		f := newFakeRunner(d.store)
		w := newJobs(t, d, testConfig(d.store, f))
		waitRun(t, d.store, tenant, first.ID, 10*time.Second)
		again := start(tenant, mksync.EntityContact, mksync.ToMetakocka, nil)
		require.NotEqual(t, first.ID, again.ID, "completed jobs do not count")
		waitRun(t, d.store, tenant, again.ID, 10*time.Second)
		_ = w
	})
}

func TestCancel(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		f.BatchDelay = 30 * time.Millisecond
		f.batchDone = make(chan string, 1000)
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		other := newTenant(t, d.store, "globex", mksync.SyncSettings{})
		f.Records[tenant] = 200

		// A queued run: cancelled before any worker sees it.
		q := newJobs(t, d, jobs.Config{Store: d.store, Runner: newFakeRunner(d.store), NoWorkers: true})
		queued := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, q.StartSync(t.Context(), tenant, &queued, nil))
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(q.Cancel(t.Context(), other, queued.ID)), "another tenant's run")
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(q.Cancel(t.Context(), tenant, "no-such-run")))
		require.NoError(t, q.Cancel(t.Context(), tenant, queued.ID))
		require.NoError(t, q.Cancel(t.Context(), tenant, queued.ID), "cancelling twice is fine")

		j := newJobs(t, d, testConfig(d.store, f))
		running := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), tenant, &running, nil))
		<-f.batchDone
		require.NoError(t, j.Cancel(t.Context(), tenant, running.ID))
		got := waitRun(t, d.store, tenant, running.ID, 10*time.Second)
		require.Equal(t, mksync.RunCancelled, got.Status)
		require.NotNil(t, got.FinishedAt)
		require.Less(t, got.Processed, 200, "stopped between batches")
		slices := f.slicesOf(running.ID)
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, slices, f.slicesOf(running.ID), "a cancelled run is not worked again")
		require.Zero(t, f.slicesOf(queued.ID), "a cancelled queued run never runs")
		require.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(j.Cancel(t.Context(), tenant, mustFinish(t, d, j, tenant))), "a finished run")

		// The same run can start again at once: cancelled jobs do not count.
		next := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), tenant, &next, nil))
		require.NotEqual(t, running.ID, next.ID)
		require.Equal(t, mksync.RunQueued, next.Status)
		require.NoError(t, j.Cancel(t.Context(), tenant, next.ID))
	})
}

// mustFinish runs a small run to its end and returns its id.
func mustFinish(t *testing.T, d database, j *jobs.Jobs, tenant string) string {
	t.Helper()
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, j.StartSync(t.Context(), tenant, &run, []string{"only"}))
	require.Equal(t, mksync.RunSucceeded, waitRun(t, d.store, tenant, run.ID, 10*time.Second).Status)
	return run.ID
}

// rateLimitedError is a real Metakocka client error for an HTTP 429 with
// Retry-After: 1.
func rateLimitedError(t *testing.T) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: "16", SecretKey: mksync.Secret("k"),
		Retry: metakocka.RetryConfig{Disabled: true}})
	require.NoError(t, err)
	err = c.Ping(t.Context())
	require.Equal(t, mksync.ERATELIMITED, mksync.ErrorCode(err))
	var me *metakocka.Error
	require.ErrorAs(t, err, &me)
	require.Equal(t, time.Second, me.RetryAfter)
	return err
}

func TestRateLimitedSnoozesUntilRetryAfter(t *testing.T) {
	limited := rateLimitedError(t)
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		var calls atomic.Int32
		var firstAt atomic.Int64
		f.Fail = func(string) error {
			if calls.Add(1) == 1 {
				firstAt.Store(time.Now().UnixNano())
				return limited
			}
			return nil
		}
		j := newJobs(t, d, testConfig(d.store, f))
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), tenant, &run, nil))
		got := waitRun(t, d.store, tenant, run.ID, 15*time.Second)
		require.Equal(t, mksync.RunSucceeded, got.Status)
		require.Equal(t, 10, got.Processed)
		require.GreaterOrEqual(t, time.Since(time.Unix(0, firstAt.Load())), time.Second, "waited for Retry-After")
		errs, _, err := d.store.FindErrorRecords(t.Context(), tenant, mksync.ErrorFilter{Category: "JOBS"})
		require.NoError(t, err)
		require.Empty(t, errs, "rate limiting is not a failure")
	})
}

func TestRejectedCredentialsCancelAndAlert(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		f.Fail = func(id string) error {
			if id == tenant {
				return fmt.Errorf("load client: %w", mksync.Errorf(mksync.EUNAUTHORIZED, "Metakocka rejected the company id or secret key"))
			}
			return nil
		}
		j := newJobs(t, d, testConfig(d.store, f))
		run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), tenant, &run, nil))
		got := waitRun(t, d.store, tenant, run.ID, 10*time.Second)
		require.Equal(t, mksync.RunFailed, got.Status)

		var errs []mksync.ErrorRecord
		require.Eventually(t, func() bool {
			var err error
			errs, _, err = d.store.FindErrorRecords(t.Context(), tenant, mksync.ErrorFilter{Category: "JOBS"})
			require.NoError(t, err)
			return len(errs) == 1
		}, 5*time.Second, 20*time.Millisecond)
		require.Equal(t, mksync.EUNAUTHORIZED, errs[0].Code)
		require.Equal(t, run.ID, errs[0].EntityID)
		var alerts []mksync.Alert
		require.Eventually(t, func() bool {
			var err error
			alerts, _, err = d.store.FindAlerts(t.Context(), tenant, mksync.AlertOpen, mksync.Page{})
			require.NoError(t, err)
			return len(alerts) == 1
		}, 5*time.Second, 20*time.Millisecond)
		require.Equal(t, jobs.AlertCredentialsRejected, alerts[0].Key)
		require.Contains(t, alerts[0].Message, errs[0].ID)

		time.Sleep(300 * time.Millisecond)
		require.Equal(t, 1, f.slicesOf(run.ID), "a cancelled job is not retried")
	})
}

// A big import yields the only bulk worker after every slice, so a small
// tenant's run, queued after it, finishes while the import still runs.
func TestBulkFairness(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		f.BatchDelay = 10 * time.Millisecond
		f.batchDone = make(chan string, 10_000)
		cfg := testConfig(d.store, f)
		cfg.BulkWorkers = 1
		cfg.BulkSlice = time.Millisecond // one batch per slice
		j := newJobs(t, d, cfg)
		big := newTenant(t, d.store, "big", mksync.SyncSettings{})
		small := newTenant(t, d.store, "small", mksync.SyncSettings{})
		f.Records[big] = 600
		f.Records[small] = 4

		bigRun := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), big, &bigRun, nil))
		<-f.batchDone
		smallRun := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI}
		require.NoError(t, j.StartSync(t.Context(), small, &smallRun, nil))

		require.Equal(t, mksync.RunSucceeded, waitRun(t, d.store, small, smallRun.ID, 20*time.Second).Status)
		bigNow, err := d.store.FindSyncRun(t.Context(), big, bigRun.ID)
		require.NoError(t, err)
		require.False(t, bigNow.Status.Final(), "the small run finished while the import runs (at %d/%d)", bigNow.Processed, 600)
		require.Greater(t, f.slicesOf(bigRun.ID), 1, "the import was worked in slices")
		require.NoError(t, j.Cancel(t.Context(), big, bigRun.ID))
	})
}

// A worker stopped in the middle of a run puts the job back; another one
// continues from the checkpoint: every record is synced once.
func TestResumeFromCheckpointAfterStop(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		f.BatchDelay = 20 * time.Millisecond
		f.batchDone = make(chan string, 1000)
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		f.Records[tenant] = 60

		cfg := testConfig(d.store, f)
		cfg.StopTimeout = time.Millisecond // cut the running batch
		first, err := jobs.New(d.db, cfg)
		require.NoError(t, err)
		require.NoError(t, first.Start(t.Context()))
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, first.StartSync(t.Context(), tenant, &run, nil))
		for range 5 {
			<-f.batchDone
		}
		require.NoError(t, first.Stop(t.Context()))
		require.NoError(t, first.Stop(t.Context()), "Stop twice")
		mid, err := d.store.FindSyncRun(t.Context(), tenant, run.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.RunRunning, mid.Status)
		require.Less(t, mid.Processed, 60)

		f.batchDone = nil
		second := newJobs(t, d, testConfig(d.store, f))
		_ = second
		got := waitRun(t, d.store, tenant, run.ID, 15*time.Second)
		require.Equal(t, mksync.RunSucceeded, got.Status)
		require.Equal(t, 60, got.Processed)
		require.Equal(t, 60, got.Result.Created)
		counts := f.syncedCounts(tenant, mksync.EntityContact, mksync.ToMetakocka)
		require.Len(t, counts, 60)
		for id, n := range counts {
			require.Equal(t, 1, n, "record %s synced once", id)
		}
		require.GreaterOrEqual(t, f.slicesOf(run.ID), 2)
	})
}

// Stopping a worker ends a running slice at its next batch boundary, well
// before StopTimeout, without cutting a batch.
func TestStopEndsSliceAtBatchBoundary(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		f.BatchDelay = 30 * time.Millisecond
		f.batchDone = make(chan string, 1000)
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{})
		f.Records[tenant] = 100
		cfg := testConfig(d.store, f)
		cfg.StopTimeout = 20 * time.Second
		j, err := jobs.New(d.db, cfg)
		require.NoError(t, err)
		require.NoError(t, j.Start(t.Context()))
		run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), tenant, &run, nil))
		for range 3 {
			<-f.batchDone
		}
		begun := time.Now()
		require.NoError(t, j.Stop(t.Context()))
		require.Less(t, time.Since(begun), 5*time.Second, "the slice ended at a batch boundary, not at StopTimeout")
		require.Zero(t, f.cutBatches())
		mid, err := d.store.FindSyncRun(t.Context(), tenant, run.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.RunRunning, mid.Status)
		require.Equal(t, 0, mid.Processed%2, "whole batches only")

		f.batchDone = nil
		newJobs(t, d, testConfig(d.store, f))
		got := waitRun(t, d.store, tenant, run.ID, 20*time.Second)
		require.Equal(t, 100, got.Processed)
		for id, n := range f.syncedCounts(tenant, mksync.EntityProduct, mksync.ToMetakocka) {
			require.Equal(t, 1, n, "record %s synced once", id)
		}
	})
}

func TestScheduleFiresWhenDue(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		clock := &fakeClock{now: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
		hourly := newTenant(t, d.store, "hourly", mksync.SyncSettings{ScheduleInterval: time.Hour})
		off := newTenant(t, d.store, "off", mksync.SyncSettings{})
		guided := newTenant(t, d.store, "guided", mksync.SyncSettings{ScheduleInterval: time.Hour})
		require.NoError(t, d.store.SetCursor(t.Context(), guided, mksync.FirstConnectCursor, mksync.FirstConnectOpen))
		unconnected := mksync.Tenant{Name: "unconnected"}
		require.NoError(t, d.store.CreateTenant(t.Context(), &unconnected))

		cfg := testConfig(d.store, f)
		cfg.Clock = clock
		cfg.ScheduleTick = time.Second
		newJobs(t, d, cfg)

		scheduled := func(tenantID string) []mksync.SyncRun {
			runs, _, err := d.store.FindSyncRuns(context.Background(), tenantID, mksync.SyncRunFilter{Page: mksync.Page{Limit: 100}})
			require.NoError(t, err)
			return runs
		}
		allFinal := func(runs []mksync.SyncRun) bool {
			for _, r := range runs {
				if !r.Status.Final() {
					return false
				}
			}
			return true
		}
		// The tick runs on start: one pull and one push per entity type.
		require.Eventually(t, func() bool { r := scheduled(hourly); return len(r) == 6 && allFinal(r) }, 15*time.Second, 50*time.Millisecond)
		for _, r := range scheduled(hourly) {
			require.Equal(t, mksync.TriggerSchedule, r.Trigger)
			require.Equal(t, mksync.RunSucceeded, r.Status)
		}
		// Ticks go on, but nothing is due until the clock moves an hour.
		time.Sleep(1500 * time.Millisecond)
		require.Len(t, scheduled(hourly), 6)
		clock.Add(59 * time.Minute)
		time.Sleep(1200 * time.Millisecond)
		require.Len(t, scheduled(hourly), 6)
		clock.Add(time.Minute)
		require.Eventually(t, func() bool { return len(scheduled(hourly)) == 12 }, 15*time.Second, 50*time.Millisecond)
		require.Empty(t, scheduled(off), "schedules are off by default")
		require.Empty(t, scheduled(guided), "a first connect being guided holds schedules back")
		require.NoError(t, d.store.SetCursor(t.Context(), guided, mksync.FirstConnectCursor, mksync.FirstConnectDone))
		require.Eventually(t, func() bool { return len(scheduled(guided)) == 6 }, 15*time.Second, 50*time.Millisecond, "marked done: they start")
		require.Empty(t, scheduled(unconnected.ID))
	})
}

func TestRecordAndStockJobs(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		j := newJobs(t, d, testConfig(d.store, f))
		tenant := newTenant(t, d.store, "acme", mksync.SyncSettings{AutoPush: true})

		// Written with its record, in one transaction.
		var contactID string
		require.NoError(t, d.store.InTx(t.Context(), tenant, func(tx mksync.Store) error {
			c := mksync.Contact{Name: "Ana Novak", Email: "ana@example.com"}
			if err := tx.CreateContact(t.Context(), tenant, &c); err != nil {
				return err
			}
			contactID = c.ID
			return j.EnqueueRecord(t.Context(), tx, jobs.RecordArgs{TenantID: tenant, EntityType: mksync.EntityContact,
				Direction: mksync.ToMetakocka, ID: c.ID, Version: c.Version, Trigger: mksync.TriggerAutoPush})
		}))
		// Rolled back with its record: never runs.
		rollback := errors.New("rollback")
		require.ErrorIs(t, d.store.InTx(t.Context(), tenant, func(tx mksync.Store) error {
			c := mksync.Contact{Name: "Gone", Email: "gone@example.com"}
			if err := tx.CreateContact(t.Context(), tenant, &c); err != nil {
				return err
			}
			if err := j.EnqueueRecord(t.Context(), tx, jobs.RecordArgs{TenantID: tenant, EntityType: mksync.EntityContact,
				Direction: mksync.ToMetakocka, ID: c.ID, Version: c.Version}); err != nil {
				return err
			}
			return rollback
		}), rollback)
		require.NoError(t, j.EnqueueStock(t.Context(), d.store, tenant, []byte(`{"count_code":"P1","amount":"3"}`)))

		want := fmt.Sprintf("%s/contact/to_metakocka/%s", tenant, contactID)
		require.Eventually(t, func() bool { return len(f.recordCalls()) == 1 && len(f.stockCalls()) == 1 }, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, []string{want}, f.recordCalls())
		require.Equal(t, []string{tenant + `/{"count_code":"P1","amount":"3"}`}, f.stockCalls())
		time.Sleep(300 * time.Millisecond)
		require.Len(t, f.recordCalls(), 1, "the rolled back record's job never ran")

		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(j.EnqueueRecord(t.Context(), d.store, jobs.RecordArgs{TenantID: tenant, EntityType: "x", Direction: mksync.ToMetakocka, ID: "1"})))
	})
}

func TestConfigValidation(t *testing.T) {
	d := openSQLite(t)
	f := newFakeRunner(d.store)
	for _, tc := range []struct {
		name  string
		edit  func(*jobs.Config)
		field string
	}{
		{"no store", func(c *jobs.Config) { c.Store = nil }, "Store"},
		{"no runner", func(c *jobs.Config) { c.Runner = nil }, "Runner"},
		{"rescue below bulk timeout", func(c *jobs.Config) { c.BulkTimeout = time.Hour }, "RescueStuckJobsAfter"},
		{"slice above bulk timeout", func(c *jobs.Config) { c.BulkSlice = 9 * time.Minute }, "BulkTimeout"},
		{"negative workers", func(c *jobs.Config) { c.BulkWorkers = -1 }, "BulkWorkers"},
		{"tiny tick", func(c *jobs.Config) { c.ScheduleTick = time.Millisecond }, "ScheduleTick"},
		{"tiny run lease", func(c *jobs.Config) { c.RunLease = time.Millisecond }, "RunLease"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(d.store, f)
			tc.edit(&cfg)
			_, err := jobs.New(d.db, cfg)
			require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err), "%v", err)
			require.ErrorContains(t, err, tc.field)
		})
	}
	j, err := jobs.New(d.db, jobs.Config{Store: d.store, Runner: newFakeRunner(d.store), NoWorkers: true})
	require.NoError(t, err)
	require.NoError(t, j.Stop(t.Context()), "Stop before Start")
	require.NoError(t, j.Stop(t.Context()))
	require.Error(t, j.Start(t.Context()), "Start after Stop")
}
