package mkfake_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func row(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

var buyer = map[string]any{"customer": "Kupec d.o.o.", "street": "Cesta 1", "post_number": "1000", "place": "Ljubljana", "country": "Slovenia"}

// TestDocumentSums checks the sums Metakocka computes for documents put as
// the docs show them; the expected figures are the documented ones where
// the docs give them.
func TestDocumentSums(t *testing.T) {
	t.Parallel()
	coupon := row("code", "MyCouponCode", "name", "Coupon for 10 EUR", "amount", "-1", "price_with_tax", "10", "tax", "EX4", "unit", "stor", "service", "true", "sales", "true")
	for _, tc := range []struct {
		name string
		head map[string]any
		rows []any
		want map[string]string
	}{
		{"gross price with a coupon as discount_value (documents_concept.md)",
			map[string]any{"discount_value": "10"},
			[]any{row("code", "product1", "amount", "1", "price_with_tax", "100", "tax", "EX4")},
			map[string]string{"sum_basic": "73.77", "sum_tax_ex4": "16.23", "sum_all": "90", "sum_discount": "10"}},
		{"gross price with a negative coupon line (documents_concept.md)",
			nil,
			[]any{row("code", "product1", "amount", "1", "price_with_tax", "100", "tax", "EX4"), coupon},
			map[string]string{"sum_basic": "73.77", "sum_tax_ex4": "16.23", "sum_all": "90"}},
		{"gross price with a decimal comma (put_document_sales_order.md)",
			nil,
			[]any{row("code", "product1", "amount", "1", "price_with_tax", "19,99", "tax", "EX4")},
			map[string]string{"sum_basic": "16.39", "sum_tax_ex4": "3.6", "sum_all": "19.99"}},
		{"line discounts at EX4 (documents_get_document_bill.md)",
			nil,
			[]any{row("code", "product1", "amount", "2", "price", "89.9", "discount", "15", "tax", "EX4"), row("code", "product2", "amount", "6", "price", "15.5", "discount", "5", "tax", "EX4")},
			map[string]string{"sum_basic": "241.18", "sum_discount": "31.62", "sum_tax_ex4": "53.06", "sum_all": "294.24"}},
		{"EX4 is 22 % (search_examples.md)",
			nil,
			[]any{row("code", "product1", "amount", "2", "price", "2", "tax", "EX4")},
			map[string]string{"sum_basic": "4", "sum_tax_ex4": "0.88", "sum_all": "4.88"}},
		{"EX1 is 25 %, EX3 9.5 %",
			nil,
			[]any{row("code", "product1", "amount", "1", "price", "100", "tax", "EX1"), row("code", "product2", "amount", "1", "price", "100", "tax", "EX3")},
			map[string]string{"sum_basic": "200", "sum_tax_ex1": "25", "sum_tax_ex3": "9.5", "sum_all": "234.5"}},
		{"cascaded discounts and three-digit codes (documents_concept.md)",
			nil,
			[]any{row("code", "product1", "amount", "20", "price", "21", "discount", "22;23", "tax", "200"), row("code", "product2", "amount", "10", "price", "11", "discount", "12", "tax", "085")},
			// 420 × 0.78 × 0.77 = 252.252; 110 × 0.88 = 96.8.
			map[string]string{"sum_basic": "349.05", "sum_tax_200": "50.45", "sum_tax_085": "8.23", "sum_all": "407.73"}},
		{"a free-text line without a catalogue product",
			nil,
			[]any{row("name", "Montaža po dogovoru", "amount", "2", "price", "50", "tax", "220")},
			map[string]string{"sum_basic": "100", "sum_tax_220": "22", "sum_all": "122"}},
		{"a payment without amount pays the document",
			map[string]any{"mark_paid": []any{row("payment_type", "PayPal", "date", "12.03.2011")}},
			[]any{row("code", "product1", "amount", "1", "price", "10", "tax", "EX4")},
			map[string]string{"sum_all": "12.2", "sum_paid": "12.2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			addProduct(t, b, "product1")
			addProduct(t, b, "product2")
			body := req("doc_type", "sales_order", "partner", buyer, "product_list", tc.rows)
			for k, v := range tc.head {
				body[k] = v
			}
			id := b.ok(t, "put_document", body)["mk_id"]
			got := b.ok(t, "get_document", req("doc_type", "sales_order", "doc_id", id))
			for k, v := range tc.want {
				require.Equal(t, v, got[k], k)
			}
		})
	}
}

func TestDocumentRowsAsDocumented(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "product1")
	body := req("doc_type", "sales_order", "partner", buyer, "product_list", []any{
		row("name", "Montaža po dogovoru", "amount", "1", "price", "50", "tax", "EX4"),
		row("code", "product1", "amount", "1", "price_with_tax", "12,20", "tax", "EX4"),
	})
	id := b.ok(t, "put_document", body)["mk_id"]
	got := b.ok(t, "get_document", req("doc_type", "sales_order", "doc_id", id, "show_tax_factor", "true"))
	rows := list(t, got["product_list"])
	free := rows[0].(map[string]any)
	require.Equal(t, "Montaža po dogovoru", free["name"])
	require.NotContains(t, free, "code", "a free-text line names no product")
	require.NotContains(t, free, "mk_id")
	gross := rows[1].(map[string]any)
	require.Equal(t, "12.2", gross["price_with_tax"], "a gross price is answered as given")
	require.NotContains(t, gross, "price", "no net price is invented for a gross line")
	require.Equal(t, "0.22", gross["tax_factor"])
	require.Equal(t, "22", gross["tax_desc"], "tax_desc as product_list.md shows it for EX4")
	require.Len(t, b.srv.Products(company), 1, "a free-text line creates no product")

	t.Run("EX2 has no documented rate", func(t *testing.T) {
		desc := b.fails(t, "put_document", req("doc_type", "sales_order", "partner", buyer, "product_list", []any{row("code", "product1", "amount", "1", "price", "1", "tax", "EX2")}), "2")
		require.Contains(t, desc, "EX2")
	})
	t.Run("a negative amount needs a service product", func(t *testing.T) {
		desc := b.fails(t, "put_document", req("doc_type", "sales_order", "partner", buyer, "product_list", []any{row("code", "product1", "amount", "-1", "price", "1", "tax", "EX4")}), "6")
		require.Contains(t, desc, "service")
	})
}

func TestCreditNotes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "goods1")
	b.ok(t, "product_add", req("count_code", "fee", "code", "fee", "name", "Fee", "unit", "kos", "service", "true", "sales", "true"))
	bill := b.ok(t, "put_document", req("doc_type", "sales_bill_domestic", "count_code", "1-MK-1830", "partner", buyer,
		"product_list", []any{row("code", "goods1", "amount", "2", "price", "100", "tax", "EX4")}))
	require.Equal(t, "1-MK-1830", bill["count_code"])
	note := func(kv ...any) map[string]any {
		return req(append([]any{"doc_type", "sales_bill_credit_note", "doc_date", "2021-11-05+02:00"}, kv...)...)
	}
	t.Run("financial, without partner: the invoice's partner", func(t *testing.T) {
		out := b.ok(t, "put_document", note("credit_note_type", "financial", "credit_note_bill", "1-MK-1830",
			"product_list", []any{row("code", "fee", "amount", "1", "price", "100", "tax", "EX4")}))
		got := b.ok(t, "get_document", req("doc_type", "sales_bill_credit_note", "doc_id", out["mk_id"]))
		require.Equal(t, "Kupec d.o.o.", got["partner"].(map[string]any)["customer"])
		require.Equal(t, "122", got["sum_all"])
		require.Equal(t, "financial", got["credit_note_type"])
	})
	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"financial with a material product", note("credit_note_type", "financial", "credit_note_bill", "1-MK-1830", "product_list", []any{row("code", "goods1", "amount", "1", "price", "1", "tax", "EX4")}), "6"},
		{"goods not on the invoice", note("credit_note_type", "goods", "credit_note_bill", "1-MK-1830", "product_list", []any{row("code", "fee", "amount", "1", "price", "1", "tax", "EX4")}), "6"},
		{"unknown invoice", note("credit_note_type", "goods", "credit_note_bill", "nope", "product_list", []any{row("code", "goods1", "amount", "1", "price", "1", "tax", "EX4")}), "6"},
		{"no credit_note_type", note("credit_note_bill", "1-MK-1830", "product_list", []any{row("code", "goods1", "amount", "1", "price", "1", "tax", "EX4")}), "2"},
		{"standalone without partner", note("credit_note_type", "standalone", "product_list", []any{row("code", "goods1", "amount", "1", "price", "1", "tax", "EX4")}), "2"},
	} {
		t.Run(tc.name, func(t *testing.T) { b.fails(t, "put_document", tc.body, tc.code) })
	}
	b.ok(t, "put_document", note("credit_note_type", "goods", "credit_note_bill", "1-MK-1830", "product_list", []any{row("code", "goods1", "amount", "1", "price", "100", "tax", "EX4")}))
	b.ok(t, "put_document", note("credit_note_type", "standalone", "partner", buyer, "product_list", []any{row("code", "goods1", "amount", "1", "price", "100", "tax", "EX4")}))
	for _, typ := range []string{"sales_bill_retail", "sales_bill_prepaid"} {
		b.ok(t, "put_document", req("doc_type", typ, "partner", buyer, "product_list", []any{row("code", "goods1", "amount", "1", "price", "10", "tax", "EX4")}))
	}
}

func TestPaymentStatusSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "p1")
	rows := []any{row("code", "p1", "amount", "1", "price", "10", "tax", "EX4")}
	paid := b.ok(t, "put_document", req("doc_type", "sales_bill_domestic", "partner", buyer, "product_list", rows,
		"mark_paid", []any{row("payment_type", "PayPal", "date", "12.03.2011")}))
	open := b.ok(t, "put_document", req("doc_type", "sales_bill_domestic", "partner", buyer, "product_list", rows))
	search := func(status string) []any {
		out := b.ok(t, "search", req("doc_type", "sales_bill_domestic", "query_advance", []any{row("type", "payment_status", "value", status)}))
		return list(t, out["result"])
	}
	require.Equal(t, paid["mk_id"], search("true")[0].(map[string]any)["mk_id"])
	require.Len(t, search("true"), 1)
	require.Equal(t, open["mk_id"], search("false")[0].(map[string]any)["mk_id"])
	require.Len(t, search("false"), 1)
	b.fails(t, "search", req("doc_type", "sales_order", "query_advance", []any{row("type", "payment_status", "value", "true")}), "2")
}

func TestSeedDemoRealistic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SeedDemo(company)
	for _, p := range b.srv.Products(company) {
		require.Equal(t, "PC_MAIN", p.Prices[0].Pricelist)
		require.NotEmpty(t, p.Prices[0].PriceWithTax, "gross prices, as a web shop enters them")
		require.Empty(t, p.Prices[0].Price)
	}
	warehouses := map[any]bool{}
	discounted := 0
	for _, d := range b.srv.Documents(company) {
		warehouses[d.Fields["warehouse"]] = true
		if d.Fields["discount_value"] != nil {
			discounted++
		}
	}
	require.Len(t, warehouses, 3)
	require.Equal(t, 1, discounted)

	before := len(b.srv.Documents(company))
	b.srv.SeedDemoCoupons(company)
	b.srv.SeedDemoCoupons(company)
	docs := b.srv.Documents(company)
	require.Len(t, docs, before+2)
	order, note := docs[len(docs)-2], docs[len(docs)-1]
	require.Equal(t, "sales_order", order.DocType)
	require.Equal(t, "-1", order.Products[1].Amount, "a coupon line")
	require.Equal(t, "10", order.Fields["discount_value"])
	// DEMO-004 costs 109.68 gross; less the 5 EUR coupon line, less the 10 EUR
	// coupon on the gross total.
	require.Equal(t, "94.68", order.Sums["sum_all"])
	require.Equal(t, "sales_bill_credit_note", note.DocType)
	require.Equal(t, "financial", note.Fields["credit_note_type"])
}
