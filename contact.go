package mksync

import "time"

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
	Country   string    `json:"country"`
	Notes     string    `json:"notes"` // ≤ 4000, CRM only
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
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
	v.MaxLen(c.Notes, 4000, "notes")
	return v.Err("contact")
}
