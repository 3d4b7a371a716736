package mkfake

import (
	"cmp"
	"slices"
	"time"
)

// documentInfoTypes are the document types get_document answers
// document_info for: the docs show it on sales orders and bills
// (documents_get_document_sales_order.md, "with document information";
// documents_get_document_bill.md, "get bill document information").
var documentInfoTypes = map[string]bool{
	"sales_order": true, "sales_bill_domestic": true, "sales_bill_foreign": true, "sales_bill_retail": true,
	"sales_bill_credit_note": true, "sales_bill_prepaid": true,
}

// apiUser is who the simulator's document history says made a change: the
// API, as one user of the company.
var apiUser = map[string]any{"user_email": "api@metakocka.test", "name": "API", "surname": "user"}

// statusEvent is one status change of a document (document_info's
// DOCUMENT_STATUS_CHANGE): when, and the status before and after.
type statusEvent struct {
	at         time.Time
	prev, next string
}

// infoTime is an operation_time as the example writes it: to the second,
// with the offset.
const infoTime = "2006-01-02T15:04:05-07:00"

// addDocumentInfo adds document_info to a get_document answer out when the
// request asks for it (return_document_info "true") on a type that has it:
// the document's creation (operation_type NEW), its last change of
// content (CHANGE) when it changed since, and each change of its status
// (DOCUMENT_STATUS_CHANGE with value_previous and value_new), in time
// order, each with its operation_time to the second with the offset, as
// the example shows. A change of the status alone is a
// DOCUMENT_STATUS_CHANGE, not a CHANGE. Other types ignore the flag, as
// get_document ignores flags a type does not document.
func addDocumentInfo(out obj, d *docRec, req obj) {
	if on, _ := boolOf(req["return_document_info"]); !on || !documentInfoTypes[d.DocType] {
		return
	}
	type entry struct {
		at time.Time
		e  obj
	}
	event := func(op string, at time.Time) entry {
		e := obj{"operation_type": op, "operation_time": at.Format(infoTime)}
		for k, v := range apiUser {
			e[k] = v
		}
		return entry{at, e}
	}
	entries := []entry{event("NEW", d.created)}
	if d.content.Truncate(time.Second).After(d.created.Truncate(time.Second)) {
		entries = append(entries, event("CHANGE", d.content))
	}
	for _, st := range d.statuses {
		en := event("DOCUMENT_STATUS_CHANGE", st.at)
		en.e["value_previous"], en.e["value_new"] = st.prev, st.next
		entries = append(entries, en)
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return cmp.Compare(a.at.UnixNano(), b.at.UnixNano()) })
	info := make([]any, len(entries))
	for i, en := range entries {
		info[i] = en.e
	}
	out["document_info"] = info
}

// changeStatusTypes are the types change_document_status documents;
// warehouse receiving notes are not simulated, so only sales orders are
// taken.
var changeStatusTypes = map[string]bool{"sales_order": true}

// changeDocumentStatus: change_document_status, the status of sales
// orders chosen by mk_id, mk_id_list or buyer_order
// (change_document_status.md). Every document is found before any is
// changed; a document whose status is already status_code is left as it
// is (no history entry).
func (s *Server) changeDocumentStatus(c *company, req obj) (obj, error) {
	docType := field(req, "doc_type")
	if !changeStatusTypes[docType] {
		return nil, invalidf("Paramether 'doc_type' has invalid value : %s. Valid values : sales_order", docType)
	}
	status := field(req, "status_code")
	if status == "" {
		return nil, invalidf("Paramether 'status_code' is required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var sels []obj
	switch ids := objectsOrStrings(req["mk_id_list"]); {
	case field(req, "mk_id") != "":
		sels = []obj{{"mk_id": field(req, "mk_id")}}
	case len(ids) > 0:
		for _, id := range ids {
			sels = append(sels, obj{"mk_id": id})
		}
	case field(req, "buyer_order") != "":
		sels = []obj{{"buyer_order": field(req, "buyer_order")}}
	default:
		return nil, invalidf("Paramether 'mk_id' is required")
	}
	docs := make([]*docRec, len(sels))
	for i, sel := range sels {
		d, err := c.findDoc(docType, sel)
		if err != nil {
			return nil, err
		}
		docs[i] = d
	}
	now := s.now()
	for _, d := range docs {
		c.setStatus(d, status, now)
	}
	return obj{}, nil
}

// setStatus changes d's status to status at now, recording the change in
// its history; nothing when it already has it. Callers hold c.mu.
func (c *company) setStatus(d *docRec, status string, now time.Time) {
	prev := field(d.Fields, "status_code")
	if prev == status {
		return
	}
	fields := copyMap(d.Fields)
	if fields == nil {
		fields = map[string]any{}
	}
	fields["status_code"] = status
	d.Fields = fields
	d.statuses = append(d.statuses, statusEvent{at: now, prev: prev, next: status})
	c.touchDoc(d, now)
}
