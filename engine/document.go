package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// docKind maps a Metakocka document type to the CRM's kind.
func docKind(t metakocka.DocType) (mksync.DocumentKind, error) {
	switch t {
	case metakocka.DocSalesOffer:
		return mksync.KindOffer, nil
	case metakocka.DocSalesOrder:
		return mksync.KindOrder, nil
	case metakocka.DocSalesBillDomestic, metakocka.DocSalesBillForeign:
		return mksync.KindInvoice, nil
	case metakocka.DocSalesBillCreditNote:
		return mksync.KindCreditNote, nil
	case metakocka.DocSalesBillPrepaid:
		return mksync.KindPrepaymentInvoice, nil
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
	case mksync.KindCreditNote:
		return []metakocka.DocType{metakocka.DocSalesBillCreditNote}
	case mksync.KindPrepaymentInvoice:
		return []metakocka.DocType{metakocka.DocSalesBillPrepaid}
	}
	if foreign {
		return []metakocka.DocType{metakocka.DocSalesBillForeign, metakocka.DocSalesBillDomestic}
	}
	return []metakocka.DocType{metakocka.DocSalesBillDomestic, metakocka.DocSalesBillForeign}
}

// syncedDocTypes are the Metakocka types pulls read. A run's checkpoint
// indexes it, so new types go at the end.
var syncedDocTypes = [...]metakocka.DocType{metakocka.DocSalesOffer, metakocka.DocSalesOrder, metakocka.DocSalesBillDomestic,
	metakocka.DocSalesBillForeign, metakocka.DocSalesBillCreditNote, metakocka.DocSalesBillPrepaid}

// mkDateLayout is the documented form of a date Metakocka takes
// ("2014-11-23+02:00"): the date with its offset.
const mkDateLayout = "2006-01-02-07:00"

// mkDate writes the calendar date s ("2006-01-02") in Metakocka's
// documented form, with the offset loc has on that day; "" for none. had,
// the value Metakocka holds, is kept when it is the same date, so an
// unchanged date goes back as it was read.
func mkDate(s, had string, loc *time.Location) string {
	if s == "" {
		return ""
	}
	if d, err := parseMkDate(had); err == nil && d == s {
		return had
	}
	t, err := time.ParseInLocation(mksync.DateLayout, s, loc)
	if err != nil {
		return s
	}
	return t.Format(mkDateLayout)
}

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

// viewOfMkDocument reads a Metakocka document in local terms. The partner
// and every product are resolved to local records through the mappings;
// one that is not in the CRM yet is pulled first. A product that cannot be
// resolved fails the whole document (nothing is written for it), and so
// does a document the CRM cannot hold faithfully (see faithful).
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
	readMkHead(&v, d)
	if err := s.readMkKind(ctx, &v, d); err != nil {
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
		pid := ""
		if !freeTextRow(row) {
			if pid, err = s.ensureLocalProduct(ctx, row); err != nil {
				return v, fmt.Errorf("line %d: product %s cannot be resolved: %w", i+1, firstNonEmpty(row.MkID, row.CountCode, row.Code), err)
			}
		}
		l, err := lineOfMkRow(row, pid)
		if err != nil {
			return v, fmt.Errorf("line %d: %w", i+1, err)
		}
		v.Lines = append(v.Lines, l)
	}
	return v, faithful(v, d)
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
	if s.dry && id == "" {
		id = planned(mksync.EntityContact, "mk:"+mkID).MetakockaID // a preview: created first
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
	if s.dry && id == "" {
		id = planned(mksync.EntityProduct, "mk:"+p.MkID).MetakockaID // a preview: created first
	}
	return id, nil
}

// remoteRefs are what a document's push needs from Metakocka: its partner's
// mk_id and foreignness, every line's product mk_id and, for a credit
// note, the count_code of the invoice it credits.
type remoteRefs struct {
	partner    string
	foreign    bool
	products   []string
	creditBill string
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
	if err := s.resolvePartner(ctx, d, fresh, &refs); err != nil {
		return refs, err
	}
	var err error
	if refs.creditBill, err = s.creditNoteBill(ctx, d, lookup); err != nil {
		return refs, err
	}
	refs.products = make([]string, len(d.Lines))
	for i, l := range d.Lines {
		if l.ProductID == "" {
			continue // a free-text line
		}
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
			if s.dry && (!ok || m.MetakockaID == "") {
				m, ok = planned(mksync.EntityProduct, p.ID), true // a preview: created first
			}
			if !ok || m.MetakockaID == "" {
				return refs, mksync.Errorf(mksync.ECONFLICT, "line %d: product %s has no Metakocka product yet", i+1, p.ID)
			}
		}
		refs.products[i] = m.MetakockaID
	}
	return refs, nil
}

// resolvePartner sets the document's partner (its contact's mk_id, the
// contact pushed first when it has none) and whether it is foreign. During
// a bulk run a contact already resolved in the run costs no store read
// (runContacts) unless fresh.
func (s *session) resolvePartner(ctx context.Context, d *mksync.SalesDocument, fresh bool, refs *remoteRefs) error {
	if country, ok := s.runContacts.country(d.ContactID); ok && !fresh {
		m, ok, err := s.cachedMapping(ctx, mksync.EntityContact, d.ContactID)
		if err != nil {
			return err
		}
		if ok && m.MetakockaID != "" {
			refs.foreign, refs.partner = !s.e.isHome(country), m.MetakockaID
			return nil
		}
	}
	lookup := s.cachedMapping
	if fresh {
		lookup = s.mapping
	}
	c, err := s.e.store.FindContactByID(ctx, s.tenantID, d.ContactID)
	if err != nil {
		return fmt.Errorf("contact %s: %w", d.ContactID, err)
	}
	refs.foreign = !s.e.isHome(c.Country)
	m, ok, err := lookup(ctx, mksync.EntityContact, c.ID)
	if err != nil {
		return err
	}
	if !ok || m.MetakockaID == "" {
		if r := s.pushContact(ctx, c, false); r.out == outFailed {
			return mksync.Errorf(r.rec.Code, "contact %s could not be synced to Metakocka: %s (errorId %s)", c.ID, r.rec.Error, r.rec.ErrorID)
		}
		if m, ok, err = s.mapping(ctx, mksync.EntityContact, c.ID); err != nil {
			return err
		}
		if s.dry && (!ok || m.MetakockaID == "") {
			m, ok = planned(mksync.EntityContact, c.ID), true // a preview: created first
		}
		if !ok || m.MetakockaID == "" {
			return mksync.Errorf(mksync.ECONFLICT, "contact %s has an open conflict and no Metakocka partner yet", c.ID)
		}
	}
	refs.partner = m.MetakockaID
	s.runContacts.note(c.ID, c.Country)
	return nil
}

// contactCountries is a bulk run's memo of the countries of the contacts
// its documents named (a document's type depends on it): a run of 100,000
// documents of a few thousand buyers reads each buyer once. A contact
// whose country changes during the run keeps the country first read until
// the run ends. The nil memo remembers nothing. Safe for concurrent use.
type contactCountries struct {
	mu sync.Mutex
	m  map[string]string
}

func newContactCountries() *contactCountries { return &contactCountries{m: map[string]string{}} }

func (c *contactCountries) country(id string) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v, ok
}

func (c *contactCountries) note(id, country string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = country
}

// fillMkDocument writes the view onto a Metakocka document (a new one, or
// one read with get_document, whose other fields are kept). Each line
// starts from the row it replaces, so what the CRM did not change goes back
// in the form Metakocka holds it (see fillMkRow).
func fillMkDocument(md *metakocka.Document, v documentView, refs remoteRefs, loc *time.Location) error {
	md.CurrencyCode, md.StatusCode, md.Notes = v.Currency, v.Status, v.Notes
	md.DocDate = mkDate(v.Date, md.DocDate, loc)
	md.DeliveryDeadline, md.DuoPayment = mkDate(v.DeliveryDate, md.DeliveryDeadline, loc), mkDate(v.DueDate, md.DuoPayment, loc)
	md.ServiceToDate = mkDate(v.ServiceToDate, md.ServiceToDate, loc)
	writeMkHead(md, v)
	writeMkKind(md, v, refs.creditBill)
	md.Partner = &metakocka.Partner{MkID: refs.partner}
	old := md.ProductList
	md.ProductList = make(metakocka.List[metakocka.DocumentLine], len(v.Lines))
	for i, l := range v.Lines {
		var base metakocka.DocumentLine
		if i < len(old) && sameRowTarget(old[i], l, refs.products[i]) {
			base = old[i]
		}
		row, err := fillMkRow(base, l, refs.products[i])
		if err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		md.ProductList[i] = row
	}
	return nil
}

// getMkDocument reads the document mkID, trying each of types; found is
// false when none has it.
func (s *session) getMkDocument(ctx context.Context, types []metakocka.DocType, mkID string) (metakocka.Document, bool, error) {
	for _, t := range types {
		d, err := s.mk.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: t, DocID: mkID, ReturnDocumentInfo: documentInfoFlag(t)})
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

// staleHint reports whether a put_document refusal may come from a stale
// mapping (Metakocka cannot find a partner or product we named).
func staleHint(err error) bool {
	var me *metakocka.Error
	return errors.As(err, &me) && me.Method == "put_document" && strings.Contains(strings.ToLower(me.OprDesc), "cannot find")
}

// mapCreatedDocument maps a document just created in Metakocka. A document
// without a number takes the one Metakocka holds (its count_code), in the
// same transaction as the mapping (the run's group commit during a run: d
// changes only once it is committed).
func (s *session) mapCreatedDocument(ctx context.Context, d *mksync.SalesDocument, mkID, countCode string) error {
	var w mksync.SalesDocument
	err := s.inGroup(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		w = cloneDocument(d)
		if w.Number == "" {
			w.Number = countCode
			if err := tx.UpdateSalesDocument(ctx, s.tenantID, &w); err != nil {
				return fmt.Errorf("set number of sales document %s: %w", w.ID, err)
			}
		}
		v := snap(viewOfDocument(&w))
		nm := s.synced(mksync.EntitySalesDocument, w.ID, mkID, countCode, v, v)
		return save(&nm)
	})
	if err == nil {
		*d = w
	}
	return err
}

// applyMkDocument writes the view of a Metakocka document onto the local
// document d (a new one when d.ID is "") with its mapping, in one
// transaction: document, lines and mapping, or nothing (the run's group
// commit during a run: d changes only once it is committed).
func (s *session) applyMkDocument(ctx context.Context, d *mksync.SalesDocument, rv documentView, mkID, countCode string, pulled snapshot) error {
	in := cloneDocument(d)
	if err := rv.applyTo(&in); err != nil {
		return fmt.Errorf("document %s from Metakocka: %w", mkID, err)
	}
	var w mksync.SalesDocument
	err := s.inGroup(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		w = cloneDocument(&in)
		if w.ID == "" {
			if err := tx.CreateSalesDocument(ctx, s.tenantID, &w); err != nil {
				return fmt.Errorf("create sales document from %s: %w", mkID, err)
			}
		} else if err := tx.UpdateSalesDocument(ctx, s.tenantID, &w); err != nil {
			return fmt.Errorf("update sales document %s: %w", w.ID, err)
		}
		nm := s.synced(mksync.EntitySalesDocument, w.ID, mkID, countCode, snapAs(viewOfDocument(&w), pulled), pulled)
		return save(&nm)
	})
	if err == nil {
		*d = w
	}
	return err
}

// cloneDocument copies d so that a write that may run twice (inGroup)
// starts from the same document each time: the store fills ids, versions,
// times and line fields in place.
func cloneDocument(d *mksync.SalesDocument) mksync.SalesDocument {
	w := *d
	w.Lines = slices.Clone(d.Lines)
	return w
}

// documentLocal is one document being pushed. prepare resolves its partner
// and products in Metakocka (refs) and the types it may have there.
type documentLocal struct {
	documents
	d *mksync.SalesDocument
	// fresh: resolve the partner and products through the store, not the
	// mapping cache (the retry after a stale mapping).
	fresh bool
	refs  remoteRefs
	types []metakocka.DocType
	// had is the view of the Metakocka document last read by remote (of
	// mk_id hadID), so that update can tell a change of the head only.
	had   *documentView
	hadID string
}

func (a documents) local(d *mksync.SalesDocument) local[metakocka.Document, documentView] {
	return &documentLocal{documents: a, d: d}
}

// lazy: reading a Metakocka document pulls its partner and products.
func (a documents) lazy() bool { return true }

// load is common's load, but for a document read with its mapping under
// the record's lock a moment ago (mappingPreloading).
func (a documents) load(ctx context.Context, id string) (mksync.SalesDocument, error) {
	if d, ok := a.s.preloaded.LoadAndDelete(id); ok {
		return d.(mksync.SalesDocument), nil
	}
	return a.common.load(ctx, id)
}

// fetch reads the document mkID, trying the type its local document's kind
// tells first when it is mapped, then every synced type.
func (a documents) fetch(ctx context.Context, mkID string) (metakocka.Document, bool, error) {
	types := syncedDocTypes[:]
	if m, ok, err := a.s.mappingByMkID(ctx, mksync.EntitySalesDocument, mkID); err == nil && ok {
		if d, err := a.s.e.store.FindSalesDocumentByID(ctx, a.s.tenantID, m.EntityID); err == nil {
			types = docTypes(d.Kind, false)
		}
	}
	d, found, err := a.s.getMkDocument(ctx, types, mkID)
	if err == nil && !found && len(types) < len(syncedDocTypes) {
		d, found, err = a.s.getMkDocument(ctx, syncedDocTypes[:], mkID)
	}
	return d, found, err
}

func (a documents) remote(ctx context.Context, md *metakocka.Document) (documentView, error) {
	return a.s.viewOfMkDocument(ctx, md)
}

func (a documents) ident(md *metakocka.Document) remoteID {
	return remoteID{mkID: md.MkID, countCode: md.CountCode, changed: docChanged(md)}
}

// link finds the document whose count_code mksync made (its mapping was
// lost), else the one document not linked yet with the same number,
// partner, date and kind (linkByNumber).
func (a documents) link(ctx context.Context, md *metakocka.Document) (*mksync.SalesDocument, string, error) {
	if d, id, err := a.linkByCountCode(ctx, md.CountCode); d != nil || err != nil {
		return d, id, err
	}
	return a.linkByNumber(ctx, md)
}

func (a documents) create(ctx context.Context, rv documentView, md *metakocka.Document, rs snapshot) (string, error) {
	var d mksync.SalesDocument
	err := a.s.applyMkDocument(ctx, &d, rv, md.MkID, md.CountCode, rs)
	return d.ID, err
}

func (l *documentLocal) id() string         { return l.d.ID }
func (l *documentLocal) view() documentView { return viewOfDocument(l.d) }
func (l *documentLocal) changed() time.Time { return l.d.UpdatedAt }

// check also refuses, before anything is ensured, a tax rate Metakocka
// cannot take.
func (l *documentLocal) check() error {
	if err := l.d.Validate(); err != nil {
		return err
	}
	for i, ln := range l.d.Lines {
		if _, err := taxCode(ln.TaxRate); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return nil
}

func (l *documentLocal) prepare(ctx context.Context) error {
	refs, err := l.s.ensureRemote(ctx, l.d, l.fresh)
	if err != nil {
		return err
	}
	l.refs, l.types = refs, docTypes(l.d.Kind, refs.foreign)
	return nil
}

// again: a cached mapping may have named a partner or product Metakocka no
// longer has; try once more from the store.
func (l *documentLocal) again(err error) local[metakocka.Document, documentView] {
	if l.fresh || isCode(err, mksync.ECONFLICT) || mksync.ErrorCode(err) == mksync.EUPSTREAM || retryable(err) || !staleHint(err) {
		return nil
	}
	return &documentLocal{documents: l.documents, d: l.d, fresh: true}
}

func (l *documentLocal) get(ctx context.Context, mkID string) (metakocka.Document, bool, error) {
	return l.s.getMkDocument(ctx, l.types, mkID)
}

func (l *documentLocal) lookup(ctx context.Context, cc string, _ error) (metakocka.Document, bool, error) {
	return l.s.findMkDocumentByCode(ctx, l.types, cc)
}

func (l *documentLocal) remote(ctx context.Context, md *metakocka.Document) (documentView, error) {
	rv, err := l.s.viewOfMkDocument(ctx, md)
	if err == nil {
		l.had, l.hadID = &rv, md.MkID
	}
	return rv, wrapf(err, "read Metakocka document %s", md.MkID)
}

func (l *documentLocal) countCode() string {
	return firstNonEmpty(l.d.Number, CountCode(l.d.ID))
}

func (l *documentLocal) creator(cc string) (string, func(context.Context) (remoteID, error), error) {
	md := metakocka.Document{DocType: l.types[0], CountCode: cc}
	if err := fillMkDocument(&md, l.view(), l.refs, l.s.e.cfg.Location); err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("put %s %s", md.DocType, cc), func(ctx context.Context) (remoteID, error) {
		res, err := l.s.mk.PutDocument(ctx, md)
		return remoteID{mkID: res.MkID, countCode: res.CountCode}, err
	}, nil
}

func (l *documentLocal) mapCreated(ctx context.Context, _ string, id remoteID, _ snapshot) error {
	return l.s.mapCreatedDocument(ctx, l.d, id.mkID, id.countCode)
}

// adopt maps the document to one an earlier attempt created (found by
// count_code), replacing it when it differs; a document without a number
// takes Metakocka's.
func (l *documentLocal) adopt(ctx context.Context, remote *metakocka.Document) (recordResult, error) {
	rv, err := l.remote(ctx, remote)
	if err != nil {
		return recordResult{}, err
	}
	v := l.view()
	if l.d.Number == "" {
		v.Number = remote.CountCode
	}
	if lv := snap(v); payloadHash(rv) != lv.hash {
		pulled, err := l.put(ctx, v, remote)
		if err != nil {
			return recordResult{}, err
		}
		nm := l.s.synced(mksync.EntitySalesDocument, l.d.ID, remote.MkID, remote.CountCode, lv, snap(pulled))
		if err := l.s.saveMapping(ctx, &nm); err != nil {
			return recordResult{}, err
		}
	}
	return recordResult{out: outCreated}, l.s.mapCreatedDocument(ctx, l.d, remote.MkID, remote.CountCode)
}

// update writes the document over remote: with update_document when only
// head fields it documents for the type changed (the rows, their
// mk_row_ids and everything else stay as they are), else with a whole
// put_document.
func (l *documentLocal) update(ctx context.Context, remote *metakocka.Document) (documentView, error) {
	v := l.view()
	if l.had != nil && l.hadID == remote.MkID {
		if u, ok := headUpdate(remote, *l.had, v); ok {
			if err := l.s.mk.UpdateDocument(ctx, u); err != nil {
				return documentView{}, fmt.Errorf("update %s %s: %w", remote.DocType, remote.MkID, err)
			}
			v.Number = remote.CountCode
			return v, nil
		}
	}
	return l.put(ctx, v, remote)
}

// withView is the document with v written over its synced fields (a
// merge); its partner and products are resolved again by prepare.
func (l *documentLocal) withView(v documentView) (local[metakocka.Document, documentView], error) {
	d := *l.d
	d.Lines = slices.Clone(l.d.Lines)
	if err := v.applyTo(&d); err != nil {
		return nil, fmt.Errorf("merge sales document %s: %w", l.d.ID, err)
	}
	return &documentLocal{documents: l.documents, d: &d, fresh: l.fresh, had: l.had, hadID: l.hadID}, nil
}

// put puts v over the Metakocka document remote (read with get_document,
// so that fields mksync does not map are kept) and returns the view of
// what Metakocka holds then: put_document keeps the count_code of a
// replaced document.
func (l *documentLocal) put(ctx context.Context, v documentView, remote *metakocka.Document) (documentView, error) {
	md := *remote
	if err := fillMkDocument(&md, v, l.refs, l.s.e.cfg.Location); err != nil {
		return documentView{}, err
	}
	md.SumTax, md.DocumentInfo = nil, nil
	if _, err := l.s.mk.PutDocument(ctx, md); err != nil {
		return documentView{}, fmt.Errorf("put %s %s: %w", md.DocType, md.MkID, err)
	}
	v.Number = remote.CountCode
	return v, nil
}

func (l *documentLocal) apply(ctx context.Context, rv documentView, md *metakocka.Document, pulled snapshot) error {
	return l.s.applyMkDocument(ctx, l.d, rv, md.MkID, md.CountCode, pulled)
}

// pullDocument syncs one Metakocka document into the CRM, its partner and
// products first (see viewOfMkDocument and pull).
func (s *session) pullDocument(ctx context.Context, md metakocka.Document, force bool) (recordResult, string) {
	return pullOne(ctx, s, newDocuments(s), md, force)
}
