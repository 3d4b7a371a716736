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
	t.Run("update_partner's top-level address, always", func(t *testing.T) {
		t.Parallel()
		for _, strict := range []bool{false, true} {
			b := setupWith(t, mkfake.Options{Strict: strict})
			id := b.ok(t, "add_partner", req("partner", map[string]any{"customer": "Test Uporabnik", "street": "Test, 4", "post_number": "54375", "place": "Test"}))["mk_id"]
			out := b.ok(t, "update_partner", req("partner", map[string]any{"mk_id": id, "street": "Test 1234", "post_number": "2000"}))
			main := list(t, list(t, out["partner_list"])[0].(map[string]any)["partner_delivery_address_list"])[0].(map[string]any)
			require.Equal(t, "Test, 4", main["street"], "update_partner.md answers the billing address unchanged (strict %v)", strict)
			require.Equal(t, "54375", main["post_number"])
			// The documented way: the billing address by its mk_id.
			out = b.ok(t, "update_partner", req("partner", map[string]any{"mk_id": id,
				"partner_delivery_address_list": []any{map[string]any{"mk_id": main["mk_id"], "street": "Test 1234", "post_number": "2000", "payment_due_days": "15"}}}))
			main = list(t, list(t, out["partner_list"])[0].(map[string]any)["partner_delivery_address_list"])[0].(map[string]any)
			require.Equal(t, "Test 1234", main["street"])
			require.Equal(t, "2000", main["post_number"])
			require.Equal(t, "Račun", main["address_type"])
			require.Equal(t, "15", main["payment_due_days"])
		}
	})
	t.Run("a new contact on update_partner needs mk_address_id", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		out := b.ok(t, "add_partner", req("partner", map[string]any{"customer": "Test Uporabnik", "street": "Test, 4", "post_number": "54375", "place": "Test"}))
		id, billing := out["mk_id"], list(t, out["mk_address_id_list"])[0].(map[string]any)["mk_id"]
		b.fails(t, "update_partner", req("partner", map[string]any{"mk_id": id, "partner_contact_list": []any{map[string]any{"name": "Ana"}}}), "2")
		b.fails(t, "update_partner", req("partner", map[string]any{"mk_id": id, "partner_contact_list": []any{map[string]any{"name": "Ana", "mk_address_id": "1"}}}), "6")
		out = b.ok(t, "update_partner", req("partner", map[string]any{"mk_id": id, "partner_contact_list": []any{map[string]any{"name": "Ana", "mk_address_id": billing}}}))
		ct := list(t, list(t, out["partner_list"])[0].(map[string]any)["partner_contact_list"])[0].(map[string]any)
		require.Equal(t, "Ana", ct["name"])
		require.Equal(t, billing, ct["mk_address_id"])
	})
	t.Run("tax numbers compared exactly, always", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.ok(t, "add_partner", req("partner", map[string]any{"customer": "Davčni d.o.o.", "tax_id_number": "SI 12345678", "street": "Test, 4", "post_number": "1000", "place": "Ljubljana"}))
		for q, want := range map[string]string{"SI 12345678": "1", "SI12345678": "0", "si 12345678": "0", "12345678": "0"} {
			out := b.ok(t, "get_partner", req("partner_tax_number", q))
			require.Equal(t, want, out["partner_list_count"], "partner_tax_number %q", q)
		}
	})
}
