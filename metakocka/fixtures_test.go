package metakocka

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fixtures in testdata/ are the request and response examples of the
// Metakocka documentation (metakocka-api/), made valid JSON where the
// documentation has typos (trailing or missing commas, "{{").

type partnerRequest struct {
	Partner Partner `json:"partner"`
}

// fixtures lists each example, the type it decodes into, and the keys the
// types deliberately do not model (echoed request parameters, timing, data
// mksync does not use). Every other key must survive decode and re-encode.
var fixtures = []struct {
	file      string
	newValue  func() any
	unmodeled []string
}{
	{"partner_get.json", func() any { return new(partnerList) }, nil},
	{"partner_get_discounts.json", func() any { return new(partnerList) }, nil},
	{"partner_add_request.json", func() any { return new(partnerRequest) }, []string{"secret_key", "company_id"}},
	{"partner_add_response.json", func() any { return new(AddPartnerResult) }, nil},
	{"partner_update_request.json", func() any { return new(partnerRequest) }, []string{"secret_key", "company_id"}},
	{"partner_update_response.json", func() any { return new(partnerList) }, nil},
	{"product_add_request.json", func() any { return new(Product) }, []string{"secret_key", "company_id"}},
	{"product_add_response.json", func() any { return new(ProductRef) }, []string{"opr_code", "opr_time_ms"}},
	{"product_list_stock.json", func() any { return new(productListAnswer) },
		[]string{"opr_code", "opr_time_ms", "sales", "return_warehause_stock", "product_list.company_id"}},
	{"product_list_pricelist.json", func() any { return new(productListAnswer) }, []string{"opr_code", "opr_time_ms"}},
	{"product_list_compound.json", func() any { return new(productListAnswer) }, []string{"opr_code", "opr_time_ms", "count_code"}},
	{"product_list_like.json", func() any { return new(productListAnswer) }, []string{"opr_code", "opr_time_ms", "count_code"}},
	{"product_list_categories.json", func() any { return new(productListAnswer) },
		[]string{"opr_code", "opr_time_ms", "sales", "return_category"}},
	{"product_list_free_amount.json", func() any { return new(productListAnswer) },
		[]string{"opr_code", "opr_time_ms", "opr_time_no_lock_ms"}},
	{"sales_order_put_request.json", func() any { return new(Document) }, []string{"secret_key", "company_id"}},
	{"sales_order_put_gross_request.json", func() any { return new(Document) }, []string{"secret_key", "company_id"}},
	{"put_document_response.json", func() any { return new(PutDocumentResult) }, []string{"opr_code", "opr_time_ms"}},
	{"sales_order_get_response.json", func() any { return new(Document) }, []string{"opr_code"}},
	{"search_ids_response.json", func() any { return new(searchAnswer) }, []string{"opr_code", "opr_time_ms", "result.opr_code"}},
	{"search_docs_response.json", func() any { return new(searchAnswer) }, []string{"opr_code", "opr_time_ms", "result.opr_code"}},
	{"search_products_response.json", func() any { return new(searchAnswer) }, []string{"opr_code", "opr_time_ms"}},
	{"search_webshop_orders_response.json", func() any { return new(searchAnswer) }, []string{"opr_code", "opr_time", "result.opr_code"}},
	{"search_complaints_response.json", func() any { return new(searchAnswer) }, []string{"opr_code", "opr_time", "result.opr_code"}},
}

// TestFixturesDecodeWithoutLoss decodes every documented example into its
// type, encodes it again and checks that every value survived (numbers
// compared as decimals, so "0,5" and "0.5" are equal), and that only the
// listed keys are dropped.
func TestFixturesDecodeWithoutLoss(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("testdata", fx.file))
			require.NoError(t, err)
			dropped := roundTrip(t, raw, fx.newValue())
			want := slices.Clone(fx.unmodeled)
			sort.Strings(want)
			require.Equal(t, want, dropped, "keys lost in decoding")
		})
	}
}

// roundTrip decodes raw into v, encodes v again and returns the paths of
// raw's values that were dropped, sorted; it fails the test when a kept
// value changed or re-encoding invented a path.
func roundTrip(t *testing.T, raw []byte, v any) []string {
	t.Helper()
	require.NoError(t, json.Unmarshal(raw, v))
	again, err := json.Marshal(v)
	require.NoError(t, err)
	orig, back := leaves(t, raw), leaves(t, again)
	var dropped []string
	for path, vals := range orig {
		got, ok := back[path]
		if !ok {
			dropped = append(dropped, path)
			continue
		}
		require.ElementsMatch(t, vals, got, "values at %s", path)
	}
	for path := range back {
		require.Contains(t, orig, path, "re-encoding invented %s", path)
	}
	sort.Strings(dropped)
	return dropped
}

// leaves flattens JSON into path → normalized scalar values. Array indices are
// left out of the path, so a single object and a one-element list (which
// Metakocka uses interchangeably) compare equal; nulls are absent values.
func leaves(t *testing.T, b []byte) map[string][]string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&v))
	out := map[string][]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			for _, e := range x {
				walk(path, e)
			}
		case nil:
		case bool:
			if x {
				out[path] = append(out[path], "true")
			} else {
				out[path] = append(out[path], "false")
			}
		case json.Number:
			d, err := ParseDecimal(x.String())
			require.NoError(t, err)
			out[path] = append(out[path], "#"+d.Value.String())
		case string:
			if strings.TrimSpace(x) == "" {
				return
			}
			if d, err := ParseDecimal(x); err == nil && d.Valid {
				out[path] = append(out[path], "#"+d.Value.String())
				return
			}
			out[path] = append(out[path], strings.ToLower(x))
		}
	}
	walk("", v)
	return out
}

// TestFixtureValues checks specific decoded values, decimal commas included.
func TestFixtureValues(t *testing.T) {
	t.Parallel()
	load := func(file string, v any) {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, v))
	}

	var pl partnerList
	load("partner_get.json", &pl)
	require.Equal(t, int64(2), pl.PartnerListCount.Value)
	require.Len(t, pl.PartnerList, 2)
	p := pl.PartnerList[1]
	require.Equal(t, "228000012291", p.MkID)
	require.Equal(t, "140", p.CountCode)
	require.Equal(t, "TESTNI JANEZ", p.Customer)
	require.Equal(t, Bool{Value: false, Valid: true}, p.Taxpayer)
	require.False(t, pl.PartnerList[0].Taxpayer.Valid, "absent bool stays unset")
	require.Equal(t, "test1@test.si", p.PartnerContactList[0].Email)
	require.Equal(t, NewInt(10), p.PartnerDeliveryAddressList[0].PaymentDueDays)
	require.Equal(t, "EUR", p.PartnerDeliveryAddressList[0].Currency)

	load("partner_get_discounts.json", &pl)
	disc := pl.PartnerList[0].Discounts
	require.Equal(t, List[string]{"MacBook", "MacBook Pro"}, disc[0].Categories)
	require.Equal(t, List[string]{"Gume"}, disc[1].Categories)
	require.Equal(t, "15", disc[1].DiscountPercent.String())
	require.True(t, disc[1].OverrideExisting.True())

	var add AddPartnerResult
	load("partner_add_response.json", &add)
	require.Equal(t, "228000046630", add.MkContactID)
	require.Equal(t, "Tehnološki park 24", add.MkAddressIDList[1].Street)

	var prod Product
	load("product_add_request.json", &prod)
	require.Equal(t, "0.8", prod.GrossWeight.String(), "decimal comma")
	require.Equal(t, "6.3", prod.Weight.String())
	require.Equal(t, List[string]{"Sadje", "Hruška"}, prod.Categories[1].Category)
	require.Equal(t, "220", prod.Pricelist[0].PriceDef[0].Tax)
	require.False(t, prod.Pricelist[0].PriceDef[1].AmountTo.Valid, "null amount_to")
	require.Equal(t, "6", prod.Pricelist[0].PriceDef[1].AmountFrom.String())
	require.Equal(t, "de name", prod.Localization[1].Name)

	var list productListAnswer
	load("product_list_stock.json", &list)
	require.Equal(t, int64(2), list.Limit.Value)
	require.Equal(t, "10", list.ProductList[0].Amount.String())
	require.Equal(t, "ser2", list.ProductList[0].AmountDetail[1].SerialNumber)
	require.True(t, list.ProductList[1].Sales.True())

	load("product_list_pricelist.json", &list)
	require.Len(t, list.ProductList, 1, "a single product arrives as an object")
	pls := list.ProductList[0].Pricelist
	require.Len(t, pls, 5)
	require.Equal(t, "2", pls[0].PriceDef[0].Price.String(), "price_def as an object")
	require.Equal(t, "0.22", pls[4].PriceDef[0].TaxFactor.String())
	require.Equal(t, "EX4", pls[4].PriceDef[0].Tax)

	load("product_list_compound.json", &list)
	require.Equal(t, "0.1", list.ProductList[0].Compounds[1].PurchaseUnitFactor.String())
	require.Equal(t, NewInt(2), list.ProductList[0].Compounds[1].RowOrder)

	load("product_list_like.json", &list)
	require.Len(t, list.ProductList, 10)
	require.Equal(t, "12.123", list.ProductList[5].Height.String())
	require.Equal(t, "0.2824859", list.ProductList[8].Compounds[0].PurchaseUnitFactor.String())
	require.Equal(t, "3D ART d.o.o.", list.ProductList[0].SupplierInfo.PartnerName)
	require.Equal(t, List[Localization]{{Language: "en", Name: `12" nekajfds`, NameDesc: "<br>"}}, list.ProductList[0].Localization)

	load("product_list_categories.json", &list)
	tree := list.ProductList[0].CategoryTreeList[0]
	require.Equal(t, "MacBook", tree.TreeNodeList[0].TreeNodeList[0].TreeNodeLabel)
	require.Equal(t, "0.23", list.ProductList[0].KoliPackageAmount.String())

	var doc Document
	load("sales_order_put_gross_request.json", &doc)
	require.Equal(t, "19.99", doc.ProductList[0].PriceWithTax.String(), "decimal comma on a price")
	require.Equal(t, DocSalesOrder, doc.DocType)

	load("sales_order_put_request.json", &doc)
	require.Equal(t, "20", doc.DiscountPercent.String())
	require.Equal(t, "Rok Horvat", doc.Receiver.PartnerContact.Name)
	require.Equal(t, "PP1_265", doc.OfferList[1].CountCode)

	var put PutDocumentResult
	load("put_document_response.json", &put)
	require.Equal(t, "400000000425", put.MkID)
	require.Equal(t, "122", put.TotalPrice.String())
	require.Equal(t, "1600129478", put.Partner.MkID)

	load("sales_order_get_response.json", &doc)
	require.Equal(t, "PP-18495", doc.CountCode)
	require.Equal(t, "20.12", doc.DiscountValue.String())
	require.Equal(t, "10.16", doc.SumTax["ex4"].String())
	require.Equal(t, "56.35", doc.SumAll.String())
	require.Equal(t, "15", doc.ProductList[1].PriceWithTax.String())
	require.Equal(t, "bill", doc.SalesOrderTrackingType)
	require.Equal(t, DocSalesBillDomestic, doc.DocLinkList[0].DocType)
	require.Equal(t, "SI", doc.Partner.CountryISO2)

	var sr searchAnswer
	load("search_ids_response.json", &sr)
	require.Equal(t, NewInt(1), sr.ResultAllRecords)
	require.Equal(t, "PRD1_494", sr.Result[0].CountCode)

	load("search_docs_response.json", &sr)
	require.Equal(t, "0.88", sr.Result[0].SumTax["ex4"].String())
	require.Equal(t, "TAX123", sr.Result[0].Partner.TaxIDNumber)

	load("search_products_response.json", &sr)
	require.Len(t, sr.ResultProduct, 2)
	require.Equal(t, "7.3", sr.ResultProduct[1].Weight.String())

	var cr searchAnswer
	load("search_complaints_response.json", &cr)
	require.False(t, cr.ResultAllRecords.Valid)
	c := cr.Result[0]
	require.Equal(t, "2023-05-31T14:54:45+02:00", c.LastChangeTS)
	require.Contains(t, c.Extra, "claim_type", "unmodelled fields are kept")
	require.NotContains(t, c.Extra, "opr_code", "answer status is not document data")
}

// TestDocumentRoundTripKeepsExtra shows that get_document → put_document
// writes back fields mksync does not model, and numbers in the form they
// were read ("2,2").
func TestDocumentRoundTripKeepsExtra(t *testing.T) {
	t.Parallel()
	in := `{"mk_id":"1","doc_type":"sales_order","opr_code":"0","future_field":{"a":[1,2]},"sum_tax_220":"2,2",
		"product_list":[{"code":"x","amount":"1","row_custom":"keep me"}]}`
	var d Document
	require.NoError(t, json.Unmarshal([]byte(in), &d))
	require.Equal(t, "2.2", d.SumTax["220"].String())
	out, err := json.Marshal(d)
	require.NoError(t, err)
	require.JSONEq(t, `{"mk_id":"1","doc_type":"sales_order","future_field":{"a":[1,2]},"sum_tax_220":"2,2",
		"product_list":[{"code":"x","amount":"1","row_custom":"keep me"}]}`, string(out))
}
