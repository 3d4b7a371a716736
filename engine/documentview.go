package engine

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// documentView is the part of a sales document that syncs with a Metakocka
// document (docs/mapping.md, "Sales documents ⇄ documents"). The partner
// and the products are local ids: the remote side is read through the
// mappings, so one hash compares both sides. Fields added after the first
// release are omitted when empty, so that a document which does not use
// them keeps the hash its mapping was saved with.
type documentView struct {
	Kind          string       `json:"kind"`
	Number        string       `json:"number"`
	Date          string       `json:"date"`
	ContactID     string       `json:"contactId"`
	Currency      string       `json:"currency"`
	Status        string       `json:"status"`
	Notes         string       `json:"notes"`
	DeliveryDate  string       `json:"deliveryDate"`
	DueDate       string       `json:"dueDate"`
	Lines         []lineView   `json:"lines"`
	Title         string       `json:"title,omitempty"`
	BuyerOrder    string       `json:"buyerOrder,omitempty"`
	PaymentMethod string       `json:"paymentMethod,omitempty"`
	DiscountValue string       `json:"discountValue,omitempty"`
	Delivery      *addressView `json:"delivery,omitempty"`
	kindView
}

// lineView is one line. A product line names its product; a free-text
// line has none and carries its text and unit instead (a product line's
// Description is its doc_desc, its unit the product's). Gross says the
// price was entered with tax (price_with_tax); TaxCode keeps one of the
// company's own codes (EX1…EX4) that the rate was read with.
type lineView struct {
	ProductID   string `json:"productId"`
	Quantity    string `json:"quantity"`
	UnitPrice   string `json:"unitPrice"`
	Discount    string `json:"discount"`
	TaxRate     string `json:"taxRate"`
	Description string `json:"description,omitempty"`
	Unit        string `json:"unit,omitempty"`
	Gross       bool   `json:"gross,omitempty"`
	TaxCode     string `json:"taxCode,omitempty"`
}

// addressView is a document's delivery address (Metakocka's receiver).
type addressView struct {
	Name       string `json:"name"`
	Street     string `json:"street"`
	PostNumber string `json:"postNumber"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

const defaultCurrency = "EUR"

func dateText(d *mksync.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// decOrEmpty is d's canonical text, "" for zero (an absent amount).
func decOrEmpty(d decimal.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return dec(d)
}

// exCode returns code upper-cased when it is one of the company's own tax
// codes (EX1…EX4) whose rate is ratePercent, else "": a line keeps such a
// code only while its rate is the code's.
func exCode(code string, ratePercent decimal.Decimal) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if r, ok := metakocka.ExTaxRate(code); ok && r.Mul(hundred).Equal(ratePercent) {
		return code
	}
	return ""
}

func viewOfDocument(d *mksync.SalesDocument) documentView {
	v := documentView{
		Kind: string(d.Kind), Number: d.Number, Date: d.Date.String(), ContactID: d.ContactID,
		Currency: strings.ToUpper(d.Currency), Status: d.Status, Notes: d.Notes,
		DeliveryDate: dateText(d.DeliveryDate), DueDate: dateText(d.DueDate),
		Lines: make([]lineView, len(d.Lines)),
		Title: d.Title, BuyerOrder: d.BuyerOrder, PaymentMethod: d.PaymentMethod, DiscountValue: decOrEmpty(d.DiscountValue),
		kindView: kindViewOf(d),
	}
	if a := d.DeliveryAddress; a != nil && *a != (mksync.Address{}) {
		v.Delivery = &addressView{Name: a.Name, Street: a.Street, PostNumber: a.PostNumber, City: a.City, Country: a.Country}
	}
	if v.Currency == "" {
		v.Currency = defaultCurrency
	}
	for i, l := range d.Lines {
		lv := lineView{ProductID: l.ProductID, Quantity: dec(l.Quantity), UnitPrice: dec(l.UnitPrice),
			Discount: dec(l.DiscountPercent), TaxRate: dec(l.TaxRate), Description: l.Description,
			Gross: l.PriceIncludesTax, TaxCode: exCode(l.TaxCode, l.TaxRate)}
		if l.ProductID == "" {
			lv.Unit = l.Unit
		}
		v.Lines[i] = lv
	}
	return v
}

// applyTo writes a view onto a local document; d carries the id and
// version of an existing document (zero for a new one).
func (v documentView) applyTo(d *mksync.SalesDocument) error {
	d.Kind, d.Number, d.ContactID, d.Currency, d.Status, d.Notes =
		mksync.DocumentKind(v.Kind), v.Number, v.ContactID, v.Currency, v.Status, v.Notes
	d.Title, d.BuyerOrder, d.PaymentMethod, d.DiscountValue = v.Title, v.BuyerOrder, v.PaymentMethod, parseDec(v.DiscountValue)
	d.DeliveryAddress = nil
	if a := v.Delivery; a != nil {
		d.DeliveryAddress = &mksync.Address{Name: a.Name, Street: a.Street, PostNumber: a.PostNumber, City: a.City, Country: a.Country}
	}
	var err error
	if d.Date, err = mksync.ParseDate(v.Date); err != nil {
		return err
	}
	opt := func(s string) (*mksync.Date, error) {
		if s == "" {
			return nil, nil
		}
		dt, err := mksync.ParseDate(s)
		return &dt, err
	}
	if d.DeliveryDate, err = opt(v.DeliveryDate); err != nil {
		return err
	}
	if d.DueDate, err = opt(v.DueDate); err != nil {
		return err
	}
	if err := v.kindView.applyTo(d); err != nil {
		return err
	}
	d.Lines = v.lines()
	d.ComputeTotals()
	return d.Validate()
}

// lines are the view's lines as the CRM's.
func (v documentView) lines() []mksync.DocumentLine {
	out := make([]mksync.DocumentLine, len(v.Lines))
	for i, l := range v.Lines {
		out[i] = mksync.DocumentLine{ProductID: l.ProductID, Description: l.Description, Unit: l.Unit,
			Quantity: parseDec(l.Quantity), UnitPrice: parseDec(l.UnitPrice), PriceIncludesTax: l.Gross,
			DiscountPercent: parseDec(l.Discount), TaxRate: parseDec(l.TaxRate), TaxCode: l.TaxCode}
	}
	return out
}

// readMkHead reads the head fields of a Metakocka document that the view
// maps beside the dates and the partner.
func readMkHead(v *documentView, d *metakocka.Document) {
	v.Title, v.BuyerOrder, v.PaymentMethod = d.Title, d.BuyerOrder, d.MethodOfPayment
	if d.DiscountValue.Valid {
		v.DiscountValue = decOrEmpty(d.DiscountValue.Value)
	}
	if r := d.Receiver; r != nil {
		a := addressView{Name: r.Customer, Street: r.Street, PostNumber: r.PostNumber, City: r.Place, Country: r.Country}
		if a != (addressView{}) {
			v.Delivery = &a
		}
	}
}

// writeMkHead writes the view's head fields onto md. A delivery address
// that did not change keeps the receiver as Metakocka holds it (its mk_id
// and the fields the CRM does not map).
func writeMkHead(md *metakocka.Document, v documentView) {
	md.Title, md.BuyerOrder, md.MethodOfPayment = v.Title, v.BuyerOrder, v.PaymentMethod
	switch {
	case v.DiscountValue == "":
		md.DiscountValue = metakocka.Decimal{}
	case !md.DiscountValue.Same(parseDec(v.DiscountValue)):
		md.DiscountValue = metakocka.NewDecimal(parseDec(v.DiscountValue))
	}
	var had documentView
	readMkHead(&had, md)
	switch a := v.Delivery; {
	case a == nil:
		md.Receiver = nil
	case had.Delivery == nil || *had.Delivery != *a:
		md.Receiver = &metakocka.Partner{Customer: a.Name, Street: a.Street, PostNumber: a.PostNumber, Place: a.City, Country: a.Country}
	}
}

// combinedDiscount turns cascaded discounts ("10;5") into one percentage.
func combinedDiscount(l metakocka.DocumentLine) (decimal.Decimal, error) {
	ds, err := l.Discounts()
	if err != nil {
		return decimal.Zero, mksync.Errorf(mksync.EINVALID, "line discount %q is not a number", l.Discount)
	}
	keep := decimal.NewFromInt(1)
	for _, d := range ds {
		keep = keep.Mul(hundred.Sub(d).Div(hundred))
	}
	return hundred.Sub(keep.Mul(hundred)), nil
}

// freeTextRow reports whether a document row has no catalogue product: it
// names none (a free-text line, which get_document answers with its name
// and unit only).
func freeTextRow(row metakocka.DocumentLine) bool {
	return row.MkID == "" && row.CountCode == "" && row.Code == ""
}

// lineOfMkRow reads a document row as a line; productID is the local
// product ("" for a free-text row).
func lineOfMkRow(row metakocka.DocumentLine, productID string) (lineView, error) {
	rate, err := taxRatePercent(row.Tax, row.TaxFactor)
	if err != nil {
		return lineView{}, err
	}
	disc, err := combinedDiscount(row)
	if err != nil {
		return lineView{}, err
	}
	l := lineView{ProductID: productID, Quantity: optDec(row.Amount), UnitPrice: optDec(row.Price),
		Discount: dec(disc), TaxRate: dec(rate), TaxCode: exCode(row.Tax, rate), Description: row.DocDesc}
	if !row.Price.Valid && row.PriceWithTax.Valid {
		l.UnitPrice, l.Gross = optDec(row.PriceWithTax), true
	}
	if productID == "" {
		l.Description, l.Unit = row.Name, row.Unit
	}
	return l, nil
}

// faithful refuses a Metakocka document the CRM cannot hold as it is, so
// that it is neither pulled lossy nor written back over: a document
// discount in percent (not modelled), a negative price (the CRM takes a
// negative quantity instead), and above all sums the CRM's lines do not
// reproduce to the cent.
func faithful(v documentView, d *metakocka.Document) error {
	if d.DocType == metakocka.DocSalesBillCreditNote {
		switch d.CreditNoteType {
		case metakocka.CreditNoteFinancial, metakocka.CreditNoteGoods, metakocka.CreditNoteStandalone:
		default:
			return mksync.Errorf(mksync.EINVALID, "Metakocka credit note %s has credit_note_type %q, which the CRM does not know (financial, goods or standalone); it is not synced", d.MkID, d.CreditNoteType)
		}
	}
	if d.DiscountPercent.Valid && !d.DiscountPercent.Value.IsZero() {
		return mksync.Errorf(mksync.EINVALID, "Metakocka document %s has a document discount_percent of %s %%, which the CRM does not hold; it is not synced", d.MkID, d.DiscountPercent.Value)
	}
	for i, l := range v.Lines {
		if parseDec(l.UnitPrice).IsNegative() {
			return mksync.Errorf(mksync.EINVALID, "Metakocka document %s line %d has a negative price %s, which the CRM holds only as a negative quantity; it is not synced", d.MkID, i+1, l.UnitPrice)
		}
	}
	doc := mksync.SalesDocument{Lines: v.lines(), DiscountValue: parseDec(v.DiscountValue)}
	doc.ComputeTotals()
	if d.SumAll.Valid && !doc.TotalGross.Equal(d.SumAll.Value) {
		return mksync.Errorf(mksync.EINVALID, "Metakocka document %s totals %s (sum_all) but its lines total %s in the CRM; it is not synced", d.MkID, d.SumAll.Value, doc.TotalGross)
	}
	if d.SumBasic.Valid && !doc.TotalNet.Equal(d.SumBasic.Value) {
		return mksync.Errorf(mksync.EINVALID, "Metakocka document %s has a net total %s (sum_basic) but its lines give %s in the CRM; it is not synced", d.MkID, d.SumBasic.Value, doc.TotalNet)
	}
	return nil
}

// sameRowTarget reports whether the Metakocka row old is the one line l
// (whose product is mkID in Metakocka) replaces: the same product, or both
// free text.
func sameRowTarget(old metakocka.DocumentLine, l lineView, mkID string) bool {
	if l.ProductID == "" {
		return freeTextRow(old)
	}
	return old.MkID != "" && old.MkID == mkID
}

// keepDec is had when it already means v (so it goes back in the form
// Metakocka wrote it, "119,99"), else v.
func keepDec(had metakocka.Decimal, v decimal.Decimal) metakocka.Decimal {
	if had.Same(v) {
		return had
	}
	return metakocka.NewDecimal(v)
}

// fillMkRow writes line l onto the row base (the row it replaces, or an
// empty one) and returns it. The price goes back in the form the line was
// entered (price_with_tax for a gross line); a discount and a tax code
// that still mean the line's values stay as Metakocka wrote them
// ("10;5", "EX4"), so what the CRM did not change is not rewritten.
func fillMkRow(base metakocka.DocumentLine, l lineView, mkID string) (metakocka.DocumentLine, error) {
	row := base
	if l.ProductID == "" {
		row.MkID, row.CountCode, row.Code, row.Name, row.Unit = "", "", "", l.Description, l.Unit
	} else {
		row.MkID, row.DocDesc = mkID, l.Description
	}
	qty, price, disc, rate := parseDec(l.Quantity), parseDec(l.UnitPrice), parseDec(l.Discount), parseDec(l.TaxRate)
	row.Amount = keepDec(base.Amount, qty)
	if l.Gross {
		row.Price, row.PriceWithTax = metakocka.Decimal{}, keepDec(base.PriceWithTax, price)
	} else {
		row.Price, row.PriceWithTax = keepDec(base.Price, price), metakocka.Decimal{}
	}
	if had, err := combinedDiscount(base); err != nil || !had.Equal(disc) {
		row.Discount = decOrEmpty(disc)
	}
	if had, err := taxRatePercent(base.Tax, base.TaxFactor); err == nil && had.Equal(rate) && (base.Tax != "" || base.TaxFactor.Valid) &&
		exCode(base.Tax, had) == l.TaxCode {
		return row, nil
	}
	row.TaxFactor, row.TaxDesc = metakocka.Decimal{}, ""
	if l.TaxCode != "" {
		row.Tax = l.TaxCode
		return row, nil
	}
	code, err := taxCode(rate)
	if err != nil {
		return row, err
	}
	row.Tax = code
	return row, nil
}

// headUpdate returns the update_document request that turns the Metakocka
// document remote (whose view is had) into v, when the change is one
// update_document documents: on a sales order the status, notes, coupon
// (discount_value) and receiver (documents_update_document_sales_order.md;
// the receiver is sent whole, as the put path writes it); on a domestic or foreign bill
// the status only (documents_update_document_bill.md). ok is false for
// any other change (the lines, the partner, dates…) or a field emptied in
// a way the docs do not show, which a whole put_document writes instead.
func headUpdate(remote *metakocka.Document, had, v documentView) (metakocka.DocumentUpdate, bool) {
	u := metakocka.DocumentUpdate{DocType: remote.DocType, MkID: remote.MkID}
	order := remote.DocType == metakocka.DocSalesOrder
	if !order && remote.DocType != metakocka.DocSalesBillDomestic && remote.DocType != metakocka.DocSalesBillForeign {
		return u, false
	}
	rest := func(x documentView) string {
		x.Number, x.Status = "", ""
		if order {
			x.Notes, x.DiscountValue, x.Delivery = "", "", nil
		}
		return payloadHash(x)
	}
	if v.Number != had.Number || rest(v) != rest(had) || payloadHash(v) == payloadHash(had) {
		return u, false
	}
	if v.Status != had.Status {
		if v.Status == "" {
			return u, false
		}
		u.StatusCode = v.Status
	}
	if !order {
		return u, true
	}
	if v.Notes != had.Notes {
		u.Notes = v.Notes
		if v.Notes == "" {
			u.Clear = []string{"notes"}
		}
	}
	if v.DiscountValue != had.DiscountValue {
		if v.DiscountValue == "" {
			return u, false
		}
		u.DiscountValue = metakocka.NewDecimal(parseDec(v.DiscountValue))
	}
	if (v.Delivery == nil) != (had.Delivery == nil) || v.Delivery != nil && *v.Delivery != *had.Delivery {
		if v.Delivery == nil {
			return u, false
		}
		a := v.Delivery
		u.Receiver = &metakocka.Partner{Customer: a.Name, Street: a.Street, PostNumber: a.PostNumber, Place: a.City, Country: a.Country}
	}
	return u, true
}
