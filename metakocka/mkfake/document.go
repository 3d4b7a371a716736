package mkfake

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Document is a sales document (offer, order or bill) as the simulator
// stores it.
type Document struct {
	MkID      string      `json:"mk_id"`
	DocType   string      `json:"doc_type"`
	CountCode string      `json:"count_code"`
	DocDate   string      `json:"doc_date"`
	Partner   DocPartner  `json:"partner"`
	Receiver  *DocPartner `json:"receiver,omitempty"`
	Products  []DocRow    `json:"product_list"`
	// Fields are the other head attributes given (title, buyer_order,
	// status_code, notes, currency_code, ...), answered back as given.
	Fields map[string]any `json:"fields,omitempty"`
	// Sums are the calculated sum_* values.
	Sums       map[string]string `json:"sums"`
	LastChange time.Time         `json:"last_change"`
}

// DocPartner is the partner (or receiver) of a document: the stored
// partner it resolved to and that partner's data.
type DocPartner struct {
	MkID           string          `json:"mk_id"`
	CountCode      string          `json:"count_code"`
	MkAddressID    string          `json:"mk_address_id"`
	Customer       string          `json:"customer"`
	BusinessEntity bool            `json:"business_entity"`
	Taxpayer       bool            `json:"taxpayer"`
	ForeignCounty  bool            `json:"foreign_county"`
	TaxIDNumber    string          `json:"tax_id_number,omitempty"`
	Street         string          `json:"street,omitempty"`
	PostNumber     string          `json:"post_number,omitempty"`
	Place          string          `json:"place,omitempty"`
	Province       string          `json:"province,omitempty"`
	Country        string          `json:"country,omitempty"`
	Contact        *PartnerContact `json:"partner_contact,omitempty"`
}

// DocRow is one product row of a document. Numbers are decimal strings
// with a dot; MkID, CountCode and Code are the product's.
type DocRow struct {
	MkRowID      string `json:"mk_row_id"`
	MkID         string `json:"mk_id"`
	CountCode    string `json:"count_code"`
	Code         string `json:"code"`
	Name         string `json:"name,omitempty"`
	NameDesc     string `json:"name_desc,omitempty"`
	Unit         string `json:"unit,omitempty"`
	DocDesc      string `json:"doc_desc,omitempty"`
	Amount       string `json:"amount"`
	Price        string `json:"price,omitempty"`
	PriceWithTax string `json:"price_with_tax,omitempty"`
	Discount     string `json:"discount,omitempty"`
	Tax          string `json:"tax,omitempty"`
	TaxFactor    string `json:"tax_factor,omitempty"`
}

// docRec is a stored document.
type docRec struct {
	Document
	seq       uint64
	changeSeq uint64
	deleted   bool
	created   time.Time // its first touch: document_info's NEW
	// content is its last change other than of the status alone
	// (document_info's CHANGE); statuses its status changes.
	content  time.Time
	statuses []statusEvent
}

func (d *Document) clone() Document {
	out := *d
	if d.Receiver != nil {
		r := *d.Receiver
		out.Receiver = &r
	}
	if d.Partner.Contact != nil {
		ct := *d.Partner.Contact
		out.Partner.Contact = &ct
	}
	out.Products = slices.Clone(d.Products)
	out.Fields = copyMap(d.Fields)
	out.Sums = make(map[string]string, len(d.Sums))
	for k, v := range d.Sums {
		out.Sums[k] = v
	}
	return out
}

// Documents returns copies of a company's documents of every type in
// mk_id order; nil for an unknown company.
func (s *Server) Documents(companyID string) []Document {
	return snapshot(s, companyID, (*company).documentsInOrder, func(d *docRec) Document { return d.clone() })
}

// DocumentID names one stored document.
type DocumentID struct {
	DocType string
	MkID    string
}

// DocumentIDs returns the type and mk_id of a company's documents of every
// type in mk_id order, without copying the documents.
func (s *Server) DocumentIDs(companyID string) []DocumentID {
	return snapshot(s, companyID, (*company).documentsInOrder, func(d *docRec) DocumentID {
		return DocumentID{DocType: d.DocType, MkID: d.MkID}
	})
}

// documentsInOrder returns the documents of every type in mk_id order.
// Callers hold c.mu.
func (c *company) documentsInOrder() []*docRec {
	var all []*docRec
	for _, list := range c.docsByType {
		all = append(all, list...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	return all
}

// docTypes are the document types the simulator keeps, with the format of
// the count_codes it generates for them.
var docTypes = map[string]struct {
	codeFormat string
	codeStart  uint64
}{
	"sales_offer":            {"PP1_%d", 100},
	"sales_order":            {"PP-%d", 10000},
	"sales_bill_domestic":    {"1-MK-%d", 1000},
	"sales_bill_foreign":     {"2-MK-%d", 1000},
	"sales_bill_retail":      {"3-MK-%d", 1000},
	"sales_bill_credit_note": {"1-DBP-%d", 1000},
	"sales_bill_prepaid":     {"1-AV-%d", 1000},
}

// creditNoteBillTypes are the bill types a sales credit note may name in
// credit_note_bill.
var creditNoteBillTypes = []string{"sales_bill_domestic", "sales_bill_foreign", "sales_bill_retail"}

// paid reports whether a document's payments (sum_paid) cover its sum_all.
func (d *docRec) paid() bool {
	all, _, _ := decimalOf("", d.Sums["sum_all"])
	paid, ok, _ := decimalOf("", d.Sums["sum_paid"])
	return ok && paid.GreaterThanOrEqual(all)
}

func checkDocType(t string) error {
	if t == "" {
		return invalidf("Paramether 'doc_type' is required")
	}
	if _, ok := docTypes[t]; !ok {
		return invalidf("Unknown document type : %s", t)
	}
	return nil
}

// docHeadReserved are request keys that are not stored in Document.Fields.
var docHeadReserved = map[string]bool{
	"secret_key": true, "company_id": true, "doc_type": true, "mk_id": true, "count_code": true,
	"doc_date": true, "partner": true, "receiver": true, "product_list": true, "create_invoice": true,
	"document_change_log_notes": true, "doc_id": true,
}

// docDateFields are head attributes holding dates, normalised on input.
var docDateFields = map[string]bool{
	"duo_payment": true, "service_to_date": true, "service_from_date": true, "delivery_deadline": true,
	"finish_date": true, "valid_to": true, "shipped_date": true, "shipped_date_expected_seller": true,
	"receive_date": true,
}

// resolvePartner finds or creates the stored partner a document's partner
// object names: by mk_id, then count_code, then tax_id_number, then the
// same name, street and post number; otherwise a new partner (a buyer) is
// created from the object. Callers hold c.mu.
func (s *Server) resolvePartner(c *company, in obj) (*partnerRec, error) {
	if id := field(in, "mk_id"); id != "" {
		if p := c.partnerByID[id]; p != nil {
			return p, nil
		}
		return nil, refusedf("Cannot find partner with mk_id '%s'", id)
	}
	if code := field(in, "count_code"); code != "" {
		if p := c.partnerByCode[code]; p != nil {
			return p, nil
		}
	}
	if p := c.partnerByTax.first(taxKey(field(in, "tax_id_number"))); p != nil {
		return p, nil
	}
	if p := c.partnerByAddr.first(addrKey(field(in, "customer"), field(in, "street"), field(in, "post_number"))); p != nil {
		return p, nil
	}
	return s.createPartner(c, in)
}

func docPartnerOf(p *partnerRec) DocPartner {
	m := p.main()
	dp := DocPartner{
		MkID: p.MkID, CountCode: p.CountCode, MkAddressID: m.MkID, Customer: p.Customer,
		BusinessEntity: p.BusinessEntity, Taxpayer: p.Taxpayer, ForeignCounty: p.ForeignCounty,
		TaxIDNumber: p.TaxIDNumber, Street: m.Street, PostNumber: m.PostNumber, Place: m.City,
		Province: m.Province, Country: m.Country,
	}
	if len(p.Contacts) > 0 {
		ct := p.Contacts[0]
		dp.Contact = &ct
	}
	return dp
}

// buildRows resolves a product_list to document rows; a product that does
// not exist is created when the row has name and unit, as Metakocka does.
// Callers hold c.mu.
func (s *Server) buildRows(c *company, list any) ([]DocRow, error) {
	ins := objects(list)
	rows := make([]DocRow, 0, len(ins))
	for _, in := range ins {
		var p *productRec
		if freeText(in) {
			// A line without a catalogue product: only its name (and
			// unit), as get_document answers such lines.
			p = &productRec{Product: Product{Unit: field(in, "unit"), Service: true}}
		} else {
			var err error
			if p, err = s.rowProduct(c, in); err != nil {
				return nil, err
			}
		}
		row := DocRow{
			MkID: p.MkID, CountCode: p.CountCode, Code: p.Code, Name: p.Name, NameDesc: p.NameDesc,
			Unit: p.Unit, DocDesc: field(in, "doc_desc"),
		}
		if v := field(in, "name"); v != "" {
			row.Name = v
		}
		if _, ok, err := decimalOf("amount", in["amount"]); err != nil {
			return nil, err
		} else if !ok {
			return nil, invalidf("Paramether 'amount' is required for product '%s'", p.Code)
		}
		row.Amount = normNumber(in["amount"])
		if amt, _, _ := decimalOf("", row.Amount); amt.IsNegative() && !p.Service {
			// documents_concept.md: a negative product "must be service".
			return nil, refusedf("Negative amount is allowed only for service product '%s'", p.Code)
		}
		for key, dst := range map[string]*string{"price": &row.Price, "price_with_tax": &row.PriceWithTax, "tax_factor": &row.TaxFactor} {
			if _, ok, err := decimalOf(key, in[key]); err != nil {
				return nil, err
			} else if ok {
				*dst = normNumber(in[key])
			}
		}
		if d := field(in, "discount"); d != "" {
			for _, part := range strings.Split(d, ";") {
				if _, _, err := decimalOf("discount", part); err != nil {
					return nil, err
				}
			}
			row.Discount = d
		}
		if t := field(in, "tax"); t != "" {
			if _, err := taxRate(t); err != nil {
				return nil, err
			}
			row.Tax = strings.ToUpper(t)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// freeText reports whether a document row is a free-text line: a name and
// no mk_id, count_code or code.
func freeText(in obj) bool {
	return field(in, "name") != "" && field(in, "mk_id") == "" && field(in, "count_code") == "" && field(in, "code") == ""
}

// rowProduct finds the product of a document row by mk_id, count_code or
// code, creating it when unknown and the row has a unit.
func (s *Server) rowProduct(c *company, in obj) (*productRec, error) {
	id, code, item := field(in, "mk_id"), field(in, "count_code"), field(in, "code")
	if id != "" {
		if p := c.productByID[id]; p != nil {
			return p, nil
		}
	}
	if code != "" {
		if p := c.productByCode[code]; p != nil {
			return p, nil
		}
	}
	if item != "" {
		if p := c.productByItem[item]; p != nil {
			return p, nil
		}
	}
	what := "code " + item
	switch {
	case item == "" && code != "":
		what = "count_code " + code
	case item == "" && id != "":
		what = "mk_id " + id
	}
	if field(in, "unit") == "" || item == "" {
		return nil, invalidf("Product with %s not found - unit must be set to add new product", what)
	}
	add := obj{}
	for _, k := range []string{"count_code", "code", "name", "name_desc", "unit", "service", "sales", "purchasing", "barcode"} {
		if v, ok := in[k]; ok {
			add[k] = v
		}
	}
	if field(add, "name") == "" {
		add["name"] = item
	}
	if _, ok := add["sales"]; !ok {
		add["sales"] = "true"
	}
	return s.createProduct(c, add)
}

// useProducts adds delta to the in-use count of the rows' products.
func (c *company) useProducts(rows []DocRow, delta int) {
	for _, r := range rows {
		if p := c.productByID[r.MkID]; p != nil {
			p.InUse += delta
		}
	}
}

// rowRate is the tax code and rate of a row: its tax code's rate, or its
// tax_factor when it has no code; "000" without either.
func rowRate(r DocRow) (string, decimal.Decimal) {
	code := r.Tax
	if r.TaxFactor != "" {
		rate, _, _ := decimalOf("", r.TaxFactor)
		if code == "" {
			code = taxCodeOf(rate)
		}
		return code, rate
	}
	if code == "" {
		return "000", decimal.Zero
	}
	rate, _ := taxRate(code)
	return code, rate
}

// docSums calculates a document's sum_* values as Metakocka does. Each row
// is amount × unit price less its discounts ("10;5" cascade); a row entered
// with price is net, one entered with only price_with_tax is gross, and a
// gross row's net is its gross divided by 1 + rate (so 1 × 100 gross at
// EX4 is 81.97 + 18.03 = 100.00). discount_value is the webshop coupon on
// the gross total (documents_concept.md: 1 × 100 gross with discount_value
// 10 gives sum_all 90): every row is reduced by the same fraction
// (gross − coupon) / gross. Per tax code the net base and tax are rounded
// to cents (the tax as the rounded gross less the rounded base); sum_basic
// is the sum of the rounded bases, sum_all of
// sum_basic and the rounded taxes. sum_discount is the rows' net discounts
// plus discount_value. prepayment comes from prepayment_value or
// prepayment_percent of sum_all; sum_paid from the payments in mark_paid
// (a payment without an amount pays the whole document).
func docSums(rows []DocRow, fields map[string]any) map[string]string {
	hundred := decimal.NewFromInt(100)
	one := decimal.NewFromInt(1)
	type part struct{ net, gross, rate decimal.Decimal } // net- and gross-entered amounts
	parts := map[string]*part{}
	var order []string
	disc := decimal.Zero
	grossTotal := decimal.Zero
	for _, r := range rows {
		amount, _, _ := decimalOf("", r.Amount)
		code, rate := rowRate(r)
		p := parts[code]
		if p == nil {
			p = &part{rate: rate}
			parts[code] = p
			order = append(order, code)
		}
		isGross := r.Price == "" && r.PriceWithTax != ""
		priced := r.Price
		if isGross {
			priced = r.PriceWithTax
		}
		unit, _, _ := decimalOf("", priced)
		full := amount.Mul(unit)
		line := full
		if r.Discount != "" {
			for _, d := range strings.Split(r.Discount, ";") {
				pct, _, _ := decimalOf("", d)
				line = line.Mul(hundred.Sub(pct)).Div(hundred)
			}
		}
		if isGross {
			p.gross = p.gross.Add(line)
			disc = disc.Add(full.Sub(line).Div(one.Add(rate)))
			grossTotal = grossTotal.Add(line)
		} else {
			p.net = p.net.Add(line)
			disc = disc.Add(full.Sub(line))
			grossTotal = grossTotal.Add(line.Mul(one.Add(rate)))
		}
	}
	factor := one
	if dv, ok, _ := decimalOf("", fields["discount_value"]); ok && grossTotal.IsPositive() && dv.IsPositive() {
		if dv.GreaterThan(grossTotal) {
			dv = grossTotal
		}
		factor = grossTotal.Sub(dv).Div(grossTotal)
		disc = disc.Add(dv)
	}
	basic, total := decimal.Zero, decimal.Zero
	sums := map[string]string{}
	for _, code := range order {
		p := parts[code]
		netPart := p.net.Mul(factor)
		grossPart := p.gross.Mul(factor)
		base := netPart.Add(grossPart.Div(one.Add(p.rate))).Round(2)
		// The tax is what the rounded gross adds to the rounded base, so
		// that a gross-priced document totals exactly its gross.
		tax := netPart.Mul(one.Add(p.rate)).Add(grossPart).Round(2).Sub(base)
		basic = basic.Add(base)
		total = total.Add(base).Add(tax)
		sums["sum_tax_"+strings.ToLower(code)] = tax.String()
	}
	sums["sum_basic"] = basic.String()
	sums["sum_all"] = total.String()
	if disc.Round(2).IsPositive() {
		sums["sum_discount"] = disc.Round(2).String()
	}
	if pv, ok, _ := decimalOf("", fields["prepayment_value"]); ok {
		sums["sum_prepayment"] = pv.Round(2).String()
	} else if pp, ok, _ := decimalOf("", fields["prepayment_percent"]); ok {
		sums["sum_prepayment"] = total.Mul(pp).Div(hundred).Round(2).String()
	}
	if paid, ok := paidOf(fields["mark_paid"], total); ok {
		sums["sum_paid"] = paid.String()
	}
	return sums
}

// paidOf sums the payments of a mark_paid list; a payment without an amount
// pays the whole document (total).
func paidOf(v any, total decimal.Decimal) (decimal.Decimal, bool) {
	pays := objects(v)
	if len(pays) == 0 {
		return decimal.Zero, false
	}
	sum := decimal.Zero
	for _, p := range pays {
		amt, ok, _ := decimalOf("", p["amount"])
		if !ok {
			return total, true
		}
		sum = sum.Add(amt)
	}
	return sum.Round(2), true
}

// touchDoc records a change of d at now. Callers hold c.mu.
func (c *company) touchDoc(d *docRec, now time.Time) {
	if d.created.IsZero() {
		d.created = now
	}
	d.LastChange = now
	d.changeSeq++
	log := c.changeLog[d.DocType]
	if len(log) > 0 && now.Before(log[len(log)-1].at) {
		c.logSorted[d.DocType] = false
	} else if len(log) == 0 {
		c.logSorted[d.DocType] = true
	}
	log = append(log, changeEntry{at: now, changeSeq: d.changeSeq, doc: d})
	// Drop stale entries once they outnumber the live ones.
	if live := len(c.docsByType[d.DocType]); len(log) > 2*live+1024 {
		log = slices.DeleteFunc(log, func(e changeEntry) bool { return e.doc.deleted || e.changeSeq != e.doc.changeSeq })
		sorted := slices.IsSortedFunc(log, func(a, b changeEntry) int { return a.at.Compare(b.at) })
		c.logSorted[d.DocType] = sorted
	}
	c.changeLog[d.DocType] = log
}

// putDocument: put_document; a new document, or with mk_id the whole
// document replaced (its count_code kept).
func (s *Server) putDocument(c *company, req obj) (obj, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.putDocumentLocked(c, req)
}

// putDocumentLocked is putDocument for callers holding c.mu.
func (s *Server) putDocumentLocked(c *company, req obj) (obj, error) {
	docType := field(req, "doc_type")
	if err := checkDocType(docType); err != nil {
		return nil, err
	}
	var linked *docRec
	if docType == "sales_bill_credit_note" {
		var err error
		if linked, err = c.creditNoteBill(req); err != nil {
			return nil, err
		}
	}
	pin, ok := req["partner"].(map[string]any)
	if !ok && linked != nil {
		// "Create credit note without Partner information": the linked
		// invoice's partner.
		pin, ok = obj{"mk_id": linked.Partner.MkID}, true
	}
	if !ok {
		return nil, invalidf("Paramether 'partner' is required")
	}
	if len(objects(req["product_list"])) == 0 {
		return nil, invalidf("Paramether 'product_list' is required")
	}
	docDate := field(req, "doc_date")
	if docDate != "" {
		if _, err := s.parseDate(docDate); err != nil {
			return nil, invalidf("Paramether 'doc_date' has invalid value : %s", docDate)
		}
	}

	var old *docRec
	if id := field(req, "mk_id"); id != "" {
		old = c.docByID[id]
		if old == nil || old.DocType != docType {
			return nil, refusedf("Cannot find document %s with mk_id '%s'", docType, id)
		}
	}
	code := field(req, "count_code")
	prefix, forced := strings.CutPrefix(code, "COUNT_CODE_SELECT#")
	if old == nil && code != "" && !forced && c.docByCode[docType][code] != nil {
		return nil, refusedf("Document %s with count_code '%s' already exists", docType, code)
	}
	// Validate rows before creating partners or products: resolve rows of
	// known products first, so a failing request changes nothing it need not.
	for _, in := range objects(req["product_list"]) {
		if _, ok, err := decimalOf("amount", in["amount"]); err != nil {
			return nil, err
		} else if !ok {
			return nil, invalidf("Paramether 'amount' is required for product '%s'", field(in, "code"))
		}
	}
	p, err := s.resolvePartner(c, pin)
	if err != nil {
		return nil, err
	}
	var recv *DocPartner
	if rin, ok := req["receiver"].(map[string]any); ok && len(rin) > 0 {
		r, err := s.resolvePartner(c, rin)
		if err != nil {
			return nil, err
		}
		dp := docPartnerOf(r)
		recv = &dp
	}
	rows, err := s.buildRows(c, req["product_list"])
	if err != nil {
		return nil, err
	}
	if linked != nil {
		if err := c.checkCreditNoteRows(field(req, "credit_note_type"), rows, linked); err != nil {
			return nil, err
		}
	}
	fields := map[string]any{}
	for k, v := range req {
		if docHeadReserved[k] || v == nil {
			continue
		}
		if docDateFields[k] {
			if _, err := s.parseDate(str(v)); err != nil {
				return nil, invalidf("Paramether '%s' has invalid value : %s", k, str(v))
			}
			fields[k] = s.normDate(str(v))
			continue
		}
		fields[k] = copyAny(v)
	}
	now := s.now()
	if docDate == "" {
		docDate = s.formatDate(now)
	} else {
		docDate = s.normDate(docDate)
	}

	d := old
	if d == nil {
		d = &docRec{}
		d.MkID, d.seq = c.nextID()
		d.DocType = docType
		spec := docTypes[docType]
		taken := func(k string) bool { return c.docByCode[docType][k] != nil }
		switch {
		case forced:
			d.CountCode = c.nextCode(docType+"#"+prefix, prefix+"%d", 1, taken)
		case code != "":
			d.CountCode = code
		default:
			d.CountCode = c.nextCode(docType, spec.codeFormat, spec.codeStart, taken)
		}
		c.docByID[d.MkID] = d
		c.docsByType[docType] = append(c.docsByType[docType], d)
		if c.docByCode[docType] == nil {
			c.docByCode[docType] = map[string]*docRec{}
			c.docByOrder[docType] = newMultiIndex[docRec]()
		}
		c.docByCode[docType][d.CountCode] = d
	} else {
		c.useProducts(d.Products, -1)
		c.docByOrder[docType].remove(field(d.Fields, "buyer_order"), d)
	}
	for i := range rows {
		rows[i].MkRowID, _ = c.nextID()
	}
	d.DocDate = docDate
	d.Partner = docPartnerOf(p)
	d.Receiver = recv
	d.Products = rows
	d.Fields = fields
	d.Sums = docSums(rows, fields)
	c.useProducts(rows, 1)
	c.docByOrder[docType].add(field(fields, "buyer_order"), d)
	d.content = now
	c.touchDoc(d, now)
	return obj{"mk_id": d.MkID, "count_code": d.CountCode}, nil
}

// creditNoteBill checks a sales credit note's credit_note_type and returns
// the invoice its credit_note_bill names: the newest sales bill with that
// count_code, as documented. A "standalone" credit note names no invoice
// (nil); "financial" and "goods" ones must. Callers hold c.mu.
func (c *company) creditNoteBill(req obj) (*docRec, error) {
	switch t := field(req, "credit_note_type"); t {
	case "standalone":
		return nil, nil
	case "financial", "goods":
	case "":
		return nil, invalidf("Paramether 'credit_note_type' is required. Valid values : financial,goods,standalone")
	default:
		return nil, invalidf("Paramether 'credit_note_type' has invalid value : %s. Valid values : financial,goods,standalone", t)
	}
	code := field(req, "credit_note_bill")
	if code == "" {
		return nil, invalidf("Paramether 'credit_note_bill' is required")
	}
	var bill *docRec
	for _, t := range creditNoteBillTypes {
		if d := c.docByCode[t][code]; d != nil && (bill == nil || d.seq > bill.seq) {
			bill = d
		}
	}
	if bill == nil {
		return nil, refusedf("Cannot find bill with count_code '%s'", code)
	}
	return bill, nil
}

// checkCreditNoteRows applies the documented row rules of credit notes: a
// financial one has only service products, a goods one only products of
// the linked invoice. Callers hold c.mu.
func (c *company) checkCreditNoteRows(kind string, rows []DocRow, bill *docRec) error {
	for _, r := range rows {
		switch kind {
		case "financial":
			if p := c.productByID[r.MkID]; p == nil || !p.Service {
				return refusedf("Product '%s' on financial credit note must be service", r.Code)
			}
		case "goods":
			if !slices.ContainsFunc(bill.Products, func(b DocRow) bool { return b.MkID == r.MkID }) {
				return refusedf("Product '%s' is not on bill %s", r.Code, bill.CountCode)
			}
		}
	}
	return nil
}

// findDoc selects a document of docType by mk_id (or doc_id), else by
// count_code, else by buyer_order.
func (c *company) findDoc(docType string, req obj) (*docRec, error) {
	id := field(req, "mk_id")
	if id == "" {
		id = field(req, "doc_id")
	}
	if id != "" {
		if d := c.docByID[id]; d != nil && d.DocType == docType {
			return d, nil
		}
		return nil, refusedf("Cannot find document %s with mk_id '%s'", docType, id)
	}
	if code := field(req, "count_code"); code != "" {
		if d := c.docByCode[docType][code]; d != nil {
			return d, nil
		}
		return nil, refusedf("Cannot find document %s with count_code '%s'", docType, code)
	}
	if bo := field(req, "buyer_order"); bo != "" {
		if d := c.docByOrder[docType].first(bo); d != nil {
			return d, nil
		}
		return nil, refusedf("Cannot find document %s with buyer_order '%s'", docType, bo)
	}
	return nil, invalidf("Paramether 'mk_id' is required to select document")
}

// getDocument: get_document by doc_id (or mk_id, count_code, buyer_order).
func (s *Server) getDocument(c *company, req obj) (obj, error) {
	docType := field(req, "doc_type")
	if err := checkDocType(docType); err != nil {
		return nil, err
	}
	detail, _ := boolOf(req["show_product_detail"])
	factor, _ := boolOf(req["show_tax_factor"])
	c.mu.Lock()
	defer c.mu.Unlock()
	d, err := c.findDoc(docType, req)
	if err != nil {
		return nil, err
	}
	out := docJSON(&d.Document, detail, factor)
	addDocumentInfo(out, d, req)
	return out, nil
}

func docPartnerJSON(p *DocPartner) obj {
	out := obj{
		"mk_id": p.MkID, "count_code": p.CountCode, "mk_address_id": p.MkAddressID,
		"customer": p.Customer, "business_entity": boolStr(p.BusinessEntity),
		"taxpayer": boolStr(p.Taxpayer), "foreign_county": boolStr(p.ForeignCounty),
		"useCustomerAsContact": "false",
	}
	putNonEmpty(out, "tax_id_number", p.TaxIDNumber)
	putNonEmpty(out, "street", p.Street)
	putNonEmpty(out, "post_number", p.PostNumber)
	putNonEmpty(out, "place", p.Place)
	putNonEmpty(out, "province", p.Province)
	putNonEmpty(out, "country", p.Country)
	putNonEmpty(out, "country_iso_2", countryISO[lower(p.Country)])
	if ct := p.Contact; ct != nil {
		m := obj{}
		putNonEmpty(m, "name", ct.Name)
		putNonEmpty(m, "email", ct.Email)
		putNonEmpty(m, "gsm", ct.GSM)
		putNonEmpty(m, "phone", ct.Phone)
		putNonEmpty(m, "fax", ct.Fax)
		if len(m) > 0 {
			out["partner_contact"] = m
		}
	}
	return out
}

// docJSON is a document as get_document and search (result_type "doc")
// answer it.
func docJSON(d *Document, detail, factor bool) obj {
	out := obj{}
	for k, v := range d.Fields {
		out[k] = copyAny(v)
	}
	out["mk_id"] = d.MkID
	out["doc_type"] = d.DocType
	out["opr_code"] = "0"
	out["count_code"] = d.CountCode
	out["doc_date"] = d.DocDate
	out["partner"] = docPartnerJSON(&d.Partner)
	if d.Receiver != nil {
		out["receiver"] = docPartnerJSON(d.Receiver)
	}
	rows := make([]any, 0, len(d.Products))
	for _, r := range d.Products {
		m := obj{"amount": r.Amount}
		putNonEmpty(m, "mk_id", r.MkID)
		putNonEmpty(m, "count_code", r.CountCode)
		putNonEmpty(m, "code", r.Code)
		putNonEmpty(m, "name", r.Name)
		putNonEmpty(m, "name_desc", r.NameDesc)
		putNonEmpty(m, "unit", r.Unit)
		putNonEmpty(m, "doc_desc", r.DocDesc)
		putNonEmpty(m, "price", r.Price)
		putNonEmpty(m, "price_with_tax", r.PriceWithTax)
		putNonEmpty(m, "discount", r.Discount)
		putNonEmpty(m, "tax", r.Tax)
		if factor {
			_, rate := rowRate(r)
			m["tax_factor"] = rate.String()
			m["tax_desc"] = taxDesc(rate)
		} else if r.Tax == "" {
			putNonEmpty(m, "tax_factor", r.TaxFactor)
		}
		if detail {
			m["mk_row_id"] = r.MkRowID
		}
		rows = append(rows, m)
	}
	out["product_list"] = rows
	for k, v := range d.Sums {
		out[k] = v
	}
	return out
}

// salesOrderUpdatable are the head attributes update_document may change on
// a sales order; other types accept only status_code.
var salesOrderUpdatable = []string{
	"delivery_type", "status_code", "tracking_code", "shipped_date", "discount_value",
	"tracking_intermediate_code", "parcel_shop_id", "notes_header", "notes", "warehouse",
	"salesOrderTrackingType", "extra_column",
}

// updateDocument: update_document, changing the supported attributes of a
// document chosen by mk_id (or buyer_order for orders, count_code for the
// others); last_change moves only when something changed.
func (s *Server) updateDocument(c *company, req obj) (obj, error) {
	docType := field(req, "doc_type")
	if err := checkDocType(docType); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sel := obj{"mk_id": req["mk_id"]}
	if docType == "sales_order" {
		sel["buyer_order"] = req["buyer_order"]
	} else {
		sel["count_code"] = req["count_code"]
	}
	d, err := c.findDoc(docType, sel)
	if err != nil {
		return nil, err
	}
	next := d.clone()
	if next.Fields == nil {
		next.Fields = map[string]any{}
	}
	updatable := []string{"status_code"}
	if docType == "sales_order" {
		updatable = salesOrderUpdatable
	}
	for _, k := range updatable {
		v, ok := req[k]
		if !ok || v == nil {
			continue
		}
		if _, isStr := v.(string); isStr && docDateFields[k] {
			v = s.normDate(str(v))
		}
		if k == "status_code" && str(v) == "" {
			delete(next.Fields, k)
			continue
		}
		next.Fields[k] = copyAny(v)
	}
	for _, k := range objectsOrStrings(req["clear"]) {
		delete(next.Fields, k)
	}
	if docType == "sales_order" {
		if newCode := field(req, "count_code_new"); newCode != "" && newCode != d.CountCode {
			if c.docByCode[docType][newCode] != nil {
				return nil, refusedf("Document %s with count_code '%s' already exists", docType, newCode)
			}
			next.CountCode = newCode
		}
		for key, dst := range map[string]**DocPartner{"partner": nil, "receiver": &next.Receiver} {
			in, ok := req[key].(map[string]any)
			if !ok || len(in) == 0 {
				continue
			}
			p, err := s.resolvePartner(c, in)
			if err != nil {
				return nil, err
			}
			dp := docPartnerOf(p)
			if dst == nil {
				next.Partner = dp
			} else {
				*dst = &dp
			}
		}
		if err := s.updateRows(c, &next, req); err != nil {
			return nil, err
		}
	}
	next.Sums = docSums(next.Products, next.Fields)
	next.LastChange = d.LastChange
	if reflect.DeepEqual(next, d.Document) {
		return obj{}, nil
	}
	c.useProducts(d.Products, -1)
	c.useProducts(next.Products, 1)
	c.docByOrder[docType].remove(field(d.Fields, "buyer_order"), d)
	if next.CountCode != d.CountCode {
		delete(c.docByCode[docType], d.CountCode)
		c.docByCode[docType][next.CountCode] = d
	}
	prev, status := field(d.Fields, "status_code"), field(next.Fields, "status_code")
	same := next.clone()
	if prev == "" {
		delete(same.Fields, "status_code")
	} else {
		same.Fields["status_code"] = d.Fields["status_code"]
	}
	if d.Fields == nil && len(same.Fields) == 0 {
		same.Fields = nil
	}
	now := s.now()
	if !reflect.DeepEqual(same, d.Document) {
		d.content = now // more than the status changed
	}
	d.Document = next
	c.docByOrder[docType].add(field(d.Fields, "buyer_order"), d)
	if prev != status {
		d.statuses = append(d.statuses, statusEvent{at: now, prev: prev, next: status})
	}
	c.touchDoc(d, now)
	return obj{}, nil
}

// updateRows applies product_remove, product_add and product_list (add, or
// change by mk_row_id, or mark_delete) of a sales order update.
func (s *Server) updateRows(c *company, d *Document, req obj) error {
	for _, rm := range objects(req["product_remove"]) {
		rowID, id, item := field(rm, "mk_row_id"), field(rm, "mk_id"), field(rm, "code")
		amount, partial, err := decimalOf("amount", rm["amount"])
		if err != nil {
			return err
		}
		kept := d.Products[:0:0]
		for _, r := range d.Products {
			hit := (rowID != "" && r.MkRowID == rowID) || (rowID == "" && ((id != "" && r.MkID == id) || (item != "" && r.Code == item)))
			if !hit {
				kept = append(kept, r)
				continue
			}
			if partial {
				have, _, _ := decimalOf("", r.Amount)
				if have.GreaterThan(amount) {
					r.Amount = have.Sub(amount).String()
					kept = append(kept, r)
					amount = decimal.Zero
					partial = false
					continue
				}
				amount = amount.Sub(have)
				if !amount.IsPositive() {
					partial = false
				}
			}
		}
		d.Products = kept
	}
	for _, in := range append(objects(req["product_add"]), objects(req["product_list"])...) {
		rowID := field(in, "mk_row_id")
		if rowID != "" {
			i := slices.IndexFunc(d.Products, func(r DocRow) bool { return r.MkRowID == rowID })
			if i < 0 {
				return refusedf("Cannot find product row with mk_row_id '%s'", rowID)
			}
			if b, _ := boolOf(in["mark_delete"]); b {
				d.Products = slices.Delete(d.Products, i, i+1)
				continue
			}
			rows, err := s.buildRows(c, []any{map[string]any(in)})
			if err != nil {
				return err
			}
			rows[0].MkRowID = rowID
			d.Products[i] = rows[0]
			continue
		}
		rows, err := s.buildRows(c, []any{map[string]any(in)})
		if err != nil {
			return err
		}
		rows[0].MkRowID, _ = c.nextID()
		d.Products = append(d.Products, rows[0])
	}
	return nil
}

// objectsOrStrings reads a list of strings (or one string).
func objectsOrStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, str(e))
		}
		return out
	}
	return nil
}

// deleteTypes are the document types the docs show delete_document for
// (documents_delete_document_sales_order.md); others are refused.
var deleteTypes = map[string]bool{"sales_order": true}

// deleteDocument: delete_document by mk_id; the document's products are
// free to be deleted afterwards.
func (s *Server) deleteDocument(c *company, req obj) (obj, error) {
	docType := field(req, "doc_type")
	if err := checkDocType(docType); err != nil {
		return nil, err
	}
	if !deleteTypes[docType] {
		return nil, invalidf("Delete is not supported for document type : %s", docType)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, err := c.findDoc(docType, obj{"mk_id": req["mk_id"], "count_code": req["count_code"]})
	if err != nil {
		return nil, err
	}
	c.useProducts(d.Products, -1)
	d.deleted = true
	delete(c.docByID, d.MkID)
	delete(c.docByCode[docType], d.CountCode)
	c.docByOrder[docType].remove(field(d.Fields, "buyer_order"), d)
	list := c.docsByType[docType]
	i := sort.Search(len(list), func(i int) bool { return list[i].seq >= d.seq })
	if i < len(list) && list[i] == d {
		c.docsByType[docType] = slices.Delete(list, i, i+1)
	}
	return obj{}, nil
}
