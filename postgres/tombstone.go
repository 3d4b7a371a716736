package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

const tombstoneColumns = "entity_type, mk_id, entity_id, count_code, deleted_at, kind"

func scanTombstone(row pgx.Row) (mksync.Tombstone, error) {
	var t mksync.Tombstone
	var et, kind string
	err := row.Scan(&et, &t.MetakockaID, &t.EntityID, &t.CountCode, &t.DeletedAt, &kind)
	t.EntityType, t.Kind, t.DeletedAt = mksync.EntityType(et), mksync.DocumentKind(kind), t.DeletedAt.UTC()
	return t, err
}

// FindTombstone implements mksync.TombstoneStore.
func (d *DB) FindTombstone(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) (mksync.Tombstone, error) {
	var t mksync.Tombstone
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		t, err = scanTombstone(tx.QueryRow(ctx, `SELECT `+tombstoneColumns+` FROM tombstones
			WHERE tenant_id = $1 AND entity_type = $2 AND mk_id = $3`, tenantID, string(et), mkID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, notFound("tombstone of Metakocka id", mkID)
	}
	t.TenantID = tenantID
	return t, dbErr("find tombstone", err)
}

// FindTombstones implements mksync.TombstoneStore.
func (d *DB) FindTombstones(ctx context.Context, tenantID string, et mksync.EntityType, p mksync.Page) ([]mksync.Tombstone, string, error) {
	if !slices.Contains(mksync.EntityTypes, et) {
		return nil, "", mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
	}
	limit := p.EffectiveLimit()
	out := []mksync.Tombstone{}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+tombstoneColumns+` FROM tombstones
			WHERE tenant_id = $1 AND entity_type = $2 AND mk_id > $3 ORDER BY mk_id LIMIT $4`,
			tenantID, string(et), p.After, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTombstone(rows)
			if err != nil {
				return err
			}
			t.TenantID = tenantID
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", dbErr("list tombstones", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].MetakockaID
	}
	return out, next, nil
}

// DeleteTombstone implements mksync.TombstoneStore.
func (d *DB) DeleteTombstone(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) error {
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM tombstones WHERE tenant_id = $1 AND entity_type = $2 AND mk_id = $3`,
			tenantID, string(et), mkID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("tombstone of Metakocka id", mkID)
		}
		return nil
	})
	return dbErr("delete tombstone", err)
}

// contactKeyExprs are the indexed expressions of the contact keys
// (migration 00009), with the condition of their partial index.
var contactKeyExprs = map[mksync.ContactKey]string{
	mksync.KeyTaxNumber:          "tax_id <> '' AND upper(replace(replace(replace(tax_id, ' ', ''), '.', ''), '-', ''))",
	mksync.KeyRegistrationNumber: "registration_number <> '' AND upper(replace(replace(replace(registration_number, ' ', ''), '.', ''), '-', ''))",
	mksync.KeyEmail:              "email <> '' AND lower(email)",
}

// FindContactsByKey implements mksync.ContactMatcher.
func (d *DB) FindContactsByKey(ctx context.Context, tenantID string, k mksync.ContactKey, values []string) ([]mksync.Contact, error) {
	if err := mksync.CheckContactKey(k, values); err != nil {
		return nil, err
	}
	var out []mksync.Contact
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+contactColumns+` FROM contacts WHERE tenant_id = $1 AND `+
			contactKeyExprs[k]+` = ANY($2) ORDER BY id LIMIT `+strconv.Itoa(mksync.MaxKeyMatches), tenantID, values)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanContact(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, dbErr("find contacts by key", err)
}

// FindProductsByBarcode implements mksync.RecordMatcher (index of
// migration 00016).
func (d *DB) FindProductsByBarcode(ctx context.Context, tenantID, barcode string) ([]mksync.Product, error) {
	if barcode == "" {
		return nil, nil
	}
	var out []mksync.Product
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+productColumns+` FROM products WHERE tenant_id = $1 AND barcode <> '' AND barcode = $2
			ORDER BY id LIMIT `+strconv.Itoa(mksync.MaxKeyMatches), tenantID, barcode)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanProduct(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, dbErr("find products by barcode", err)
}

// FindSalesDocumentIDsByNumber implements mksync.RecordMatcher (index of
// migration 00016).
func (d *DB) FindSalesDocumentIDsByNumber(ctx context.Context, tenantID, number, contactID string, date mksync.Date) ([]string, error) {
	if number == "" {
		return nil, nil
	}
	var out []string
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT id FROM sales_documents WHERE tenant_id = $1 AND number <> '' AND number = $2
			AND contact_id = $3 AND date = $4 ORDER BY id LIMIT `+strconv.Itoa(mksync.MaxKeyMatches), tenantID, number, contactID, date.Time)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	return out, dbErr("find sales documents by number", err)
}
