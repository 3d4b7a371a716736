package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/mksync/mksync"
)

// scheduleCursor is the SyncStateStore key of a tenant's last scheduled
// start (RFC 3339, UTC).
const scheduleCursor = "jobs.schedule.last_start"

// tickWorker works the periodic schedule tick.
type tickWorker struct {
	river.WorkerDefaults[ScheduleTickArgs]
	j *Jobs
}

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[ScheduleTickArgs]) error {
	_, err := w.j.scheduleDue(ctx)
	return err
}

// scheduleDue starts the scheduled runs of every tenant whose
// SyncSettings.ScheduleInterval has elapsed since its last scheduled start
// (by the Clock): for each entity type, an incremental pull and a push of
// what changed (the engine skips unchanged records). A run still active
// from an earlier start, or started by a person, is reused, so a slow
// tenant never piles up runs. One tenant's failure is logged and does not
// stop the others. It returns how many tenants were started.
func (j *Jobs) scheduleDue(ctx context.Context) (int, error) {
	started := 0
	page := mksync.Page{Limit: mksync.MaxPageLimit}
	for {
		tenants, next, err := j.store.ListTenants(ctx, page)
		if err != nil {
			return started, fmt.Errorf("schedule: list tenants: %w", err)
		}
		for _, t := range tenants {
			ok, err := j.scheduleTenant(ctx, t.ID)
			if err != nil {
				if ctx.Err() != nil {
					return started, ctx.Err()
				}
				j.log.ErrorContext(ctx, "scheduled sync not started", "tenant_id", t.ID, "error", err)
				continue
			}
			if ok {
				started++
			}
		}
		if next == "" {
			return started, nil
		}
		page.After = next
	}
}

// scheduleTenant starts the tenant's scheduled runs when they are due.
func (j *Jobs) scheduleTenant(ctx context.Context, tenantID string) (bool, error) {
	creds, err := j.store.FindCredentials(ctx, tenantID)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		return false, nil // not connected to Metakocka
	case err != nil:
		return false, fmt.Errorf("find credentials: %w", err)
	}
	interval := creds.Settings.ScheduleInterval
	if interval <= 0 {
		return false, nil
	}
	// A first connect still being guided (match, resolve, apply) holds
	// schedules back until a person marks it done.
	if open, err := mksync.FirstConnectPending(ctx, j.store, tenantID); err != nil || open {
		return false, err
	}
	now := j.clock.Now().UTC()
	last, err := j.store.GetCursor(ctx, tenantID, scheduleCursor)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
	case err != nil:
		return false, fmt.Errorf("read last scheduled start: %w", err)
	default:
		if t, perr := time.Parse(time.RFC3339Nano, last); perr == nil && now.Sub(t) < interval {
			return false, nil
		}
	}
	for _, et := range mksync.EntityTypes {
		for _, dir := range []mksync.Direction{mksync.FromMetakocka, mksync.ToMetakocka} {
			run := mksync.SyncRun{EntityType: et, Direction: dir, Trigger: mksync.TriggerSchedule}
			if err := j.StartSync(ctx, tenantID, &run, nil); err != nil {
				return false, err
			}
		}
	}
	if err := j.store.SetCursor(ctx, tenantID, scheduleCursor, now.Format(time.RFC3339Nano)); err != nil {
		return false, fmt.Errorf("record scheduled start: %w", err)
	}
	j.log.InfoContext(ctx, "scheduled syncs started", "tenant_id", tenantID, "interval", interval)
	return true, nil
}
