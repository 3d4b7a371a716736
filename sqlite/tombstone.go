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

const tombstoneCols = "entity_type, mk_id, entity_id, count_code, deleted_at"

// keepTombstoneOf turns the mapping of a record being deleted into a
// tombstone when it names a Metakocka record (see mksync.TombstoneStore).
func keepTombstoneOf(ctx context.Context, q querier, tenantID string, et mksync.EntityType, id string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO tombstones (tenant_id, `+tombstoneCols+`)
		SELECT tenant_id, entity_type, mk_id, entity_id, count_code, ? FROM mappings
		WHERE tenant_id = ? AND entity_type = ? AND entity_id = ? AND mk_id <> ''
		ON CONFLICT (tenant_id, entity_type, mk_id) DO UPDATE SET
			entity_id = excluded.entity_id, count_code = excluded.count_code, deleted_at = excluded.deleted_at`,
		fmtTime(now), tenantID, string(et), id)
	if err != nil {
		return internal("keep tombstone", err)
	}
	return nil
}

func scanTombstone(row interface{ Scan(...any) error }) (mksync.Tombstone, error) {
	var t mksync.Tombstone
	var et, at string
	if err := row.Scan(&et, &t.MetakockaID, &t.EntityID, &t.CountCode, &at); err != nil {
		return t, err
	}
	t.EntityType = mksync.EntityType(et)
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
// (migration 00009), with the condition of their partial index.
var contactKeyExprs = map[mksync.ContactKey]string{
	mksync.KeyTaxNumber:          "r.tax_id <> '' AND upper(replace(replace(replace(r.tax_id, ' ', ''), '.', ''), '-', ''))",
	mksync.KeyRegistrationNumber: "r.registration_number <> '' AND upper(replace(replace(replace(r.registration_number, ' ', ''), '.', ''), '-', ''))",
	mksync.KeyEmail:              "r.email <> '' AND lower(r.email)",
}

// FindContactsByKey implements mksync.ContactMatcher.
func (s *store) FindContactsByKey(ctx context.Context, tenantID string, k mksync.ContactKey, values []string) ([]mksync.Contact, error) {
	if err := mksync.CheckContactKey(k, values); err != nil {
		return nil, err
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")
	args := []any{tenantID}
	for _, v := range values {
		args = append(args, v)
	}
	rows, err := s.reader().QueryContext(ctx, "SELECT "+contactCols+" FROM contacts r WHERE r.tenant_id = ? AND "+
		contactKeyExprs[k]+" IN ("+in+") ORDER BY r.id LIMIT "+strconv.Itoa(mksync.MaxKeyMatches), args...)
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
