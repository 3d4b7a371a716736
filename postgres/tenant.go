package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// newID returns a UUIDv7: time-ordered, so id order is creation order.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", mksync.WrapError(mksync.EINTERNAL, "generate id", err)
	}
	return id.String(), nil
}

// fillID sets *id to a new UUIDv7 when empty.
func fillID(id *string) error {
	if *id != "" {
		return nil
	}
	v, err := newID()
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// CreateTenant creates t (admin): fills ID, CreatedAt and UpdatedAt.
func (d *DB) CreateTenant(ctx context.Context, t *mksync.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := fillID(&t.ID); err != nil {
		return err
	}
	now := d.nowUTC()
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`, t.ID, t.Name, now)
		return err
	})
	if err != nil {
		return dbErr("create tenant", err)
	}
	t.CreatedAt, t.UpdatedAt = now, now
	return nil
}

// FindTenantByID returns the tenant; it runs as that tenant.
func (d *DB) FindTenantByID(ctx context.Context, id string) (mksync.Tenant, error) {
	var t mksync.Tenant
	err := d.tenantTx(ctx, id, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id, name, created_at, updated_at FROM tenants WHERE id = $1`, id).
			Scan(&t.ID, &t.Name, &t.CreatedAt, &t.UpdatedAt)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.Tenant{}, notFound("tenant", id)
	}
	if err != nil {
		return mksync.Tenant{}, dbErr("find tenant", err)
	}
	t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
	return t, nil
}

// ListTenants lists every tenant in id order (admin and scheduler only).
func (d *DB) ListTenants(ctx context.Context, p mksync.Page) ([]mksync.Tenant, string, error) {
	after, err := decodeIDCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	limit := p.EffectiveLimit()
	var out []mksync.Tenant
	err = d.adminTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = collectRows(ctx, tx, func(r pgx.Rows) (mksync.Tenant, error) {
			var t mksync.Tenant
			err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.UpdatedAt)
			t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
			return t, err
		}, `SELECT id, name, created_at, updated_at FROM tenants WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
		return err
	})
	if err != nil {
		return nil, "", dbErr("list tenants", err)
	}
	return pageOf(out, limit, func(t mksync.Tenant) string { return encodeIDCursor(t.ID) })
}

// pageOf trims a result fetched with limit+1 rows to limit and returns the
// cursor of the last row kept when there is more.
func pageOf[T any](rows []T, limit int, cursor func(T) string) ([]T, string, error) {
	if len(rows) <= limit {
		return rows, "", nil
	}
	rows = rows[:limit]
	return rows, cursor(rows[limit-1]), nil
}

// DeleteTenant deletes the tenant and, by cascade, all its data (admin).
func (d *DB) DeleteTenant(ctx context.Context, id string) error {
	var n int64
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		// The cascade may reach products before the document lines that
		// use them: check those references at commit, when all are gone.
		if _, err := tx.Exec(ctx, `SET CONSTRAINTS sales_documents_contact_fk, sales_document_lines_product_fk DEFERRED`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, id)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return dbErr("delete tenant", err)
	}
	if n == 0 {
		return notFound("tenant", id)
	}
	return nil
}
