package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// tokenTouchInterval is how stale LastUsedAt may get before
// AuthenticateAPIToken writes it again: a busy client makes one write a
// minute, not one per request.
const tokenTouchInterval = time.Minute

// adminTokenKey names the admin token hash in instance_settings.
const adminTokenKey = "admin_token_hash"

const tokenColumns = `id, tenant_id, name, hash, created_at, last_used_at, revoked_at, session_generation`

func scanToken(r pgx.Row) (mksync.APIToken, error) {
	var t mksync.APIToken
	err := r.Scan(&t.ID, &t.TenantID, &t.Name, &t.Hash, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt, &t.SessionGeneration)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = utc(t.CreatedAt), utcPtr(t.LastUsedAt), utcPtr(t.RevokedAt)
	return t, err
}

// CreateAPIToken stores t (its Hash, never a plaintext) for the tenant.
func (d *DB) CreateAPIToken(ctx context.Context, tenantID string, t *mksync.APIToken) error {
	if len(t.Hash) == 0 {
		return mksync.Errorf(mksync.EINVALID, "invalid token: hash is required")
	}
	var v mksync.Validator
	v.MaxLen(t.Name, 200, "name")
	if err := v.Err("token"); err != nil {
		return err
	}
	if err := fillID(&t.ID); err != nil {
		return err
	}
	now := d.nowUTC()
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_tokens (id, tenant_id, name, hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, tenantID, t.Name, t.Hash, now)
		return err
	})
	if err != nil {
		return tenantMissing("create token", err)
	}
	t.TenantID, t.CreatedAt, t.LastUsedAt, t.RevokedAt = tenantID, now, nil, nil
	return nil
}

// AuthenticateAPIToken finds the unrevoked token with hash across tenants
// (as mksync_admin) and records its use at most once a minute.
// EUNAUTHORIZED when unknown or revoked.
func (d *DB) AuthenticateAPIToken(ctx context.Context, hash []byte, now time.Time) (mksync.APIToken, error) {
	var t mksync.APIToken
	now = utc(now)
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL`, hash))
		if err != nil {
			return err
		}
		if t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < tokenTouchInterval {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, t.ID, now); err != nil {
			return err
		}
		t.LastUsedAt = &now
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.APIToken{}, mksync.Errorf(mksync.EUNAUTHORIZED, "unknown or revoked API token")
	}
	if err != nil {
		return mksync.APIToken{}, dbErr("authenticate token", err)
	}
	return t, nil
}

// ListAPITokens lists the tenant's tokens, revoked ones included, in id order.
func (d *DB) ListAPITokens(ctx context.Context, tenantID string) ([]mksync.APIToken, error) {
	var out []mksync.APIToken
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		out, err = collectRows(ctx, tx, func(r pgx.Rows) (mksync.APIToken, error) { return scanToken(r) },
			`SELECT `+tokenColumns+` FROM api_tokens WHERE tenant_id = $1 ORDER BY id`, tenantID)
		return err
	})
	if err != nil {
		return nil, dbErr("list tokens", err)
	}
	return out, nil
}

// RevokeAPIToken revokes the token; revoking twice keeps the first time.
// ENOTFOUND when the tenant has no such token.
func (d *DB) RevokeAPIToken(ctx context.Context, tenantID, tokenID string, now time.Time) error {
	var n int64
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1 AND id = $2`,
			tenantID, tokenID, utc(now))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return dbErr("revoke token", err)
	}
	if n == 0 {
		return notFound("token", tokenID)
	}
	return nil
}

// EndSessions ends the token's web sessions (bumps its session
// generation). ENOTFOUND when the tenant has no such token.
func (d *DB) EndSessions(ctx context.Context, tenantID, tokenID string) error {
	var n int64
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET session_generation = session_generation + 1 WHERE tenant_id = $1 AND id = $2`,
			tenantID, tokenID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return dbErr("end sessions", err)
	}
	if n == 0 {
		return notFound("token", tokenID)
	}
	return nil
}

// AdminTokenHash returns the admin token hash; ENOTFOUND when none is set.
func (d *DB) AdminTokenHash(ctx context.Context) ([]byte, error) {
	var h []byte
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT value FROM instance_settings WHERE key = $1`, adminTokenKey).Scan(&h)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mksync.Errorf(mksync.ENOTFOUND, "no admin token is set")
	}
	if err != nil {
		return nil, dbErr("read admin token", err)
	}
	return h, nil
}

// SetAdminTokenHash stores (or replaces) the admin token hash.
func (d *DB) SetAdminTokenHash(ctx context.Context, hash []byte) error {
	if len(hash) == 0 {
		return mksync.Errorf(mksync.EINVALID, "invalid admin token: hash is required")
	}
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO instance_settings (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, adminTokenKey, hash)
		return err
	})
	return dbErr("set admin token", err)
}
