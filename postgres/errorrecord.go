package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

const errorRecordColumns = `id, tenant_id, category, operation, entity_id, code, message, details, created_at`

func scanErrorRecord(r pgx.Row) (mksync.ErrorRecord, error) {
	var e mksync.ErrorRecord
	var details []byte
	if err := r.Scan(&e.ID, &e.TenantID, &e.Category, &e.Operation, &e.EntityID, &e.Code, &e.Message, &details, &e.CreatedAt); err != nil {
		return e, err
	}
	e.CreatedAt = utc(e.CreatedAt)
	if len(details) > 0 {
		if err := json.Unmarshal(details, &e.Details); err != nil {
			return e, errorf("decode error record details: %w", err)
		}
	}
	return e, nil
}

func scanErrorRecordRows(r pgx.Rows) (mksync.ErrorRecord, error) { return scanErrorRecord(r) }

// CreateErrorRecord inserts e, filling ID, TenantID and, when zero,
// CreatedAt (a caller may record when the failure happened).
func (d *DB) CreateErrorRecord(ctx context.Context, tenantID string, e *mksync.ErrorRecord) error {
	var v mksync.Validator
	v.Required(e.Category, "category")
	v.Required(e.Message, "message")
	if err := v.Err("error record"); err != nil {
		return err
	}
	if err := fillID(&e.ID); err != nil {
		return err
	}
	var details []byte
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return mksync.WrapError(mksync.EINVALID, "invalid error record: details are not JSON", err)
		}
	}
	created := utc(e.CreatedAt)
	if created.IsZero() {
		created = d.nowUTC()
	}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO error_records (`+errorRecordColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.ID, tenantID, e.Category, e.Operation, e.EntityID, e.Code, e.Message, details, created)
		return err
	})
	if err != nil {
		return tenantMissing("create error record", err)
	}
	e.TenantID, e.CreatedAt = tenantID, created
	return nil
}

// FindErrorRecord returns the tenant's error record by errorId.
func (d *DB) FindErrorRecord(ctx context.Context, tenantID, errorID string) (mksync.ErrorRecord, error) {
	return findOne(ctx, d, tenantID, scanErrorRecord, notFound("error record", errorID), "find error record",
		`SELECT `+errorRecordColumns+` FROM error_records WHERE tenant_id = $1 AND id = $2`, tenantID, errorID)
}

// FindErrorRecords lists error records newest first; Since is inclusive,
// Until exclusive.
func (d *DB) FindErrorRecords(ctx context.Context, tenantID string, f mksync.ErrorFilter) ([]mksync.ErrorRecord, string, error) {
	var since, until *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	if !f.Until.IsZero() {
		until = &f.Until
	}
	return findNewest(ctx, d, tenantID, f.After, f.EffectiveLimit(), "find error records", scanErrorRecordRows,
		func(e mksync.ErrorRecord) (time.Time, string) { return e.CreatedAt, e.ID },
		`SELECT `+errorRecordColumns+` FROM error_records
			WHERE tenant_id = $1
				AND (NOT $2 OR (created_at, id) < ($3, $4))
				AND ($5 = '' OR category = $5) AND ($6 = '' OR operation = $6) AND ($7 = '' OR entity_id = $7)
				AND ($8::timestamptz IS NULL OR created_at >= $8) AND ($9::timestamptz IS NULL OR created_at < $9)
			ORDER BY created_at DESC, id DESC LIMIT $10`,
		f.Category, f.Operation, f.EntityID, since, until)
}

// PruneErrorRecords deletes records created before before, across tenants
// (as mksync_admin), and returns how many.
func (d *DB) PruneErrorRecords(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM error_records WHERE created_at < $1`, before)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, dbErr("prune error records", err)
	}
	return int(n), nil
}

const alertColumns = `id, tenant_id, key, severity, message, status, count, opened_at, updated_at, resolved_at`

func scanAlert(r pgx.Row) (mksync.Alert, error) {
	var a mksync.Alert
	var status string
	err := r.Scan(&a.ID, &a.TenantID, &a.Key, &a.Severity, &a.Message, &status, &a.Count, &a.OpenedAt, &a.UpdatedAt, &a.ResolvedAt)
	a.Status = mksync.AlertStatus(status)
	a.OpenedAt, a.UpdatedAt, a.ResolvedAt = utc(a.OpenedAt), utc(a.UpdatedAt), utcPtr(a.ResolvedAt)
	return a, err
}

func scanAlertRows(r pgx.Rows) (mksync.Alert, error) { return scanAlert(r) }

// OpenAlert opens a.Key or bumps the open alert with that key, atomically;
// see mksync.ErrorRecordStore. An empty Severity is "warning".
func (d *DB) OpenAlert(ctx context.Context, tenantID string, a *mksync.Alert) (bool, error) {
	var v mksync.Validator
	v.Required(a.Key, "key")
	v.Required(a.Message, "message")
	if err := v.Err("alert"); err != nil {
		return false, err
	}
	if a.Severity == "" {
		a.Severity = "warning"
	}
	id, err := newID()
	if err != nil {
		return false, err
	}
	now := d.nowUTC()
	var opened bool
	var stored mksync.Alert
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		row := tx.QueryRow(ctx, `INSERT INTO alerts AS a (`+alertColumns+`)
			VALUES ($1, $2, $3, $4, $5, 'open', 1, $6, $6, NULL)
			ON CONFLICT (tenant_id, key) WHERE status = 'open' DO UPDATE SET count = a.count + 1,
				message = EXCLUDED.message, severity = EXCLUDED.severity, updated_at = EXCLUDED.updated_at
			RETURNING `+alertColumns+`, (xmax = 0)`,
			id, tenantID, a.Key, a.Severity, a.Message, now)
		var status string
		return row.Scan(&stored.ID, &stored.TenantID, &stored.Key, &stored.Severity, &stored.Message, &status,
			&stored.Count, &stored.OpenedAt, &stored.UpdatedAt, &stored.ResolvedAt, &opened)
	})
	if err != nil {
		return false, tenantMissing("open alert", err)
	}
	stored.Status = mksync.AlertOpen
	stored.OpenedAt, stored.UpdatedAt, stored.ResolvedAt = utc(stored.OpenedAt), utc(stored.UpdatedAt), nil
	*a = stored
	return opened, nil
}

// ResolveAlert resolves the open alert with key; false when none is open.
func (d *DB) ResolveAlert(ctx context.Context, tenantID, key string, now time.Time) (bool, error) {
	var n int64
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE alerts SET status = 'resolved', resolved_at = $3, updated_at = $3
			WHERE tenant_id = $1 AND key = $2 AND status = 'open'`, tenantID, key, utc(now))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return false, dbErr("resolve alert", err)
	}
	return n > 0, nil
}

// FindAlerts lists alerts with status ("" for all), newest first.
func (d *DB) FindAlerts(ctx context.Context, tenantID string, status mksync.AlertStatus, p mksync.Page) ([]mksync.Alert, string, error) {
	return findNewest(ctx, d, tenantID, p.After, p.EffectiveLimit(), "find alerts", scanAlertRows,
		func(a mksync.Alert) (time.Time, string) { return a.OpenedAt, a.ID },
		`SELECT `+alertColumns+` FROM alerts
			WHERE tenant_id = $1 AND (NOT $2 OR (opened_at, id) < ($3, $4)) AND ($5 = '' OR status = $5)
			ORDER BY opened_at DESC, id DESC LIMIT $6`,
		string(status))
}
