package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// checkpoint is a run's resume position, kept (as JSON) in
// SyncRun.Checkpoint.
type checkpoint struct {
	// IDs are the run's records when it names them (local ids to
	// Metakocka, mk_ids from it); Pos counts those committed. Without IDs,
	// Pos is the product_list offset (product pulls) or the search offset
	// within DocType (document pulls).
	IDs []string `json:"ids,omitempty"`
	Pos int      `json:"pos,omitempty"`
	// Explicit: the run's one record is synced as an explicit sync
	// (SyncRun.Explicit).
	Explicit bool `json:"explicit,omitempty"`
	// After is the last local id committed (pushes of all records, pulls
	// of all mapped contacts).
	After string `json:"after,omitempty"`
	// DocType indexes syncedDocTypes; To is the upper last_change bound of
	// a document pull, fixed when the run starts.
	DocType int       `json:"docType,omitempty"`
	To      time.Time `json:"to,omitzero"`
}

func (c checkpoint) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

func decodeCheckpoint(s string) (checkpoint, error) {
	var c checkpoint
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, mksync.WrapError(mksync.EINTERNAL, "sync run has an unreadable checkpoint", err)
	}
	return c, nil
}

// cursorKey is the Store cursor of a document pull of one type.
func cursorKey(t metakocka.DocType) string { return "documents:" + string(t) + ":last_change" }

// PrepareRun fills a new run of run.EntityType in run.Direction over ids
// (local ids to Metakocka, mk_ids from Metakocka; empty means every record)
// with what executing it needs and stores nothing: status queued, no
// progress, an empty result, Total (len(ids); a run over all records
// learns its total while it runs) and the initial Checkpoint. A caller that
// stores the run itself (the job layer, with its job in one transaction)
// uses it; CreateRun is PrepareRun and store. Errors: EINVALID for a bad
// entity type or direction.
func (e *Engine) PrepareRun(_ context.Context, _ string, run *mksync.SyncRun, ids []string) error {
	if err := checkEntity(run.EntityType); err != nil {
		return err
	}
	if run.Direction != mksync.ToMetakocka && run.Direction != mksync.FromMetakocka {
		return mksync.Errorf(mksync.EINVALID, "unknown direction %q", run.Direction)
	}
	if run.Trigger == "" {
		run.Trigger = mksync.TriggerAPI
	}
	run.Status = mksync.RunQueued
	run.Processed = 0
	run.StartedAt, run.FinishedAt = nil, nil
	run.Result = mksync.SyncResult{Success: true, Errors: []mksync.RecordError{}}
	run.Total = len(ids)
	run.Checkpoint = checkpoint{IDs: ids, Explicit: run.Explicit && len(ids) == 1}.encode()
	return nil
}

// CreateRun stores a queued run of run.EntityType in run.Direction over ids
// (see PrepareRun) and fills run as stored. Work it with WorkRun.
// Errors: EINVALID for a bad entity type or direction.
func (e *Engine) CreateRun(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	if err := e.PrepareRun(ctx, tenantID, run, ids); err != nil {
		return err
	}
	if err := e.store.CreateSyncRun(ctx, tenantID, run); err != nil {
		return fmt.Errorf("create sync run: %w", err)
	}
	return nil
}

// countAll estimates the records a run over all records will see: the
// local records for a push, the mapped contacts for a contact pull; 0
// (unknown until Metakocka answers) for product and document pulls.
func (e *Engine) countAll(ctx context.Context, tenantID string, et mksync.EntityType, dir mksync.Direction) (int, error) {
	if dir == mksync.FromMetakocka && et != mksync.EntityContact {
		return 0, nil
	}
	counts, err := e.store.CountMappingsByState(ctx, tenantID, et)
	if err != nil {
		return 0, fmt.Errorf("count %s records: %w", et, err)
	}
	n := 0
	for st, c := range counts {
		if dir == mksync.FromMetakocka && st == mksync.StateUnsynced {
			continue
		}
		n += c
	}
	return n, nil
}

// WorkRun works on the stored run runID of the tenant (mksync.Syncer's
// WorkRun): from queued, or from its checkpoint when it was interrupted. It
// is idempotent and safe to call again after a crash (a finished run is
// left unchanged; records done before the checkpoint are not redone, and
// those redone after it are harmless: creates are idempotent and unchanged
// records skipped). It is the one way a run executes; the job layer calls
// it a slice at a time.
//
// Progress, the result so far and the checkpoint are written after every
// batch; between batches the run stops when its stored status has become
// cancelled. After each committed batch WorkRun calls stop (from the
// goroutine that commits; stop must be cheap and safe to call from any
// goroutine; nil never stops), and when stop reports true it returns
// (false, nil) with the run resumable: status running, checkpoint saved.
// done is true once the run is final (succeeded, partial, failed, or
// cancelled at a batch boundary).
//
// Per-record failures stay in the run's result (status partial). An error
// is returned only when the run as a whole could not go on: for a
// retryable one (Metakocka unreachable, ctx ended) the run stays running
// for a later WorkRun to resume; any other makes it failed. When ctx ends,
// the records in flight are left for the resumed run: none of them is
// counted, marked failed or given an error record. When every record of a
// batch that needed Metakocka failed because Metakocka rejected the
// tenant's credentials, the run stops there as failed and the error is
// EUNAUTHORIZED (the other records would be refused the same way).
func (e *Engine) WorkRun(ctx context.Context, tenantID, runID string, stop func() bool) (done bool, err error) {
	run, err := e.runSync(ctx, tenantID, runID, stop)
	return run.Status.Final(), err
}

// runSync executes the run until it is final, ctx ends or stop says so.
func (e *Engine) runSync(ctx context.Context, tenantID, runID string, stop func() bool) (mksync.SyncRun, error) {
	run, err := e.store.FindSyncRun(ctx, tenantID, runID)
	if err != nil {
		return run, fmt.Errorf("find sync run %s: %w", runID, err)
	}
	if run.Status.Final() {
		return run, nil
	}
	if run, err = e.markRunning(ctx, tenantID, runID); err != nil || run.Status != mksync.RunRunning {
		return run, err
	}
	if mon := e.cfg.Monitor; mon != nil {
		stopped := mon.RunExecuting(run)
		defer func() { stopped(run) }()
	}
	cp, err := decodeCheckpoint(run.Checkpoint)
	if err != nil {
		return run, e.finish(ctx, tenantID, &run, mksync.RunFailed, err)
	}
	s, err := e.productSession(ctx, tenantID, run.EntityType)
	if err != nil && (ctx.Err() != nil || retryable(err)) {
		return run, fmt.Errorf("sync run %s interrupted: %w", runID, err)
	}
	if err != nil {
		return run, e.finish(ctx, tenantID, &run, mksync.RunFailed, err)
	}
	s.dry = run.DryRun
	if run.PlanRunID != "" && run.Direction == mksync.ToMetakocka {
		err = s.seedClaims(ctx, run.EntityType, run.PlanRunID)
	}
	if err != nil {
		return run, fmt.Errorf("sync run %s interrupted: %w", runID, err)
	}
	live, done := e.live.start(tenantID, run, e.clock.Now())
	defer done()
	r := &runner{s: s, run: &run, cp: cp, total: make(chan int, 1), stop: stop, live: live}
	if len(cp.IDs) == 0 {
		et, dir := run.EntityType, run.Direction
		go func() {
			if n, err := e.countAll(ctx, tenantID, et, dir); err == nil {
				live.setTotal(n)
				r.total <- n
			}
		}()
	}
	err = r.execute(ctx)
	switch {
	case errors.Is(err, errStop):
		return run, nil // cancelled: the canceller set the status
	case errors.Is(err, errPause):
		return run, nil
	case err != nil && (ctx.Err() != nil || retryable(err)):
		// Resumable: leave the run running at its checkpoint.
		return run, fmt.Errorf("sync run %s interrupted: %w", runID, err)
	case err != nil:
		return run, e.finish(ctx, tenantID, &run, mksync.RunFailed, err)
	}
	status := mksync.RunSucceeded
	if run.Result.Failed > 0 {
		status = mksync.RunPartial
	}
	return run, e.finish(ctx, tenantID, &run, status, nil)
}

// markRunning moves the stored run from queued (or running: resumed) to
// running in one transaction and returns it as stored. A run that became
// final meanwhile (a cancel between the caller's read and this write) is
// returned as it is, unchanged: a cancel is never overwritten.
func (e *Engine) markRunning(ctx context.Context, tenantID, runID string) (mksync.SyncRun, error) {
	var run mksync.SyncRun
	err := e.store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		var err error
		if run, err = tx.FindSyncRun(ctx, tenantID, runID); err != nil {
			return fmt.Errorf("find sync run %s: %w", runID, err)
		}
		if run.Status != mksync.RunQueued && run.Status != mksync.RunRunning {
			return nil
		}
		if run.Result.Errors == nil {
			run.Result.Errors = []mksync.RecordError{}
		}
		run.Status = mksync.RunRunning
		if run.StartedAt == nil {
			now := e.clock.Now()
			run.StartedAt = &now
		}
		if err := tx.UpdateSyncRun(ctx, tenantID, &run); err != nil {
			return fmt.Errorf("update sync run %s: %w", runID, err)
		}
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("start sync run %s: %w", runID, err)
	}
	return run, nil
}

// finish writes the run's final status; cause, when set, is the failure of
// the whole run, logged and returned. Like markRunning it moves the stored
// run only from running: a cancel that landed after the last batch was
// committed stays (the run is then returned as stored).
func (e *Engine) finish(ctx context.Context, tenantID string, run *mksync.SyncRun, status mksync.RunStatus, cause error) error {
	wctx := context.WithoutCancel(ctx)
	now := e.clock.Now()
	final := *run
	final.Status, final.FinishedAt = status, &now
	final.Result.Success = final.Result.Failed == 0 && cause == nil
	err := e.store.InTx(wctx, tenantID, func(tx mksync.Store) error {
		cur, err := tx.FindSyncRun(wctx, tenantID, run.ID)
		if err != nil {
			return fmt.Errorf("find sync run %s: %w", run.ID, err)
		}
		if cur.Status.Final() {
			final = cur
			return nil
		}
		return tx.UpdateSyncRun(wctx, tenantID, &final)
	})
	if err != nil {
		return errors.Join(cause, fmt.Errorf("finish sync run %s: %w", run.ID, err))
	}
	*run = final
	if cause != nil {
		e.log.LogAttrs(ctx, slog.LevelError, "sync run failed",
			slog.String("tenant_id", tenantID), slog.String("run_id", run.ID),
			slog.String("operation", operation(run.EntityType, run.Direction)), slog.String("error", cause.Error()))
		return fmt.Errorf("sync run %s: %w", run.ID, cause)
	}
	return nil
}

// runner executes one run.
type runner struct {
	s   *session
	run *mksync.SyncRun
	cp  checkpoint
	// start is the checkpoint the run started from.
	start checkpoint
	// total delivers the count of a run over all records, once known.
	total chan int
	// lastWrite is when progress was last written.
	lastWrite time.Time
	// stop, when set, is asked after each committed batch whether to
	// pause the run (WorkRun).
	stop func() bool
	// live counts records as their outcomes are known (LiveProgress).
	live *liveRun
}

// idleCommitInterval spaces progress writes of batches that changed
// nothing (a no-op resync of 100,000 records would otherwise write the run
// 2,000 times); a batch that did any work is always written at once.
const idleCommitInterval = 250 * time.Millisecond

func (r *runner) execute(ctx context.Context) error {
	s := r.s
	if r.run.EntityType == mksync.EntitySalesDocument && r.cp.To.IsZero() {
		r.cp.To = s.e.clock.Now().Truncate(time.Second)
	}
	// The sources read where to start from this copy: the committer
	// goroutine moves r.cp while they run.
	r.start = r.cp
	// Concurrency bounds the run's Metakocka requests in flight, not its
	// workers: three times as many workers keep every request slot busy while
	// the others read and write mappings between their calls.
	ctx = metakocka.WithCallLimit(ctx, metakocka.NewCallLimit(s.settings.Concurrency))
	workers := 3 * s.settings.Concurrency
	var source func(yield func(item) bool) error
	switch {
	case len(r.cp.IDs) > 0:
		source = r.idSource()
	case r.run.Direction == mksync.ToMetakocka:
		if err := r.deletes(ctx); err != nil {
			return err
		}
		source = r.pushAllSource(ctx)
	case r.run.EntityType == mksync.EntityContact:
		source = r.pullContactsSource(ctx)
	case r.run.EntityType == mksync.EntityProduct:
		source = r.pullProductsSource(ctx)
	case r.run.EntityType == mksync.EntitySalesDocument:
		source = r.pullDocumentsSource(ctx)
	default:
		return mksync.Errorf(mksync.EINVALID, "cannot sync %s %s", r.run.EntityType, r.run.Direction)
	}
	source = counted(source, r.live)
	if obs := s.e.cfg.RecordObserver; obs != nil {
		source = observed(source, obs, r.run.EntityType, r.run.Direction, s.e.clock)
	}
	s.group, s.runContacts = s.startMappingGroup(ctx), newContactCountries()
	defer func() {
		s.group.stop()
		s.group, s.runContacts = nil, nil
	}()
	failedTags := map[int]int{}
	err := execute(ctx, workers, s.settings.BatchSize, source, func(b batchDone) error {
		for t, n := range b.tags {
			failedTags[t] += n
		}
		return r.commit(ctx, b, failedTags, b.final)
	})
	if err == nil && r.run.EntityType == mksync.EntitySalesDocument && r.run.Direction == mksync.FromMetakocka && len(r.cp.IDs) == 0 {
		err = r.advanceCursors(ctx, len(syncedDocTypes), failedTags)
	}
	return err
}

// deletes carries out the deletion policy before a bulk push
// (applyDeletes); a preview keeps the deletes it would make in its plan.
func (r *runner) deletes(ctx context.Context) error {
	s := r.s
	planned, err := s.applyDeletes(ctx, r.run.EntityType)
	if err != nil || len(planned) == 0 {
		return err
	}
	if err := s.e.store.SavePlanItems(ctx, s.tenantID, r.run.ID, planned); err != nil {
		return fmt.Errorf("save planned deletes of sync run %s: %w", r.run.ID, err)
	}
	return nil
}

// commit persists one batch: result, progress and checkpoint, unless the
// run was cancelled meanwhile (then errStop). The status check and the
// write share a transaction so that a cancel is not overwritten.
func (r *runner) commit(ctx context.Context, b batchDone, failedTags map[int]int, final bool) error {
	s := r.s
	r.run.Result.Merge(b.res)
	if max := s.e.cfg.MaxRunErrors; len(r.run.Result.Errors) > max {
		r.run.Result.Errors = r.run.Result.Errors[:max]
	}
	r.run.Processed += b.n
	select {
	case n := <-r.total:
		r.run.Total = n
	default:
	}
	if r.run.Total < r.run.Processed {
		r.run.Total = r.run.Processed
	}
	if err := r.cp.setPos(r, b.pos); err != nil {
		return err
	}
	if r.run.EntityType == mksync.EntitySalesDocument && r.run.Direction == mksync.FromMetakocka && len(r.cp.IDs) == 0 {
		if err := r.advanceCursors(ctx, r.cp.DocType, failedTags); err != nil {
			return err
		}
	}
	r.run.Checkpoint = r.cp.encode()
	rejected := credentialsRejected(b.res)
	pause := !final && !rejected && r.stop != nil && r.stop()
	idle := batchIdle(b)
	if idle && !final && !pause && s.e.clock.Now().Sub(r.lastWrite) < idleCommitInterval {
		r.reportBatch(b.res)
		return nil
	}
	r.lastWrite = s.e.clock.Now()
	err := s.e.store.InTx(ctx, s.tenantID, func(tx mksync.Store) error {
		cur, err := tx.FindSyncRun(ctx, s.tenantID, r.run.ID)
		if err != nil {
			return fmt.Errorf("check sync run %s: %w", r.run.ID, err)
		}
		if cur.Status == mksync.RunCancelled {
			r.run.Status, r.run.FinishedAt = cur.Status, cur.FinishedAt
			return errStop
		}
		if len(b.plan) > 0 {
			if err := tx.SavePlanItems(ctx, s.tenantID, r.run.ID, b.plan); err != nil {
				return fmt.Errorf("save plan of sync run %s: %w", r.run.ID, err)
			}
		}
		if err := tx.UpdateSyncRun(ctx, s.tenantID, r.run); err != nil {
			return fmt.Errorf("update sync run %s: %w", r.run.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.reportBatch(b.res)
	switch {
	case rejected:
		return mksync.Errorf(mksync.EUNAUTHORIZED, "Metakocka rejected the tenant's company id or secret key for every record of the last batch; stopped after %d records", r.run.Processed)
	case pause:
		return errPause
	}
	return nil
}

// batchIdle reports whether a committed batch changed nothing: every
// record skipped. A link (a mapping written) and an ambiguous match (an
// error record and a mapping written) are work like a create.
func batchIdle(b batchDone) bool {
	r := b.res
	return r.Created+r.Updated+r.Failed+r.Conflicts+r.Linked+r.Ambiguous == 0 && len(b.plan) == 0
}

// errPause ends a run whose stop hook asked it to stop (WorkRun).
var errPause = errors.New("run paused")

// credentialsRejected reports whether every record of a batch that needed
// Metakocka failed because Metakocka rejected the tenant's credentials
// (records decided without a call, skipped ones, do not count).
func credentialsRejected(res mksync.SyncResult) bool {
	if res.Failed == 0 || res.Created+res.Updated+res.Conflicts+res.Linked+res.Ambiguous > 0 || len(res.Errors) < res.Failed {
		return false
	}
	for _, e := range res.Errors {
		if e.Code != mksync.EUNAUTHORIZED {
			return false
		}
	}
	return true
}

// reportBatch tells the Monitor the outcomes of a committed batch.
func (r *runner) reportBatch(res mksync.SyncResult) {
	if mon := r.s.e.cfg.Monitor; mon != nil && !r.s.dry {
		mon.ResultSynced(r.s.tenantID, r.run.EntityType, r.run.Direction, res)
	}
}

// setPos records the position of a committed batch's last item.
func (c *checkpoint) setPos(r *runner, pos string) error {
	switch {
	case len(c.IDs) > 0 || r.run.Direction == mksync.FromMetakocka && r.run.EntityType == mksync.EntityProduct:
		n, err := strconv.Atoi(pos)
		if err != nil {
			return mksync.WrapError(mksync.EINTERNAL, "bad run position", err)
		}
		c.Pos = n
	case r.run.Direction == mksync.FromMetakocka && r.run.EntityType == mksync.EntitySalesDocument:
		var t, off int
		if _, err := fmt.Sscanf(pos, "%d:%d", &t, &off); err != nil {
			return mksync.WrapError(mksync.EINTERNAL, "bad run position", err)
		}
		c.DocType, c.Pos = t, off
	default:
		c.After = pos
	}
	return nil
}

// advanceCursors moves the incremental pull cursor of every document type
// before upTo that pulled without a failure to the run's upper bound; a
// type with a failure keeps its cursor, so the next pull reads the failed
// documents again (never missed).
func (r *runner) advanceCursors(ctx context.Context, upTo int, failedTags map[int]int) error {
	s := r.s
	for t := 0; t < upTo; t++ {
		if failedTags[t] > 0 {
			continue
		}
		key := cursorKey(syncedDocTypes[t])
		v := r.cp.To.UTC().Format(time.RFC3339)
		if cur, err := s.e.store.GetCursor(ctx, s.tenantID, key); err == nil && cur >= v {
			continue
		}
		if err := s.e.store.SetCursor(ctx, s.tenantID, key, v); err != nil {
			return fmt.Errorf("set cursor %s: %w", key, err)
		}
	}
	return nil
}

// observed wraps the items of source so that obs learns how long each
// record's work took.
func observed(source func(yield func(item) bool) error, obs RecordObserver, et mksync.EntityType, dir mksync.Direction, clock Clock) func(yield func(item) bool) error {
	return func(yield func(item) bool) error {
		return source(func(it item) bool {
			if run := it.run; run != nil {
				it.run = func(ctx context.Context) recordResult {
					start := clock.Now()
					r := run(ctx)
					if !r.interrupted {
						obs.OnRecord(et, dir, clock.Now().Sub(start))
					}
					return r
				}
			}
			return yield(it)
		})
	}
}

func runItem(pos string, f func(ctx context.Context) recordResult) item {
	return item{pos: pos, run: f}
}

func doneItem(pos string, out outcome) item {
	return item{pos: pos, done: &recordResult{out: out}}
}

// idSource yields the run's named records from the checkpoint on.
func (r *runner) idSource() func(yield func(item) bool) error {
	s := r.s
	et, dir, plan, force := r.run.EntityType, r.run.Direction, r.run.PlanRunID, r.start.Explicit
	return func(yield func(item) bool) error {
		for i := r.start.Pos; i < len(r.start.IDs); i++ {
			id := r.start.IDs[i]
			f := func(ctx context.Context) (res recordResult) {
				if plan != "" {
					return s.applyPlanned(ctx, et, dir, plan, id)
				}
				if dir == mksync.ToMetakocka {
					res = s.pushByID(ctx, et, id, force)
				} else {
					res = s.pullByMkID(ctx, et, id, force)
				}
				if res.plan != nil {
					res.plan.Forced = force
				}
				return res
			}
			if !yield(runItem(strconv.Itoa(i+1), f)) {
				return nil
			}
		}
		return nil
	}
}

// pushAllSource streams the tenant's records of the run's type in id order,
// joined with their mappings (one stream each, no read per record), and
// decides unchanged records on the spot: a no-op resync makes no
// Metakocka call and no write.
func (r *runner) pushAllSource(ctx context.Context) func(yield func(item) bool) error {
	s := r.s
	after := r.start.After
	return func(yield func(item) bool) error {
		o, ok := s.ops(r.run.EntityType)
		if !ok {
			return nil
		}
		mappingOf, stop := s.mappingStream(ctx, r.run.EntityType)
		defer stop()
		return o.eachLocal(ctx, func(id, hash string, push func(ctx context.Context) recordResult) (bool, error) {
			if id <= after {
				return true, nil
			}
			m, ok, err := mappingOf(id)
			if err != nil {
				return false, err
			}
			if ok && m.MetakockaID != "" {
				switch {
				case m.State == mksync.StateConflict:
					return yield(s.openConflictItem(id, m)), nil
				case m.State == mksync.StateSynced && m.PushedHash == hash:
					return yield(doneItem(id, outSkipped)), nil
				}
			}
			return yield(runItem(id, push)), nil
		})
	}
}

// mappingStream reads the tenant's mappings of et in id order beside the
// records (another connection of the store's read pool), without their
// synced views (a push reads the mapping whole before it acts). mappingOf
// returns the mapping of id, asked in increasing id order; stop ends the
// stream.
func (s *session) mappingStream(ctx context.Context, et mksync.EntityType) (mappingOf func(id string) (mksync.Mapping, bool, error), stop func()) {
	type mres struct {
		m   mksync.Mapping
		err error
	}
	mch := make(chan mres, 1024)
	quit := make(chan struct{})
	go func() {
		defer close(mch)
		for m, err := range s.e.store.AllMappingStates(ctx, s.tenantID, et) {
			select {
			case mch <- mres{m, err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var (
		cur     mksync.Mapping
		have    bool
		drained bool
	)
	mappingOf = func(id string) (mksync.Mapping, bool, error) {
		for !drained && (!have || cur.EntityID < id) {
			x, ok := <-mch
			if !ok {
				drained = true
				break
			}
			if x.err != nil {
				return x.m, false, fmt.Errorf("read mappings: %w", x.err)
			}
			cur, have = x.m, true
		}
		return cur, have && cur.EntityID == id, nil
	}
	return mappingOf, func() { close(quit) }
}

// pullContactsSource re-reads every mapped partner (Metakocka has no
// partner listing: partners new in Metakocka arrive with the documents
// that name them, or by mk_id).
func (r *runner) pullContactsSource(ctx context.Context) func(yield func(item) bool) error {
	s := r.s
	return func(yield func(item) bool) error {
		for m, err := range s.e.store.AllMappings(ctx, s.tenantID, mksync.EntityContact) {
			if err != nil {
				return fmt.Errorf("read contact mappings: %w", err)
			}
			if m.EntityID <= r.start.After {
				continue
			}
			if m.MetakockaID == "" {
				if !yield(doneItem(m.EntityID, outSkipped)) {
					return nil
				}
				continue
			}
			mkID := m.MetakockaID
			if !yield(runItem(m.EntityID, func(ctx context.Context) recordResult {
				return s.pullByMkID(ctx, mksync.EntityContact, mkID, false)
			})) {
				return nil
			}
		}
		return nil
	}
}

// pullProductsSource reads every Metakocka product in product_list windows,
// and each window's stock per warehouse with one warehouse_stock read. The
// next window and its stock are read while the workers pull this one, so
// that the two reads per window do not leave the workers idle.
func (r *runner) pullProductsSource(ctx context.Context) func(yield func(item) bool) error {
	s := r.s
	return func(yield func(item) bool) error {
		ctx, cancel := context.WithCancel(ctx)
		pos := r.start.Pos
		req := metakocka.ProductListRequest{ReturnPricelist: metakocka.NewBool(true), ReturnWarehouseStock: metakocka.NewBool(true), Offset: pos}
		next := s.readProductWindow(ctx, req)
		defer func() {
			cancel()
			if next != nil {
				<-next // the read ahead ends with the run
			}
		}()
		for {
			w := <-next
			next = nil
			if w.err != nil {
				return w.err
			}
			page := w.page
			last := len(page.Products) < page.Limit || len(page.Products) == 0
			if !last {
				req.Offset += len(page.Products)
				next = s.readProductWindow(ctx, req)
			}
			for _, p := range page.Products {
				pos++
				if !yield(runItem(strconv.Itoa(pos), func(ctx context.Context) recordResult {
					r, _ := s.pullProduct(ctx, p, false)
					return r
				})) {
					return nil
				}
			}
			if last {
				return nil
			}
		}
	}
}

// productWindow is one product_list window read with its stock.
type productWindow struct {
	page metakocka.ProductListPage
	err  error
}

// readProductWindow reads the window req and its products' stock per
// warehouse (readWarehouseStock) in the background; the channel yields it
// once.
func (s *session) readProductWindow(ctx context.Context, req metakocka.ProductListRequest) <-chan productWindow {
	ch := make(chan productWindow, 1)
	go func() {
		page, err := s.mk.ProductList(ctx, req)
		if err != nil {
			ch <- productWindow{err: fmt.Errorf("list products: %w", err)}
			return
		}
		ids := make([]string, 0, len(page.Products))
		for _, p := range page.Products {
			ids = append(ids, p.MkID)
		}
		ch <- productWindow{page: page, err: s.readWarehouseStock(ctx, ids)}
	}()
	return ch
}

// pullDocumentsSource reads, per document type, the documents changed
// since the type's cursor (minus the overlap) up to the run's fixed upper
// bound; the bounds are inclusive and to the second, so the overlap reads
// some documents twice (skipped by hash) and misses none. Only sales
// orders can be searched by last change (see incrementalSearch); the other
// types are listed whole and an unchanged document is skipped by hash (or
// by its last_change_ts, when Metakocka gives one).
func (r *runner) pullDocumentsSource(ctx context.Context) func(yield func(item) bool) error {
	s := r.s
	return func(yield func(item) bool) error {
		for t := r.start.DocType; t < len(syncedDocTypes); t++ {
			dt := syncedDocTypes[t]
			req, since, err := r.documentSearch(ctx, dt)
			if err != nil {
				return err
			}
			off := 0
			if t == r.start.DocType {
				off = r.start.Pos
				req.Offset = off
			}
			for d, err := range s.mk.SearchAll(ctx, req) {
				if err != nil {
					return fmt.Errorf("search %s: %w", dt, err)
				}
				off++
				if d.DocType == "" {
					d.DocType = dt
				}
				pos := fmt.Sprintf("%d:%d", t, off)
				it := runItem(pos, func(ctx context.Context) recordResult {
					r, _ := s.pullDocument(ctx, d, false)
					return r
				})
				if ts := parseMkTime(d.LastChangeTS); !since.IsZero() && !ts.IsZero() && ts.Before(since) {
					it = doneItem(pos, outSkipped)
				}
				it.tag = t
				if !yield(it) {
					return nil
				}
			}
		}
		return nil
	}
}

// incrementalSearch reports whether search takes last_change_from and
// last_change_to for documents of type t: search_examples.md shows them on
// sales orders only, and Metakocka documents no last-change condition for
// the other types (a doc_date range would miss an old document changed
// later).
func incrementalSearch(t metakocka.DocType) bool { return t == metakocka.DocSalesOrder }

// documentSearch is the search of one type's pull: by last change from the
// type's cursor (minus the overlap) to the run's upper bound where
// Metakocka documents it, else every document of the type, with since the
// time before which a document that says when it last changed is known
// unchanged (zero on a first pull).
func (r *runner) documentSearch(ctx context.Context, dt metakocka.DocType) (metakocka.SearchRequest, time.Time, error) {
	s := r.s
	req := metakocka.SearchRequest{DocType: dt, FullDocuments: true, OrderDirection: "asc"}
	var since time.Time
	if cur, err := s.e.store.GetCursor(ctx, s.tenantID, cursorKey(dt)); err == nil {
		if from, perr := time.Parse(time.RFC3339, cur); perr == nil {
			since = from.Add(-s.e.cfg.DocumentPullOverlap)
		}
	} else if !isCode(err, mksync.ENOTFOUND) {
		return req, since, fmt.Errorf("read cursor %s: %w", cursorKey(dt), err)
	}
	if incrementalSearch(dt) {
		// Written with the company's offset, as the documented example.
		req.LastChangeFrom, req.LastChangeTo = since.In(s.e.cfg.Location), r.start.To.In(s.e.cfg.Location)
		return req, time.Time{}, nil
	}
	return req, since, nil
}
