package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// The run lease lives in sync_runs' lease_* columns (migration 5).

const leaseColumns = `tenant_id, id, lease_owner, lease_token, lease_expires_at`

func scanLease(r pgx.Row) (mksync.RunLease, error) {
	var l mksync.RunLease
	var exp *time.Time
	if err := r.Scan(&l.TenantID, &l.RunID, &l.Owner, &l.Token, &exp); err != nil {
		return l, err
	}
	if exp != nil {
		l.ExpiresAt = utc(*exp)
	}
	return l, nil
}

func scanLeaseRows(r pgx.Rows) (mksync.RunLease, error) { return scanLease(r) }

// AcquireRunLease implements mksync.RunLeaseStore.
func (d *DB) AcquireRunLease(ctx context.Context, tenantID, runID, owner string, now, until time.Time) (mksync.RunLease, error) {
	if owner == "" {
		return mksync.RunLease{}, mksync.Errorf(mksync.EINVALID, "run lease: owner is required")
	}
	var l mksync.RunLease
	var taken bool
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		l, err = scanLease(tx.QueryRow(ctx, `UPDATE sync_runs SET
				lease_token = CASE WHEN lease_owner = $3 THEN lease_token ELSE lease_token + 1 END,
				lease_owner = $3, lease_expires_at = $5
			WHERE tenant_id = $1 AND id = $2
				AND (lease_owner = '' OR lease_owner = $3 OR lease_expires_at IS NULL OR lease_expires_at < $4)
			RETURNING `+leaseColumns, tenantID, runID, owner, utc(now), utc(until)))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		taken = true
		l, err = scanLease(tx.QueryRow(ctx, `SELECT `+leaseColumns+` FROM sync_runs WHERE tenant_id = $1 AND id = $2`, tenantID, runID))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return mksync.RunLease{}, notFound("sync run", runID)
	case err != nil:
		return mksync.RunLease{}, dbErr("acquire run lease", err)
	case taken:
		return l, mksync.Errorf(mksync.ECONFLICT, "sync run %s is leased by %s until %s", runID, l.Owner, l.ExpiresAt.Format(time.RFC3339Nano))
	}
	return l, nil
}

// RenewRunLease implements mksync.RunLeaseStore.
func (d *DB) RenewRunLease(ctx context.Context, tenantID, runID string, token int64, until time.Time) error {
	n, err := d.leaseExec(ctx, tenantID, `UPDATE sync_runs SET lease_expires_at = $4
		WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 AND lease_owner <> ''`, runID, token, utc(until))
	if err != nil {
		return dbErr("renew run lease", err)
	}
	if n == 0 {
		return mksync.Errorf(mksync.ECONFLICT, "the lease of sync run %s was lost (token %d is no longer current)", runID, token)
	}
	return nil
}

// ReleaseRunLease implements mksync.RunLeaseStore.
func (d *DB) ReleaseRunLease(ctx context.Context, tenantID, runID string, token int64) error {
	_, err := d.leaseExec(ctx, tenantID, `UPDATE sync_runs SET lease_owner = '', lease_expires_at = NULL
		WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 AND lease_owner <> ''`, runID, token)
	return dbErr("release run lease", err)
}

// BreakRunLease implements mksync.RunLeaseStore.
func (d *DB) BreakRunLease(ctx context.Context, tenantID, runID string, token int64, now, until time.Time) error {
	n, err := d.leaseExec(ctx, tenantID, `UPDATE sync_runs SET lease_owner = '', lease_token = lease_token + 1, lease_expires_at = $5
		WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 AND lease_expires_at < $4`, runID, token, utc(now), utc(until))
	if err != nil {
		return dbErr("break run lease", err)
	}
	if n == 0 {
		return mksync.Errorf(mksync.ECONFLICT, "the lease of sync run %s with token %d is current or gone", runID, token)
	}
	return nil
}

// leaseExec runs a lease update of the tenant's run and returns the rows
// it changed.
func (d *DB) leaseExec(ctx context.Context, tenantID, q, runID string, args ...any) (int64, error) {
	var n int64
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q, append([]any{tenantID, runID}, args...)...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// ExpiredRunLeases implements mksync.RunLeaseStore, across tenants.
func (d *DB) ExpiredRunLeases(ctx context.Context, now time.Time, limit int) ([]mksync.RunLease, error) {
	var out []mksync.RunLease
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = collectRows(ctx, tx, scanLeaseRows, `SELECT `+leaseColumns+` FROM sync_runs
			WHERE lease_expires_at < $1 AND status IN ('queued', 'running')
			ORDER BY lease_expires_at LIMIT $2`, utc(now), limit)
		return err
	})
	if err != nil {
		return nil, dbErr("list expired run leases", err)
	}
	return out, nil
}
