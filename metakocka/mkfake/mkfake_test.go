package mkfake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka/mkfake"
)

const (
	company = "16"
	secret  = "8899"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// bundle is what a test works with: the simulator, its URL and its clock.
type bundle struct {
	srv   *mkfake.Server
	url   string
	clock *clock
}

func setup(t testing.TB) *bundle { return setupWith(t, mkfake.Options{}) }

// setupStrict is setup with the simulator's Strict option on (the partner
// rules too).
func setupStrict(t testing.TB) *bundle { return setupWith(t, mkfake.Options{Strict: true}) }

// setupLenient is setup with the simulator's Lenient option on.
func setupLenient(t testing.TB) *bundle { return setupWith(t, mkfake.Options{Lenient: true}) }

func setupWith(t testing.TB, opts mkfake.Options) *bundle {
	t.Helper()
	clk := &clock{t: time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)}
	opts.Seed, opts.Clock = 42, clk.now
	srv := mkfake.New(opts)
	srv.AddCompany(company, secret)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return &bundle{srv: srv, url: ts.URL, clock: clk}
}

// path is where a method is served.
func path(method string) string {
	if strings.HasPrefix(method, "product_") {
		return "/rest/eshop/v1/json/" + method
	}
	return "/rest/eshop/v1/" + method
}

// post sends body to method and returns the HTTP status and decoded answer.
func (b *bundle) post(t testing.TB, method string, body map[string]any) (int, map[string]any) {
	t.Helper()
	return b.postWith(t, http.DefaultClient, method, body)
}

func (b *bundle) postWith(t testing.TB, client *http.Client, method string, body map[string]any) (int, map[string]any) {
	t.Helper()
	resp, err := b.send(client, path(method), body)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

func (b *bundle) send(client *http.Client, p string, body map[string]any) (*http.Response, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return client.Post(b.url+p, "application/json", bytes.NewReader(raw))
}

// ok calls method and requires opr_code "0".
func (b *bundle) ok(t testing.TB, method string, body map[string]any) map[string]any {
	t.Helper()
	status, out := b.post(t, method, body)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "0", out["opr_code"], "answer: %v", out)
	require.NotEmpty(t, out["opr_time_ms"])
	return out
}

// fails calls method and requires the error opr_code; it returns opr_desc.
func (b *bundle) fails(t testing.TB, method string, body map[string]any, code string) string {
	t.Helper()
	status, out := b.post(t, method, body)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, code, out["opr_code"], "answer: %v", out)
	desc, _ := out["opr_desc"].(string)
	require.NotEmpty(t, desc)
	return desc
}

// req is a request body with the test company's credentials.
func req(kv ...any) map[string]any {
	m := map[string]any{"secret_key": secret, "company_id": company}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func fixture(t testing.TB, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func addProduct(t testing.TB, b *bundle, countCode string) string {
	t.Helper()
	out := b.ok(t, "product_add", req("count_code", countCode, "code", countCode, "name", "Product "+countCode, "unit", "kos", "sales", "true"))
	return out["mk_id"].(string)
}

func putOrder(t testing.TB, b *bundle, countCode string, productCodes ...string) string {
	t.Helper()
	rows := []any{}
	for _, pc := range productCodes {
		rows = append(rows, map[string]any{"count_code": pc, "amount": "1", "price": "10", "tax": "220"})
	}
	body := req("doc_type", "sales_order", "partner", map[string]any{"customer": "Kupec d.o.o.", "street": "Cesta 1", "post_number": "1000", "place": "Ljubljana", "country": "Slovenia"}, "product_list", rows)
	if countCode != "" {
		body["count_code"] = countCode
	}
	return b.ok(t, "put_document", body)["mk_id"].(string)
}

func list(t testing.TB, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	require.True(t, ok, "not a list: %#v", v)
	return l
}

func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fixture string
		method  string
		prepare func(t *testing.T, b *bundle, body map[string]any)
		check   func(t *testing.T, b *bundle, out map[string]any)
	}{
		{
			name: "add_partner", fixture: "add_partner.json", method: "add_partner",
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Regexp(t, `^16\d{8}$`, out["mk_id"])
				require.NotEmpty(t, out["mk_contact_id"])
				addrs := list(t, out["mk_address_id_list"])
				require.Len(t, addrs, 2)
				require.Equal(t, "Test, 4", addrs[0].(map[string]any)["street"])
				require.Equal(t, "Tehnološki park 24", addrs[1].(map[string]any)["street"])
				ps := b.srv.Partners(company)
				require.Len(t, ps, 1)
				require.Equal(t, "Test Uporabnik", ps[0].Customer)
				require.Equal(t, "test@test.com", ps[0].Contacts[0].Email)
			},
		},
		{
			name: "get_partner", fixture: "get_partner.json", method: "get_partner",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) {
				for _, name := range []string{"BAJEC JANEZ", "TESTNI JANEZ", "Marko Novak"} {
					b.ok(t, "add_partner", req("partner", map[string]any{"customer": name, "street": "Tehnološki park 24", "post_number": "1000", "place": "Ljubljana", "country": "Slovenija", "partner_contact": map[string]any{"email": "test@test.si", "gsm": "051123456"}}))
				}
			},
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "2", out["partner_list_count"])
				ps := list(t, out["partner_list"])
				require.Len(t, ps, 2)
				p := ps[0].(map[string]any)
				require.Equal(t, "BAJEC JANEZ", p["customer"])
				for _, k := range []string{"mk_id", "count_code", "business_entity", "foreign_county"} {
					require.NotEmpty(t, p[k], k)
				}
				ct := list(t, p["partner_contact_list"])[0].(map[string]any)
				require.Equal(t, "test@test.si", ct["email"])
				require.Equal(t, "Tehnološki park 24", ct["contact_address"])
				addr := list(t, p["partner_delivery_address_list"])[0].(map[string]any)
				require.Equal(t, "Račun", addr["address_type"])
				require.Equal(t, ct["mk_address_id"], addr["mk_id"])
			},
		},
		{
			name: "update_partner", fixture: "update_partner.json", method: "update_partner",
			prepare: func(t *testing.T, b *bundle, body map[string]any) {
				out := b.ok(t, "add_partner", fixture(t, "add_partner.json"))
				p := body["partner"].(map[string]any)
				p["mk_id"] = out["mk_id"]
				delivery := list(t, out["mk_address_id_list"])[1].(map[string]any)["mk_id"]
				list(t, p["partner_contact_list"])[0].(map[string]any)["mk_address_id"] = delivery
				list(t, p["partner_delivery_address_list"])[0].(map[string]any)["mk_id"] = delivery
			},
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "1", out["partner_list_count"])
				p := list(t, out["partner_list"])[0].(map[string]any)
				require.Len(t, list(t, p["partner_contact_list"]), 2)
				addrs := list(t, p["partner_delivery_address_list"])
				require.Len(t, addrs, 3)
				// The documented answer: the top-level street leaves the
				// billing address as it was.
				require.Equal(t, "Test, 4", addrs[0].(map[string]any)["street"])
				require.Equal(t, "Tehnološki park 21", addrs[1].(map[string]any)["street"])
				require.Equal(t, "Poslovna enota", addrs[1].(map[string]any)["address_type"])
				require.Equal(t, "Stegne 21c", addrs[2].(map[string]any)["street"])
			},
		},
		{
			name: "product_add", fixture: "product_add.json", method: "product_add",
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "eshop_001", out["count_code"])
				require.Regexp(t, `^\d+$`, out["mk_id"])
				ps := b.srv.Products(company)
				require.Len(t, ps, 1)
				require.Equal(t, "eshop_001_sif", ps[0].Code)
				require.Len(t, ps[0].Prices, 2)
				require.Equal(t, "220", ps[0].Prices[0].Tax)
				require.Equal(t, "0.22", ps[0].Prices[0].TaxFactor)
				require.Equal(t, "0,8", ps[0].Extra["gross_weight"])
			},
		},
		{
			name: "product_list", fixture: "product_list.json", method: "product_list",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) {
				addProduct(t, b, "A1")
				b.ok(t, "product_add", req("count_code", "N1", "code", "N1", "name", "Not for sale", "unit", "kos", "sales", "false"))
				addProduct(t, b, "A2")
				require.True(t, b.srv.SetStock(company, "A1", "10,5"))
			},
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "true", out["sales"])
				require.Equal(t, "true", out["return_warehause_stock"])
				require.Equal(t, "0", out["offset"])
				require.Equal(t, "1000", out["limit"])
				require.Equal(t, "2", out["product_list_count"])
				ps := list(t, out["product_list"])
				require.Equal(t, "A1", ps[0].(map[string]any)["count_code"])
				require.Equal(t, "10.5", ps[0].(map[string]any)["amount"])
				require.Equal(t, "0", ps[1].(map[string]any)["amount"])
				for _, k := range []string{"mk_id", "code", "name", "unit", "service", "sales", "purchasing"} {
					require.NotEmpty(t, ps[1].(map[string]any)[k], k)
				}
			},
		},
		{
			name: "put_document sales_order", fixture: "put_document_sales_order.json", method: "put_document",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) { addProduct(t, b, "art1") },
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "resttest1", out["count_code"])
				docs := b.srv.Documents(company)
				require.Len(t, docs, 1)
				d := docs[0]
				require.Equal(t, "sales_order", d.DocType)
				require.Equal(t, "Buyer d.o.o.", d.Partner.Customer)
				require.Equal(t, "Rok Horvat", d.Receiver.Customer)
				require.Equal(t, "border", d.Fields["buyer_order"])
				require.Equal(t, "100", d.Sums["sum_basic"])
				require.Equal(t, "122", d.Sums["sum_all"], "EX4 is 22 %")
				require.Equal(t, "18.3", d.Sums["sum_prepayment"], "prepayment_percent 15 of sum_all 122")
				require.Len(t, b.srv.Partners(company), 2, "partner and receiver were created")
			},
		},
		{
			name: "put_document sales_order with gross price and decimal comma", fixture: "put_document_sales_order_gross.json", method: "put_document",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) { addProduct(t, b, "art1") },
			check: func(t *testing.T, b *bundle, out map[string]any) {
				d := b.srv.Documents(company)[0]
				require.Equal(t, "19.99", d.Products[0].PriceWithTax)
				require.Equal(t, "19.99", d.Sums["sum_all"])
			},
		},
		{
			name: "put_document sales_offer", fixture: "put_document_sales_offer.json", method: "put_document",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) { addProduct(t, b, "art1") },
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "PP1_329", out["count_code"])
				d := b.srv.Documents(company)[0]
				require.Equal(t, "sales_offer", d.DocType)
				require.Equal(t, "1000", d.Partner.CountCode, "the partner's count_code is kept for a new partner")
				require.Equal(t, "2016-01-28+01:00", d.Fields["valid_to"])
				// 11 × 21 − 21 % = 182.49 net, 222.64 gross at EX4 (22 %);
				// discount_value 22 is a coupon on the gross: 182.49 × (222.6378 − 22) / 222.6378.
				require.Equal(t, "164.46", d.Sums["sum_basic"])
				require.Equal(t, "36.18", d.Sums["sum_tax_ex4"])
				require.Equal(t, "200.64", d.Sums["sum_all"])
				require.Equal(t, "70.51", d.Sums["sum_discount"])
				require.Equal(t, "12", d.Sums["sum_prepayment"])
			},
		},
		{
			name: "get_document", fixture: "get_document.json", method: "get_document",
			prepare: func(t *testing.T, b *bundle, body map[string]any) {
				addProduct(t, b, "art1")
				out := b.ok(t, "put_document", fixture(t, "put_document_sales_order.json"))
				body["doc_id"] = out["mk_id"]
			},
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "sales_order", out["doc_type"])
				require.Equal(t, "resttest1", out["count_code"])
				require.Equal(t, "2024-09-12+02:00", out["doc_date"])
				require.Equal(t, "REST test 1", out["title"])
				require.Equal(t, "border", out["buyer_order"])
				p := out["partner"].(map[string]any)
				require.Equal(t, "SI20000001", p["tax_id_number"])
				require.Equal(t, "SI", p["country_iso_2"])
				require.NotEmpty(t, p["mk_id"])
				require.NotEmpty(t, p["mk_address_id"])
				row := list(t, out["product_list"])[0].(map[string]any)
				require.Equal(t, "art1", row["code"])
				require.Equal(t, "1", row["amount"])
				require.Equal(t, "100", row["price"])
				require.Equal(t, "EX4", row["tax"])
				require.Equal(t, "122", out["sum_all"], "EX4 is 22 %, as the documented examples show")
				require.Equal(t, "22", out["sum_tax_ex4"])
			},
		},
		{
			name: "search by last_change", fixture: "search.json", method: "search",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) {
				addProduct(t, b, "art1")
				putOrder(t, b, "in-window", "art1")
				b.clock.set(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
				putOrder(t, b, "after-window", "art1")
			},
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "1", out["result_all_records"])
				require.Equal(t, "1", out["result_count"])
				require.Equal(t, "5", out["limit"])
				require.Equal(t, "0", out["offset"])
				doc := list(t, out["result"])[0].(map[string]any)
				require.Equal(t, "in-window", doc["count_code"])
				require.NotNil(t, doc["partner"])
				require.NotEmpty(t, doc["product_list"])
			},
		},
		{
			name: "search by query", fixture: "search_simple.json", method: "search",
			prepare: func(t *testing.T, b *bundle, _ map[string]any) {
				addProduct(t, b, "art1")
				for _, name := range []string{"John Smith", "Jane Doe"} {
					b.ok(t, "put_document", req("doc_type", "sales_bill_domestic", "partner", map[string]any{"customer": name}, "product_list", []any{map[string]any{"code": "art1", "amount": 1, "price": 5, "tax": "EX4"}}))
				}
			},
			check: func(t *testing.T, b *bundle, out map[string]any) {
				require.Equal(t, "1", out["result_all_records"])
				r := list(t, out["result"])[0].(map[string]any)
				require.Equal(t, "0", r["opr_code"])
				require.Regexp(t, `^1-MK-\d+$`, r["count_code"])
				require.NotEmpty(t, r["mk_id"])
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			body := fixture(t, tc.fixture)
			if tc.prepare != nil {
				tc.prepare(t, b, body)
			}
			tc.check(t, b, b.ok(t, tc.method, body))
		})
	}
}

func TestUniqueCountCode(t *testing.T) {
	t.Parallel()
	partner := func() map[string]any {
		return req("partner", map[string]any{"count_code": "C-1", "customer": "Dvojnik d.o.o."})
	}
	product := func() map[string]any {
		return req("count_code", "P-1", "code", "P-1", "name", "Dvojnik", "unit", "kos")
	}
	tests := []struct {
		name   string
		method string
		body   func(b *bundle) map[string]any
		want   string
	}{
		{"partner", "add_partner", func(*bundle) map[string]any { return partner() }, "Partner with count_code 'C-1' already exists"},
		{"product", "product_add", func(*bundle) map[string]any { return product() }, "Product with count_code 'P-1' already exists"},
		{"product code", "product_add", func(*bundle) map[string]any {
			p := product()
			p["count_code"] = "P-2"
			return p
		}, "Product with code 'P-1' already exists"},
		{"document", "put_document", func(b *bundle) map[string]any {
			return req("doc_type", "sales_order", "count_code", "O-1", "partner", map[string]any{"customer": "K"}, "product_list", []any{map[string]any{"code": "P-1", "amount": "1"}})
		}, "Document sales_order with count_code 'O-1' already exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.ok(t, "product_add", product())
			if tc.method != "product_add" {
				b.ok(t, tc.method, tc.body(b))
			}
			desc := b.fails(t, tc.method, tc.body(b), "6")
			require.Contains(t, desc, tc.want)
		})
	}

	t.Run("same count_code in another document type", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		addProduct(t, b, "X")
		for _, dt := range []string{"sales_order", "sales_offer"} {
			b.ok(t, "put_document", req("doc_type", dt, "count_code", "SAME", "partner", map[string]any{"customer": "K"}, "product_list", []any{map[string]any{"code": "X", "amount": "1"}}))
		}
	})

	t.Run("generated count_codes are unique", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		seen := map[string]bool{}
		for i := 0; i < 20; i++ {
			out := b.ok(t, "product_add", req("code", fmt.Sprint("G", i), "name", "G", "unit", "kos"))
			code := out["count_code"].(string)
			require.NotEmpty(t, code)
			require.False(t, seen[code], code)
			seen[code] = true
		}
	})
}

func TestProductRules(t *testing.T) {
	t.Parallel()

	t.Run("a product used on a document cannot be deleted until the document is", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		addProduct(t, b, "USED")
		free := addProduct(t, b, "FREE")
		doc := putOrder(t, b, "", "USED")
		desc := b.fails(t, "product_delete", req("count_code", "USED"), "6")
		require.Contains(t, desc, "used on documents")
		b.fails(t, "product_update", req("count_code", "USED", "sales", "false"), "6")
		b.ok(t, "product_delete", req("mk_id", free))

		b.ok(t, "delete_document", req("doc_type", "sales_order", "mk_id", doc))
		out := b.ok(t, "product_delete", req("count_code", "USED"))
		require.Equal(t, "USED", out["count_code"])
		require.Empty(t, b.srv.Products(company))
		b.fails(t, "product_delete", req("count_code", "USED"), "6")
	})

	t.Run("update by count_code and by mk_id", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := addProduct(t, b, "U1")
		b.ok(t, "product_update", req("count_code", "U1", "name", "Renamed", "name_desc", "Long", "pricelist", []any{map[string]any{"count_code": "PC", "price_def": map[string]any{"price": "19,99", "tax": "095"}}}))
		b.ok(t, "product_update", req("mk_id", id, "count_code", "U2", "name_desc", "$REMOVE_STRING_VALUE$", "weight", 1.5))
		p := b.srv.Products(company)[0]
		require.Equal(t, "U2", p.CountCode)
		require.Equal(t, "Renamed", p.Name)
		require.Empty(t, p.NameDesc)
		require.Equal(t, "19.99", p.Prices[0].Price)
		require.Equal(t, "0.095", p.Prices[0].TaxFactor)
		b.fails(t, "product_update", req("count_code", "U1", "name", "x"), "6")
		b.fails(t, "product_update", req("name", "x"), "2")
	})

	t.Run("mandatory attributes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		desc := b.fails(t, "product_add", req("count_code", "M", "name", "No code", "unit", "kos"), "2")
		require.Contains(t, desc, "code")
	})

	t.Run("document row with an unknown product", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		row := map[string]any{"code": "NEW", "amount": "2", "price": "3"}
		body := req("doc_type", "sales_order", "partner", map[string]any{"customer": "K"}, "product_list", []any{row})
		desc := b.fails(t, "put_document", body, "2")
		require.Equal(t, "Product with code NEW not found - unit must be set to add new product", desc)
		row["unit"], row["name"] = "kos", "New product"
		b.ok(t, "put_document", body)
		require.Equal(t, "NEW", b.srv.Products(company)[0].Code)
	})

	t.Run("product methods are served under /json/", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp, err := b.send(http.DefaultClient, "/rest/eshop/v1/product_list", req())
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp, err = b.send(http.DefaultClient, "/rest/eshop/v1/json/get_partner", req("partner_name", "x"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func TestUpdatePartner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sel  func(mkID string) map[string]any
		code string // "" = success
	}{
		{"by mk_id", func(id string) map[string]any { return map[string]any{"mk_id": id} }, ""},
		{"by count_code", func(string) map[string]any { return map[string]any{"count_code": "UP-1"} }, ""},
		{"unknown mk_id", func(string) map[string]any { return map[string]any{"mk_id": "999"} }, "6"},
		{"unknown count_code", func(string) map[string]any { return map[string]any{"count_code": "nope"} }, "6"},
		{"no selector", func(string) map[string]any { return map[string]any{} }, "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := b.ok(t, "add_partner", req("partner", map[string]any{"count_code": "UP-1", "customer": "Staro ime", "street": "Stara 1", "partner_contact": map[string]any{"email": "a@b.si"}}))["mk_id"].(string)
			p := tc.sel(id)
			p["customer"] = "Novo ime"
			p["tax_id_number"] = "SI11111111"
			if tc.code != "" {
				b.fails(t, "update_partner", req("partner", p), tc.code)
				require.Equal(t, "Staro ime", b.srv.Partners(company)[0].Customer)
				return
			}
			out := b.ok(t, "update_partner", req("partner", p))
			got := list(t, out["partner_list"])[0].(map[string]any)
			require.Equal(t, "Novo ime", got["customer"])
			require.Equal(t, id, got["mk_id"])
			require.Equal(t, "UP-1", got["count_code"])
			require.Equal(t, "Stara 1", b.srv.Partners(company)[0].Addresses[0].Street, "empty values keep the current value")
			// The indexes follow the change.
			found := b.ok(t, "get_partner", req("partner_tax_number", "SI11111111"))
			require.Equal(t, "1", found["partner_list_count"])
			found = b.ok(t, "get_partner", req("partner_name", "staro"))
			require.Equal(t, "0", found["partner_list_count"])
		})
	}
}

func TestGetPartnerCriteria(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SeedDemo(company)
	tests := []struct {
		field, value string
		want         int
	}{
		{"partner_id", "P-003", 1},
		{"partner_name", "D.O.O.", 6},
		{"partner_tax_number", "SI12345678", 1},
		{"partner_email", "ANA.POTOCNIK@gmail.com", 1},
		{"partner_phone_number", "040987654", 1},
		{"partner_name", "nobody", 0},
	}
	for _, tc := range tests {
		out := b.ok(t, "get_partner", req(tc.field, tc.value))
		require.Equal(t, fmt.Sprint(tc.want), out["partner_list_count"], "%s=%s", tc.field, tc.value)
	}
	b.fails(t, "get_partner", req(), "2")
}

func TestProductListWindows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SeedProducts(company, 2500)
	tests := []struct {
		offset, limit any
		want          int
		first         string
	}{
		{nil, nil, 1000, "BULK-1"},
		{"0", "5000", 1000, "BULK-1"},
		{1000, 1000, 1000, "BULK-1001"},
		{"2000", nil, 500, "BULK-2001"},
		{"2490", "5", 5, "BULK-2491"},
		{2500, nil, 0, ""},
	}
	for _, tc := range tests {
		body := req()
		if tc.offset != nil {
			body["offset"] = tc.offset
		}
		if tc.limit != nil {
			body["limit"] = tc.limit
		}
		out := b.ok(t, "product_list", body)
		ps := list(t, out["product_list"])
		require.Len(t, ps, tc.want)
		require.Equal(t, fmt.Sprint(tc.want), out["product_list_count"])
		if tc.want > 0 {
			require.Equal(t, tc.first, ps[0].(map[string]any)["count_code"])
		}
	}

	// Paging through with filters sees every product exactly once.
	seen := map[string]bool{}
	for offset := 0; ; offset += 1000 {
		ps := list(t, b.ok(t, "product_list", req("offset", offset, "sales", "true", "active", "true"))["product_list"])
		for _, p := range ps {
			code := p.(map[string]any)["count_code"].(string)
			require.False(t, seen[code])
			seen[code] = true
		}
		if len(ps) < 1000 {
			break
		}
	}
	require.Len(t, seen, 2500)

	out := b.ok(t, "product_list", req("count_code", "BULK-77"))
	require.Equal(t, "1", out["product_list_count"])
	out = b.ok(t, "product_list", req("count_code", "BULK-77", "search_with_like", true))
	require.Equal(t, "11", out["product_list_count"], "BULK-77 and BULK-770…779")
	b.fails(t, "product_list", req("offset", "-1"), "2")
}

func TestSearchWindowsAndIncrementalPull(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "art1")
	t0 := b.clock.now()
	ids := make([]string, 0, 150)
	for i := 0; i < 150; i++ {
		ids = append(ids, putOrder(t, b, fmt.Sprintf("SO-%03d", i), "art1"))
	}
	t1 := t0.Add(time.Hour)
	b.clock.set(t1)
	// A real change moves last_change; an update that changes nothing does not.
	b.ok(t, "update_document", req("doc_type", "sales_order", "mk_id", ids[10], "status_code", "shipped", "tracking_code", "SI1"))
	b.ok(t, "put_document", req("doc_type", "sales_order", "mk_id", ids[20], "partner", map[string]any{"customer": "Drug kupec"}, "product_list", []any{map[string]any{"code": "art1", "amount": "3"}}))
	b.clock.set(t1.Add(time.Hour))
	b.ok(t, "update_document", req("doc_type", "sales_order", "mk_id", ids[10], "status_code", "shipped"))

	windows := []struct {
		offset, limit any
		count         int
		first         string
	}{
		{nil, nil, 100, "SO-000"},
		{"0", "500", 100, "SO-000"},
		{100, 100, 50, "SO-100"},
		{"140", "5", 5, "SO-140"},
	}
	for _, w := range windows {
		body := req("doc_type", "sales_order")
		if w.offset != nil {
			body["offset"] = w.offset
		}
		if w.limit != nil {
			body["limit"] = w.limit
		}
		out := b.ok(t, "search", body)
		require.Equal(t, "150", out["result_all_records"])
		res := list(t, out["result"])
		require.Len(t, res, w.count)
		require.Equal(t, fmt.Sprint(w.count), out["result_count"])
		require.Equal(t, w.first, res[0].(map[string]any)["count_code"])
	}

	since := func(from time.Time) []string {
		out := b.ok(t, "search", req("doc_type", "sales_order", "query_advance", []any{map[string]any{"type": "last_change_from", "value": from.Format(time.RFC3339)}}))
		var codes []string
		for _, r := range list(t, out["result"]) {
			codes = append(codes, r.(map[string]any)["count_code"].(string))
		}
		return codes
	}
	require.Equal(t, []string{"SO-010", "SO-020"}, since(t1), "ordered by mk_id")
	require.Empty(t, since(t1.Add(time.Minute)))
	require.Len(t, since(t0), 100, "window of 100")

	out := b.ok(t, "search", req("doc_type", "sales_order", "order_direction", "desc", "limit", 1, "query_advance", []any{
		map[string]any{"type": "last_change_from", "value": t0.Format(time.RFC3339)},
		map[string]any{"type": "last_change_to", "value": t0.Format(time.RFC3339)},
	}))
	require.Equal(t, "148", out["result_all_records"])
	require.Equal(t, "SO-149", list(t, out["result"])[0].(map[string]any)["count_code"])

	out = b.ok(t, "search", req("doc_type", "sales_order", "show_status_code", "true", "query_advance", []any{map[string]any{"type": "status_list", "value": "shipped,lost"}}))
	require.Equal(t, "1", out["result_all_records"])
	require.Equal(t, "shipped", list(t, out["result"])[0].(map[string]any)["status_code"])

	b.ok(t, "delete_document", req("doc_type", "sales_order", "mk_id", ids[20]))
	require.Equal(t, []string{"SO-010"}, since(t1), "deleted documents are not found")

	b.fails(t, "search", req("doc_type", "sales_order", "query_advance", []any{map[string]any{"type": "bogus", "value": "1"}}), "2")
	desc := b.fails(t, "search", req("doc_type", "warehouse_packing_list1"), "2")
	require.Equal(t, "Unknown document type : warehouse_packing_list1", desc)
}

func TestUpdateDocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "A")
	addProduct(t, b, "B")
	id := b.ok(t, "put_document", req("doc_type", "sales_order", "buyer_order", "OR-100", "partner", map[string]any{"customer": "K"}, "product_list", []any{
		map[string]any{"code": "A", "amount": "2", "price": "10", "tax": "220"},
	}))["mk_id"].(string)

	b.ok(t, "update_document", req("doc_type", "sales_order", "buyer_order", "OR-100", "notes", "hello", "product_add", []any{map[string]any{"code": "B", "amount": "1", "price": "5", "tax": "220"}}))
	got := b.ok(t, "get_document", req("doc_type", "sales_order", "doc_id", id, "show_product_detail", "true"))
	require.Equal(t, "hello", got["notes"])
	rows := list(t, got["product_list"])
	require.Len(t, rows, 2)
	require.Equal(t, "30.5", got["sum_all"])
	rowA := rows[0].(map[string]any)["mk_row_id"]
	require.NotEmpty(t, rowA)

	b.ok(t, "update_document", req("doc_type", "sales_order", "mk_id", id, "product_list", []any{map[string]any{"mk_row_id": rowA, "mark_delete": "true"}}, "clear", []any{"notes"}))
	got = b.ok(t, "get_document", req("doc_type", "sales_order", "buyer_order", "OR-100"))
	require.Len(t, list(t, got["product_list"]), 1)
	require.Nil(t, got["notes"])
	b.ok(t, "product_delete", req("count_code", "A"))

	b.fails(t, "update_document", req("doc_type", "sales_order", "mk_id", "1"), "6")
	b.fails(t, "get_document", req("doc_type", "sales_offer", "doc_id", id), "6")
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name string
		body map[string]any
	}{
		{"wrong secret", map[string]any{"company_id": company, "secret_key": "nope"}},
		{"unknown company", map[string]any{"company_id": "17", "secret_key": secret}},
		{"no credentials", map[string]any{}},
		{"company as number", map[string]any{"company_id": 16, "secret_key": "x"}},
	}
	for _, tc := range tests {
		tc.body["partner_name"] = "x"
		desc := b.fails(t, "get_partner", tc.body, "1")
		require.Equal(t, "Authentication failed : wrong company_id or secret_key", desc, tc.name)
	}
	b.ok(t, "get_partner", map[string]any{"company_id": 16, "secret_key": secret, "partner_name": "x"})
	require.Equal(t, int64(len(tests)), b.srv.Stats().Calls("get_partner", mkfake.OutcomeAuthError))
}

func TestCompanyIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.AddCompany("17", "other")
	as17 := func(body map[string]any) map[string]any {
		body["company_id"], body["secret_key"] = "17", "other"
		return body
	}
	id := addProduct(t, b, "ONLY16")
	putOrder(t, b, "ORD16", "ONLY16")

	require.Equal(t, "0", b.ok(t, "product_list", as17(req()))["product_list_count"])
	b.fails(t, "product_update", as17(req("mk_id", id, "name", "stolen")), "6")
	b.fails(t, "product_delete", as17(req("count_code", "ONLY16")), "6")
	require.Equal(t, "0", b.ok(t, "search", as17(req("doc_type", "sales_order")))["result_all_records"])
	require.Equal(t, "0", b.ok(t, "get_partner", as17(req("partner_name", "kupec")))["partner_list_count"])
	b.ok(t, "product_add", as17(req("count_code", "ONLY16", "code", "ONLY16", "name", "Mine", "unit", "kos")))
	// Company 16's secret does not open company 17.
	b.fails(t, "product_list", req("company_id", "17"), "1")

	require.Len(t, b.srv.Products("17"), 1)
	require.Equal(t, "Mine", b.srv.Products("17")[0].Name)
	require.Equal(t, "Product ONLY16", b.srv.Products(company)[0].Name)
	require.Empty(t, b.srv.Documents("17"))
	require.Nil(t, b.srv.Products("18"))
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    mkfake.FaultKind
		status  int  // 0: the request fails in transport
		stored  bool // the write happened
		outcome string
	}{
		{mkfake.FaultHTTP500, 500, false, mkfake.OutcomeHTTP5xx},
		{mkfake.FaultHTTP503, 503, false, mkfake.OutcomeHTTP5xx},
		{mkfake.FaultRateLimit, 429, false, mkfake.OutcomeRateLimited},
		{mkfake.FaultOprError, 200, false, mkfake.OutcomeOprError},
		{mkfake.FaultCommitThenFail, 503, true, mkfake.OutcomeCommitThenFail},
		{mkfake.FaultHang, 0, false, mkfake.OutcomeHang},
		{mkfake.FaultCommitThenHang, 0, true, mkfake.OutcomeCommitThenFail},
		{mkfake.FaultReset, 0, false, mkfake.OutcomeReset},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.srv.FailNext(company, 1, tc.kind)
			client := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{}}
			body := req("count_code", "F1", "code", "F1", "name", "F", "unit", "kos")
			resp, err := b.send(client, path("product_add"), body)
			if tc.status == 0 {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, tc.status, resp.StatusCode, string(raw))
				if tc.kind == mkfake.FaultRateLimit {
					require.Equal(t, "1", resp.Header.Get("Retry-After"))
				}
				if tc.kind == mkfake.FaultOprError {
					require.Contains(t, string(raw), `"opr_code":"1"`)
				}
			}
			require.Len(t, b.srv.Products(company), map[bool]int{true: 1, false: 0}[tc.stored])
			require.Eventually(t, func() bool { return b.srv.Stats().Calls("product_add", tc.outcome) == 1 }, 5*time.Second, 10*time.Millisecond)

			// The fault is used up: the retry succeeds, or finds the stored record.
			if tc.stored {
				b.fails(t, "product_add", body, "6")
				require.Equal(t, "1", b.ok(t, "product_list", req("count_code", "F1"))["product_list_count"])
			} else {
				b.ok(t, "product_add", body)
			}
		})
	}

	t.Run("per method and count", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.srv.FailNextMethod(company, "product_list", 2, mkfake.FaultHTTP503)
		status, _ := b.post(t, "get_partner", req("partner_name", "x"))
		require.Equal(t, 200, status)
		for i := 0; i < 2; i++ {
			status, _ = b.post(t, "product_list", req())
			require.Equal(t, 503, status)
		}
		b.ok(t, "product_list", req())
	})
}

func TestHangRespectsRequestContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SetFaults(company, mkfake.Faults{HangRate: 1, HangFor: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	raw, _ := json.Marshal(req())
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+path("product_list"), bytes.NewReader(raw))
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(r)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The handler returned when the request's context ended: the server can
	// shut down although HangFor is an hour (the test's cleanup closes it).
	b.srv.ClearFaults(company)
	b.ok(t, "product_list", req())
}

func TestRandomFaults(t *testing.T) {
	t.Parallel()

	t.Run("error rate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.srv.SetFaults(company, mkfake.Faults{ErrorRate: 1})
		for i := 0; i < 10; i++ {
			status, _ := b.post(t, "product_list", req())
			require.Contains(t, []int{500, 503}, status)
		}
		require.Equal(t, int64(10), b.srv.Stats().Calls("product_list", mkfake.OutcomeHTTP5xx))
	})

	t.Run("token bucket", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.srv.SetFaults(company, mkfake.Faults{RateLimitRPS: 0.001})
		b.ok(t, "product_list", req())
		resp, err := b.send(http.DefaultClient, path("product_list"), req())
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.Equal(t, "1000", resp.Header.Get("Retry-After"))
	})

	t.Run("commit then fail rate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.srv.SetFaults(company, mkfake.Faults{CommitThenFailRate: 1, HangFor: time.Millisecond})
		for i := 0; i < 6; i++ {
			status, _ := b.post(t, "product_add", req("code", fmt.Sprint("C", i), "name", "C", "unit", "kos"))
			require.Contains(t, []int{503, 504}, status)
		}
		require.Len(t, b.srv.Products(company), 6)
	})

	t.Run("opr error rate and latency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.srv.SetFaults(company, mkfake.Faults{OprErrorRate: 1, Latency: 20 * time.Millisecond, Jitter: time.Millisecond})
		start := time.Now()
		b.fails(t, "product_list", req(), "1")
		require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
		require.Equal(t, 20*time.Millisecond, b.srv.Faults(company).Latency)
	})
}

func TestSearchIsServedOneAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.FailNextMethod(company, "search", 1, mkfake.FaultHang)

	hungCtx, release := context.WithCancel(context.Background())
	defer release()
	done := make(chan struct{})
	go func() {
		defer close(done)
		raw, _ := json.Marshal(req("doc_type", "sales_order"))
		r, _ := http.NewRequestWithContext(hungCtx, http.MethodPost, b.url+path("search"), bytes.NewReader(raw))
		if resp, err := http.DefaultClient.Do(r); err == nil {
			resp.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return b.srv.Stats().Calls("search", mkfake.OutcomeHang) == 1 }, 5*time.Second, 5*time.Millisecond)

	// Other methods are not held up by the hanging search…
	b.ok(t, "product_list", req())
	// …but a second search of the same company waits in the queue.
	queued := &http.Client{Timeout: 200 * time.Millisecond}
	_, err := b.send(queued, path("search"), req("doc_type", "sales_order"))
	require.Error(t, err)
	// Another company's search is not queued behind it.
	b.srv.AddCompany("17", "s")
	b.ok(t, "search", map[string]any{"company_id": "17", "secret_key": "s", "doc_type": "sales_order"})

	release()
	<-done
	b.ok(t, "search", req("doc_type", "sales_order"))
}

func TestStatsAndIntrospection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addProduct(t, b, "S1")
	addProduct(t, b, "S2")
	b.fails(t, "product_add", req("count_code", "S1", "code", "S9", "name", "x", "unit", "kos"), "6")
	b.srv.FailNext(company, 1, mkfake.FaultHTTP500)
	status, _ := b.post(t, "product_list", req())
	require.Equal(t, 500, status)
	b.ok(t, "add_partner", req("partner", map[string]any{"customer": "Intro d.o.o."}))

	get := func(p string, into any) int {
		resp, err := http.Get(b.url + p)
		require.NoError(t, err)
		defer resp.Body.Close()
		if into != nil && resp.StatusCode == 200 {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
		}
		return resp.StatusCode
	}
	var st mkfake.Stats
	require.Equal(t, 200, get("/_fake/stats", &st))
	require.Equal(t, int64(2), st.Methods["product_add"][mkfake.OutcomeOK])
	require.Equal(t, int64(1), st.Methods["product_add"][mkfake.OutcomeOprError])
	require.Equal(t, int64(1), st.Methods["product_list"][mkfake.OutcomeHTTP5xx])
	require.Equal(t, int64(1), st.Companies[company]["add_partner"][mkfake.OutcomeOK])
	require.Equal(t, int64(5), st.Total)

	var products []mkfake.Product
	require.Equal(t, 200, get("/_fake/companies/16/products", &products))
	require.Len(t, products, 2)
	require.Equal(t, "S1", products[0].CountCode)
	var partners []mkfake.Partner
	require.Equal(t, 200, get("/_fake/companies/16/partners", &partners))
	require.Equal(t, "Intro d.o.o.", partners[0].Customer)
	var docs []mkfake.Document
	require.Equal(t, 200, get("/_fake/companies/16/documents", &docs))
	require.Empty(t, docs)
	require.Equal(t, 404, get("/_fake/companies/99/products", nil))
	require.Equal(t, 404, get("/_fake/companies/16/widgets", nil))

	r, err := http.NewRequest(http.MethodPut, b.url+"/_fake/companies/16/faults", strings.NewReader(`{"latency":"5ms","error_rate":0.5}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, mkfake.Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.5}, b.srv.Faults(company))

	b.srv.ResetStats()
	require.Zero(t, b.srv.Stats().Total)
}

// PeakInFlight shows how many requests of a company were served at once,
// so that a test can check a client's concurrency bound from this side.
func TestPeakInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.AddCompany("17", "s")
	b.srv.SetFaults(company, mkfake.Faults{Latency: 200 * time.Millisecond})
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			resp, err := b.send(http.DefaultClient, path("product_list"), req())
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	b.ok(t, "product_list", map[string]any{"company_id": "17", "secret_key": "s"})
	st := b.srv.Stats()
	require.Equal(t, int64(5), st.PeakInFlight[company])
	require.Equal(t, int64(1), st.PeakInFlight["17"])
	b.srv.ResetStats()
	require.Zero(t, b.srv.Stats().PeakInFlight[company])
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Post(b.url+path("get_partner"), "application/json", strings.NewReader("{not json"))
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, "2", out["opr_code"])

	resp, err = http.Post(b.url+"/rest/eshop/v1/no_such_method", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, err = http.Get(b.url + path("get_partner"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	addProduct(t, b, "N")
	b.fails(t, "put_document", req("doc_type", "sales_order", "partner", map[string]any{"customer": "K"}, "product_list", []any{map[string]any{"code": "N", "amount": "abc"}}), "2")
	b.fails(t, "put_document", req("doc_type", "sales_order", "partner", map[string]any{"customer": "K"}, "product_list", []any{map[string]any{"code": "N", "amount": 1, "tax": "22"}}), "2")
	b.ok(t, "put_document", req("doc_type", "sales_order", "partner", map[string]any{"customer": "K"}, "product_list", []any{map[string]any{"code": "N", "amount": 1.5, "price": "1.234,50", "tax_factor": 0.22}}))
	d := b.srv.Documents(company)[0]
	require.Equal(t, "1234.5", d.Products[0].Price)
	require.Equal(t, "1851.75", d.Sums["sum_basic"])
	require.Equal(t, "407.39", d.Sums["sum_tax_220"])
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SeedDemo(company)
	b.srv.SeedDemo(company)
	require.Len(t, b.srv.Partners(company), 12)
	ps := b.srv.Products(company)
	require.Len(t, ps, 30)
	taxes := map[string]bool{}
	for _, p := range ps {
		require.NotEmpty(t, p.Prices)
		taxes[p.Prices[0].Tax] = true
	}
	require.Equal(t, map[string]bool{"220": true, "095": true}, taxes)
	types := map[string]int{}
	for _, d := range b.srv.Documents(company) {
		types[d.DocType]++
		require.NotEmpty(t, d.Products)
	}
	require.Positive(t, types["sales_order"])
	require.Positive(t, types["sales_offer"])
	require.Positive(t, types["sales_bill_domestic"])
	// Documents keep their products: they cannot be deleted.
	used := b.srv.Documents(company)[0].Products[0].CountCode
	b.fails(t, "product_delete", req("count_code", used), "6")
}

// A product's attributes beyond the modelled ones are stored packed; they
// must come back as given (numbers as numbers, nested lists), survive an
// update that names other attributes, and still answer the category filter.
func TestProductExtraAttributesKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ok(t, "product_add", req("count_code", "X1", "code", "X1", "name", "Extra", "unit", "kos",
		"height", json.Number("12.5"), "gross_weight", "0,8",
		"categories", []any{map[string]any{"category": []any{"Garden", "Tools"}}}))
	b.ok(t, "product_add", req("count_code", "X2", "code", "X2", "name", "Plain", "unit", "kos"))
	b.ok(t, "product_update", req("count_code", "X1", "width", "3", "gross_weight", "0,9"))

	out := b.ok(t, "product_list", req("count_code", "X1"))
	p := list(t, out["product_list"])[0].(map[string]any)
	require.Equal(t, 12.5, p["height"], "a number stays a number")
	require.Equal(t, "3", p["width"], "added by the update")
	require.Equal(t, "0,9", p["gross_weight"], "changed by the update")
	require.Equal(t, "Extra", p["name"])
	require.Equal(t, []any{map[string]any{"category": []any{"Garden", "Tools"}}}, p["categories"])

	out = b.ok(t, "product_list", req("category", "tools"))
	ps := list(t, out["product_list"])
	require.Len(t, ps, 1)
	require.Equal(t, "X1", ps[0].(map[string]any)["count_code"])

	got := b.srv.Products(company)
	require.Len(t, got, 2)
	require.Equal(t, json.Number("12.5"), got[0].Extra["height"])
	require.Nil(t, got[1].Extra)
	got[0].Extra["height"] = "changed"
	require.Equal(t, json.Number("12.5"), b.srv.Products(company)[0].Extra["height"], "Products returns copies")
}
