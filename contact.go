package mksync

import (
	"fmt"
	"time"
)

// Contact is a CRM customer: a person or a company. In Metakocka it is a
// partner (add_partner / update_partner / get_partner).
type Contact struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// Name is the person's or the company's name (Metakocka "customer", ≤ 100).
	Name string `json:"name"`
	// BusinessEntity is true for a company, false for a person.
	BusinessEntity     bool   `json:"businessEntity"`
	TaxID              string `json:"taxId"`              // ≤ 50
	RegistrationNumber string `json:"registrationNumber"` // ≤ 50
	Email              string `json:"email"`              // ≤ 255
	Phone              string `json:"phone"`              // ≤ 255
	Mobile             string `json:"mobile"`             // ≤ 255
	Street             string `json:"street"`             // ≤ 150
	PostNumber         string `json:"postNumber"`         // ≤ 20
	City               string `json:"city"`               // ≤ 100
	Province           string `json:"province"`           // ≤ 50
	// Country is a country name or ISO code as the CRM keeps it (≤ 50).
	Country string `json:"country"`
	// ContactPerson is the name of the partner's contact person (Metakocka
	// partner_contact "name", ≤ 255): a person's own name, not the
	// company's. Email, Phone and Mobile are the contact person's.
	ContactPerson string `json:"contactPerson"`
	// Buyer is Metakocka's buyer flag (Kupec). Null means not said: a new
	// partner is sent as a buyer (as add_partner.md shows) and an update
	// leaves Metakocka's flag as it is.
	Buyer *bool `json:"buyer"`
	// Taxpayer is Metakocka's taxpayer flag (Davčni zavezanec).
	Taxpayer bool `json:"taxpayer"`
	// PaymentDueDays is the billing address's payment_due_days in
	// Metakocka (0 to 3650); 0 is not set (Metakocka's own default).
	PaymentDueDays int `json:"paymentDueDays"`
	// The delivery address: Metakocka's partner address of type "Dobava"
	// (street ≤ 150, post number ≤ 20, city ≤ 100, country ≤ 50). Empty
	// when the contact has none.
	DeliveryStreet     string `json:"deliveryStreet"`
	DeliveryPostNumber string `json:"deliveryPostNumber"`
	DeliveryCity       string `json:"deliveryCity"`
	DeliveryCountry    string `json:"deliveryCountry"`
	// PartnerIDs are the mk_ids of the partner's parts this contact is
	// synced with. The sync engine owns them (ContactStore.SetContactPartnerIDs);
	// updates keep them and the API does not show them.
	PartnerIDs PartnerIDs `json:"-"`
	Notes      string     `json:"notes"` // ≤ 4000, CRM only
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	// Version increases by one on every update; an update naming an older
	// version fails with ECONFLICT (optimistic locking).
	Version int64 `json:"version"`
}

// Validate checks the contact against Metakocka's partner field limits and
// returns an EINVALID *Error naming every bad field.
func (c *Contact) Validate() error {
	var v Validator
	v.Required(c.Name, "name")
	v.MaxLen(c.Name, 100, "name")
	v.MaxLen(c.TaxID, 50, "taxId")
	v.MaxLen(c.RegistrationNumber, 50, "registrationNumber")
	v.MaxLen(c.Email, 255, "email")
	v.Email(c.Email, "email")
	v.MaxLen(c.Phone, 255, "phone")
	v.MaxLen(c.Mobile, 255, "mobile")
	v.MaxLen(c.Street, 150, "street")
	v.MaxLen(c.PostNumber, 20, "postNumber")
	v.MaxLen(c.City, 100, "city")
	v.MaxLen(c.Province, 50, "province")
	v.MaxLen(c.Country, 50, "country")
	v.MaxLen(c.ContactPerson, 255, "contactPerson")
	v.Check(c.PaymentDueDays >= 0 && c.PaymentDueDays <= MaxPaymentDueDays, "paymentDueDays", fmt.Sprintf("must be between 0 and %d", MaxPaymentDueDays))
	v.MaxLen(c.DeliveryStreet, 150, "deliveryStreet")
	v.MaxLen(c.DeliveryPostNumber, 20, "deliveryPostNumber")
	v.MaxLen(c.DeliveryCity, 100, "deliveryCity")
	v.MaxLen(c.DeliveryCountry, 50, "deliveryCountry")
	v.MaxLen(c.Notes, 4000, "notes")
	return v.Err("contact")
}

// MaxPaymentDueDays bounds Contact.PaymentDueDays (ten years).
const MaxPaymentDueDays = 3650

// PartnerIDs are the Metakocka ids of a partner's billing address
// ("Račun"), delivery address ("Dobava") and contact person that a contact
// is synced with, so that an update names them by mk_id as update_partner
// requires. Empty until the engine has seen them.
type PartnerIDs struct {
	BillingAddress  string
	DeliveryAddress string
	ContactPerson   string
}

// HasDelivery reports whether the contact has a delivery address.
func (c *Contact) HasDelivery() bool {
	return c.DeliveryStreet != "" || c.DeliveryPostNumber != "" || c.DeliveryCity != "" || c.DeliveryCountry != ""
}
