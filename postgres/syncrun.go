package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

const syncRunColumns = `id, tenant_id, entity_type, direction, trigger, status, processed, total, result_success,
	result_created, result_updated, result_skipped, result_failed, result_conflicts, result_errors, checkpoint,
	created_at, started_at, finished_at, result_linked, result_ambiguous, dry_run, plan_run_id`

func scanSyncRun(r pgx.Row) (mksync.SyncRun, error) {
	var s mksync.SyncRun
	var et, dir, trig, status string
	var errs []byte
	res := &s.Result
	err := r.Scan(&s.ID, &s.TenantID, &et, &dir, &trig, &status, &s.Processed, &s.Total, &res.Success,
		&res.Created, &res.Updated, &res.Skipped, &res.Failed, &res.Conflicts, &errs, &s.Checkpoint,
		&s.CreatedAt, &s.StartedAt, &s.FinishedAt, &res.Linked, &res.Ambiguous, &s.DryRun, &s.PlanRunID)
	if err != nil {
		return s, err
	}
	s.EntityType, s.Direction, s.Trigger, s.Status = mksync.EntityType(et), mksync.Direction(dir), mksync.Trigger(trig), mksync.RunStatus(status)
	s.CreatedAt, s.StartedAt, s.FinishedAt = utc(s.CreatedAt), utcPtr(s.StartedAt), utcPtr(s.FinishedAt)
	if err := json.Unmarshal(errs, &res.Errors); err != nil {
		return s, errorf("decode sync run errors: %w", err)
	}
	return s, nil
}

func scanSyncRunRows(r pgx.Rows) (mksync.SyncRun, error) { return scanSyncRun(r) }

func recordErrorsJSON(errs []mksync.RecordError) ([]byte, error) {
	if errs == nil {
		errs = []mksync.RecordError{}
	}
	b, err := json.Marshal(errs)
	if err != nil {
		return nil, errorf("encode sync run errors: %w", err)
	}
	return b, nil
}

// validateRun checks the enumerations of a run: EINVALID naming the field.
func validateRun(r *mksync.SyncRun) error {
	var v mksync.Validator
	v.OneOf(string(r.EntityType), strs(mksync.EntityTypes), "entityType")
	v.OneOf(string(r.Direction), []string{string(mksync.ToMetakocka), string(mksync.FromMetakocka)}, "direction")
	v.OneOf(string(r.Status), []string{string(mksync.RunQueued), string(mksync.RunRunning), string(mksync.RunSucceeded),
		string(mksync.RunPartial), string(mksync.RunFailed), string(mksync.RunCancelled)}, "status")
	if r.Trigger != "" {
		v.OneOf(string(r.Trigger), []string{string(mksync.TriggerAPI), string(mksync.TriggerUI), string(mksync.TriggerCLI),
			string(mksync.TriggerSchedule), string(mksync.TriggerWebhook), string(mksync.TriggerAutoPush)}, "trigger")
	}
	v.Check(r.Processed >= 0 && r.Total >= 0, "processed", "must not be negative")
	return v.Err("sync run")
}

func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// CreateSyncRun inserts r, filling ID, TenantID and CreatedAt; an empty
// Status becomes queued.
func (d *DB) CreateSyncRun(ctx context.Context, tenantID string, r *mksync.SyncRun) error {
	if err := fillID(&r.ID); err != nil {
		return err
	}
	if r.Status == "" {
		r.Status = mksync.RunQueued
	}
	if err := validateRun(r); err != nil {
		return err
	}
	errs, err := recordErrorsJSON(r.Result.Errors)
	if err != nil {
		return err
	}
	now := d.nowUTC()
	res := r.Result
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sync_runs (`+syncRunColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
			r.ID, tenantID, string(r.EntityType), string(r.Direction), string(r.Trigger), string(r.Status),
			r.Processed, r.Total, res.Success, res.Created, res.Updated, res.Skipped, res.Failed, res.Conflicts,
			errs, r.Checkpoint, now, utcPtr(r.StartedAt), utcPtr(r.FinishedAt), res.Linked, res.Ambiguous, r.DryRun, r.PlanRunID)
		return err
	})
	if err != nil {
		return tenantMissing("create sync run", err)
	}
	r.TenantID, r.CreatedAt, r.StartedAt, r.FinishedAt = tenantID, now, utcPtr(r.StartedAt), utcPtr(r.FinishedAt)
	return nil
}

// FindSyncRun returns the tenant's run; ENOTFOUND otherwise.
func (d *DB) FindSyncRun(ctx context.Context, tenantID, id string) (mksync.SyncRun, error) {
	return findOne(ctx, d, tenantID, scanSyncRun, notFound("sync run", id), "find sync run",
		`SELECT `+syncRunColumns+` FROM sync_runs WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// FindSyncRuns lists runs newest first (created_at, then id, descending).
func (d *DB) FindSyncRuns(ctx context.Context, tenantID string, f mksync.SyncRunFilter) ([]mksync.SyncRun, string, error) {
	return findNewest(ctx, d, tenantID, f.After, f.EffectiveLimit(), "find sync runs", scanSyncRunRows,
		func(s mksync.SyncRun) (time.Time, string) { return s.CreatedAt, s.ID },
		`SELECT `+syncRunColumns+` FROM sync_runs
			WHERE tenant_id = $1
				AND (NOT $2 OR (created_at, id) < ($3, $4))
				AND ($5 = '' OR entity_type = $5) AND ($6 = '' OR direction = $6) AND ($7 = '' OR status = $7)
			ORDER BY created_at DESC, id DESC LIMIT $8`,
		string(f.EntityType), string(f.Direction), string(f.Status))
}

// UpdateSyncRun writes r's status, progress, result, checkpoint and times;
// ENOTFOUND when the tenant has no such run.
func (d *DB) UpdateSyncRun(ctx context.Context, tenantID string, r *mksync.SyncRun) error {
	if err := validateRun(r); err != nil {
		return err
	}
	errs, err := recordErrorsJSON(r.Result.Errors)
	if err != nil {
		return err
	}
	res := r.Result
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sync_runs SET status = $3, processed = $4, total = $5, result_success = $6,
				result_created = $7, result_updated = $8, result_skipped = $9, result_failed = $10,
				result_conflicts = $11, result_errors = $12, checkpoint = $13, started_at = $14, finished_at = $15,
				result_linked = $16, result_ambiguous = $17
			WHERE tenant_id = $1 AND id = $2`,
			tenantID, r.ID, string(r.Status), r.Processed, r.Total, res.Success, res.Created, res.Updated,
			res.Skipped, res.Failed, res.Conflicts, errs, r.Checkpoint, utcPtr(r.StartedAt), utcPtr(r.FinishedAt),
			res.Linked, res.Ambiguous)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("sync run", r.ID)
		}
		return nil
	})
	if err != nil {
		return dbErr("update sync run", err)
	}
	r.TenantID, r.StartedAt, r.FinishedAt = tenantID, utcPtr(r.StartedAt), utcPtr(r.FinishedAt)
	return nil
}

// GetCursor returns the value of a sync position; ENOTFOUND when never set.
func (d *DB) GetCursor(ctx context.Context, tenantID, key string) (string, error) {
	var v string
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT value FROM sync_cursors WHERE tenant_id = $1 AND key = $2`, tenantID, key).Scan(&v)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", mksync.Errorf(mksync.ENOTFOUND, "no cursor %s", key)
	}
	return v, dbErr("get cursor", err)
}

// SetCursor sets a sync position; ENOTFOUND when the tenant does not exist.
func (d *DB) SetCursor(ctx context.Context, tenantID, key, value string) error {
	if key == "" {
		return mksync.Errorf(mksync.EINVALID, "invalid cursor: key is required")
	}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sync_cursors (tenant_id, key, value, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
			tenantID, key, value, d.nowUTC())
		return err
	})
	return tenantMissing("set cursor", err)
}
