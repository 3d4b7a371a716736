package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/mksync/mksync"
)

// A sync run slice holds the run's lease (mksync.RunLeaseStore) while it
// works and renews it every third of Config.RunLease, from its own
// goroutine, so a slow Metakocka call does not stop the heartbeats. Every
// process with workers also watches for leases that expired on runs that are
// not final — their worker died without a word — breaks them (which fences
// the former holder) and puts the run's job, which River still sees as
// running, back in the bulk queue at once. A killed worker's run thus
// resumes about Config.RunLease after its last heartbeat, instead of after
// River's stuck-job rescue (Config.RescueStuckJobsAfter, minutes), which
// stays as the last resort.

// errLeaseLost cancels a slice whose lease was broken by another process or
// could not be renewed before it expired: someone else may be working the
// run, so the slice stops at once.
var errLeaseLost = errors.New("sync run lease lost")

// expiredLeasesPerCheck bounds one takeover check; the next check takes the
// rest.
const expiredLeasesPerCheck = 100

// leaseOwner names the slice working job: the River client that fetched
// it, the job and its attempt (each attempt is a new holder).
func leaseOwner(job *rivertype.JobRow) string {
	client := "?"
	if n := len(job.AttemptedBy); n > 0 {
		client = job.AttemptedBy[n-1]
	}
	return fmt.Sprintf("%s job %d attempt %d", client, job.ID, job.Attempt)
}

// holdLease acquires the lease of the run for job and starts its
// heartbeats. It returns the context to work in (cancelled with
// errLeaseLost when the lease is lost) and end, which stops the heartbeats,
// releases the lease unless it was lost, and reports whether it was. When a
// live slice holds the lease, the error is a snooze until it may have
// expired.
func (j *Jobs) holdLease(ctx context.Context, job *rivertype.JobRow, tenantID, runID string) (context.Context, func() (lost bool), error) {
	ttl := j.cfg.RunLease
	now := j.clock.Now()
	owner := leaseOwner(job)
	l, err := j.store.AcquireRunLease(ctx, tenantID, runID, owner, now, now.Add(ttl))
	if mksync.ErrorCode(err) == mksync.ECONFLICT {
		wait := max(l.ExpiresAt.Sub(now), 0) + ttl/3
		j.log.InfoContext(ctx, "sync run is worked by another slice; snoozed", "tenant_id", tenantID, "run_id", runID,
			"job_id", job.ID, "holder", l.Owner, "lease_expires_at", l.ExpiresAt, "snooze", wait)
		return nil, nil, river.JobSnooze(wait)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("acquire run lease: %w", err)
	}
	hctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.heartbeat(hctx, cancel, l)
	}()
	end := func() bool {
		lost := errors.Is(context.Cause(hctx), errLeaseLost)
		cancel(nil)
		<-done
		if !lost {
			rctx, c := context.WithTimeout(context.WithoutCancel(ctx), ttl)
			defer c()
			if err := j.store.ReleaseRunLease(rctx, tenantID, runID, l.Token); err != nil {
				// It expires by itself; a takeover then finds the job no
				// longer running and only frees the lease.
				j.log.WarnContext(ctx, "cannot release sync run lease", "tenant_id", tenantID, "run_id", runID, "error", err)
			}
		}
		return lost
	}
	return hctx, end, nil
}

// heartbeat renews lease l every third of Config.RunLease until ctx ends.
// It cancels ctx with errLeaseLost when the lease was broken, or when
// renewals failed for so long that it could expire before the next one.
func (j *Jobs) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, l mksync.RunLease) {
	ttl := j.cfg.RunLease
	every := ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	until := l.ExpiresAt
	log := j.log.With("tenant_id", l.TenantID, "run_id", l.RunID, "lease_token", l.Token)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := j.clock.Now()
		rctx, c := context.WithTimeout(ctx, every)
		err := j.store.RenewRunLease(rctx, l.TenantID, l.RunID, l.Token, now.Add(ttl))
		c()
		switch {
		case err == nil:
			until = now.Add(ttl)
		case ctx.Err() != nil:
			return
		case mksync.ErrorCode(err) == mksync.ECONFLICT:
			log.WarnContext(ctx, "sync run lease was taken over; slice stops", "error", err)
			cancel(errLeaseLost)
			return
		default:
			log.WarnContext(ctx, "cannot renew sync run lease", "error", err, "lease_expires_at", until)
			if !j.clock.Now().Add(every).Before(until) {
				log.WarnContext(ctx, "sync run lease about to expire unrenewed; slice stops")
				cancel(errLeaseLost)
				return
			}
		}
	}
}

// watchLeases takes over the runs of dead workers until ctx ends: at once,
// then every third of Config.RunLease.
func (j *Jobs) watchLeases(ctx context.Context) {
	t := time.NewTicker(j.cfg.RunLease / 3)
	defer t.Stop()
	for {
		j.takeOverExpired(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// takeOverExpired breaks every expired lease of a run that is not final and
// makes the run's job, still running in River's eyes, available again.
func (j *Jobs) takeOverExpired(ctx context.Context) {
	now := j.clock.Now()
	leases, err := j.store.ExpiredRunLeases(ctx, now, expiredLeasesPerCheck)
	if err != nil {
		if ctx.Err() == nil {
			j.log.WarnContext(ctx, "cannot list expired sync run leases", "error", err)
		}
		return
	}
	for _, l := range leases {
		log := j.log.With("tenant_id", l.TenantID, "run_id", l.RunID, "former_holder", l.Owner, "lease_expired_at", l.ExpiresAt)
		// The grace after breaking lets a worker pick the job up before the
		// run is listed again.
		err := j.store.BreakRunLease(ctx, l.TenantID, l.RunID, l.Token, now, now.Add(j.cfg.RunLease))
		if mksync.ErrorCode(err) == mksync.ECONFLICT {
			continue // renewed, or another process took it over first
		}
		if err != nil {
			log.WarnContext(ctx, "cannot break expired sync run lease", "error", err)
			continue
		}
		requeued, err := j.requeueRunJob(ctx, l.RunID)
		if err != nil {
			log.WarnContext(ctx, "cannot requeue the job of a sync run taken over", "error", err)
			continue
		}
		log.WarnContext(ctx, "sync run taken over from a worker that stopped heart-beating", "jobs_requeued", requeued)
	}
}

// requeueRunJob makes the running job of the run available again and
// returns how many it requeued (0 when none was running).
func (j *Jobs) requeueRunJob(ctx context.Context, runID string) (int, error) {
	rows, err := j.client.list(ctx, nil, river.NewJobListParams().
		Kinds(SyncRunArgs{}.Kind()).TagsAny(runTag(runID)).States(rivertype.JobStateRunning).First(10))
	if err != nil {
		return 0, fmt.Errorf("find running job: %w", err)
	}
	n := 0
	for _, row := range rows {
		ok, err := j.db.requeueRunning(ctx, row.ID)
		if err != nil {
			return n, fmt.Errorf("requeue job %d: %w", row.ID, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// requeueRunningQuery makes a running job available: River has no call for
// a running job whose process died.
const requeueRunningQuery = `UPDATE river_job SET state = 'available' WHERE id = $1 AND state = 'running'`

func (d sqliteDatabase) requeueRunning(ctx context.Context, id int64) (bool, error) {
	res, err := d.db.ExecContext(ctx, strings.Replace(requeueRunningQuery, "$1", "?", 1), id)
	if err != nil {
		return false, fmt.Errorf("jobs: requeue job: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("jobs: requeue job: %w", err)
	}
	return n > 0, nil
}

func (d postgresDatabase) requeueRunning(ctx context.Context, id int64) (bool, error) {
	tag, err := d.pool.Exec(ctx, requeueRunningQuery, id)
	if err != nil {
		return false, fmt.Errorf("jobs: requeue job: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}
