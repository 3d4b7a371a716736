package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/mksync/mksync"
)

const errorCols = "id, tenant_id, category, operation, entity_id, code, message, details, created_at"

func scanErrorRecord(sc scanner) (mksync.ErrorRecord, error) {
	var e mksync.ErrorRecord
	var details sql.NullString
	var created string
	err := sc.Scan(&e.ID, &e.TenantID, &e.Category, &e.Operation, &e.EntityID, &e.Code, &e.Message, &details, &created)
	if err != nil {
		return e, err
	}
	if details.Valid {
		if err := json.Unmarshal([]byte(details.String), &e.Details); err != nil {
			return e, internal("decode error details", err)
		}
	}
	e.CreatedAt, err = parseTime(created)
	return e, err
}

// CreateErrorRecord implements mksync.ErrorRecordStore. An empty ID gets a
// UUIDv7; a zero CreatedAt is now.
func (s *store) CreateErrorRecord(ctx context.Context, tenantID string, e *mksync.ErrorRecord) error {
	n := *e
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.truncNow()
	}
	n.CreatedAt = trunc(n.CreatedAt)
	n.TenantID = tenantID
	var details any
	if len(n.Details) > 0 {
		b, err := json.Marshal(n.Details)
		if err != nil {
			return mksync.WrapError(mksync.EINVALID, "error details are not JSON", err)
		}
		details = string(b)
	}
	err := s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "INSERT INTO error_records ("+errorCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			n.ID, tenantID, n.Category, n.Operation, n.EntityID, n.Code, n.Message, details, fmtTime(n.CreatedAt))
		return translate("create error record", err, "an error record with this id already exists", "", "")
	})
	if err != nil {
		return err
	}
	*e = n
	return nil
}

// FindErrorRecord implements mksync.ErrorRecordStore.
func (s *store) FindErrorRecord(ctx context.Context, tenantID, errorID string) (mksync.ErrorRecord, error) {
	return findOne(s.reader().QueryRowContext(ctx, "SELECT "+errorCols+" FROM error_records WHERE tenant_id = ? AND id = ?", tenantID, errorID),
		scanErrorRecord, "error record", errorID)
}

// FindErrorRecords implements mksync.ErrorRecordStore, newest first.
func (s *store) FindErrorRecords(ctx context.Context, tenantID string, f mksync.ErrorFilter) ([]mksync.ErrorRecord, string, error) {
	return findPage(f.After, f.EffectiveLimit(), func(after string, limit int) ([]mksync.ErrorRecord, error) {
		w := &where{}
		w.add("tenant_id = ?", tenantID)
		if f.Category != "" {
			w.add("category = ?", f.Category)
		}
		if f.Operation != "" {
			w.add("operation = ?", f.Operation)
		}
		if f.EntityID != "" {
			w.add("entity_id = ?", f.EntityID)
		}
		if !f.Since.IsZero() {
			w.add("created_at >= ?", fmtTime(f.Since))
		}
		if !f.Until.IsZero() {
			w.add("created_at < ?", fmtTime(f.Until))
		}
		return newestFirst(ctx, s.reader(), "error_records", errorCols, w, after, limit, scanErrorRecord)
	}, func(e mksync.ErrorRecord) string { return e.ID })
}

// PruneErrorRecords implements mksync.ErrorRecordStore (across tenants).
func (s *store) PruneErrorRecords(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM error_records WHERE created_at < ?", fmtTime(before))
		if err != nil {
			return internal("prune error records", err)
		}
		n, err = rowsAffected(res)
		return err
	})
	return int(n), err
}

const alertCols = "id, tenant_id, key, severity, message, status, count, opened_at, updated_at, resolved_at"

func scanAlert(sc scanner) (mksync.Alert, error) {
	var a mksync.Alert
	var opened, updated string
	var resolved sql.NullString
	err := sc.Scan(&a.ID, &a.TenantID, &a.Key, &a.Severity, &a.Message, &a.Status, &a.Count, &opened, &updated, &resolved)
	if err != nil {
		return a, err
	}
	if err := times(opened, &a.OpenedAt, updated, &a.UpdatedAt); err != nil {
		return a, err
	}
	a.ResolvedAt, err = nullTime(resolved)
	return a, err
}

// OpenAlert implements mksync.ErrorRecordStore.
func (s *store) OpenAlert(ctx context.Context, tenantID string, a *mksync.Alert) (bool, error) {
	if a.Key == "" {
		return false, mksync.Errorf(mksync.EINVALID, "invalid alert: key is required")
	}
	now := s.truncNow()
	var opened bool
	var stored mksync.Alert
	err := s.write(ctx, func(q querier) error {
		var err error
		stored, err = scanAlert(q.QueryRowContext(ctx, `UPDATE alerts SET count = count + 1, message = ?, severity = ?,
			updated_at = ? WHERE tenant_id = ? AND key = ? AND status = 'open' RETURNING `+alertCols,
			a.Message, a.Severity, fmtTime(now), tenantID, a.Key))
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return translate("bump alert", err, "", "", "")
		}
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		id, err := newID()
		if err != nil {
			return err
		}
		stored = mksync.Alert{ID: id, TenantID: tenantID, Key: a.Key, Severity: a.Severity, Message: a.Message,
			Status: mksync.AlertOpen, Count: 1, OpenedAt: now, UpdatedAt: now}
		_, err = q.ExecContext(ctx, "INSERT INTO alerts ("+alertCols+") VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?, NULL)",
			id, tenantID, a.Key, a.Severity, a.Message, fmtTime(now), fmtTime(now))
		if err != nil {
			return translate("open alert", err, "alert is already open", "", "")
		}
		opened = true
		return nil
	})
	if err != nil {
		return false, err
	}
	*a = stored
	return opened, nil
}

// ResolveAlert implements mksync.ErrorRecordStore.
func (s *store) ResolveAlert(ctx context.Context, tenantID, key string, now time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE alerts SET status = 'resolved', resolved_at = ?, updated_at = ?
			WHERE tenant_id = ? AND key = ? AND status = 'open'`, fmtTime(now), fmtTime(now), tenantID, key)
		if err != nil {
			return internal("resolve alert", err)
		}
		n, err = rowsAffected(res)
		return err
	})
	return n > 0, err
}

// FindAlerts implements mksync.ErrorRecordStore, newest first.
func (s *store) FindAlerts(ctx context.Context, tenantID string, status mksync.AlertStatus, p mksync.Page) ([]mksync.Alert, string, error) {
	return findPage(p.After, p.EffectiveLimit(), func(after string, limit int) ([]mksync.Alert, error) {
		w := &where{}
		w.add("tenant_id = ?", tenantID)
		if status != "" {
			w.add("status = ?", string(status))
		}
		return newestFirst(ctx, s.reader(), "alerts", alertCols, w, after, limit, scanAlert)
	}, func(a mksync.Alert) string { return a.ID })
}
