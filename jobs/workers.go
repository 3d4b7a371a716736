package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// errRunCancelled ends the job of a cancelled run.
var errRunCancelled = errors.New("sync run cancelled")

// DefaultRateLimitSnooze is how long a rate-limited job waits when
// Metakocka gave no Retry-After.
const DefaultRateLimitSnooze = 30 * time.Second

// runWorker works sync run jobs a slice at a time.
type runWorker struct {
	river.WorkerDefaults[SyncRunArgs]
	j *Jobs
}

// Timeout bounds one slice (a batch stuck on Metakocka); the run resumes
// from its checkpoint on the next attempt.
func (w *runWorker) Timeout(*river.Job[SyncRunArgs]) time.Duration { return w.j.cfg.BulkTimeout }

// Work runs one slice of the run, holding its lease (see lease.go): until
// Config.BulkSlice is used up or the process is stopping (then it snoozes
// for zero seconds, to the back of the bulk queue), the run is final, or
// the run is cancelled. A run another live slice holds is snoozed until
// that lease may have expired.
func (w *runWorker) Work(ctx context.Context, job *river.Job[SyncRunArgs]) error {
	j, a := w.j, job.Args
	run, err := j.store.FindSyncRun(ctx, a.TenantID, a.RunID)
	if err != nil {
		return j.outcome(ctx, job.JobRow, a.TenantID, a.RunID, fmt.Errorf("find sync run: %w", err))
	}
	switch {
	case run.Status == mksync.RunCancelled:
		return river.JobCancel(errRunCancelled)
	case run.Status.Final():
		return nil // finished by an earlier attempt that died before completing its job
	}
	leased, endLease, err := j.holdLease(ctx, job.JobRow, a.TenantID, a.RunID)
	if err != nil {
		if _, snooze := errors.AsType[*river.JobSnoozeError](err); snooze {
			return err
		}
		return j.outcome(ctx, job.JobRow, a.TenantID, a.RunID, err)
	}
	deadline := j.clock.Now().Add(j.cfg.BulkSlice)
	stop := func() bool { // may run on the Runner's goroutine
		return j.stopping.Load() || !j.clock.Now().Before(deadline)
	}
	done, err := j.cfg.Runner.WorkRun(leased, a.TenantID, a.RunID, stop)
	lost := endLease()
	if err == nil {
		j.refreshStatistics(ctx, a.TenantID, run)
	}
	if lost {
		// Another process may be working the run now: leave the job to it
		// (its row is that process's now) and look again after a lease.
		j.log.WarnContext(ctx, "sync run slice stopped: lease lost", "tenant_id", a.TenantID, "run_id", a.RunID, "job_id", job.ID)
		return river.JobSnooze(j.cfg.RunLease)
	}
	if err != nil {
		return j.outcome(ctx, job.JobRow, a.TenantID, a.RunID, fmt.Errorf("run sync %s: %w", a.RunID, err))
	}
	if !done {
		return river.JobSnooze(0)
	}
	// The Runner stops at a batch boundary when it finds the run cancelled.
	if r, err := j.store.FindSyncRun(ctx, a.TenantID, a.RunID); err == nil && r.Status == mksync.RunCancelled {
		return river.JobCancel(errRunCancelled)
	}
	j.completed(job.JobRow, a.TenantID)
	return nil
}

// completed tells the Monitor that a job completed.
func (j *Jobs) completed(job *rivertype.JobRow, tenantID string) {
	if j.cfg.Monitor != nil {
		j.cfg.Monitor.JobFinished(observe.JobEvent{TenantID: tenantID, Kind: job.Kind, Outcome: observe.JobCompleted, Attempts: job.Attempt})
	}
}

// recordWorker works single-record sync jobs.
type recordWorker struct {
	river.WorkerDefaults[RecordArgs]
	j *Jobs
}

func (w *recordWorker) Work(ctx context.Context, job *river.Job[RecordArgs]) error {
	a := job.Args
	sync := w.j.cfg.Runner.SyncToMetakocka
	if a.Direction == mksync.FromMetakocka {
		sync = w.j.cfg.Runner.SyncFromMetakocka
	}
	if _, err := sync(ctx, a.TenantID, a.EntityType, a.ID); err != nil {
		return w.j.outcome(ctx, job.JobRow, a.TenantID, "", fmt.Errorf("sync %s %s %s: %w", a.EntityType, a.ID, a.Direction, err))
	}
	w.j.completed(job.JobRow, a.TenantID)
	return nil
}

// stockWorker works stock webhook jobs.
type stockWorker struct {
	river.WorkerDefaults[StockArgs]
	j *Jobs
}

func (w *stockWorker) Work(ctx context.Context, job *river.Job[StockArgs]) error {
	a := job.Args
	if err := w.j.cfg.Runner.ApplyStock(ctx, a.TenantID, a.Payload); err != nil {
		return w.j.outcome(ctx, job.JobRow, a.TenantID, "", fmt.Errorf("apply stock webhook: %w", err))
	}
	w.j.completed(job.JobRow, a.TenantID)
	return nil
}

// permanent reports whether a job failing with code can never succeed as
// it is: rejected credentials, or a tenant, run or credentials that are
// gone or invalid.
func permanent(code string) bool {
	switch code {
	case mksync.EUNAUTHORIZED, mksync.EFORBIDDEN, mksync.ENOTFOUND, mksync.EINVALID:
		return true
	}
	return false
}

// retryAfter is the wait Metakocka asked for, or DefaultRateLimitSnooze.
func retryAfter(err error) time.Duration {
	if d := mksync.ErrorRetryAfter(err); d > 0 {
		return d
	}
	return DefaultRateLimitSnooze
}

// outcome turns a job's failure into River's outcome: cancel for a
// permanent failure (recorded as an error record and an alert, and the run
// marked failed), snooze until Retry-After for rate limiting, snooze(0) for
// a job interrupted by shutdown, and the error itself (River's backoff)
// for anything else — marking the run failed when that was the last
// attempt. runID is "" for jobs without a run.
func (j *Jobs) outcome(ctx context.Context, job *rivertype.JobRow, tenantID, runID string, err error) error {
	code := mksync.ErrorCode(err)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		// Stopping (or River cancelled the job, which then stays cancelled
		// whatever we return): put it back without using an attempt.
		return river.JobSnooze(0)
	case code == mksync.ERATELIMITED:
		d := retryAfter(err)
		j.log.InfoContext(ctx, "job rate limited by Metakocka; snoozed", "tenant_id", tenantID, "run_id", runID,
			"job_id", job.ID, "kind", job.Kind, "retry_after", d)
		return river.JobSnooze(d)
	case code == mksync.EUNAUTHORIZED || code == mksync.EFORBIDDEN:
		j.recordFailure(ctx, job, tenantID, runID, err, AlertCredentialsRejected, "critical",
			"background sync stopped, Metakocka refused the credentials: "+mksync.ErrorMessage(err))
		return river.JobCancel(err)
	case permanent(code):
		j.recordFailure(ctx, job, tenantID, runID, err, "", "", "")
		return river.JobCancel(err)
	}
	if job.Attempt >= job.MaxAttempts {
		j.recordFailure(ctx, job, tenantID, runID, err, AlertJobDiscarded, "warning",
			fmt.Sprintf("background sync gave up after %d attempts: %s", job.Attempt, mksync.ErrorMessage(err)))
		if j.cfg.Monitor != nil {
			j.cfg.Monitor.JobFinished(observe.JobEvent{TenantID: tenantID, Kind: job.Kind, Outcome: observe.JobDiscarded,
				Attempts: job.Attempt, Code: mksync.ErrorCode(err)})
		}
	}
	return err
}

// The alert keys jobs open.
const (
	// AlertCredentialsRejected: Metakocka rejected a tenant's credentials,
	// so its background syncs stop until they are fixed.
	AlertCredentialsRejected = "jobs:credentials_rejected"
	// AlertJobDiscarded: a job failed its last attempt.
	AlertJobDiscarded = "jobs:discarded"
)

// recordFailure marks the run failed and keeps the failure as an error
// record (category JOBS) and, unless alertKey is "" or a Monitor raises
// the alerts (job_discarded; metakocka_auth from the Metakocka observer),
// an open alert, so a person sees it. Failures to record are logged: the job's own error is what
// River reports.
func (j *Jobs) recordFailure(ctx context.Context, job *rivertype.JobRow, tenantID, runID string, cause error, alertKey, severity, message string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := j.log.With("tenant_id", tenantID, "run_id", runID, "job_id", job.ID, "kind", job.Kind)
	if runID != "" {
		if r, err := j.store.FindSyncRun(ctx, tenantID, runID); err == nil && !r.Status.Final() {
			now := j.clock.Now().UTC()
			r.Status = mksync.RunFailed
			r.FinishedAt = &now
			r.Result.Success = false
			if err := j.store.UpdateSyncRun(ctx, tenantID, &r); err != nil {
				log.ErrorContext(ctx, "cannot mark sync run failed", "error", err)
			}
		}
	}
	rec := mksync.ErrorRecord{
		Category:  observe.CatJobs,
		Operation: "jobs." + job.Kind,
		EntityID:  runID,
		Code:      mksync.ErrorCode(cause),
		Message:   mksync.ErrorMessage(cause),
		Details:   map[string]any{"jobId": job.ID, "attempt": job.Attempt, "kind": job.Kind},
		CreatedAt: j.clock.Now().UTC(),
	}
	if err := j.store.CreateErrorRecord(ctx, tenantID, &rec); err != nil {
		if mksync.ErrorCode(err) != mksync.ENOTFOUND { // a deleted tenant keeps no records
			log.ErrorContext(ctx, "cannot record job failure", "error", err)
		}
		return
	}
	if alertKey == "" {
		log.InfoContext(ctx, "job cancelled for good", "code", rec.Code, "error_id", rec.ID)
		return
	}
	if j.cfg.Monitor != nil {
		log.WarnContext(ctx, "job failed for good", "code", rec.Code, "error_id", rec.ID)
		return
	}
	alert := mksync.Alert{Key: alertKey, Severity: severity, Message: message + " (errorId " + rec.ID + ")"}
	if _, err := j.store.OpenAlert(ctx, tenantID, &alert); err != nil {
		log.ErrorContext(ctx, "cannot open job alert", "error", err)
	}
	log.WarnContext(ctx, "job failed for good", "code", rec.Code, "error_id", rec.ID, "alert", alertKey)
}

// errorHandler logs panics of jobs (errors are logged by River).
type errorHandler struct {
	log *slog.Logger
}

func (h *errorHandler) HandleError(context.Context, *rivertype.JobRow, error) *river.ErrorHandlerResult {
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt,
		"panic", fmt.Sprint(panicVal), "stack", trace)
	return nil
}
