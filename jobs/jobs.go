package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// Jobs enqueues and works mksync's durable jobs. One Jobs serves every
// tenant of a process; it is safe for concurrent use. Its lifecycle is
// Start (returns once workers run) and Stop (waits; safe to call twice).
type Jobs struct {
	cfg    Config
	store  mksync.Store
	log    *slog.Logger
	clock  Clock
	client client
	db     Database

	// stopping is set when Stop begins: running sync run slices end at
	// their next batch boundary instead of being cut by StopTimeout.
	stopping atomic.Bool

	mu          sync.Mutex
	started     bool
	stopCalled  bool
	stopDone    chan struct{}
	stopErr     error
	cancelStart context.CancelFunc
	// watchDone is closed when the lease watch (see lease.go) has ended.
	watchDone chan struct{}
}

// New returns a Jobs on db, the database of cfg.Store. It does not migrate
// (call Migrate first) and starts nothing (call Start). Errors: EINVALID
// for a bad Config.
func New(db Database, cfg Config) (*Jobs, error) {
	if db == nil {
		return nil, mksync.Errorf(mksync.EINVALID, "jobs: Database is required")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	j := &Jobs{
		cfg:   cfg,
		store: cfg.Store,
		log:   jobsLogger(cfg.Logger),
		clock: cfg.Clock,
		db:    db,
	}
	rc := &river.Config{
		ID:                          cfg.ClientID,
		Logger:                      riverLogger(cfg.Logger),
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueStuckJobsAfter,
		FetchCooldown:               cfg.FetchCooldown,
		FetchPollInterval:           cfg.FetchPollInterval,
		SoftStopTimeout:             cfg.StopTimeout,
		MaxAttempts:                 cfg.MaxAttempts,
		CompletedJobRetentionPeriod: 0, // River's 24 h: uniqueness ignores completed jobs anyway
		ErrorHandler:                &errorHandler{log: j.log},
	}
	if !cfg.NoWorkers {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &runWorker{j: j}); err != nil {
			return nil, fmt.Errorf("jobs: register sync run worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &recordWorker{j: j}); err != nil {
			return nil, fmt.Errorf("jobs: register record worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &stockWorker{j: j}); err != nil {
			return nil, fmt.Errorf("jobs: register stock worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &tickWorker{j: j}); err != nil {
			return nil, fmt.Errorf("jobs: register schedule worker: %w", err)
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{
			QueueInteractive: {MaxWorkers: cfg.InteractiveWorkers},
			QueueBulk:        {MaxWorkers: cfg.BulkWorkers},
			QueueSchedule:    {MaxWorkers: cfg.ScheduleWorkers},
		}
		// Every instance registers the tick; only River's elected leader
		// enqueues it, and its unique period keeps one per tick even when
		// leadership moves.
		tick := cfg.ScheduleTick
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(tick),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleTickArgs{}, tickInsertOpts(tick) },
			&river.PeriodicJobOpts{ID: "mksync_schedule_tick", RunOnStart: true},
		)}
	}
	c, err := db.newClient(rc)
	if err != nil {
		return nil, err
	}
	j.client = c
	return j, nil
}

// Start starts this process's workers and returns once they run. ctx only
// bounds starting: use Stop to stop. With NoWorkers it does nothing.
// Calling Start again, or after Stop, is an error.
func (j *Jobs) Start(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.started || j.stopCalled {
		return errors.New("jobs: Start called twice or after Stop")
	}
	j.started = true
	if j.cfg.NoWorkers {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	// River ties running jobs to the context Start gets: give it one that
	// only Stop ends, not the caller's.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := j.client.start(runCtx); err != nil {
		cancel()
		return fmt.Errorf("jobs: start: %w", err)
	}
	j.cancelStart = cancel
	j.watchDone = make(chan struct{})
	go func() {
		defer close(j.watchDone)
		j.watchLeases(runCtx)
	}()
	j.log.InfoContext(ctx, "job workers started", "bulk_workers", j.cfg.BulkWorkers,
		"interactive_workers", j.cfg.InteractiveWorkers, "schedule_workers", j.cfg.ScheduleWorkers)
	return nil
}

// Stop stops fetching jobs and waits for running ones: a sync run slice
// ends at its next batch boundary, and every job gets Config.StopTimeout to
// finish before its context is cancelled (a sync run slice then puts
// itself back in the queue without losing an attempt).
// If ctx ends first, Stop cancels the running jobs and returns ctx's error
// once they returned. Safe to call twice, and before Start.
func (j *Jobs) Stop(ctx context.Context) error {
	j.mu.Lock()
	if j.stopCalled {
		done := j.stopDone
		j.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		return j.stopErr
	}
	j.stopCalled = true
	j.stopping.Store(true)
	j.stopDone = make(chan struct{})
	running := j.started && !j.cfg.NoWorkers && j.cancelStart != nil
	j.mu.Unlock()

	var err error
	if running {
		if err = j.client.stop(ctx); err != nil {
			j.cancelStart()
			<-j.client.stopped()
			err = fmt.Errorf("jobs: stop: %w", err)
		}
		j.cancelStart()
		<-j.watchDone
	}
	j.stopErr = err
	close(j.stopDone)
	return err
}

// StartSync queues a sync run: it creates run (status queued, with
// run.EntityType, run.Direction and run.Trigger) and its job in one
// transaction, over ids or, when ids is empty, every record. While a job of
// the same tenant, entity type, direction and ids is active (a double
// click, a schedule overlapping a manual run), nothing new is created: run
// is filled with the active run instead. Either way run comes back as
// stored. It implements mksync.RunStarter. Errors: EINVALID for an
// unknown entity type or direction, ENOTFOUND for an unknown tenant.
func (j *Jobs) StartSync(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	if !slices.Contains(mksync.EntityTypes, run.EntityType) {
		return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", run.EntityType)
	}
	if run.Direction != mksync.ToMetakocka && run.Direction != mksync.FromMetakocka {
		return mksync.Errorf(mksync.EINVALID, "unknown sync direction %q", run.Direction)
	}
	for wait := time.Duration(0); ; wait += finishingPoll {
		existing, err := j.startSyncOnce(ctx, tenantID, run, ids)
		if err != nil {
			return fmt.Errorf("start %s sync %s: %w", run.EntityType, run.Direction, err)
		}
		if existing == "" {
			return nil
		}
		r, err := j.store.FindSyncRun(ctx, tenantID, existing)
		if err != nil {
			return fmt.Errorf("find active sync run %s: %w", existing, err)
		}
		// A final run whose job is still active has just finished: River
		// marks its job completed a moment later. Wait for that rather than
		// answer a new click with the old run.
		if !r.Status.Final() || wait >= finishingWait {
			*run = r
			j.log.InfoContext(ctx, "sync run already active", "tenant_id", tenantID, "run_id", r.ID,
				"entity_type", r.EntityType, "direction", r.Direction)
			return nil
		}
		t := time.NewTimer(finishingPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("start %s sync %s: %w", run.EntityType, run.Direction, ctx.Err())
		case <-t.C:
		}
	}
}

// How long StartSync waits for the job of a run that just finished.
const (
	finishingWait = 10 * time.Second
	finishingPoll = 50 * time.Millisecond
)

// startSyncOnce creates the run and its job in one transaction, filling
// run; or, when a job of the same scope is active, rolls back and returns
// that job's run id.
func (j *Jobs) startSyncOnce(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) (existing string, err error) {
	args := SyncRunArgs{TenantID: tenantID, EntityType: run.EntityType, Direction: run.Direction, Scope: scopeOf(ids) + modeOf(run)}
	prepared := mksync.SyncRun{ID: run.ID, EntityType: run.EntityType, Direction: run.Direction, Trigger: run.Trigger,
		DryRun: run.DryRun, PlanRunID: run.PlanRunID, Explicit: run.Explicit}
	if err := j.cfg.Runner.PrepareRun(ctx, tenantID, &prepared, ids); err != nil {
		return "", fmt.Errorf("prepare sync run: %w", err)
	}
	err = j.store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		r := prepared
		r.Status, r.Processed, r.StartedAt, r.FinishedAt = mksync.RunQueued, 0, nil, nil
		if err := tx.CreateSyncRun(ctx, tenantID, &r); err != nil {
			return fmt.Errorf("create sync run: %w", err)
		}
		args.RunID = r.ID
		res, err := j.client.insert(ctx, tx, args, j.runInsertOpts(r.ID))
		if err != nil {
			return mksync.WrapError(mksync.EINTERNAL, "queue sync run job", err)
		}
		if res.UniqueSkippedAsDuplicate {
			var dup SyncRunArgs
			if err := json.Unmarshal(res.Job.EncodedArgs, &dup); err != nil {
				return mksync.WrapError(mksync.EINTERNAL, "decode active sync run job", err)
			}
			existing = dup.RunID
			return errDuplicateRun
		}
		*run = r
		return nil
	})
	if errors.Is(err, errDuplicateRun) {
		return existing, nil
	}
	return "", err
}

// errDuplicateRun rolls back a new run whose job was a duplicate.
var errDuplicateRun = errors.New("jobs: sync run already active")

// runInsertOpts are the insert options of a sync run job.
func (j *Jobs) runInsertOpts(runID string) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueBulk,
		MaxAttempts: j.cfg.MaxAttempts,
		Tags:        []string{runTag(runID)},
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueWhileActive},
	}
}

// activeStates are the states of a job that may still run.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// Cancel cancels the sync run runID of the tenant: it marks the run
// cancelled and cancels its waiting job in one transaction. A slice that is
// running finishes its current batch (so its records are accounted for)
// and ends there. Cancelling a cancelled run does nothing. Errors:
// ENOTFOUND for a run the tenant does not have, ECONFLICT for a run that
// already finished.
func (j *Jobs) Cancel(ctx context.Context, tenantID, runID string) error {
	err := j.store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		r, err := tx.FindSyncRun(ctx, tenantID, runID)
		if err != nil {
			return err
		}
		switch {
		case r.Status == mksync.RunCancelled:
			return nil
		case r.Status.Final():
			return mksync.Errorf(mksync.ECONFLICT, "sync run %s already %s", runID, r.Status)
		}
		now := j.clock.Now().UTC()
		r.Status = mksync.RunCancelled
		r.FinishedAt = &now
		if err := tx.UpdateSyncRun(ctx, tenantID, &r); err != nil {
			return fmt.Errorf("mark run cancelled: %w", err)
		}
		rows, err := j.client.list(ctx, tx, river.NewJobListParams().
			Kinds(SyncRunArgs{}.Kind()).TagsAny(runTag(runID)).States(activeStates...).First(100))
		if err != nil {
			return mksync.WrapError(mksync.EINTERNAL, "find sync run job", err)
		}
		for _, row := range rows {
			if row.State == rivertype.JobStateRunning {
				continue // it sees the cancelled run after its batch
			}
			if err := j.client.cancel(ctx, tx, row.ID); err != nil {
				return mksync.WrapError(mksync.EINTERNAL, "cancel sync run job", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cancel sync run %s: %w", runID, err)
	}
	j.log.InfoContext(ctx, "sync run cancelled", "tenant_id", tenantID, "run_id", runID)
	return nil
}

// EnqueueRecordPush queues the push of a record the API just wrote, inside
// the write's transaction tx (the API's RecordQueue, for tenants with
// AutoPush; trigger auto_push). See EnqueueRecord.
func (j *Jobs) EnqueueRecordPush(ctx context.Context, tx mksync.Store, tenantID string, et mksync.EntityType, id string, version int64) error {
	return j.EnqueueRecord(ctx, tx, RecordArgs{TenantID: tenantID, EntityType: et, Direction: mksync.ToMetakocka,
		ID: id, Version: version, Trigger: mksync.TriggerAutoPush})
}

// EnqueueRecord queues a single-record sync of rec (queue interactive).
// Given the Store of an InTx callback, the job is inserted in that
// transaction: it commits with the record write, or not at all (on SQLite
// this is also the only way that does not wait for the open transaction).
// A job for the same record, direction and version that is still active
// makes this a no-op. rec.TenantID is required.
func (j *Jobs) EnqueueRecord(ctx context.Context, st mksync.Store, rec RecordArgs) error {
	if rec.TenantID == "" || rec.ID == "" {
		return mksync.Errorf(mksync.EINVALID, "record job: tenant and id are required")
	}
	if !slices.Contains(mksync.EntityTypes, rec.EntityType) {
		return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", rec.EntityType)
	}
	if rec.Direction != mksync.ToMetakocka && rec.Direction != mksync.FromMetakocka {
		return mksync.Errorf(mksync.EINVALID, "unknown sync direction %q", rec.Direction)
	}
	if _, err := j.client.insert(ctx, st, rec, nil); err != nil {
		return mksync.WrapError(mksync.EINTERNAL, "queue record sync job", err)
	}
	return nil
}

// EnqueueStock queues a verified stock webhook payload of the tenant
// (queue interactive), so the webhook can answer Metakocka at once. Like
// EnqueueRecord it joins st's transaction when st is inside InTx.
func (j *Jobs) EnqueueStock(ctx context.Context, st mksync.Store, tenantID string, payload []byte) error {
	if tenantID == "" {
		return mksync.Errorf(mksync.EINVALID, "stock job: tenant is required")
	}
	if _, err := j.client.insert(ctx, st, StockArgs{TenantID: tenantID, Payload: payload}, nil); err != nil {
		return mksync.WrapError(mksync.EINTERNAL, "queue stock job", err)
	}
	return nil
}

// CountJobs counts the jobs of each kind now, by state (queued: available,
// pending or scheduled; running; failed: retryable, waiting for the next
// attempt; discarded), for /metrics (observe.Metrics.WatchJobs). Completed
// and cancelled jobs are not counted. Safe for concurrent use; on SQLite it
// waits for the writer connection, so ctx should bound it.
func (j *Jobs) CountJobs(ctx context.Context) ([]observe.JobCounts, error) {
	rows, err := j.db.countJobs(ctx)
	if err != nil {
		return nil, err
	}
	byKind := map[string]*observe.JobCounts{}
	var kinds []string
	for _, r := range rows {
		c := byKind[r.kind]
		if c == nil {
			c = &observe.JobCounts{Kind: r.kind}
			byKind[r.kind] = c
			kinds = append(kinds, r.kind)
		}
		switch rivertype.JobState(r.state) {
		case rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled:
			c.Queued += r.n
		case rivertype.JobStateRunning:
			c.Running += r.n
		case rivertype.JobStateRetryable:
			c.Failed += r.n
		case rivertype.JobStateDiscarded:
			c.Discarded += r.n
		}
	}
	slices.Sort(kinds)
	out := make([]observe.JobCounts, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, *byKind[k])
	}
	return out, nil
}

// jobsLogger tags l's lines with the JOBS category.
func jobsLogger(l *slog.Logger) *slog.Logger {
	return observe.WithCategory(l, observe.CatJobs)
}

// riverLogger is the logger River's own services get: JOBS lines at warn
// level and above (River reports every fetch and maintenance pass at info
// and debug).
func riverLogger(l *slog.Logger) *slog.Logger {
	return jobsLogger(slog.New(minLevel{Handler: l.Handler(), min: slog.LevelWarn}))
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
