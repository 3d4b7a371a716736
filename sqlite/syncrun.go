package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/mksync/mksync"
)

var (
	directions  = []mksync.Direction{mksync.ToMetakocka, mksync.FromMetakocka}
	runStatuses = []mksync.RunStatus{mksync.RunQueued, mksync.RunRunning, mksync.RunSucceeded, mksync.RunPartial, mksync.RunFailed, mksync.RunCancelled}
)

func validateRun(r *mksync.SyncRun) error {
	var v mksync.Validator
	v.Check(entityTable(r.EntityType) != "", "entityType", "must be contact, product or sales_document")
	v.Check(slices.Contains(directions, r.Direction), "direction", "must be to_metakocka or from_metakocka")
	v.Check(slices.Contains(runStatuses, r.Status), "status", "must be a run status")
	v.Check(r.Processed >= 0 && r.Total >= 0, "processed", "must not be negative")
	return v.Err("sync run")
}

const runCols = `id, tenant_id, entity_type, direction, trigger, status, processed, total, result_success,
	result_created, result_updated, result_skipped, result_failed, result_conflicts, result_errors, checkpoint,
	created_at, started_at, finished_at, result_linked, result_ambiguous, dry_run, plan_run_id`

func scanRun(sc scanner) (mksync.SyncRun, error) {
	var r mksync.SyncRun
	var errs, created string
	var started, finished sql.NullString
	err := sc.Scan(&r.ID, &r.TenantID, &r.EntityType, &r.Direction, &r.Trigger, &r.Status, &r.Processed, &r.Total,
		&r.Result.Success, &r.Result.Created, &r.Result.Updated, &r.Result.Skipped, &r.Result.Failed,
		&r.Result.Conflicts, &errs, &r.Checkpoint, &created, &started, &finished, &r.Result.Linked, &r.Result.Ambiguous, &r.DryRun, &r.PlanRunID)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(errs), &r.Result.Errors); err != nil {
		return r, internal("decode run errors", err)
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	if r.StartedAt, err = nullTime(started); err != nil {
		return r, err
	}
	r.FinishedAt, err = nullTime(finished)
	return r, err
}

func runErrorsJSON(r *mksync.SyncRun) (string, error) {
	errs := r.Result.Errors
	if errs == nil {
		errs = []mksync.RecordError{}
	}
	b, err := json.Marshal(errs)
	if err != nil {
		return "", internal("encode run errors", err)
	}
	return string(b), nil
}

func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := trunc(*t)
	return &v
}

// CreateSyncRun implements mksync.SyncRunStore. An empty status is queued.
func (s *store) CreateSyncRun(ctx context.Context, tenantID string, r *mksync.SyncRun) error {
	n := *r
	if n.Status == "" {
		n.Status = mksync.RunQueued
	}
	if err := validateRun(&n); err != nil {
		return err
	}
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	errs, err := runErrorsJSON(&n)
	if err != nil {
		return err
	}
	n.TenantID, n.CreatedAt = tenantID, s.truncNow()
	n.StartedAt, n.FinishedAt = truncPtr(n.StartedAt), truncPtr(n.FinishedAt)
	err = s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO sync_runs (`+runCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, tenantID, string(n.EntityType), string(n.Direction), string(n.Trigger), string(n.Status),
			n.Processed, n.Total, boolInt(n.Result.Success), n.Result.Created, n.Result.Updated, n.Result.Skipped,
			n.Result.Failed, n.Result.Conflicts, errs, n.Checkpoint, fmtTime(n.CreatedAt),
			fmtTimePtr(n.StartedAt), fmtTimePtr(n.FinishedAt), n.Result.Linked, n.Result.Ambiguous, boolInt(n.DryRun), n.PlanRunID)
		return translate("create sync run", err, "a sync run with this id already exists", "", "")
	})
	if err != nil {
		return err
	}
	*r = n
	return nil
}

// FindSyncRun implements mksync.SyncRunStore.
func (s *store) FindSyncRun(ctx context.Context, tenantID, id string) (mksync.SyncRun, error) {
	return findOne(s.reader().QueryRowContext(ctx, "SELECT "+runCols+" FROM sync_runs WHERE tenant_id = ? AND id = ?", tenantID, id),
		scanRun, "sync run", id)
}

// FindSyncRuns implements mksync.SyncRunStore, newest first.
func (s *store) FindSyncRuns(ctx context.Context, tenantID string, f mksync.SyncRunFilter) ([]mksync.SyncRun, string, error) {
	return findPage(f.After, f.EffectiveLimit(), func(after string, limit int) ([]mksync.SyncRun, error) {
		w := &where{}
		w.add("tenant_id = ?", tenantID)
		if f.EntityType != "" {
			w.add("entity_type = ?", string(f.EntityType))
		}
		if f.Direction != "" {
			w.add("direction = ?", string(f.Direction))
		}
		if f.Status != "" {
			w.add("status = ?", string(f.Status))
		}
		return newestFirst(ctx, s.reader(), "sync_runs", runCols, w, after, limit, scanRun)
	}, func(r mksync.SyncRun) string { return r.ID })
}

// UpdateSyncRun implements mksync.SyncRunStore.
func (s *store) UpdateSyncRun(ctx context.Context, tenantID string, r *mksync.SyncRun) error {
	n := *r
	if err := validateRun(&n); err != nil {
		return err
	}
	errs, err := runErrorsJSON(&n)
	if err != nil {
		return err
	}
	n.StartedAt, n.FinishedAt = truncPtr(n.StartedAt), truncPtr(n.FinishedAt)
	err = s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE sync_runs SET status = ?, processed = ?, total = ?, result_success = ?,
			result_created = ?, result_updated = ?, result_skipped = ?, result_failed = ?, result_conflicts = ?,
			result_errors = ?, checkpoint = ?, started_at = ?, finished_at = ?, result_linked = ?, result_ambiguous = ?
			WHERE tenant_id = ? AND id = ?`,
			string(n.Status), n.Processed, n.Total, boolInt(n.Result.Success), n.Result.Created, n.Result.Updated,
			n.Result.Skipped, n.Result.Failed, n.Result.Conflicts, errs, n.Checkpoint, fmtTimePtr(n.StartedAt),
			fmtTimePtr(n.FinishedAt), n.Result.Linked, n.Result.Ambiguous, tenantID, n.ID)
		if err != nil {
			return internal("update sync run", err)
		}
		if c, err := rowsAffected(res); err != nil {
			return err
		} else if c == 0 {
			return notFound("sync run", n.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*r = n
	return nil
}
