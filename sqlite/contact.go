package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"

	"github.com/mksync/mksync"
)

const contactCols = `r.id, r.tenant_id, r.name, r.business_entity, r.tax_id, r.registration_number, r.email,
	r.phone, r.mobile, r.street, r.post_number, r.city, r.province, r.country, r.notes,
	r.created_at, r.updated_at, r.version, ` + contactPartnerCols

// contactPartnerCols are the partner fields of migration 11, then the
// engine-owned mk_ids.
const contactPartnerCols = `r.contact_person, r.buyer, r.taxpayer, r.payment_due_days, r.delivery_street,
	r.delivery_post_number, r.delivery_city, r.delivery_country,
	r.mk_billing_address_id, r.mk_delivery_address_id, r.mk_contact_person_id`

func scanContact(sc scanner) (mksync.Contact, error) {
	var c mksync.Contact
	var created, updated string
	var buyer sql.NullBool
	err := sc.Scan(&c.ID, &c.TenantID, &c.Name, &c.BusinessEntity, &c.TaxID, &c.RegistrationNumber, &c.Email,
		&c.Phone, &c.Mobile, &c.Street, &c.PostNumber, &c.City, &c.Province, &c.Country, &c.Notes,
		&created, &updated, &c.Version,
		&c.ContactPerson, &buyer, &c.Taxpayer, &c.PaymentDueDays, &c.DeliveryStreet,
		&c.DeliveryPostNumber, &c.DeliveryCity, &c.DeliveryCountry,
		&c.PartnerIDs.BillingAddress, &c.PartnerIDs.DeliveryAddress, &c.PartnerIDs.ContactPerson)
	if err != nil {
		return c, err
	}
	if buyer.Valid {
		c.Buyer = &buyer.Bool
	}
	return c, times(created, &c.CreatedAt, updated, &c.UpdatedAt)
}

// nullBool is b for a nullable INTEGER column.
func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return boolInt(*b)
}

func contactSearch(c *mksync.Contact) string { return searchText(c.Name, c.Email) }

var contactRecord = crmRecord[mksync.Contact]{table: "contacts", what: "contact", et: mksync.EntityContact,
	cols: contactCols, scan: scanContact, id: func(c mksync.Contact) string { return c.ID },
	inUse: "the contact is used by a sales document",
	stamps: func(c *mksync.Contact) stamps {
		return stamps{&c.ID, &c.TenantID, &c.CreatedAt, &c.UpdatedAt, &c.Version}
	}}

// emailKey is a contact's e-mail as FindContactsByKey compares it
// (mksync.NormKey: trimmed, Unicode lower case), kept in its own indexed
// column since SQLite's lower() folds ASCII only.
func emailKey(email string) string { return mksync.NormKey(mksync.KeyEmail, email) }

// CreateContact implements mksync.ContactStore.
func (s *store) CreateContact(ctx context.Context, tenantID string, c *mksync.Contact) error {
	return create(ctx, s, contactRecord, tenantID, c, func(q querier, n *mksync.Contact, now string) error {
		_, err := q.ExecContext(ctx, `INSERT INTO contacts (id, tenant_id, name, business_entity, tax_id,
			registration_number, email, phone, mobile, street, post_number, city, province, country, notes,
			search_text, email_key, created_at, updated_at, version, contact_person, buyer, taxpayer, payment_due_days,
			delivery_street, delivery_post_number, delivery_city, delivery_country,
			mk_billing_address_id, mk_delivery_address_id, mk_contact_person_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, tenantID, n.Name, boolInt(n.BusinessEntity), n.TaxID, n.RegistrationNumber, n.Email, n.Phone,
			n.Mobile, n.Street, n.PostNumber, n.City, n.Province, n.Country, n.Notes, contactSearch(n),
			emailKey(n.Email), now, now, n.ContactPerson, nullBool(n.Buyer), boolInt(n.Taxpayer), n.PaymentDueDays,
			n.DeliveryStreet, n.DeliveryPostNumber, n.DeliveryCity, n.DeliveryCountry,
			n.PartnerIDs.BillingAddress, n.PartnerIDs.DeliveryAddress, n.PartnerIDs.ContactPerson)
		return translate("create contact", err, "a record with this id already exists", "", "")
	})
}

// FindContactByID implements mksync.ContactStore.
func (s *store) FindContactByID(ctx context.Context, tenantID, id string) (mksync.Contact, error) {
	return findOne(s.reader().QueryRowContext(ctx, "SELECT "+contactCols+" FROM contacts r WHERE r.tenant_id = ? AND r.id = ?", tenantID, id),
		scanContact, "contact", id)
}

// FindContacts implements mksync.ContactStore.
func (s *store) FindContacts(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.Contact, string, error) {
	return contactRecord.find(ctx, s, tenantID, f)
}

// AllContacts implements mksync.ContactStore.
func (s *store) AllContacts(ctx context.Context, tenantID string) iter.Seq2[mksync.Contact, error] {
	return contactRecord.all(ctx, s, tenantID)
}

// UpdateContact implements mksync.ContactStore.
func (s *store) UpdateContact(ctx context.Context, tenantID string, c *mksync.Contact) error {
	return update(ctx, s, contactRecord, tenantID, c, func(q querier, n *mksync.Contact, now string) (created string, err error) {
		err = q.QueryRowContext(ctx, `UPDATE contacts SET name = ?, business_entity = ?, tax_id = ?,
			registration_number = ?, email = ?, phone = ?, mobile = ?, street = ?, post_number = ?, city = ?,
			province = ?, country = ?, notes = ?, search_text = ?, email_key = ?, updated_at = ?, version = version + 1,
			contact_person = ?, buyer = ?, taxpayer = ?, payment_due_days = ?, delivery_street = ?,
			delivery_post_number = ?, delivery_city = ?, delivery_country = ?
			WHERE tenant_id = ? AND id = ? AND version = ?
			RETURNING version, created_at, mk_billing_address_id, mk_delivery_address_id, mk_contact_person_id`,
			n.Name, boolInt(n.BusinessEntity), n.TaxID, n.RegistrationNumber, n.Email, n.Phone, n.Mobile, n.Street,
			n.PostNumber, n.City, n.Province, n.Country, n.Notes, contactSearch(n), emailKey(n.Email), now,
			n.ContactPerson, nullBool(n.Buyer), boolInt(n.Taxpayer), n.PaymentDueDays, n.DeliveryStreet,
			n.DeliveryPostNumber, n.DeliveryCity, n.DeliveryCountry,
			tenantID, n.ID, n.Version).Scan(&n.Version, &created,
			&n.PartnerIDs.BillingAddress, &n.PartnerIDs.DeliveryAddress, &n.PartnerIDs.ContactPerson)
		return created, err
	}, func(err error) error { return translate("update contact", err, "", "", "") })
}

// SetContactPartnerIDs implements mksync.ContactStore.
func (s *store) SetContactPartnerIDs(ctx context.Context, tenantID, id string, ids mksync.PartnerIDs) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE contacts SET mk_billing_address_id = ?, mk_delivery_address_id = ?,
			mk_contact_person_id = ? WHERE tenant_id = ? AND id = ?`,
			ids.BillingAddress, ids.DeliveryAddress, ids.ContactPerson, tenantID, id)
		if err != nil {
			return internal("set contact partner ids", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("contact", id)
		}
		return nil
	})
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
	return contactRecord.delete(ctx, s, tenantID, id)
}

// UpsertContacts implements mksync.ContactStore.
func (s *store) UpsertContacts(ctx context.Context, tenantID string, cs []mksync.Contact) error {
	return upsertAll(ctx, s, "contact", cs, func(c *mksync.Contact) *string { return &c.ID },
		func(q querier, batch []mksync.Contact) error { return s.upsertContacts(ctx, q, tenantID, batch) })
}

func (s *store) upsertContacts(ctx context.Context, q querier, tenantID string, cs []mksync.Contact) error {
	if err := requireTenant(ctx, q, tenantID); err != nil {
		return err
	}
	stmt, err := q.PrepareContext(ctx, `INSERT INTO contacts (id, tenant_id, name, business_entity, tax_id,
		registration_number, email, phone, mobile, street, post_number, city, province, country, notes,
		search_text, email_key, created_at, updated_at, version, contact_person, buyer, taxpayer, payment_due_days,
		delivery_street, delivery_post_number, delivery_city, delivery_country)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, business_entity = excluded.business_entity,
			tax_id = excluded.tax_id, registration_number = excluded.registration_number, email = excluded.email,
			phone = excluded.phone, mobile = excluded.mobile, street = excluded.street,
			post_number = excluded.post_number, city = excluded.city, province = excluded.province,
			country = excluded.country, notes = excluded.notes, search_text = excluded.search_text,
			email_key = excluded.email_key, updated_at = excluded.updated_at, version = contacts.version + 1,
			contact_person = excluded.contact_person, buyer = excluded.buyer, taxpayer = excluded.taxpayer,
			payment_due_days = excluded.payment_due_days, delivery_street = excluded.delivery_street,
			delivery_post_number = excluded.delivery_post_number, delivery_city = excluded.delivery_city,
			delivery_country = excluded.delivery_country
		WHERE contacts.tenant_id = excluded.tenant_id
		RETURNING version, created_at, mk_billing_address_id, mk_delivery_address_id, mk_contact_person_id`)
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
			contactSearch(c), emailKey(c.Email), nowS, nowS, c.ContactPerson, nullBool(c.Buyer), boolInt(c.Taxpayer), c.PaymentDueDays,
			c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry).Scan(&c.Version, &created,
			&c.PartnerIDs.BillingAddress, &c.PartnerIDs.DeliveryAddress, &c.PartnerIDs.ContactPerson)
		if errors.Is(err, sql.ErrNoRows) {
			return upsertMiss("contact", c.ID)
		}
		if err != nil {
			return translate("upsert contact", err, "contact conflicts with an existing record", "", "")
		}
		c.TenantID, c.UpdatedAt = tenantID, now
		if c.CreatedAt, err = s.written(ctx, q, tenantID, mksync.EntityContact, c.ID, c.Version, created, nowS); err != nil {
			return err
		}
	}
	return nil
}
