package metakocka

import (
	"strings"
	"time"
)

// DocumentEvent is one entry of a document's history (document_info):
// who did what and when. OperationType is NEW, CHANGE,
// DOCUMENT_STATUS_CHANGE (with ValuePrevious and ValueNew) or CUSTOM (with
// Notes); OperationTime is "2020-11-27T11:10:43+02:00".
type DocumentEvent struct {
	UserEmail     string `json:"user_email,omitempty"`
	Name          string `json:"name,omitempty"`
	Surname       string `json:"surname,omitempty"`
	OperationType string `json:"operation_type,omitempty"`
	OperationTime string `json:"operation_time,omitempty"`
	Notes         string `json:"notes,omitempty"`
	ValuePrevious string `json:"value_previous,omitempty"`
	ValueNew      string `json:"value_new,omitempty"`
}

// LastContentChange is the latest time the document's content changed
// according to its document_info: its creation (NEW), a change (CHANGE)
// or a status change; CUSTOM entries (a note such as "order moved to a
// bill") change nothing mapped. Zero when the history says nothing.
func (d *Document) LastContentChange() time.Time {
	var last time.Time
	for _, e := range d.DocumentInfo {
		switch strings.ToUpper(e.OperationType) {
		case "NEW", "CHANGE", "DOCUMENT_STATUS_CHANGE":
		default:
			continue
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(e.OperationTime))
		if err == nil && t.After(last) {
			last = t
		}
	}
	return last
}

// HasDocumentInfo reports whether get_document answers document_info for
// documents of type t (sales orders and bills, as documented).
func HasDocumentInfo(t DocType) bool {
	return t == DocSalesOrder || strings.HasPrefix(string(t), "sales_bill_")
}
