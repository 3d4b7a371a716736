package mksync

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// DocumentKind says what a sales document is. In Metakocka an offer is a
// sales_offer, an order a sales_order and an invoice a sales_bill_domestic
// (or sales_bill_foreign for a foreign partner).
type DocumentKind string

// The document kinds mksync syncs.
const (
	KindOffer   DocumentKind = "offer"
	KindOrder   DocumentKind = "order"
	KindInvoice DocumentKind = "invoice"
)

// DocumentKinds lists every valid DocumentKind.
var DocumentKinds = []DocumentKind{KindOffer, KindOrder, KindInvoice}

// SalesDocument is an offer, order or invoice of the CRM.
//
// Totals are always computed from the lines (ComputeTotals); values sent by a
// client are ignored, never trusted.
type SalesDocument struct {
	ID       string       `json:"id"`
	TenantID string       `json:"-"`
	Kind     DocumentKind `json:"kind"`
	// Number is the document number; Metakocka assigns one when empty.
	Number    string `json:"number"`
	Date      Date   `json:"date"`
	ContactID string `json:"contactId"`
	// Currency is an ISO 4217 code, default EUR.
	Currency     string         `json:"currency"`
	Status       string         `json:"status"`
	Notes        string         `json:"notes"`
	DeliveryDate *Date          `json:"deliveryDate,omitempty"`
	DueDate      *Date          `json:"dueDate,omitempty"`
	Lines        []DocumentLine `json:"lines"`
	// Computed by ComputeTotals.
	TotalNet   decimal.Decimal `json:"totalNet"`
	TotalTax   decimal.Decimal `json:"totalTax"`
	TotalGross decimal.Decimal `json:"totalGross"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	Version    int64           `json:"version"`
}

// DocumentLine is one line of a sales document.
type DocumentLine struct {
	ProductID string          `json:"productId"`
	Quantity  decimal.Decimal `json:"quantity"`
	UnitPrice decimal.Decimal `json:"unitPrice"`
	// DiscountPercent is 0–100.
	DiscountPercent decimal.Decimal `json:"discountPercent"`
	// TaxRate is the VAT rate in percent.
	TaxRate decimal.Decimal `json:"taxRate"`
	// Computed by ComputeTotals: quantity × unit price × (1 − discount).
	NetAmount decimal.Decimal `json:"netAmount"`
}

var hundred = decimal.NewFromInt(100)

// ComputeTotals sets each line's net amount and the document's totals, rounded
// to cents per line (as invoices are).
func (d *SalesDocument) ComputeTotals() {
	net, tax := decimal.Zero, decimal.Zero
	for i := range d.Lines {
		l := &d.Lines[i]
		factor := hundred.Sub(l.DiscountPercent).Div(hundred)
		l.NetAmount = l.Quantity.Mul(l.UnitPrice).Mul(factor).Round(2)
		net = net.Add(l.NetAmount)
		tax = tax.Add(l.NetAmount.Mul(l.TaxRate).Div(hundred).Round(2))
	}
	d.TotalNet, d.TotalTax, d.TotalGross = net, tax, net.Add(tax)
}

// Validate checks the document and its lines and returns an EINVALID *Error
// naming every bad field (lines as "lines[2].quantity").
func (d *SalesDocument) Validate() error {
	var v Validator
	kinds := make([]string, len(DocumentKinds))
	for i, k := range DocumentKinds {
		kinds[i] = string(k)
	}
	v.OneOf(string(d.Kind), kinds, "kind")
	v.Check(!d.Date.IsZero(), "date", "is required")
	v.Required(d.ContactID, "contactId")
	v.Check(len(d.Currency) == 3, "currency", "must be a 3-letter ISO 4217 code")
	v.MaxLen(d.Number, 50, "number")
	v.MaxLen(d.Status, 50, "status")
	v.MaxLen(d.Notes, 4000, "notes")
	v.Check(len(d.Lines) > 0, "lines", "must have at least one line")
	v.Check(len(d.Lines) <= 1000, "lines", "must have at most 1000 lines")
	for i, l := range d.Lines {
		p := fmt.Sprintf("lines[%d].", i)
		v.Required(l.ProductID, p+"productId")
		v.Decimal(l.Quantity, p+"quantity")
		v.Check(l.Quantity.IsPositive(), p+"quantity", "must be greater than 0")
		v.Decimal(l.UnitPrice, p+"unitPrice")
		v.Check(!l.UnitPrice.IsNegative(), p+"unitPrice", "must not be negative")
		// Compared only when bounded (see Validator.Decimal).
		v.Check(v.Decimal(l.DiscountPercent, p+"discountPercent") && !l.DiscountPercent.IsNegative() && l.DiscountPercent.LessThanOrEqual(hundred),
			p+"discountPercent", "must be between 0 and 100")
		v.Check(v.Decimal(l.TaxRate, p+"taxRate") && !l.TaxRate.IsNegative() && l.TaxRate.LessThan(hundred), p+"taxRate", "must be between 0 and 100")
	}
	return v.Err("sales document")
}

// Date is a calendar date without time of day, written as "2006-01-02".
type Date struct{ time.Time }

// DateLayout is the wire and storage form of a Date.
const DateLayout = "2006-01-02"

// NewDate returns the date of t in t's location.
func NewDate(y int, m time.Month, d int) Date {
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, Errorf(EINVALID, "%q is not a date (want YYYY-MM-DD)", s)
	}
	return Date{t}, nil
}

// String returns "2006-01-02", or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// MarshalJSON writes "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "2006-01-02" or "".
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == `""` {
		*d = Date{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' {
		return Errorf(EINVALID, "date must be a string YYYY-MM-DD")
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
