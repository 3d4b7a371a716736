package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mksync/mksync"
)

// The run lease lives in sync_runs' lease_* columns (migration 5).

const leaseCols = `tenant_id, id, lease_owner, lease_token, lease_expires_at`

func scanLease(sc scanner) (mksync.RunLease, error) {
	var l mksync.RunLease
	var exp sql.NullString
	if err := sc.Scan(&l.TenantID, &l.RunID, &l.Owner, &l.Token, &exp); err != nil {
		return l, err
	}
	t, err := nullTime(exp)
	if t != nil {
		l.ExpiresAt = *t
	}
	return l, err
}

// AcquireRunLease implements mksync.RunLeaseStore.
func (s *store) AcquireRunLease(ctx context.Context, tenantID, runID, owner string, now, until time.Time) (mksync.RunLease, error) {
	if owner == "" {
		return mksync.RunLease{}, mksync.Errorf(mksync.EINVALID, "run lease: owner is required")
	}
	var l mksync.RunLease
	var taken bool
	err := s.write(ctx, func(q querier) error {
		var err error
		l, err = scanLease(q.QueryRowContext(ctx, `UPDATE sync_runs SET
				lease_token = CASE WHEN lease_owner = ?3 THEN lease_token ELSE lease_token + 1 END,
				lease_owner = ?3, lease_expires_at = ?5
			WHERE tenant_id = ?1 AND id = ?2
				AND (lease_owner = '' OR lease_owner = ?3 OR lease_expires_at IS NULL OR lease_expires_at < ?4)
			RETURNING `+leaseCols, tenantID, runID, owner, fmtTime(now), fmtTime(until)))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		taken = true
		l, err = scanLease(q.QueryRowContext(ctx, `SELECT `+leaseCols+` FROM sync_runs WHERE tenant_id = ? AND id = ?`, tenantID, runID))
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return mksync.RunLease{}, notFound("sync run", runID)
	case err != nil:
		return mksync.RunLease{}, translate("acquire run lease", err, "", "", "")
	case taken:
		return l, mksync.Errorf(mksync.ECONFLICT, "sync run %s is leased by %s until %s", runID, l.Owner, l.ExpiresAt.Format(time.RFC3339Nano))
	}
	return l, nil
}

// RenewRunLease implements mksync.RunLeaseStore.
func (s *store) RenewRunLease(ctx context.Context, tenantID, runID string, token int64, until time.Time) error {
	n, err := s.leaseExec(ctx, "renew run lease", `UPDATE sync_runs SET lease_expires_at = ?4
		WHERE tenant_id = ?1 AND id = ?2 AND lease_token = ?3 AND lease_owner <> ''`, tenantID, runID, token, fmtTime(until))
	if err != nil {
		return err
	}
	if n == 0 {
		return mksync.Errorf(mksync.ECONFLICT, "the lease of sync run %s was lost (token %d is no longer current)", runID, token)
	}
	return nil
}

// ReleaseRunLease implements mksync.RunLeaseStore.
func (s *store) ReleaseRunLease(ctx context.Context, tenantID, runID string, token int64) error {
	_, err := s.leaseExec(ctx, "release run lease", `UPDATE sync_runs SET lease_owner = '', lease_expires_at = NULL
		WHERE tenant_id = ?1 AND id = ?2 AND lease_token = ?3 AND lease_owner <> ''`, tenantID, runID, token)
	return err
}

// BreakRunLease implements mksync.RunLeaseStore.
func (s *store) BreakRunLease(ctx context.Context, tenantID, runID string, token int64, now, until time.Time) error {
	n, err := s.leaseExec(ctx, "break run lease", `UPDATE sync_runs SET lease_owner = '', lease_token = lease_token + 1, lease_expires_at = ?5
		WHERE tenant_id = ?1 AND id = ?2 AND lease_token = ?3 AND lease_expires_at < ?4`, tenantID, runID, token, fmtTime(now), fmtTime(until))
	if err != nil {
		return err
	}
	if n == 0 {
		return mksync.Errorf(mksync.ECONFLICT, "the lease of sync run %s with token %d is current or gone", runID, token)
	}
	return nil
}

// leaseExec runs one lease update and returns the rows it changed.
func (s *store) leaseExec(ctx context.Context, op, q string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(qr querier) error {
		res, err := qr.ExecContext(ctx, q, args...)
		if err != nil {
			return internal(op, err)
		}
		n, err = rowsAffected(res)
		return err
	})
	return n, err
}

// ExpiredRunLeases implements mksync.RunLeaseStore, across tenants.
func (s *store) ExpiredRunLeases(ctx context.Context, now time.Time, limit int) ([]mksync.RunLease, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+leaseCols+` FROM sync_runs
		WHERE lease_expires_at < ? AND status IN ('queued', 'running')
		ORDER BY lease_expires_at LIMIT ?`, fmtTime(now), limit)
	if err != nil {
		return nil, internal("list expired run leases", err)
	}
	defer rows.Close()
	var out []mksync.RunLease
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, internal("list expired run leases", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list expired run leases", err)
	}
	return out, nil
}
