package mksync

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// DocumentKind says what a sales document is. In Metakocka an offer is a
// sales_offer, an order a sales_order, an invoice a sales_bill_domestic
// (or sales_bill_foreign for a foreign partner), a credit note a
// sales_bill_credit_note and a prepayment invoice a sales_bill_prepaid.
type DocumentKind string

// The document kinds mksync syncs.
const (
	KindOffer   DocumentKind = "offer"
	KindOrder   DocumentKind = "order"
	KindInvoice DocumentKind = "invoice"
	// KindCreditNote is a credit note (dobropis): its lines and totals are
	// positive amounts credited to the buyer, as Metakocka holds them.
	KindCreditNote DocumentKind = "credit_note"
	// KindPrepaymentInvoice is a prepayment (advance) invoice (avansni
	// račun), issued before the goods or services are delivered.
	KindPrepaymentInvoice DocumentKind = "prepayment_invoice"
)

// Credit note types (CreditNoteType), as Metakocka documents them.
const (
	CreditNoteFinancial  = "financial"
	CreditNoteGoods      = "goods"
	CreditNoteStandalone = "standalone"
)

// DocumentKinds lists every valid DocumentKind.
var DocumentKinds = []DocumentKind{KindOffer, KindOrder, KindInvoice, KindCreditNote, KindPrepaymentInvoice}

// SalesDocument is an offer, order, invoice, credit note or prepayment
// invoice of the CRM.
//
// It carries what Metakocka needs to compute the same sums (sum_basic,
// sum_tax, sum_all) to the cent: each line's price as it was entered (net
// or gross), its discount and signed quantity, free-text lines, and the
// document's gross coupon (DiscountValue). Totals are always computed from
// the lines (ComputeTotals); values sent by a client are ignored, never
// trusted.
type SalesDocument struct {
	ID       string       `json:"id"`
	TenantID string       `json:"-"`
	Kind     DocumentKind `json:"kind"`
	// Number is the document number; Metakocka assigns one when empty.
	Number    string `json:"number"`
	Date      Date   `json:"date"`
	ContactID string `json:"contactId"`
	// Currency is an ISO 4217 code, default EUR.
	Currency     string `json:"currency"`
	Status       string `json:"status"`
	Notes        string `json:"notes"`
	DeliveryDate *Date  `json:"deliveryDate,omitempty"`
	DueDate      *Date  `json:"dueDate,omitempty"`
	// Title is the document's title (Metakocka's title).
	Title string `json:"title"`
	// BuyerOrder is the buyer's own order number (a web shop's order id).
	BuyerOrder string `json:"buyerOrder"`
	// PaymentMethod is how the buyer pays (Metakocka's method_of_payment).
	PaymentMethod string `json:"paymentMethod"`
	// DiscountValue is a coupon on the gross total, as web shops give it:
	// 100 gross with a DiscountValue of 10 totals 90, every tax rate's
	// share reduced in proportion.
	DiscountValue decimal.Decimal `json:"discountValue"`
	// DeliveryAddress is where the goods go when not to the contact's own
	// address (Metakocka's receiver); nil for none.
	DeliveryAddress *Address `json:"deliveryAddress,omitempty"`
	// ServiceToDate is the date the goods or services were delivered up to
	// (Metakocka's service_to_date, printed on bills); nil for none.
	ServiceToDate *Date `json:"serviceToDate,omitempty"`
	// CreditNoteType is a credit note's credit_note_type: financial (it
	// credits an amount of an invoice with service lines), goods (it takes
	// back products of an invoice) or standalone (it names no invoice).
	// Empty on other kinds; a credit note without one is standalone.
	CreditNoteType string `json:"creditNoteType,omitempty"`
	// CreditedInvoiceID is the CRM invoice a financial or goods credit note
	// credits. When that invoice is not in the CRM, CreditedInvoiceNumber
	// holds its number in Metakocka (credit_note_bill) instead.
	CreditedInvoiceID     string `json:"creditedInvoiceId,omitempty"`
	CreditedInvoiceNumber string `json:"creditedInvoiceNumber,omitempty"`
	// PrepaymentPercent and PrepaymentValue are the advance payment asked
	// for on an offer or order, as a percentage of the total or as an exact
	// amount (Metakocka's prepayment_percent, prepayment_value); at most one
	// is set, zero for none.
	PrepaymentPercent decimal.Decimal `json:"prepaymentPercent"`
	PrepaymentValue   decimal.Decimal `json:"prepaymentValue"`
	Lines             []DocumentLine  `json:"lines"`
	// Computed by ComputeTotals.
	TotalNet   decimal.Decimal `json:"totalNet"`
	TotalTax   decimal.Decimal `json:"totalTax"`
	TotalGross decimal.Decimal `json:"totalGross"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	Version    int64           `json:"version"`
}

// Address is a postal address on a document (its delivery address).
type Address struct {
	Name       string `json:"name"`
	Street     string `json:"street"`
	PostNumber string `json:"postNumber"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

// AddressOrNil returns a, or nil when every field is empty: the stores keep
// an address as columns and a document without one reads back as nil.
func AddressOrNil(a Address) *Address {
	if a == (Address{}) {
		return nil
	}
	return &a
}

// DeliveryOrZero is the document's delivery address, or an empty one when
// it has none (what the stores write).
func (d *SalesDocument) DeliveryOrZero() Address {
	if d.DeliveryAddress == nil {
		return Address{}
	}
	return *d.DeliveryAddress
}

// DocumentLine is one line of a sales document: a catalogue product
// (ProductID) or a free-text line (Description, no product), such as a
// coupon or a shipping charge.
type DocumentLine struct {
	// ProductID is the catalogue product; empty for a free-text line.
	ProductID string `json:"productId"`
	// Description is a free-text line's text, or extra text printed under
	// a product line.
	Description string `json:"description"`
	// Unit is a free-text line's unit ("kos", "h"); a product line's is its
	// product's.
	Unit string `json:"unit"`
	// Quantity is signed: a negative quantity is a coupon or a return
	// (Metakocka takes it on service lines).
	Quantity decimal.Decimal `json:"quantity"`
	// UnitPrice is the price as entered: net, or gross (tax included)
	// when PriceIncludesTax, so that Metakocka gets it back in the same
	// form and computes the same sums.
	UnitPrice        decimal.Decimal `json:"unitPrice"`
	PriceIncludesTax bool            `json:"priceIncludesTax"`
	// DiscountPercent is 0–100.
	DiscountPercent decimal.Decimal `json:"discountPercent"`
	// TaxRate is the VAT rate in percent.
	TaxRate decimal.Decimal `json:"taxRate"`
	// TaxCode is the Metakocka tax code the rate was read with when it is
	// one of the company's own codes (EX1…EX4), so that it is written back
	// unchanged; empty otherwise.
	TaxCode string `json:"taxCode,omitempty"`
	// Computed by ComputeTotals: the line's net amount after its discount,
	// before the document's DiscountValue, rounded to cents.
	NetAmount decimal.Decimal `json:"netAmount"`
}

var (
	hundred = decimal.NewFromInt(100)
	one     = decimal.NewFromInt(1)
)

// taxGroup is one tax rate's share of a document: the discounted line
// amounts entered net and entered gross.
type taxGroup struct{ net, gross, rate decimal.Decimal }

// ComputeTotals sets each line's net amount and the document's totals the
// way Metakocka computes a document's sums: lines are grouped by tax code;
// a gross line's net is its gross divided by 1 + rate; DiscountValue
// reduces every group by the same fraction of the gross total; per group
// the net base is rounded to cents and the tax is the rounded gross less
// the rounded base (so a gross-priced document totals exactly its gross).
func (d *SalesDocument) ComputeTotals() {
	groups := map[string]*taxGroup{}
	var order []string
	grossTotal := decimal.Zero
	for i := range d.Lines {
		l := &d.Lines[i]
		rate := l.TaxRate.Div(hundred)
		amount := l.Quantity.Mul(l.UnitPrice)
		if !l.DiscountPercent.IsZero() {
			amount = amount.Mul(hundred.Sub(l.DiscountPercent)).Div(hundred)
		}
		key := l.taxKey()
		g := groups[key]
		if g == nil {
			g = &taxGroup{rate: rate}
			groups[key] = g
			order = append(order, key)
		}
		if l.PriceIncludesTax {
			g.gross = g.gross.Add(amount)
			grossTotal = grossTotal.Add(amount)
			l.NetAmount = amount.Div(one.Add(rate)).Round(2)
		} else {
			g.net = g.net.Add(amount)
			grossTotal = grossTotal.Add(amount.Mul(one.Add(rate)))
			l.NetAmount = amount.Round(2)
		}
	}
	factor := one
	if dv := d.DiscountValue; dv.IsPositive() && grossTotal.IsPositive() {
		if dv.GreaterThan(grossTotal) {
			dv = grossTotal
		}
		factor = grossTotal.Sub(dv).Div(grossTotal)
	}
	net, tax := decimal.Zero, decimal.Zero
	for _, key := range order {
		g := groups[key]
		netPart, grossPart := g.net.Mul(factor), g.gross.Mul(factor)
		base := netPart.Add(grossPart.Div(one.Add(g.rate))).Round(2)
		net = net.Add(base)
		tax = tax.Add(netPart.Mul(one.Add(g.rate)).Add(grossPart).Round(2).Sub(base))
	}
	d.TotalNet, d.TotalTax, d.TotalGross = net, tax, net.Add(tax)
}

// taxKey groups lines as Metakocka sums them: by tax code, a line without
// one by its rate.
func (l DocumentLine) taxKey() string {
	if l.TaxCode != "" {
		return strings.ToUpper(l.TaxCode)
	}
	return l.TaxRate.String()
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
	v.MaxLen(d.Title, 200, "title")
	v.MaxLen(d.BuyerOrder, 100, "buyerOrder")
	v.MaxLen(d.PaymentMethod, 100, "paymentMethod")
	v.Check(v.Decimal(d.DiscountValue, "discountValue") && !d.DiscountValue.IsNegative(), "discountValue", "must not be negative")
	if a := d.DeliveryAddress; a != nil {
		v.MaxLen(a.Name, 200, "deliveryAddress.name")
		v.MaxLen(a.Street, 150, "deliveryAddress.street")
		v.MaxLen(a.PostNumber, 20, "deliveryAddress.postNumber")
		v.MaxLen(a.City, 100, "deliveryAddress.city")
		v.MaxLen(a.Country, 100, "deliveryAddress.country")
	}
	d.validateKindFields(&v)
	v.Check(len(d.Lines) > 0, "lines", "must have at least one line")
	v.Check(len(d.Lines) <= 1000, "lines", "must have at most 1000 lines")
	for i, l := range d.Lines {
		p := fmt.Sprintf("lines[%d].", i)
		if strings.TrimSpace(l.Description) == "" {
			v.Required(l.ProductID, p+"productId")
		}
		v.MaxLen(l.Description, 1000, p+"description")
		v.MaxLen(l.Unit, 20, p+"unit")
		v.MaxLen(l.TaxCode, 10, p+"taxCode")
		v.Decimal(l.Quantity, p+"quantity")
		v.Check(!l.Quantity.IsZero(), p+"quantity", "must not be 0 (negative for a coupon or a return)")
		v.Decimal(l.UnitPrice, p+"unitPrice")
		v.Check(!l.UnitPrice.IsNegative(), p+"unitPrice", "must not be negative")
		// Compared only when bounded (see Validator.Decimal).
		v.Check(v.Decimal(l.DiscountPercent, p+"discountPercent") && !l.DiscountPercent.IsNegative() && l.DiscountPercent.LessThanOrEqual(hundred),
			p+"discountPercent", "must be between 0 and 100")
		v.Check(v.Decimal(l.TaxRate, p+"taxRate") && !l.TaxRate.IsNegative() && l.TaxRate.LessThan(hundred), p+"taxRate", "must be between 0 and 100")
	}
	return v.Err("sales document")
}

// validateKindFields checks the fields one kind only has: a credit note's
// type and credited invoice (financial and goods notes name one,
// standalone notes none) and the prepayment asked for.
func (d *SalesDocument) validateKindFields(v *Validator) {
	credit := d.Kind == KindCreditNote
	if credit {
		v.OneOf(d.CreditNoteType, []string{"", CreditNoteFinancial, CreditNoteGoods, CreditNoteStandalone}, "creditNoteType")
	} else {
		v.Check(d.CreditNoteType == "", "creditNoteType", "is only for credit notes")
	}
	named := d.CreditedInvoiceID != "" || d.CreditedInvoiceNumber != ""
	switch {
	case !credit:
		v.Check(!named, "creditedInvoiceId", "is only for credit notes")
	case d.CreditNoteType == CreditNoteFinancial || d.CreditNoteType == CreditNoteGoods:
		v.Check(named, "creditedInvoiceId", "is required for a "+d.CreditNoteType+" credit note")
	default:
		v.Check(!named, "creditedInvoiceId", "must be empty for a standalone credit note")
	}
	v.Check(d.CreditedInvoiceID == "" || d.CreditedInvoiceNumber == "", "creditedInvoiceNumber", "must be empty when creditedInvoiceId is set")
	v.MaxLen(d.CreditedInvoiceNumber, 50, "creditedInvoiceNumber")
	v.Check(d.CreditedInvoiceID == "" || d.CreditedInvoiceID != d.ID, "creditedInvoiceId", "must not be the credit note itself")
	v.Check(v.Decimal(d.PrepaymentPercent, "prepaymentPercent") && !d.PrepaymentPercent.IsNegative() && d.PrepaymentPercent.LessThanOrEqual(hundred),
		"prepaymentPercent", "must be between 0 and 100")
	v.Check(v.Decimal(d.PrepaymentValue, "prepaymentValue") && !d.PrepaymentValue.IsNegative(), "prepaymentValue", "must not be negative")
	v.Check(d.PrepaymentPercent.IsZero() || d.PrepaymentValue.IsZero(), "prepaymentValue", "must be 0 when prepaymentPercent is set (one or the other)")
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
