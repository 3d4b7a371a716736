package mkfake

import "time"

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

// addDocumentInfo adds document_info to a get_document answer out when the
// request asks for it (return_document_info "true") on a type that has it:
// the document's creation (operation_type NEW) and, when it changed since,
// its last change (CHANGE), each with its operation_time to the second with
// the offset, as the example shows. Other types ignore the flag, as
// get_document ignores flags a type does not document.
func addDocumentInfo(out obj, d *docRec, req obj) {
	if on, _ := boolOf(req["return_document_info"]); !on || !documentInfoTypes[d.DocType] {
		return
	}
	event := func(op string, at time.Time) obj {
		e := obj{"operation_type": op, "operation_time": at.Format("2006-01-02T15:04:05-07:00")}
		for k, v := range apiUser {
			e[k] = v
		}
		return e
	}
	info := []any{event("NEW", d.created)}
	if d.LastChange.Truncate(time.Second).After(d.created.Truncate(time.Second)) {
		info = append(info, event("CHANGE", d.LastChange))
	}
	out["document_info"] = info
}
