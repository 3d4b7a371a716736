package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// documentView is the part of a sales document that syncs with a Metakocka
// document (docs/mapping.md, "Sales documents ⇄ documents"). The partner
// and the products are local ids: the remote side is read through the
// mappings, so one hash compares both sides.
type documentView struct {
	Kind         string     `json:"kind"`
	Number       string     `json:"number"`
	Date         string     `json:"date"`
	ContactID    string     `json:"contactId"`
	Currency     string     `json:"currency"`
	Status       string     `json:"status"`
	Notes        string     `json:"notes"`
	DeliveryDate string     `json:"deliveryDate"`
	DueDate      string     `json:"dueDate"`
	Lines        []lineView `json:"lines"`
}

type lineView struct {
	ProductID string `json:"productId"`
	Quantity  string `json:"quantity"`
	UnitPrice string `json:"unitPrice"`
	Discount  string `json:"discount"`
	TaxRate   string `json:"taxRate"`
}

const defaultCurrency = "EUR"

func dateText(d *mksync.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func viewOfDocument(d *mksync.SalesDocument) documentView {
	v := documentView{
		Kind: string(d.Kind), Number: d.Number, Date: d.Date.String(), ContactID: d.ContactID,
		Currency: strings.ToUpper(d.Currency), Status: d.Status, Notes: d.Notes,
		DeliveryDate: dateText(d.DeliveryDate), DueDate: dateText(d.DueDate),
		Lines: make([]lineView, len(d.Lines)),
	}
	if v.Currency == "" {
		v.Currency = defaultCurrency
	}
	for i, l := range d.Lines {
		v.Lines[i] = lineView{ProductID: l.ProductID, Quantity: dec(l.Quantity), UnitPrice: dec(l.UnitPrice),
			Discount: dec(l.DiscountPercent), TaxRate: dec(l.TaxRate)}
	}
	return v
}

// toDocument builds a local document from a view; d carries the id and
// version of an existing document (zero for a new one).
func (v documentView) applyTo(d *mksync.SalesDocument) error {
	d.Kind, d.Number, d.ContactID, d.Currency, d.Status, d.Notes =
		mksync.DocumentKind(v.Kind), v.Number, v.ContactID, v.Currency, v.Status, v.Notes
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
	d.Lines = make([]mksync.DocumentLine, len(v.Lines))
	for i, l := range v.Lines {
		d.Lines[i] = mksync.DocumentLine{ProductID: l.ProductID, Quantity: parseDec(l.Quantity),
			UnitPrice: parseDec(l.UnitPrice), DiscountPercent: parseDec(l.Discount), TaxRate: parseDec(l.TaxRate)}
	}
	d.ComputeTotals()
	return d.Validate()
}

// docKind maps a Metakocka document type to the CRM's kind.
func docKind(t metakocka.DocType) (mksync.DocumentKind, error) {
	switch t {
	case metakocka.DocSalesOffer:
		return mksync.KindOffer, nil
	case metakocka.DocSalesOrder:
		return mksync.KindOrder, nil
	case metakocka.DocSalesBillDomestic, metakocka.DocSalesBillForeign:
		return mksync.KindInvoice, nil
	}
	return "", mksync.Errorf(mksync.EINVALID, "Metakocka document type %q is not synced", t)
}

// docTypes are the Metakocka types a document of kind may have, the likely
// one first: an invoice is a foreign bill for a foreign partner.
func docTypes(kind mksync.DocumentKind, foreign bool) []metakocka.DocType {
	switch kind {
	case mksync.KindOffer:
		return []metakocka.DocType{metakocka.DocSalesOffer}
	case mksync.KindOrder:
		return []metakocka.DocType{metakocka.DocSalesOrder}
	}
	if foreign {
		return []metakocka.DocType{metakocka.DocSalesBillForeign, metakocka.DocSalesBillDomestic}
	}
	return []metakocka.DocType{metakocka.DocSalesBillDomestic, metakocka.DocSalesBillForeign}
}

// syncedDocTypes are the Metakocka types pulls read.
var syncedDocTypes = [...]metakocka.DocType{metakocka.DocSalesOffer, metakocka.DocSalesOrder, metakocka.DocSalesBillDomestic, metakocka.DocSalesBillForeign}

// parseMkDate reads the dates Metakocka writes ("2024-09-12+02:00",
// "2024-09-12", "16.02.2022") as a calendar date; "" for none.
func parseMkDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) >= 10 {
		if t, err := time.Parse(mksync.DateLayout, s[:10]); err == nil {
			return t.Format(mksync.DateLayout), nil
		}
		if t, err := time.Parse("02.01.2006", s[:10]); err == nil {
			return t.Format(mksync.DateLayout), nil
		}
	}
	return "", mksync.Errorf(mksync.EINVALID, "Metakocka date %q is not a date", s)
}

// parseMkTime reads a document's last_change_ts; zero when absent or not
// understood (newest_wins then cannot decide).
func parseMkTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05-07:00", "2006-01-02T15:04:05-0700", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t
		}
	}
	return time.Time{}
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

// viewOfMkDocument reads a Metakocka document in local terms. The partner
// and every product are resolved to local records through the mappings;
// one that is not in the CRM yet is pulled first. A product that cannot be
// resolved fails the whole document (nothing is written for it).
func (s *session) viewOfMkDocument(ctx context.Context, d *metakocka.Document) (documentView, error) {
	kind, err := docKind(d.DocType)
	if err != nil {
		return documentView{}, err
	}
	v := documentView{Kind: string(kind), Number: d.CountCode, Currency: strings.ToUpper(d.CurrencyCode),
		Status: d.StatusCode, Notes: d.Notes}
	if v.Currency == "" {
		v.Currency = defaultCurrency
	}
	if v.Date, err = parseMkDate(d.DocDate); err != nil {
		return v, err
	}
	if v.DeliveryDate, err = parseMkDate(d.DeliveryDeadline); err != nil {
		return v, err
	}
	if v.DueDate, err = parseMkDate(d.DuoPayment); err != nil {
		return v, err
	}
	if d.Partner == nil || d.Partner.MkID == "" {
		return v, mksync.Errorf(mksync.EINVALID, "Metakocka document %s has no partner mk_id", d.MkID)
	}
	if v.ContactID, err = s.ensureLocalContact(ctx, d.Partner.MkID); err != nil {
		return v, fmt.Errorf("partner %s: %w", d.Partner.MkID, err)
	}
	v.Lines = make([]lineView, 0, len(d.ProductList))
	for i, row := range d.ProductList {
		pid, err := s.ensureLocalProduct(ctx, row)
		if err != nil {
			return v, fmt.Errorf("line %d: product %s cannot be resolved: %w", i+1, firstNonEmpty(row.MkID, row.CountCode, row.Code), err)
		}
		rate, err := taxRatePercent(row.Tax, row.TaxFactor)
		if err != nil {
			return v, fmt.Errorf("line %d: %w", i+1, err)
		}
		disc, err := combinedDiscount(row)
		if err != nil {
			return v, fmt.Errorf("line %d: %w", i+1, err)
		}
		v.Lines = append(v.Lines, lineView{ProductID: pid, Quantity: optDec(row.Amount), UnitPrice: optDec(row.Price),
			Discount: dec(disc), TaxRate: dec(rate)})
	}
	return v, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ensureLocalContact returns the local contact mapped to the partner mkID,
// pulling the partner into the CRM when it is not there yet.
func (s *session) ensureLocalContact(ctx context.Context, mkID string) (string, error) {
	if id, ok, err := s.localIDByMkID(ctx, mksync.EntityContact, mkID); err != nil || ok {
		return id, err
	}
	p, found, err := s.partnerByMkID(ctx, mkID)
	if err != nil {
		return "", err
	}
	if !found {
		return "", mksync.Errorf(mksync.ENOTFOUND, "Metakocka has no partner %s", mkID)
	}
	r, id := s.pullPartner(ctx, p, false)
	if r.out == outFailed {
		return "", mksync.Errorf(r.rec.Code, "pulling partner %s failed: %s (errorId %s)", mkID, r.rec.Error, r.rec.ErrorID)
	}
	return id, nil
}

// ensureLocalProduct returns the local product of a document row (by the
// row's mk_id, else count_code or code), pulling it into the CRM when it
// is not there yet.
func (s *session) ensureLocalProduct(ctx context.Context, row metakocka.DocumentLine) (string, error) {
	if row.MkID != "" {
		if id, ok, err := s.localIDByMkID(ctx, mksync.EntityProduct, row.MkID); err != nil || ok {
			return id, err
		}
	}
	var (
		p     metakocka.Product
		found bool
		err   error
	)
	switch {
	case row.MkID != "":
		p, found, err = s.productByMkID(ctx, row.MkID)
	case row.CountCode != "":
		p, found, err = s.findProduct(ctx, metakocka.ProductListRequest{CountCode: row.CountCode})
	case row.Code != "":
		p, found, err = s.findProduct(ctx, metakocka.ProductListRequest{Code: row.Code})
	default:
		return "", mksync.Errorf(mksync.EINVALID, "the row names no product")
	}
	if err != nil {
		return "", err
	}
	if !found {
		return "", mksync.Errorf(mksync.ENOTFOUND, "Metakocka has no such product")
	}
	if id, ok, err := s.localIDByMkID(ctx, mksync.EntityProduct, p.MkID); err != nil || ok {
		return id, err
	}
	r, id := s.pullProduct(ctx, p, false)
	if r.out == outFailed {
		return "", mksync.Errorf(r.rec.Code, "pulling product %s failed: %s (errorId %s)", p.MkID, r.rec.Error, r.rec.ErrorID)
	}
	return id, nil
}

// remoteRefs are what a document's push needs from Metakocka: its partner's
// mk_id and foreignness and every line's product mk_id.
type remoteRefs struct {
	partner  string
	foreign  bool
	products []string
}

// ensureRemote makes sure the document's contact and products exist in
// Metakocka (pushing any that are not mapped yet) and returns their mk_ids.
// fresh skips the mapping cache. Any that cannot be resolved fails the
// document: nothing is put.
func (s *session) ensureRemote(ctx context.Context, d *mksync.SalesDocument, fresh bool) (remoteRefs, error) {
	var refs remoteRefs
	lookup := s.cachedMapping
	if fresh {
		lookup = s.mapping
	}
	c, err := s.e.store.FindContactByID(ctx, s.tenantID, d.ContactID)
	if err != nil {
		return refs, fmt.Errorf("contact %s: %w", d.ContactID, err)
	}
	refs.foreign = !s.e.isHome(c.Country)
	m, ok, err := lookup(ctx, mksync.EntityContact, c.ID)
	if err != nil {
		return refs, err
	}
	if !ok || m.MetakockaID == "" {
		if r := s.pushContact(ctx, c, false); r.out == outFailed {
			return refs, mksync.Errorf(r.rec.Code, "contact %s could not be synced to Metakocka: %s (errorId %s)", c.ID, r.rec.Error, r.rec.ErrorID)
		}
		if m, ok, err = s.mapping(ctx, mksync.EntityContact, c.ID); err != nil {
			return refs, err
		}
		if !ok || m.MetakockaID == "" {
			return refs, mksync.Errorf(mksync.ECONFLICT, "contact %s has an open conflict and no Metakocka partner yet", c.ID)
		}
	}
	refs.partner = m.MetakockaID
	refs.products = make([]string, len(d.Lines))
	for i, l := range d.Lines {
		m, ok, err := lookup(ctx, mksync.EntityProduct, l.ProductID)
		if err != nil {
			return refs, err
		}
		if !ok || m.MetakockaID == "" {
			p, err := s.e.store.FindProductByID(ctx, s.tenantID, l.ProductID)
			if err != nil {
				return refs, fmt.Errorf("line %d: product %s cannot be resolved: %w", i+1, l.ProductID, err)
			}
			if r := s.pushProduct(ctx, p, false); r.out == outFailed {
				return refs, mksync.Errorf(r.rec.Code, "line %d: product %s could not be synced to Metakocka: %s (errorId %s)", i+1, p.ID, r.rec.Error, r.rec.ErrorID)
			}
			if m, ok, err = s.mapping(ctx, mksync.EntityProduct, p.ID); err != nil {
				return refs, err
			}
			if !ok || m.MetakockaID == "" {
				return refs, mksync.Errorf(mksync.ECONFLICT, "line %d: product %s has no Metakocka product yet", i+1, p.ID)
			}
		}
		refs.products[i] = m.MetakockaID
	}
	return refs, nil
}

// fillMkDocument writes the view onto a Metakocka document (a new one, or
// one read with get_document, whose other fields are kept).
func fillMkDocument(md *metakocka.Document, v documentView, refs remoteRefs) error {
	md.DocDate, md.CurrencyCode, md.StatusCode, md.Notes = v.Date, v.Currency, v.Status, v.Notes
	md.DeliveryDeadline, md.DuoPayment = v.DeliveryDate, v.DueDate
	md.Partner = &metakocka.Partner{MkID: refs.partner}
	md.ProductList = make(metakocka.List[metakocka.DocumentLine], len(v.Lines))
	for i, l := range v.Lines {
		code, err := taxCode(parseDec(l.TaxRate))
		if err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		md.ProductList[i] = metakocka.DocumentLine{
			MkID: refs.products[i], Amount: metakocka.NewDecimal(parseDec(l.Quantity)),
			Price: metakocka.NewDecimal(parseDec(l.UnitPrice)), Discount: l.Discount, Tax: code,
		}
	}
	return nil
}

// getMkDocument reads the document mkID, trying each of types; found is
// false when none has it.
func (s *session) getMkDocument(ctx context.Context, types []metakocka.DocType, mkID string) (metakocka.Document, bool, error) {
	for _, t := range types {
		d, err := s.mk.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: t, DocID: mkID})
		if isCode(err, mksync.ENOTFOUND) {
			continue
		}
		if err != nil {
			return d, false, fmt.Errorf("get %s %s: %w", t, mkID, err)
		}
		if d.DocType == "" {
			d.DocType = t
		}
		return d, true, nil
	}
	return metakocka.Document{}, false, nil
}

// findMkDocumentByCode searches the document with count_code among types.
func (s *session) findMkDocumentByCode(ctx context.Context, types []metakocka.DocType, countCode string) (metakocka.Document, bool, error) {
	for _, t := range types {
		page, err := s.mk.Search(ctx, metakocka.SearchRequest{DocType: t, Query: countCode, FullDocuments: true})
		if err != nil {
			return metakocka.Document{}, false, fmt.Errorf("search %s %s: %w", t, countCode, err)
		}
		for _, d := range page.Results {
			if d.CountCode == countCode {
				if d.DocType == "" {
					d.DocType = t
				}
				return d, true, nil
			}
		}
	}
	return metakocka.Document{}, false, nil
}

// pushDocument syncs one sales document to Metakocka: its partner and
// products first, then the whole document in one put_document.
func (s *session) pushDocument(ctx context.Context, d mksync.SalesDocument, force bool) recordResult {
	unlock := s.e.locks.lock(s.tenantID, mksync.EntitySalesDocument, d.ID)
	defer unlock()
	r, err := s.pushDocumentLocked(ctx, &d, force, false)
	if err != nil && !isCode(err, mksync.ECONFLICT) && mksync.ErrorCode(err) != mksync.EUPSTREAM && !retryable(err) && staleHint(err) {
		// A cached mapping may have named a partner or product Metakocka
		// no longer has: try once more from the store.
		r, err = s.pushDocumentLocked(ctx, &d, force, true)
	}
	if err != nil {
		return s.fail(ctx, mksync.EntitySalesDocument, mksync.ToMetakocka, d.ID, d.ID, err)
	}
	return r
}

// staleHint reports whether a put_document refusal may come from a stale
// mapping (Metakocka cannot find a partner or product we named).
func staleHint(err error) bool {
	var me *metakocka.Error
	return errors.As(err, &me) && me.Method == "put_document" && strings.Contains(strings.ToLower(me.OprDesc), "cannot find")
}

func (s *session) pushDocumentLocked(ctx context.Context, d *mksync.SalesDocument, force, fresh bool) (recordResult, error) {
	if err := d.Validate(); err != nil {
		return recordResult{}, err
	}
	// Input Metakocka cannot take fails before anything is ensured.
	for i, l := range d.Lines {
		if _, err := taxCode(l.TaxRate); err != nil {
			return recordResult{}, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	v := viewOfDocument(d)
	h := payloadHash(v)
	m, mapped, err := s.mapping(ctx, mksync.EntitySalesDocument, d.ID)
	if err != nil {
		return recordResult{}, err
	}
	if mapped && m.MetakockaID != "" {
		if m.State == mksync.StateConflict && !force {
			return recordResult{out: outConflict}, nil
		}
		if h == m.PushedHash && !force {
			return s.skipped(ctx, m)
		}
	}
	refs, err := s.ensureRemote(ctx, d, fresh)
	if err != nil {
		return recordResult{}, err
	}
	types := docTypes(d.Kind, refs.foreign)
	if mapped && m.MetakockaID != "" {
		remote, found, err := s.getMkDocument(ctx, types, m.MetakockaID)
		if err != nil {
			return recordResult{}, err
		}
		if found {
			rv, err := s.viewOfMkDocument(ctx, &remote)
			if err != nil {
				return recordResult{}, fmt.Errorf("read Metakocka document %s: %w", remote.MkID, err)
			}
			rh := payloadHash(rv)
			out, stop, res, err := s.settlePush(ctx, mksync.EntitySalesDocument, d.ID, m, h, rh, d.UpdatedAt, parseMkTime(remote.LastChangeTS), force,
				func() error { return s.applyMkDocument(ctx, d, rv, remote.MkID, remote.CountCode, rh) })
			if stop || err != nil {
				return res, err
			}
			if h == rh {
				nm := s.synced(mksync.EntitySalesDocument, d.ID, remote.MkID, remote.CountCode, h, rh)
				return recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
			}
			return s.replaceMkDocument(ctx, d, v, h, refs, &remote, out)
		}
		m.MetakockaID = ""
	}
	cc := d.Number
	if cc == "" {
		cc = CountCode(d.ID)
	}
	if mapped && m.CountCode != "" {
		cc = m.CountCode
	}
	if mapped {
		remote, found, err := s.findMkDocumentByCode(ctx, types, cc)
		if err != nil {
			return recordResult{}, err
		}
		if found {
			return s.adoptMkDocument(ctx, d, v, refs, &remote)
		}
	} else {
		intent := mksync.Mapping{EntityType: mksync.EntitySalesDocument, EntityID: d.ID, CountCode: cc, State: mksync.StatePending}
		if err := s.saveMapping(ctx, &intent); err != nil {
			return recordResult{}, err
		}
	}
	md := metakocka.Document{DocType: types[0], CountCode: cc}
	if err := fillMkDocument(&md, v, refs); err != nil {
		return recordResult{}, err
	}
	for attempt := 1; ; attempt++ {
		res, err := s.mk.PutDocument(ctx, md)
		if err == nil {
			return recordResult{out: outCreated}, s.mapCreatedDocument(ctx, d, res.MkID, firstNonEmpty(res.CountCode, cc))
		}
		if !retryable(err) && !isCode(err, mksync.ECONFLICT) {
			return recordResult{}, fmt.Errorf("put %s %s: %w", md.DocType, cc, err)
		}
		remote, found, lerr := s.findMkDocumentByCode(ctx, types, cc)
		if lerr != nil {
			return recordResult{}, fmt.Errorf("put %s %s failed (%v), then looking it up failed: %w", md.DocType, cc, err, lerr)
		}
		if found {
			return s.adoptMkDocument(ctx, d, v, refs, &remote)
		}
		if !retryable(err) || attempt >= s.e.cfg.CreateAttempts {
			return recordResult{}, fmt.Errorf("put %s %s: %w", md.DocType, cc, err)
		}
	}
}

// mapCreatedDocument maps a document just created in Metakocka. A document
// without a number takes the one Metakocka holds (its count_code), in the
// same transaction as the mapping.
func (s *session) mapCreatedDocument(ctx context.Context, d *mksync.SalesDocument, mkID, countCode string) error {
	return s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if d.Number == "" {
			d.Number = countCode
			if err := tx.UpdateSalesDocument(ctx, s.tenantID, d); err != nil {
				return fmt.Errorf("set number of sales document %s: %w", d.ID, err)
			}
		}
		h := payloadHash(viewOfDocument(d))
		nm := s.synced(mksync.EntitySalesDocument, d.ID, mkID, countCode, h, h)
		return save(&nm)
	})
}

// adoptMkDocument maps the document to one an earlier attempt created
// (found by count_code), replacing it when it differs.
func (s *session) adoptMkDocument(ctx context.Context, d *mksync.SalesDocument, v documentView, refs remoteRefs, remote *metakocka.Document) (recordResult, error) {
	rv, err := s.viewOfMkDocument(ctx, remote)
	if err != nil {
		return recordResult{}, fmt.Errorf("read Metakocka document %s: %w", remote.MkID, err)
	}
	if d.Number == "" {
		v.Number = remote.CountCode
	}
	if payloadHash(rv) == payloadHash(v) {
		return recordResult{out: outCreated}, s.mapCreatedDocument(ctx, d, remote.MkID, remote.CountCode)
	}
	if _, err := s.replaceMkDocument(ctx, d, v, payloadHash(v), refs, remote, outCreated); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: outCreated}, s.mapCreatedDocument(ctx, d, remote.MkID, remote.CountCode)
}

// replaceMkDocument puts v over the Metakocka document remote (read with
// get_document, so that fields mksync does not map are kept) and maps it.
func (s *session) replaceMkDocument(ctx context.Context, d *mksync.SalesDocument, v documentView, h string, refs remoteRefs, remote *metakocka.Document, out outcome) (recordResult, error) {
	md := *remote
	if err := fillMkDocument(&md, v, refs); err != nil {
		return recordResult{}, err
	}
	md.SumTax = nil
	if _, err := s.mk.PutDocument(ctx, md); err != nil {
		return recordResult{}, fmt.Errorf("put %s %s: %w", md.DocType, md.MkID, err)
	}
	// put_document keeps the count_code of a replaced document.
	pv := v
	pv.Number = remote.CountCode
	nm := s.synced(mksync.EntitySalesDocument, d.ID, remote.MkID, remote.CountCode, h, payloadHash(pv))
	if err := s.saveMapping(ctx, &nm); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: out}, nil
}

// applyMkDocument writes the view of a Metakocka document onto the local
// document d (a new one when d.ID is "") with its mapping, in one
// transaction: document, lines and mapping, or nothing.
func (s *session) applyMkDocument(ctx context.Context, d *mksync.SalesDocument, rv documentView, mkID, countCode, rh string) error {
	if err := rv.applyTo(d); err != nil {
		return fmt.Errorf("document %s from Metakocka: %w", mkID, err)
	}
	return s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if d.ID == "" {
			if err := tx.CreateSalesDocument(ctx, s.tenantID, d); err != nil {
				return fmt.Errorf("create sales document from %s: %w", mkID, err)
			}
		} else if err := tx.UpdateSalesDocument(ctx, s.tenantID, d); err != nil {
			return fmt.Errorf("update sales document %s: %w", d.ID, err)
		}
		nm := s.synced(mksync.EntitySalesDocument, d.ID, mkID, countCode, payloadHash(viewOfDocument(d)), rh)
		return save(&nm)
	})
}

// pullDocument syncs one Metakocka document into the CRM, its partner and
// products first (see viewOfMkDocument).
func (s *session) pullDocument(ctx context.Context, md metakocka.Document, force bool) (recordResult, string) {
	id, r, err := s.pullDocumentLocked(ctx, md, force)
	if err != nil {
		return s.fail(ctx, mksync.EntitySalesDocument, mksync.FromMetakocka, md.MkID, id, err), id
	}
	return r, id
}

func (s *session) pullDocumentLocked(ctx context.Context, md metakocka.Document, force bool) (string, recordResult, error) {
	m, mapped, err := s.mappingByMkID(ctx, mksync.EntitySalesDocument, md.MkID)
	if err != nil {
		return "", recordResult{}, err
	}
	if !mapped {
		unlock := s.e.locks.lock(s.tenantID, mksync.EntitySalesDocument, "mk:"+md.MkID)
		defer unlock()
		// Another worker may have pulled it while this one waited.
		if m, again, err := s.mappingByMkID(ctx, mksync.EntitySalesDocument, md.MkID); err != nil || again {
			return m.EntityID, recordResult{out: outSkipped}, err
		}
		rv, err := s.viewOfMkDocument(ctx, &md)
		if err != nil {
			return "", recordResult{}, err
		}
		rh := payloadHash(rv)
		if id, ok := LocalIDOf(md.CountCode); ok {
			d, err := s.e.store.FindSalesDocumentByID(ctx, s.tenantID, id)
			if err == nil {
				if om, has, err := s.mapping(ctx, mksync.EntitySalesDocument, id); err != nil {
					return id, recordResult{}, err
				} else if !has || om.MetakockaID == "" {
					return id, recordResult{out: outUpdated}, s.applyMkDocument(ctx, &d, rv, md.MkID, md.CountCode, rh)
				}
			} else if !isCode(err, mksync.ENOTFOUND) {
				return id, recordResult{}, fmt.Errorf("find sales document %s: %w", id, err)
			}
		}
		var d mksync.SalesDocument
		if err := s.applyMkDocument(ctx, &d, rv, md.MkID, md.CountCode, rh); err != nil {
			return "", recordResult{}, err
		}
		return d.ID, recordResult{out: outCreated}, nil
	}

	m, unlock, err := s.lockMapped(ctx, mksync.EntitySalesDocument, m.EntityID, md.MkID, "document")
	defer unlock()
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	if m.State == mksync.StateConflict && !force {
		return m.EntityID, recordResult{out: outConflict}, nil
	}
	rv, err := s.viewOfMkDocument(ctx, &md)
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	rh := payloadHash(rv)
	if rh == m.PulledHash && !force {
		return m.EntityID, recordResult{out: outSkipped}, nil
	}
	d, err := s.e.store.FindSalesDocumentByID(ctx, s.tenantID, m.EntityID)
	if err != nil {
		return m.EntityID, recordResult{}, fmt.Errorf("find sales document %s: %w", m.EntityID, err)
	}
	lv := viewOfDocument(&d)
	lh := payloadHash(lv)
	if lh == rh {
		nm := s.synced(mksync.EntitySalesDocument, d.ID, md.MkID, md.CountCode, lh, rh)
		return d.ID, recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
	}
	if lh != m.PushedHash && rh != m.PulledHash {
		w := winMetakocka
		if !force {
			w = s.decide(d.UpdatedAt, parseMkTime(md.LastChangeTS))
		}
		switch w {
		case winCRM:
			refs, err := s.ensureRemote(ctx, &d, false)
			if err != nil {
				return d.ID, recordResult{}, err
			}
			if _, err := s.replaceMkDocument(ctx, &d, lv, lh, refs, &md, outConflict); err != nil {
				return d.ID, recordResult{}, err
			}
		case winMetakocka:
			if err := s.applyMkDocument(ctx, &d, rv, md.MkID, md.CountCode, rh); err != nil {
				return d.ID, recordResult{}, err
			}
		}
		return d.ID, s.recordConflict(ctx, mksync.EntitySalesDocument, mksync.FromMetakocka, d.ID, md.MkID, w, force), nil
	}
	if rh == m.PulledHash && !force {
		return d.ID, recordResult{out: outSkipped}, nil
	}
	return d.ID, recordResult{out: outUpdated}, s.applyMkDocument(ctx, &d, rv, md.MkID, md.CountCode, rh)
}
