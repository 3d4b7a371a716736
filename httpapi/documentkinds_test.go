package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// TestCreditNoteFieldsThroughAPI: a credit note is created through the API
// with its type, the invoice it credits and its service date, and read
// back; one that credits a document that is not the tenant's invoice, or
// names none while financial, is refused with the field named.
func TestCreditNoteFieldsThroughAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, v := b.a, b.b
	line := `"lines":[{"productId":"` + a.ProductID + `","quantity":"1","unitPrice":"5","discountPercent":"0","taxRate":"22"}]`
	doc := func(kind, extra string) string {
		return `{"kind":"` + kind + `","date":"2026-03-01","contactId":"` + a.ContactID + `","currency":"EUR",` + line + extra + `}`
	}
	var inv mksync.SalesDocument
	b.decode(b.do("POST", "/api/sales-documents", a.Token, doc("invoice", "")), http.StatusCreated, &inv)

	var note mksync.SalesDocument
	b.decode(b.do("POST", "/api/sales-documents", a.Token, doc("credit_note",
		`,"creditNoteType":"financial","creditedInvoiceId":"`+inv.ID+`","serviceToDate":"2026-02-28"`)), http.StatusCreated, &note)
	var got mksync.SalesDocument
	b.decode(b.do("GET", "/api/sales-documents/"+note.ID, a.Token, ""), http.StatusOK, &got)
	require.Equal(t, mksync.CreditNoteFinancial, got.CreditNoteType)
	require.Equal(t, inv.ID, got.CreditedInvoiceID)
	require.Equal(t, "2026-02-28", got.ServiceToDate.String())

	var order mksync.SalesDocument
	b.decode(b.do("POST", "/api/sales-documents", a.Token, doc("order", `,"prepaymentPercent":"15"`)), http.StatusCreated, &order)
	require.Equal(t, "15", order.PrepaymentPercent.String())

	for _, tc := range []struct{ name, body, field string }{
		{"another tenant's invoice", doc("credit_note", `,"creditNoteType":"goods","creditedInvoiceId":"`+v.DocumentID+`"`), "creditedInvoiceId"},
		{"not an invoice", doc("credit_note", `,"creditNoteType":"goods","creditedInvoiceId":"`+order.ID+`"`), "creditedInvoiceId"},
		{"financial without an invoice", doc("credit_note", `,"creditNoteType":"financial"`), "creditedInvoiceId"},
		{"unknown type", doc("credit_note", `,"creditNoteType":"debit"`), "creditNoteType"},
		{"type on an order", doc("order", `,"creditNoteType":"standalone"`), "creditNoteType"},
		{"both prepayments", doc("order", `,"prepaymentPercent":"10","prepaymentValue":"5"`), "prepaymentValue"},
	} {
		rec := b.do("POST", "/api/sales-documents", a.Token, tc.body)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", tc.name, rec.Body.String())
		e := envelope(t, rec)
		require.Equal(t, "invalid", e.Code, tc.name)
		require.Contains(t, rec.Body.String(), tc.field, tc.name)
	}
}
