package metakocka

import (
	"context"
	"errors"

	"github.com/mksync/mksync"
)

// Partner is a Metakocka business partner (a CRM contact or company), as
// get_partner and update_partner return it, as add_partner and update_partner
// take it, and as it appears on documents (partner, receiver).
type Partner struct {
	// MkID is Metakocka's id; CountCode the partner number visible to users.
	// update_partner identifies the partner by one of them.
	MkID      string `json:"mk_id,omitempty"`
	CountCode string `json:"count_code,omitempty"`

	BusinessEntity Bool `json:"business_entity,omitzero"`
	Taxpayer       Bool `json:"taxpayer,omitzero"`
	// ForeignCounty is Metakocka's spelling of "foreign country".
	ForeignCounty Bool `json:"foreign_county,omitzero"`
	Buyer         Bool `json:"buyer,omitzero"`
	Supplier      Bool `json:"supplier,omitzero"`

	TaxIDNumber        string `json:"tax_id_number,omitempty"`
	RegistrationNumber string `json:"registration_number,omitempty"`
	// Customer is the partner's name.
	Customer     string `json:"customer,omitempty"`
	Street       string `json:"street,omitempty"`
	StreetNumber string `json:"street_number,omitempty"`
	PostNumber   string `json:"post_number,omitempty"`
	Place        string `json:"place,omitempty"`
	Province     string `json:"province,omitempty"`
	Country      string `json:"country,omitempty"`
	CountryISO2  string `json:"country_iso_2,omitempty"`
	// MkAddressID is the id of the address used on a document.
	MkAddressID          string `json:"mk_address_id,omitempty"`
	UseCustomerAsContact Bool   `json:"useCustomerAsContact,omitzero"`

	// PartnerContact and PartnerDeliveryAddress are the single contact and
	// extra address add_partner and documents take.
	PartnerContact         *Contact `json:"partner_contact,omitempty"`
	PartnerDeliveryAddress *Address `json:"partner_delivery_address,omitempty"`
	// PartnerContactList and PartnerDeliveryAddressList are what get_partner
	// returns and update_partner takes (an entry with MkID updates, one
	// without adds).
	PartnerContactList         List[Contact] `json:"partner_contact_list,omitempty"`
	PartnerDeliveryAddressList List[Address] `json:"partner_delivery_address_list,omitempty"`
	// Discounts come with get_partner when asked for (ShowPartnerDiscount).
	Discounts List[PartnerDiscount] `json:"discounts,omitempty"`
}

// Contact is a partner's contact person.
type Contact struct {
	MkID        string `json:"mk_id,omitempty"`
	MkAddressID string `json:"mk_address_id,omitempty"`
	// ContactAddress is the street of the address the contact belongs to
	// (read only).
	ContactAddress       string `json:"contact_address,omitempty"`
	Name                 string `json:"name,omitempty"`
	Contact              string `json:"contact,omitempty"`
	Email                string `json:"email,omitempty"`
	GSM                  string `json:"gsm,omitempty"`
	Phone                string `json:"phone,omitempty"`
	Fax                  string `json:"fax,omitempty"`
	UseCustomerAsContact Bool   `json:"useCustomerAsContact,omitzero"`
}

// Address is a partner's address. AddressType is "Račun" (billing, the
// default), "Dobava" (delivery) or "Poslovna enota" (business unit).
type Address struct {
	MkID           string `json:"mk_id,omitempty"`
	AddressType    string `json:"address_type,omitempty"`
	Street         string `json:"street,omitempty"`
	PostNumber     string `json:"post_number,omitempty"`
	City           string `json:"city,omitempty"`
	Province       string `json:"province,omitempty"`
	Country        string `json:"country,omitempty"`
	PaymentDueDays Int    `json:"payment_due_days,omitzero"`
	Language       string `json:"language,omitempty"`
	CurrencyID     string `json:"currency_id,omitempty"`
	Currency       string `json:"currency,omitempty"`
}

// PartnerDiscount is a partner's discount on product categories.
type PartnerDiscount struct {
	Categories       List[string] `json:"categories,omitempty"`
	DiscountPercent  Decimal      `json:"discount_percent,omitzero"`
	OverrideExisting Bool         `json:"override_existing,omitzero"`
}

// PartnerQuery selects partners for GetPartner; set at least one field.
type PartnerQuery struct {
	PartnerID          string `json:"partner_id,omitempty"`
	PartnerName        string `json:"partner_name,omitempty"`
	PartnerTaxNumber   string `json:"partner_tax_number,omitempty"`
	PartnerEmail       string `json:"partner_email,omitempty"`
	PartnerPhoneNumber string `json:"partner_phone_number,omitempty"`
	// ShowPartnerDiscount asks for each partner's Discounts.
	ShowPartnerDiscount Bool `json:"show_partner_discount,omitzero"`
}

// partnerList is the answer of get_partner and update_partner.
type partnerList struct {
	PartnerListCount Int           `json:"partner_list_count"`
	PartnerList      List[Partner] `json:"partner_list"`
}

// AddPartnerResult is what add_partner returns: the ids of the new partner,
// its contact and its addresses.
type AddPartnerResult struct {
	MkID            string      `json:"mk_id"`
	MkContactID     string      `json:"mk_contact_id"`
	MkAddressIDList List[IDRef] `json:"mk_address_id_list"`
	CountCode       string      `json:"count_code"`
}

// IDRef is an id with the street it belongs to (add_partner's address ids).
type IDRef struct {
	MkID   string `json:"mk_id"`
	Street string `json:"street,omitempty"`
}

var (
	mGetPartner    = method{name: "get_partner"}
	mAddPartner    = method{name: "add_partner", unsafe: true}
	mUpdatePartner = method{name: "update_partner"}
)

// GetPartner returns the partners matching q (none is not an error: an empty
// slice). Errors: EINVALID if q is empty or Metakocka rejects it, plus the
// codes every call may return (see Error.Code).
func (c *Client) GetPartner(ctx context.Context, q PartnerQuery) ([]Partner, error) {
	if q.PartnerID == "" && q.PartnerName == "" && q.PartnerTaxNumber == "" &&
		q.PartnerEmail == "" && q.PartnerPhoneNumber == "" {
		return nil, inputError(mGetPartner, "set at least one partner search field")
	}
	var out partnerList
	if err := c.call(ctx, mGetPartner, q, &out); err != nil {
		return nil, err
	}
	return out.PartnerList, nil
}

// AddPartner creates p and returns its new ids. It is not idempotent: the
// client repeats it only when Metakocka provably did not process it (HTTP 429,
// connection refused); after an ambiguous failure (timeout, 5xx) the error is
// returned with Retryable set, and the caller should look the partner up
// (GetPartner) before adding it again.
func (c *Client) AddPartner(ctx context.Context, p Partner) (AddPartnerResult, error) {
	if p.Customer == "" {
		return AddPartnerResult{}, inputError(mAddPartner, "partner customer (name) is required")
	}
	var out AddPartnerResult
	err := c.call(ctx, mAddPartner, struct {
		Partner Partner `json:"partner"`
	}{p}, &out)
	return out, err
}

// UpdatePartner changes the partner identified by p.MkID or p.CountCode
// (fields left unset are not changed) and returns the partner as Metakocka
// holds it afterwards.
func (c *Client) UpdatePartner(ctx context.Context, p Partner) (Partner, error) {
	if p.MkID == "" && p.CountCode == "" {
		return Partner{}, inputError(mUpdatePartner, "partner mk_id or count_code is required")
	}
	var out partnerList
	if err := c.call(ctx, mUpdatePartner, struct {
		Partner Partner `json:"partner"`
	}{p}, &out); err != nil {
		return Partner{}, err
	}
	if len(out.PartnerList) == 0 {
		return Partner{}, &Error{Method: mUpdatePartner.name, HTTPStatus: 200, code: mksync.EUPSTREAM, reason: "decode",
			Err: safeError(errEmptyAnswer, c.scrub)}
	}
	return out.PartnerList[0], nil
}

var errEmptyAnswer = errors.New("the answer holds no record")

// inputError is an *Error for input refused before anything is sent.
func inputError(m method, msg string) *Error {
	return &Error{Method: m.name, OprDesc: msg, code: mksync.EINVALID, reason: "input"}
}
