package mkfake_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka/mkfake"
)

// TestStrict checks each behaviour the simulator is strict about: what the
// docs do not show is refused by default (or, for update_partner with
// Options.Strict, changes nothing, as the documented example answers),
// while Options.Lenient accepts it.
func TestStrict(t *testing.T) {
	t.Parallel()
	rows := []any{row("code", "p1", "amount", "1", "price", "10", "tax", "EX4")}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, b *bundle) (code string)
	}{
		{"last_change_from on an offer", func(t *testing.T, b *bundle) string {
			_, out := b.post(t, "search", req("doc_type", "sales_offer", "query_advance", []any{row("type", "last_change_from", "value", "2020-01-01T00:00:00+01:00")}))
			return out["opr_code"].(string)
		}},
		{"a bare YYYY-MM-DD doc_date", func(t *testing.T, b *bundle) string {
			_, out := b.post(t, "put_document", req("doc_type", "sales_order", "doc_date", "2014-11-23", "partner", buyer, "product_list", rows))
			return out["opr_code"].(string)
		}},
		{"a bare YYYY-MM-DD duo_payment", func(t *testing.T, b *bundle) string {
			_, out := b.post(t, "put_document", req("doc_type", "sales_bill_domestic", "duo_payment", "2014-11-23", "partner", buyer, "product_list", rows))
			return out["opr_code"].(string)
		}},
		{"a bare YYYY-MM-DD in search", func(t *testing.T, b *bundle) string {
			_, out := b.post(t, "search", req("doc_type", "sales_order", "query_advance", []any{row("type", "doc_date_from", "value", "2014-11-23")}))
			return out["opr_code"].(string)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lenient, strict := setupLenient(t), setup(t)
			addProduct(t, lenient, "p1")
			addProduct(t, strict, "p1")
			require.Equal(t, "0", tc.run(t, lenient), "accepted with Lenient")
			require.Equal(t, "2", tc.run(t, strict), "refused by default")
		})
	}
	t.Run("documented forms stay accepted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		addProduct(t, b, "p1")
		for _, d := range []string{"2014-11-23+02:00", "16.02.2022", "2019-12-17T14:28:54+02:00"} {
			b.ok(t, "put_document", req("doc_type", "sales_order", "doc_date", d, "partner", buyer, "product_list", rows))
		}
		b.ok(t, "search", req("doc_type", "sales_order", "query_advance", []any{row("type", "last_change_from", "value", "2019-12-17T14:28:54+02:00")}))
		id := b.ok(t, "put_document", req("doc_type", "sales_order", "partner", buyer, "product_list", rows))["mk_id"]
		b.ok(t, "delete_document", req("doc_type", "sales_order", "mk_id", id))
	})
	t.Run("delete_document only on sales orders, always", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		addProduct(t, b, "p1")
		id := b.ok(t, "put_document", req("doc_type", "sales_offer", "partner", buyer, "product_list", rows))["mk_id"]
		b.fails(t, "delete_document", req("doc_type", "sales_offer", "mk_id", id), "2")
		b.ok(t, "get_document", req("doc_type", "sales_offer", "doc_id", id))
	})
	t.Run("update_partner's top-level address", func(t *testing.T) {
		t.Parallel()
		for _, strict := range []bool{false, true} {
			b := setupWith(t, mkfake.Options{Strict: strict})
			id := b.ok(t, "add_partner", req("partner", map[string]any{"customer": "Test Uporabnik", "street": "Test, 4", "post_number": "54375", "place": "Test"}))["mk_id"]
			out := b.ok(t, "update_partner", req("partner", map[string]any{"mk_id": id, "street": "Test 1234", "post_number": "2000"}))
			main := list(t, list(t, out["partner_list"])[0].(map[string]any)["partner_delivery_address_list"])[0].(map[string]any)
			if strict {
				require.Equal(t, "Test, 4", main["street"], "update_partner.md answers the billing address unchanged")
				require.Equal(t, "54375", main["post_number"])
			} else {
				require.Equal(t, "Test 1234", main["street"])
			}
		}
	})
}
