package postgres

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// contactColumns ends with the partner fields of migration 11 and the
// engine-owned mk_ids.
const contactColumns = `id, tenant_id, name, business_entity, tax_id, registration_number, email, phone, mobile,
	street, post_number, city, province, country, notes, created_at, updated_at, version,
	contact_person, buyer, taxpayer, payment_due_days, delivery_street, delivery_post_number, delivery_city,
	delivery_country, mk_billing_address_id, mk_delivery_address_id, mk_contact_person_id`

func scanContact(r pgx.Row) (mksync.Contact, error) {
	var c mksync.Contact
	err := r.Scan(&c.ID, &c.TenantID, &c.Name, &c.BusinessEntity, &c.TaxID, &c.RegistrationNumber, &c.Email,
		&c.Phone, &c.Mobile, &c.Street, &c.PostNumber, &c.City, &c.Province, &c.Country, &c.Notes,
		&c.CreatedAt, &c.UpdatedAt, &c.Version,
		&c.ContactPerson, &c.Buyer, &c.Taxpayer, &c.PaymentDueDays, &c.DeliveryStreet, &c.DeliveryPostNumber,
		&c.DeliveryCity, &c.DeliveryCountry,
		&c.PartnerIDs.BillingAddress, &c.PartnerIDs.DeliveryAddress, &c.PartnerIDs.ContactPerson)
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	return c, err
}

func scanContactRows(r pgx.Rows) (mksync.Contact, error) { return scanContact(r) }

var contactTable = crmTable[mksync.Contact]{table: "contacts", what: "contact", et: mksync.EntityContact,
	cols: contactColumns, scan: scanContactRows, id: func(c mksync.Contact) string { return c.ID },
	searchCols: []string{"name", "email"}, usedByDocuments: true,
	stamps: func(c *mksync.Contact) stamps {
		return stamps{&c.ID, &c.TenantID, &c.CreatedAt, &c.UpdatedAt, &c.Version}
	}}

// CreateContact validates and inserts c, filling ID, TenantID, times and
// Version 1.
func (d *DB) CreateContact(ctx context.Context, tenantID string, c *mksync.Contact) error {
	return contactTable.create(ctx, d, tenantID, c, c.Validate, func(tx pgx.Tx, now time.Time) error {
		_, err := tx.Exec(ctx, `INSERT INTO contacts (`+contactColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, 1,
				$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)`,
			c.ID, tenantID, c.Name, c.BusinessEntity, c.TaxID, c.RegistrationNumber, c.Email, c.Phone, c.Mobile,
			c.Street, c.PostNumber, c.City, c.Province, c.Country, c.Notes, now,
			c.ContactPerson, c.Buyer, c.Taxpayer, c.PaymentDueDays, c.DeliveryStreet, c.DeliveryPostNumber,
			c.DeliveryCity, c.DeliveryCountry,
			c.PartnerIDs.BillingAddress, c.PartnerIDs.DeliveryAddress, c.PartnerIDs.ContactPerson)
		return err
	}, tenantMissing)
}

// FindContactByID returns the tenant's contact; ENOTFOUND otherwise.
func (d *DB) FindContactByID(ctx context.Context, tenantID, id string) (mksync.Contact, error) {
	return findOne(ctx, d, tenantID, scanContact, notFound("contact", id), "find contact",
		`SELECT `+contactColumns+` FROM contacts WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// FindContacts lists the tenant's contacts in id order; Search matches name
// or email.
func (d *DB) FindContacts(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.Contact, string, error) {
	return contactTable.find(ctx, d, tenantID, f)
}

// UpdateContact writes c when c.Version is current (else ECONFLICT), bumps
// the version and turns a synced mapping pending.
func (d *DB) UpdateContact(ctx context.Context, tenantID string, c *mksync.Contact) error {
	return contactTable.update(ctx, d, tenantID, c, c.Validate, func(tx pgx.Tx, now time.Time) (created time.Time, err error) {
		err = tx.QueryRow(ctx, `UPDATE contacts SET name = $4, business_entity = $5, tax_id = $6,
				registration_number = $7, email = $8, phone = $9, mobile = $10, street = $11, post_number = $12,
				city = $13, province = $14, country = $15, notes = $16, updated_at = $17, version = version + 1,
				contact_person = $18, buyer = $19, taxpayer = $20, payment_due_days = $21, delivery_street = $22,
				delivery_post_number = $23, delivery_city = $24, delivery_country = $25
			WHERE tenant_id = $1 AND id = $2 AND version = $3
			RETURNING created_at, mk_billing_address_id, mk_delivery_address_id, mk_contact_person_id`,
			tenantID, c.ID, c.Version, c.Name, c.BusinessEntity, c.TaxID, c.RegistrationNumber, c.Email, c.Phone,
			c.Mobile, c.Street, c.PostNumber, c.City, c.Province, c.Country, c.Notes, now,
			c.ContactPerson, c.Buyer, c.Taxpayer, c.PaymentDueDays, c.DeliveryStreet, c.DeliveryPostNumber,
			c.DeliveryCity, c.DeliveryCountry).Scan(&created,
			&c.PartnerIDs.BillingAddress, &c.PartnerIDs.DeliveryAddress, &c.PartnerIDs.ContactPerson)
		return created, err
	}, dbErr)
}

// SetContactPartnerIDs sets only the contact's partner mk_ids: no version
// bump, no pending mapping (the engine learns them from Metakocka).
func (d *DB) SetContactPartnerIDs(ctx context.Context, tenantID, id string, ids mksync.PartnerIDs) error {
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE contacts SET mk_billing_address_id = $3, mk_delivery_address_id = $4,
			mk_contact_person_id = $5 WHERE tenant_id = $1 AND id = $2`,
			tenantID, id, ids.BillingAddress, ids.DeliveryAddress, ids.ContactPerson)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("contact", id)
		}
		return nil
	})
	return dbErr("set contact partner ids", err)
}

// DeleteContact deletes the contact and its mapping; ECONFLICT when a sales
// document uses it.
func (d *DB) DeleteContact(ctx context.Context, tenantID, id string) error {
	return contactTable.delete(ctx, d, tenantID, id)
}

// AllContacts streams the tenant's contacts in id order, chunkSize rows per
// query.
func (d *DB) AllContacts(ctx context.Context, tenantID string) iter.Seq2[mksync.Contact, error] {
	return contactTable.all(ctx, d, tenantID)
}

// UpsertContacts creates or replaces contacts by id, chunkSize per
// transaction; see mksync.ContactStore. Every contact is validated first;
// cs is updated with ids, versions and times as stored.
func (d *DB) UpsertContacts(ctx context.Context, tenantID string, cs []mksync.Contact) error {
	if _, err := prepareBatch("contact", cs, func(c *mksync.Contact) *string { return &c.ID }); err != nil {
		return err
	}
	return inChunks(cs, func(batch []mksync.Contact) error { return d.upsertContactBatch(ctx, tenantID, batch) })
}

func (d *DB) upsertContactBatch(ctx context.Context, tenantID string, cs []mksync.Contact) error {
	defer d.analyze.wrote("contacts", len(cs))
	n := len(cs)
	var (
		ids, names, taxIDs, regNos, emails, phones, mobiles = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		streets, posts, cities, provinces, countries, notes = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		business                                            = make([]bool, n)
		persons, dStreets, dPosts, dCities, dCountries      = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		buyers                                              = make([]*bool, n)
		taxpayers                                           = make([]bool, n)
		dueDays                                             = make([]int32, n)
	)
	for i, c := range cs {
		ids[i], names[i], taxIDs[i], regNos[i], emails[i], phones[i], mobiles[i] = c.ID, c.Name, c.TaxID, c.RegistrationNumber, c.Email, c.Phone, c.Mobile
		streets[i], posts[i], cities[i], provinces[i], countries[i], notes[i] = c.Street, c.PostNumber, c.City, c.Province, c.Country, c.Notes
		business[i] = c.BusinessEntity
		persons[i], dStreets[i], dPosts[i], dCities[i], dCountries[i] = c.ContactPerson, c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry
		buyers[i], taxpayers[i], dueDays[i] = c.Buyer, c.Taxpayer, int32(c.PaymentDueDays)
	}
	now := d.nowUTC()
	type stored struct {
		created, updated time.Time
		version          int64
		partnerIDs       mksync.PartnerIDs
	}
	got := make(map[string]stored, n)
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO contacts AS c (`+contactColumns+`)
			SELECT u.id, $1, u.name, u.business_entity, u.tax_id, u.registration_number, u.email, u.phone, u.mobile,
				u.street, u.post_number, u.city, u.province, u.country, u.notes, $2, $2, 1,
				u.contact_person, u.buyer, u.taxpayer, u.payment_due_days, u.delivery_street, u.delivery_post_number,
				u.delivery_city, u.delivery_country, '', '', ''
			FROM unnest($3::text[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
				$17::text[], $18::bool[], $19::bool[], $20::int[], $21::text[], $22::text[], $23::text[], $24::text[])
				AS u(id, name, business_entity, tax_id, registration_number, email, phone, mobile,
				     street, post_number, city, province, country, notes,
				     contact_person, buyer, taxpayer, payment_due_days, delivery_street, delivery_post_number,
				     delivery_city, delivery_country)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, business_entity = EXCLUDED.business_entity,
				tax_id = EXCLUDED.tax_id, registration_number = EXCLUDED.registration_number, email = EXCLUDED.email,
				phone = EXCLUDED.phone, mobile = EXCLUDED.mobile, street = EXCLUDED.street,
				post_number = EXCLUDED.post_number, city = EXCLUDED.city, province = EXCLUDED.province,
				country = EXCLUDED.country, notes = EXCLUDED.notes, updated_at = EXCLUDED.updated_at,
				version = c.version + 1, contact_person = EXCLUDED.contact_person, buyer = EXCLUDED.buyer,
				taxpayer = EXCLUDED.taxpayer, payment_due_days = EXCLUDED.payment_due_days,
				delivery_street = EXCLUDED.delivery_street, delivery_post_number = EXCLUDED.delivery_post_number,
				delivery_city = EXCLUDED.delivery_city, delivery_country = EXCLUDED.delivery_country
			WHERE c.tenant_id = EXCLUDED.tenant_id
			RETURNING id, created_at, updated_at, version, mk_billing_address_id, mk_delivery_address_id, mk_contact_person_id`,
			tenantID, now, ids, names, business, taxIDs, regNos, emails, phones, mobiles,
			streets, posts, cities, provinces, countries, notes,
			persons, buyers, taxpayers, dueDays, dStreets, dPosts, dCities, dCountries)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var s stored
			if err := rows.Scan(&id, &s.created, &s.updated, &s.version,
				&s.partnerIDs.BillingAddress, &s.partnerIDs.DeliveryAddress, &s.partnerIDs.ContactPerson); err != nil {
				return err
			}
			got[id] = s
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(got) != n {
			return mksync.Errorf(mksync.ECONFLICT, "contact id already in use by another tenant")
		}
		return markPending(ctx, tx, tenantID, mksync.EntityContact, now, ids...)
	})
	if err != nil {
		return upsertErr("upsert contacts", err)
	}
	for i := range cs {
		s := got[cs[i].ID]
		cs[i].TenantID, cs[i].CreatedAt, cs[i].UpdatedAt, cs[i].Version = tenantID, utc(s.created), utc(s.updated), s.version
		cs[i].PartnerIDs = s.partnerIDs
	}
	return nil
}

// annotateIndex prefixes a validation error of a batch with the index of
// the bad record.
func annotateIndex(err error, i int) error {
	var e *mksync.Error
	if errors.As(err, &e) {
		ne := *e
		ne.Message = "record " + strconv.Itoa(i) + ": " + e.Message
		return &ne
	}
	return err
}
