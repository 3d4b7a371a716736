package mkfake

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// searchMax is the largest window search answers.
const searchMax = 100

// searchFilter is one query_advance condition.
type searchFilter func(d *docRec) bool

// advanceTypes are the query_advance types the simulator understands, with
// their descriptions for search_query_advance_discovery.
var advanceTypes = map[string]string{
	"last_change_from":  "Last change from, inclusive, to the second (for example : 2019-12-17T14:28:54+02:00)",
	"last_change_to":    "Last change to, inclusive, to the second (for example : 2020-12-17T14:28:54+02:00)",
	"doc_date_from":     "Document date from (for example : 2018-10-05+02:00)",
	"doc_date_to":       "Document date to (for example : 2018-12-21+02:00)",
	"partner_mk_id":     "Partner mk_id (for example : 1600002312)",
	"partner_code":      "Partner code (for example : 100)",
	"partner_tax_num":   "Partner Tax number (for example : SI100200300)",
	"partner_query":     "Subquery search over partner name (for example : Ferrari)",
	"partner_country":   "Partner country (for example : Slovenia)",
	"status_list":       "Comma separated status codes (for example : draft,ready_to_ship)",
	"customer_order":    "Buyer order (for example : PP-27012)",
	"buyer_order":       "Buyer order (for example : PP-27012)",
	"delivery_type":     "Delivery type (for example : posta_slovenije)",
	"product_id_list":   "Comma separated product mk_ids",
	"product_code_list": "Comma separated product codes",
	"payment_status":    "'true' for paid bills, 'false' for bills not (fully) paid",
}

// billTypes are the sales bill types; payment_status searches only these,
// as documented for invoices.
var billTypes = map[string]bool{
	"sales_bill_domestic": true, "sales_bill_foreign": true, "sales_bill_retail": true,
	"sales_bill_credit_note": true, "sales_bill_prepaid": true,
}

// strictLastChangeTypes are the document types the docs show
// last_change_from/last_change_to on (search_examples.md: sales orders);
// other types are refused unless the simulator is Lenient.
var strictLastChangeTypes = map[string]bool{"sales_order": true}

// search: search over one document type with query, query_advance,
// offset/limit (at most 100) and order_direction; ordered by mk_id.
// Requests of one company are served one at a time (see serveAPI).
func (s *Server) search(c *company, req obj) (obj, error) {
	docType := field(req, "doc_type")
	if err := checkDocType(docType); err != nil {
		return nil, err
	}
	offset, err := intOf("offset", req["offset"], 0)
	if err != nil {
		return nil, err
	}
	limit, err := intOf("limit", req["limit"], searchMax)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > searchMax {
		limit = searchMax
	}
	desc := false
	switch dir := lower(field(req, "order_direction")); dir {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return nil, invalidf("Paramether 'order_direction' has invalid value : %s. Valid values : asc,desc", dir)
	}
	var filters []searchFilter
	var changedFrom, changedTo *time.Time
	if q := lower(field(req, "query")); q != "" {
		filters = append(filters, func(d *docRec) bool {
			return strings.Contains(lower(d.CountCode), q) || strings.Contains(lower(d.Partner.Customer), q) ||
				strings.Contains(lower(field(d.Fields, "buyer_order")), q) || strings.Contains(lower(field(d.Fields, "title")), q) ||
				strings.Contains(lower(d.Partner.TaxIDNumber), q)
		})
	}
	for _, qa := range objects(req["query_advance"]) {
		typ, val := field(qa, "type"), field(qa, "value")
		f, from, to, err := s.advanceFilter(docType, typ, val)
		if err != nil {
			return nil, err
		}
		if from != nil {
			changedFrom = from
		}
		if to != nil {
			changedTo = to
		}
		if f != nil {
			filters = append(filters, f)
		}
	}
	asDoc := lower(field(req, "result_type")) == "doc"
	withStatus, _ := boolOf(req["show_status_code"])
	detail, _ := boolOf(req["show_product_detail"])
	factor, _ := boolOf(req["show_tax_factor"])

	c.mu.Lock()
	defer c.mu.Unlock()
	candidates := c.docsByType[docType]
	if changedFrom != nil || changedTo != nil {
		candidates = c.changedDocs(docType, changedFrom, changedTo)
	}
	matches := candidates
	if len(filters) > 0 {
		matches = make([]*docRec, 0, len(candidates))
		for _, d := range candidates {
			if !slices.ContainsFunc(filters, func(f searchFilter) bool { return !f(d) }) {
				matches = append(matches, d)
			}
		}
	}
	total := len(matches)
	result := make([]any, 0, min(limit, max(0, total-offset)))
	for i := offset; i < total && len(result) < limit; i++ {
		d := matches[i]
		if desc {
			d = matches[total-1-i]
		}
		if asDoc {
			result = append(result, docJSON(&d.Document, detail, factor))
			continue
		}
		r := obj{"mk_id": d.MkID, "opr_code": "0", "count_code": d.CountCode}
		if withStatus {
			if st := field(d.Fields, "status_code"); st != "" {
				r["status_code"] = st
			}
		}
		result = append(result, r)
	}
	return obj{
		"result_all_records": itoa(total),
		"result_count":       itoa(len(result)),
		"offset":             itoa(offset),
		"limit":              itoa(limit),
		"result":             result,
	}, nil
}

// advanceFilter builds the filter of one query_advance condition; the
// last_change bounds are returned separately so the change log can serve
// them.
func (s *Server) advanceFilter(docType, typ, val string) (f searchFilter, from, to *time.Time, err error) {
	list := func() map[string]bool {
		m := map[string]bool{}
		for _, v := range strings.Split(val, ",") {
			if v = lower(v); v != "" {
				m[v] = true
			}
		}
		return m
	}
	switch typ {
	case "last_change_from", "last_change_to":
		if !s.lenient && !strictLastChangeTypes[docType] {
			return nil, nil, nil, invalidf("Paramether 'query_advance' has unsupported type for %s : %s", docType, typ)
		}
		t, err := s.parseDate(val)
		if err != nil {
			return nil, nil, nil, invalidf("Paramether '%s' has invalid value : %s", typ, val)
		}
		if typ == "last_change_from" {
			return nil, &t, nil, nil
		}
		return nil, nil, &t, nil
	case "doc_date_from", "doc_date_to":
		t, err := s.parseDate(val)
		if err != nil {
			return nil, nil, nil, invalidf("Paramether '%s' has invalid value : %s", typ, val)
		}
		day := t.Format("2006-01-02")
		return func(d *docRec) bool {
			dd, err := parseTime(d.DocDate, s.loc)
			if err != nil {
				return false
			}
			if typ == "doc_date_from" {
				return dd.Format("2006-01-02") >= day
			}
			return dd.Format("2006-01-02") <= day
		}, nil, nil, nil
	case "partner_mk_id":
		return func(d *docRec) bool { return d.Partner.MkID == val }, nil, nil, nil
	case "partner_code":
		return func(d *docRec) bool { return d.Partner.CountCode == val }, nil, nil, nil
	case "partner_tax_num":
		k := taxKey(val)
		return func(d *docRec) bool { return taxKey(d.Partner.TaxIDNumber) == k }, nil, nil, nil
	case "partner_query":
		q := lower(val)
		return func(d *docRec) bool { return strings.Contains(lower(d.Partner.Customer), q) }, nil, nil, nil
	case "partner_country":
		q := lower(val)
		return func(d *docRec) bool {
			return lower(d.Partner.Country) == q || (countryISO[q] != "" && countryISO[lower(d.Partner.Country)] == countryISO[q])
		}, nil, nil, nil
	case "status_list":
		m := list()
		return func(d *docRec) bool { return m[lower(field(d.Fields, "status_code"))] }, nil, nil, nil
	case "customer_order", "buyer_order":
		return func(d *docRec) bool { return field(d.Fields, "buyer_order") == val }, nil, nil, nil
	case "delivery_type":
		q := lower(val)
		return func(d *docRec) bool { return lower(field(d.Fields, "delivery_type")) == q }, nil, nil, nil
	case "product_id_list", "product_code_list":
		m := list()
		return func(d *docRec) bool {
			return slices.ContainsFunc(d.Products, func(r DocRow) bool {
				if typ == "product_id_list" {
					return m[lower(r.MkID)]
				}
				return m[lower(r.Code)]
			})
		}, nil, nil, nil
	case "payment_status":
		if !billTypes[docType] {
			return nil, nil, nil, invalidf("Paramether 'query_advance' has unsupported type for %s : %s", docType, typ)
		}
		want, ok := boolOf(val)
		if !ok {
			return nil, nil, nil, invalidf("Paramether 'payment_status' has invalid value : %s. Valid values : true,false", val)
		}
		return func(d *docRec) bool { return d.paid() == want }, nil, nil, nil
	case "":
		return nil, nil, nil, invalidf("Paramether 'query_advance' needs a 'type'")
	}
	return nil, nil, nil, invalidf("Paramether 'query_advance' has unsupported type : %s", typ)
}

// changedDocs returns the live documents of docType whose last change,
// truncated to the second, lies within [from, to] (nil = open), in mk_id
// order. With a time-ordered change log it starts at the first entry at or
// after from instead of scanning every document.
func (c *company) changedDocs(docType string, from, to *time.Time) []*docRec {
	in := func(at time.Time) bool {
		at = at.Truncate(time.Second)
		return (from == nil || !at.Before(*from)) && (to == nil || !at.After(*to))
	}
	var out []*docRec
	log := c.changeLog[docType]
	if !c.logSorted[docType] {
		for _, d := range c.docsByType[docType] {
			if in(d.LastChange) {
				out = append(out, d)
			}
		}
		return out
	}
	start := 0
	if from != nil {
		start = sort.Search(len(log), func(i int) bool { return !log[i].at.Truncate(time.Second).Before(*from) })
	}
	for _, e := range log[start:] {
		if to != nil && e.at.Truncate(time.Second).After(*to) {
			break
		}
		if e.doc.deleted || e.changeSeq != e.doc.changeSeq {
			continue
		}
		out = append(out, e.doc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// searchDiscovery: search_query_advance_discovery, listing the
// query_advance types the simulator supports per document type (or for the
// requested doc_type).
func (s *Server) searchDiscovery(_ *company, req obj) (obj, error) {
	types := make([]string, 0, len(advanceTypes))
	for t := range advanceTypes {
		types = append(types, t)
	}
	sort.Strings(types)
	params := make([]any, 0, len(types))
	for _, t := range types {
		params = append(params, obj{"type": t, "label": t, "value_desc": advanceTypes[t]})
	}
	out := obj{}
	if dt := field(req, "doc_type"); dt != "" {
		if err := checkDocType(dt); err != nil {
			return nil, err
		}
		out[dt] = params
		return out, nil
	}
	for dt := range docTypes {
		out[dt] = params
	}
	return out, nil
}
