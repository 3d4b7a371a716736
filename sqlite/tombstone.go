package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

const tombstoneCols = "entity_type, mk_id, entity_id, count_code, deleted_at, kind"

// keepTombstoneOf turns the mapping of a record being deleted into a
// tombstone when it names a Metakocka record (see mksync.TombstoneStore).
func keepTombstoneOf(ctx context.Context, q querier, tenantID string, et mksync.EntityType, id string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO tombstones (tenant_id, `+tombstoneCols+`)
		SELECT m.tenant_id, m.entity_type, m.mk_id, m.entity_id, m.count_code, ?,
			coalesce((SELECT d.kind FROM sales_documents d WHERE m.entity_type = ? AND d.tenant_id = m.tenant_id AND d.id = m.entity_id), '')
		FROM mappings m
		WHERE m.tenant_id = ? AND m.entity_type = ? AND m.entity_id = ? AND m.mk_id <> ''
		ON CONFLICT (tenant_id, entity_type, mk_id) DO UPDATE SET
			entity_id = excluded.entity_id, count_code = excluded.count_code, deleted_at = excluded.deleted_at,
			kind = excluded.kind`,
		fmtTime(now), string(mksync.EntitySalesDocument), tenantID, string(et), id)
	if err != nil {
		return internal("keep tombstone", err)
	}
	return nil
}

func scanTombstone(row interface{ Scan(...any) error }) (mksync.Tombstone, error) {
	var t mksync.Tombstone
	var et, at, kind string
	if err := row.Scan(&et, &t.MetakockaID, &t.EntityID, &t.CountCode, &at, &kind); err != nil {
		return t, err
	}
	t.EntityType, t.Kind = mksync.EntityType(et), mksync.DocumentKind(kind)
	var err error
	t.DeletedAt, err = parseTime(at)
	return t, err
}

// FindTombstone implements mksync.TombstoneStore.
func (s *store) FindTombstone(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) (mksync.Tombstone, error) {
	t, err := scanTombstone(s.reader().QueryRowContext(ctx, "SELECT "+tombstoneCols+
		" FROM tombstones WHERE tenant_id = ? AND entity_type = ? AND mk_id = ?", tenantID, string(et), mkID))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("tombstone of Metakocka id", mkID)
	}
	if err != nil {
		return t, internal("find tombstone", err)
	}
	t.TenantID = tenantID
	return t, nil
}

// FindTombstones implements mksync.TombstoneStore.
func (s *store) FindTombstones(ctx context.Context, tenantID string, et mksync.EntityType, p mksync.Page) ([]mksync.Tombstone, string, error) {
	if err := checkEntityType(et); err != nil {
		return nil, "", err
	}
	limit := p.EffectiveLimit()
	rows, err := s.reader().QueryContext(ctx, "SELECT "+tombstoneCols+
		" FROM tombstones WHERE tenant_id = ? AND entity_type = ? AND mk_id > ? ORDER BY mk_id LIMIT ?",
		tenantID, string(et), p.After, limit+1)
	if err != nil {
		return nil, "", internal("list tombstones", err)
	}
	defer rows.Close()
	out := []mksync.Tombstone{}
	for rows.Next() {
		t, err := scanTombstone(rows)
		if err != nil {
			return nil, "", internal("list tombstones", err)
		}
		t.TenantID = tenantID
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("list tombstones", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].MetakockaID
	}
	return out, next, nil
}

// DeleteTombstone implements mksync.TombstoneStore.
func (s *store) DeleteTombstone(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM tombstones WHERE tenant_id = ? AND entity_type = ? AND mk_id = ?", tenantID, string(et), mkID)
		if err != nil {
			return internal("delete tombstone", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("tombstone of Metakocka id", mkID)
		}
		return nil
	})
}

// contactKeyExprs are the indexed expressions of the contact keys
// (migrations 00009 and 00016), with the condition of their partial index.
var contactKeyExprs = map[mksync.ContactKey]string{
	mksync.KeyTaxNumber:          "r.tax_id <> '' AND upper(replace(replace(replace(r.tax_id, ' ', ''), '.', ''), '-', ''))",
	mksync.KeyRegistrationNumber: "r.registration_number <> '' AND upper(replace(replace(replace(r.registration_number, ' ', ''), '.', ''), '-', ''))",
	mksync.KeyEmail:              "r.email_key <> '' AND r.email_key",
}

// contactKeyIndexes name the index of each contact key. The queries name
// it (INDEXED BY): without statistics SQLite would rather walk all of the
// tenant's rows in id order through (tenant_id, id), to save the sort.
var contactKeyIndexes = map[mksync.ContactKey]string{
	mksync.KeyTaxNumber: "contacts_tax_key", mksync.KeyRegistrationNumber: "contacts_registration_key", mksync.KeyEmail: "contacts_email_key",
}

// contactKeyQuery finds contacts by n values of the key k.
func contactKeyQuery(k mksync.ContactKey, n int) string {
	in := strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	return "SELECT " + contactCols + " FROM contacts r INDEXED BY " + contactKeyIndexes[k] + " WHERE r.tenant_id = ? AND " +
		contactKeyExprs[k] + " IN (" + in + ") ORDER BY r.id LIMIT " + strconv.Itoa(mksync.MaxKeyMatches)
}

// FindContactsByKey implements mksync.ContactMatcher.
func (s *store) FindContactsByKey(ctx context.Context, tenantID string, k mksync.ContactKey, values []string) ([]mksync.Contact, error) {
	if err := mksync.CheckContactKey(k, values); err != nil {
		return nil, err
	}
	args := []any{tenantID}
	for _, v := range values {
		args = append(args, v)
	}
	rows, err := s.reader().QueryContext(ctx, contactKeyQuery(k, len(values)), args...)
	if err != nil {
		return nil, internal("find contacts by key", err)
	}
	defer rows.Close()
	var out []mksync.Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, translate("find contacts by key", err, "", "", "")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find contacts by key", err)
	}
	return out, nil
}

// The queries of RecordMatcher, through the indexes of migration 00016
// (named, as in contactKeyIndexes).
var (
	productsByBarcodeQuery = "SELECT " + productCols + " FROM products r INDEXED BY products_barcode WHERE r.tenant_id = ? AND r.barcode <> '' AND r.barcode = ? ORDER BY r.id LIMIT " +
		strconv.Itoa(mksync.MaxKeyMatches)
	documentsByNumberQuery = "SELECT id FROM sales_documents INDEXED BY sales_documents_number WHERE tenant_id = ? AND number <> '' AND number = ? AND contact_id = ? AND date = ? ORDER BY id LIMIT " +
		strconv.Itoa(mksync.MaxKeyMatches)
)

// FindProductsByBarcode implements mksync.RecordMatcher (index of
// migration 00016).
func (s *store) FindProductsByBarcode(ctx context.Context, tenantID, barcode string) ([]mksync.Product, error) {
	if barcode == "" {
		return nil, nil
	}
	rows, err := s.reader().QueryContext(ctx, productsByBarcodeQuery, tenantID, barcode)
	if err != nil {
		return nil, internal("find products by barcode", err)
	}
	defer rows.Close()
	var out []mksync.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, translate("find products by barcode", err, "", "", "")
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find products by barcode", err)
	}
	return out, nil
}

// FindSalesDocumentIDsByNumber implements mksync.RecordMatcher (index of
// migration 00016).
func (s *store) FindSalesDocumentIDsByNumber(ctx context.Context, tenantID, number, contactID string, date mksync.Date) ([]string, error) {
	if number == "" {
		return nil, nil
	}
	rows, err := s.reader().QueryContext(ctx, documentsByNumberQuery, tenantID, number, contactID, date.String())
	if err != nil {
		return nil, internal("find sales documents by number", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal("find sales documents by number", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find sales documents by number", err)
	}
	return out, nil
}
