package mkfake_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDocumentStatusChangeHistory: a status change by
// change_document_status or update_document is answered in document_info
// as DOCUMENT_STATUS_CHANGE with the previous and new status at its time,
// as documents_get_document_sales_order.md shows; a change of the status
// alone is not a CHANGE, a change of other fields is.
func TestDocumentStatusChangeHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.clock.now()
	addProduct(t, b, "art1")
	mkID := putOrder(t, b, "", "art1")
	info := func() []map[string]any {
		out := b.ok(t, "get_document", req("doc_type", "sales_order", "doc_id", mkID, "return_document_info", "true"))
		raw, _ := out["document_info"].([]any)
		var es []map[string]any
		for _, e := range raw {
			es = append(es, e.(map[string]any))
		}
		return es
	}
	require.Len(t, info(), 1)

	b.clock.set(created.Add(time.Minute))
	b.ok(t, "change_document_status", req("doc_type", "sales_order", "status_code", "Pripravljen za odpremo", "mk_id", mkID))
	es := info()
	require.Len(t, es, 2, "a status change alone is no CHANGE: %v", es)
	require.Equal(t, "DOCUMENT_STATUS_CHANGE", es[1]["operation_type"])
	require.Equal(t, "", es[1]["value_previous"])
	require.Equal(t, "Pripravljen za odpremo", es[1]["value_new"])
	require.Equal(t, created.Add(time.Minute).Format("2006-01-02T15:04:05-07:00"), es[1]["operation_time"])
	got := b.ok(t, "get_document", req("doc_type", "sales_order", "doc_id", mkID))
	require.Equal(t, "Pripravljen za odpremo", got["status_code"])

	// The same status again changes nothing.
	b.clock.set(created.Add(2 * time.Minute))
	b.ok(t, "change_document_status", req("doc_type", "sales_order", "status_code", "Pripravljen za odpremo", "mk_id_list", []any{mkID}))
	require.Len(t, info(), 2)

	// update_document: the status and the notes; then the notes alone.
	b.clock.set(created.Add(3 * time.Minute))
	b.ok(t, "update_document", req("doc_type", "sales_order", "mk_id", mkID, "status_code", "Odpremljeno", "notes", "poslano"))
	b.clock.set(created.Add(4 * time.Minute))
	b.ok(t, "update_document", req("doc_type", "sales_order", "mk_id", mkID, "notes", "poslano z DHL"))
	es = info()
	var ops []string
	for _, e := range es {
		ops = append(ops, e["operation_type"].(string))
	}
	require.Equal(t, []string{"NEW", "DOCUMENT_STATUS_CHANGE", "DOCUMENT_STATUS_CHANGE", "CHANGE"}, ops)
	require.Equal(t, "Pripravljen za odpremo", es[2]["value_previous"])
	require.Equal(t, "Odpremljeno", es[2]["value_new"])
	require.Equal(t, created.Add(4*time.Minute).Format("2006-01-02T15:04:05-07:00"), es[3]["operation_time"])
}

// TestChangeDocumentStatusRefusals: change_document_status takes the
// documented types only (warehouse receiving notes are not simulated),
// needs a status and a document, and changes none when one is missing.
func TestChangeDocumentStatusRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "art1")
	mkID := putOrder(t, b, "", "art1")
	b.fails(t, "change_document_status", req("doc_type", "sales_offer", "status_code", "x", "mk_id", mkID), "2")
	b.fails(t, "change_document_status", req("doc_type", "sales_order", "mk_id", mkID), "2")
	b.fails(t, "change_document_status", req("doc_type", "sales_order", "status_code", "x"), "2")
	b.fails(t, "change_document_status", req("doc_type", "sales_order", "status_code", "x", "mk_id_list", []any{mkID, "999"}), "6")
	got := b.ok(t, "get_document", req("doc_type", "sales_order", "doc_id", mkID))
	require.NotEqual(t, "x", got["status_code"], "nothing changed when one document is missing")
}
