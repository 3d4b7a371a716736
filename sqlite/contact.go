package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/mksync/mksync"
)

const contactCols = `r.id, r.tenant_id, r.name, r.business_entity, r.tax_id, r.registration_number, r.email,
	r.phone, r.mobile, r.street, r.post_number, r.city, r.province, r.country, r.notes,
	r.created_at, r.updated_at, r.version`

func scanContact(sc scanner) (mksync.Contact, error) {
	var c mksync.Contact
	var created, updated string
	err := sc.Scan(&c.ID, &c.TenantID, &c.Name, &c.BusinessEntity, &c.TaxID, &c.RegistrationNumber, &c.Email,
		&c.Phone, &c.Mobile, &c.Street, &c.PostNumber, &c.City, &c.Province, &c.Country, &c.Notes,
		&created, &updated, &c.Version)
	if err != nil {
		return c, err
	}
	if c.CreatedAt, err = parseTime(created); err != nil {
		return c, err
	}
	c.UpdatedAt, err = parseTime(updated)
	return c, err
}

func contactSearch(c *mksync.Contact) string { return searchText(c.Name, c.Email) }

// CreateContact implements mksync.ContactStore.
func (s *store) CreateContact(ctx context.Context, tenantID string, c *mksync.Contact) error {
	if err := c.Validate(); err != nil {
		return err
	}
	n := *c
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	now := s.truncNow()
	n.TenantID, n.CreatedAt, n.UpdatedAt, n.Version = tenantID, now, now, 1
	err := s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO contacts (id, tenant_id, name, business_entity, tax_id,
			registration_number, email, phone, mobile, street, post_number, city, province, country, notes,
			search_text, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			n.ID, tenantID, n.Name, boolInt(n.BusinessEntity), n.TaxID, n.RegistrationNumber, n.Email, n.Phone,
			n.Mobile, n.Street, n.PostNumber, n.City, n.Province, n.Country, n.Notes, contactSearch(&n),
			fmtTime(now), fmtTime(now))
		return translate("create contact", err, "a record with this id already exists", "", "")
	})
	if err != nil {
		return err
	}
	*c = n
	return nil
}

// FindContactByID implements mksync.ContactStore.
func (s *store) FindContactByID(ctx context.Context, tenantID, id string) (mksync.Contact, error) {
	c, err := scanContact(s.reader().QueryRowContext(ctx, "SELECT "+contactCols+" FROM contacts r WHERE r.tenant_id = ? AND r.id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("contact", id)
	}
	if err != nil {
		return c, translate("find contact", err, "", "", "")
	}
	return c, nil
}

// FindContacts implements mksync.ContactStore.
func (s *store) FindContacts(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.Contact, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	limit := f.EffectiveLimit()
	items, err := s.listContacts(ctx, s.reader(), tenantID, after, f, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := pageOf(items, limit, func(c mksync.Contact) string { return c.ID })
	return items, next, nil
}

func (s *store) listContacts(ctx context.Context, q querier, tenantID, after string, f mksync.ListFilter, limit int) ([]mksync.Contact, error) {
	w, err := crmWhere(mksync.EntityContact, tenantID, after, f)
	if err != nil {
		return nil, err
	}
	return listCRM(ctx, q, "contacts", contactCols, w, limit, scanContact)
}

// AllContacts implements mksync.ContactStore.
func (s *store) AllContacts(ctx context.Context, tenantID string) iter.Seq2[mksync.Contact, error] {
	return stream(func(after string, limit int) ([]mksync.Contact, error) {
		return s.listContacts(ctx, s.reader(), tenantID, after, mksync.ListFilter{}, limit)
	}, func(c mksync.Contact) string { return c.ID })
}

// UpdateContact implements mksync.ContactStore.
func (s *store) UpdateContact(ctx context.Context, tenantID string, c *mksync.Contact) error {
	if err := c.Validate(); err != nil {
		return err
	}
	n := *c
	now := s.truncNow()
	err := s.write(ctx, func(q querier) error {
		var created string
		err := q.QueryRowContext(ctx, `UPDATE contacts SET name = ?, business_entity = ?, tax_id = ?,
			registration_number = ?, email = ?, phone = ?, mobile = ?, street = ?, post_number = ?, city = ?,
			province = ?, country = ?, notes = ?, search_text = ?, updated_at = ?, version = version + 1
			WHERE tenant_id = ? AND id = ? AND version = ?
			RETURNING version, created_at`,
			n.Name, boolInt(n.BusinessEntity), n.TaxID, n.RegistrationNumber, n.Email, n.Phone, n.Mobile, n.Street,
			n.PostNumber, n.City, n.Province, n.Country, n.Notes, contactSearch(&n), fmtTime(now),
			tenantID, n.ID, n.Version).Scan(&n.Version, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return versionMiss(ctx, q, "contacts", "contact", tenantID, n.ID, c.Version)
		}
		if err != nil {
			return translate("update contact", err, "", "", "")
		}
		if n.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		return s.markPending(ctx, q, tenantID, mksync.EntityContact, n.ID, fmtTime(now))
	})
	if err != nil {
		return err
	}
	n.TenantID, n.UpdatedAt = tenantID, now
	*c = n
	return nil
}

// versionMiss explains why a versioned update matched no row: the record
// does not exist for the tenant (ENOTFOUND) or has moved on (ECONFLICT).
func versionMiss(ctx context.Context, q querier, table, what, tenantID, id string, version int64) error {
	var current int64
	err := q.QueryRowContext(ctx, "SELECT version FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	if err != nil {
		return internal("find "+what+" version", err)
	}
	return mksync.Errorf(mksync.ECONFLICT, "%s %s was changed meanwhile (version %d, not %d): reload and retry", what, id, current, version)
}

// DeleteContact implements mksync.ContactStore.
func (s *store) DeleteContact(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM contacts WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return translate("delete contact", err, "", mksync.ECONFLICT, "the contact is used by a sales document")
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("contact", id)
		}
		return s.deleteMappingOf(ctx, q, tenantID, mksync.EntityContact, id)
	})
}

// UpsertContacts implements mksync.ContactStore.
func (s *store) UpsertContacts(ctx context.Context, tenantID string, cs []mksync.Contact) error {
	for i := range cs {
		if err := cs[i].Validate(); err != nil {
			return mksync.WrapError(mksync.EINVALID, fmt.Sprintf("contact %d: %s", i, mksync.ErrorMessage(err)), err)
		}
	}
	for i := range cs {
		if err := ensureID(&cs[i].ID); err != nil {
			return err
		}
	}
	for lo, hi := range batches(len(cs)) {
		if err := s.write(ctx, func(q querier) error { return s.upsertContacts(ctx, q, tenantID, cs[lo:hi]) }); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) upsertContacts(ctx context.Context, q querier, tenantID string, cs []mksync.Contact) error {
	if err := requireTenant(ctx, q, tenantID); err != nil {
		return err
	}
	stmt, err := q.PrepareContext(ctx, `INSERT INTO contacts (id, tenant_id, name, business_entity, tax_id,
		registration_number, email, phone, mobile, street, post_number, city, province, country, notes,
		search_text, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, business_entity = excluded.business_entity,
			tax_id = excluded.tax_id, registration_number = excluded.registration_number, email = excluded.email,
			phone = excluded.phone, mobile = excluded.mobile, street = excluded.street,
			post_number = excluded.post_number, city = excluded.city, province = excluded.province,
			country = excluded.country, notes = excluded.notes, search_text = excluded.search_text,
			updated_at = excluded.updated_at, version = contacts.version + 1
		WHERE contacts.tenant_id = excluded.tenant_id
		RETURNING version, created_at`)
	if err != nil {
		return internal("prepare contact upsert", err)
	}
	defer stmt.Close()
	now := s.truncNow()
	nowS := fmtTime(now)
	for i := range cs {
		c := &cs[i]
		var created string
		err := stmt.QueryRowContext(ctx, c.ID, tenantID, c.Name, boolInt(c.BusinessEntity), c.TaxID, c.RegistrationNumber,
			c.Email, c.Phone, c.Mobile, c.Street, c.PostNumber, c.City, c.Province, c.Country, c.Notes,
			contactSearch(c), nowS, nowS).Scan(&c.Version, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return mksync.Errorf(mksync.ECONFLICT, "contact id %s belongs to another record", c.ID)
		}
		if err != nil {
			return translate("upsert contact", err, "contact conflicts with an existing record", "", "")
		}
		if c.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		c.TenantID, c.UpdatedAt = tenantID, now
		if c.Version > 1 {
			if err := s.markPending(ctx, q, tenantID, mksync.EntityContact, c.ID, nowS); err != nil {
				return err
			}
		}
	}
	return nil
}
