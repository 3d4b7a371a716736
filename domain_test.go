package mksync_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestValidateNamesEveryBadField(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		fields []string
	}{
		{"contact ok", (&mksync.Contact{Name: "Janez", Email: "j@x.si"}).Validate(), nil},
		{"contact bad", (&mksync.Contact{Name: strings.Repeat("ž", 101), Email: "nope", Street: strings.Repeat("a", 151)}).Validate(),
			[]string{"name", "email", "street"}},
		{"contact name required", (&mksync.Contact{Name: "  "}).Validate(), []string{"name"}},
		{"name at limit counts runes", (&mksync.Contact{Name: strings.Repeat("ž", 100)}).Validate(), nil},
		{"product ok", (&mksync.Product{Code: "A1", Name: "Chair", Price: d("10.50"), TaxRate: d("22")}).Validate(), nil},
		{"product bad", (&mksync.Product{Code: strings.Repeat("x", 51), Price: d("-1"), TaxRate: d("100")}).Validate(),
			[]string{"code", "name", "price", "taxRate"}},
		{"document bad", (&mksync.SalesDocument{Kind: "receipt", Currency: "EURO", Lines: []mksync.DocumentLine{{Quantity: d("0"), DiscountPercent: d("101")}}}).Validate(),
			[]string{"kind", "date", "contactId", "currency", "lines[0].productId", "lines[0].quantity", "lines[0].discountPercent"}},
		{"document no lines", (&mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 1, 2), ContactID: "c", Currency: "EUR"}).Validate(),
			[]string{"lines"}},
		{"settings bad", mksync.SyncSettings{ConflictPolicy: "random", BatchSize: 501, Concurrency: 0}.Validate(),
			[]string{"conflictPolicy", "batchSize", "concurrency"}},
		{"delete policy bad", mksync.SyncSettings{ConflictPolicy: mksync.NewestWins, BatchSize: 1, Concurrency: 1, DeletePolicy: "shred"}.Validate(),
			[]string{"deletePolicy"}},
		{"alert webhook ok", (&mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "k",
			AlertWebhookURL: "https://hooks.example/a", AlertWebhookSecret: "0123456789abcdef"}).Validate(), nil},
		{"alert webhook not http", (&mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "k",
			AlertWebhookURL: "ftp://hooks.example/a", AlertWebhookSecret: "0123456789abcdef"}).Validate(), []string{"alertWebhookUrl"}},
		{"alert webhook relative, short secret", (&mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "k",
			AlertWebhookURL: "/a", AlertWebhookSecret: "short"}).Validate(), []string{"alertWebhookUrl", "alertWebhookSecret"}},
		{"alert secret without URL", (&mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "k",
			AlertWebhookSecret: "0123456789abcdef"}).Validate(), []string{"alertWebhookSecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.fields) == 0 {
				if tt.err != nil {
					t.Fatalf("unexpected error %v", tt.err)
				}
				return
			}
			if mksync.ErrorCode(tt.err) != mksync.EINVALID {
				t.Fatalf("code = %q (%v), want invalid", mksync.ErrorCode(tt.err), tt.err)
			}
			details := mksync.ErrorDetails(tt.err)
			for _, f := range tt.fields {
				if _, ok := details[f]; !ok {
					t.Errorf("details %v lack field %q", details, f)
				}
			}
			if len(details) != len(tt.fields) {
				t.Errorf("details %v, want exactly %v", details, tt.fields)
			}
		})
	}
}

// Decimals are bounded to what Metakocka takes (15 digits before the point,
// 6 after) without being expanded.
func TestValidatorDecimal(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"0": true, "-0.5": true, "4.233766": true, "999999999999999": true, "999999999999999.999999": true,
		"1.50000000": true, "1e14": true, "100e-8": true, "0.000001": true, "-999999999999999": true,
		"1000000000000000": false, "0.0000001": false, "1e15": false, "1e10000": false, "-1e10000": false,
		"1e-7": false, "9e9999": false, "1e-9999": false, "1234567890123456.5": false,
		"0.1234567": false, "9999999999999999999999": false,
	} {
		var v mksync.Validator
		if got := v.Decimal(d(in), "price"); got != ok {
			t.Errorf("Decimal(%s) = %v, want %v", in, got, ok)
		}
		rule := mksync.ErrorDetails(v.Err("product"))["price"]
		if ok != (rule == "") || (!ok && !strings.Contains(rule, "15 digits before the decimal point and 6 after")) {
			t.Errorf("Decimal(%s): rule %q", in, rule)
		}
	}
}

func TestComputeTotals(t *testing.T) {
	doc := mksync.SalesDocument{Lines: []mksync.DocumentLine{
		{Quantity: d("3"), UnitPrice: d("19.99"), DiscountPercent: d("10"), TaxRate: d("22")}, // 53.973 → 53.97; gross 65.847 → 65.85, tax 11.88
		{Quantity: d("1.5"), UnitPrice: d("2"), TaxRate: d("9.5")},                            // 3.00, tax 0.285 → 0.29
		// A client-sent total is ignored:
	}, TotalGross: d("99999")}
	doc.ComputeTotals()
	// Metakocka rounds each tax rate's base and gross, not each line's tax:
	// the 22 % group's tax is 65.85 − 53.97 = 11.88 (a line-by-line tax
	// would give 11.87 and a total Metakocka never shows).
	if !doc.Lines[0].NetAmount.Equal(d("53.97")) || !doc.TotalNet.Equal(d("56.97")) ||
		!doc.TotalTax.Equal(d("12.17")) || !doc.TotalGross.Equal(d("69.14")) {
		t.Fatalf("totals net=%s tax=%s gross=%s line0=%s", doc.TotalNet, doc.TotalTax, doc.TotalGross, doc.Lines[0].NetAmount)
	}
}

// TestComputeTotalsAsMetakocka checks the totals against the sums the
// Metakocka documentation shows for the same lines.
func TestComputeTotalsAsMetakocka(t *testing.T) {
	gross := func(q, p, rate string) mksync.DocumentLine {
		return mksync.DocumentLine{ProductID: "p", Quantity: d(q), UnitPrice: d(p), PriceIncludesTax: true, TaxRate: d(rate), TaxCode: "EX4"}
	}
	net := func(q, p, disc, rate, code string) mksync.DocumentLine {
		return mksync.DocumentLine{ProductID: "p", Quantity: d(q), UnitPrice: d(p), DiscountPercent: d(disc), TaxRate: d(rate), TaxCode: code}
	}
	coupon := gross("-1", "10", "22")
	coupon.ProductID, coupon.Description = "", "Coupon for 10 EUR"
	tests := []struct {
		name          string
		lines         []mksync.DocumentLine
		discountValue string
		basic, tax    string
		all           string
	}{
		{"gross price, coupon as discount_value (documents_concept.md)", []mksync.DocumentLine{gross("1", "100", "22")}, "10", "73.77", "16.23", "90"},
		{"gross price, coupon line (documents_concept.md)", []mksync.DocumentLine{gross("1", "100", "22"), coupon}, "0", "73.77", "16.23", "90"},
		{"gross price 19,99 (put_document_sales_order.md)", []mksync.DocumentLine{gross("1", "19.99", "22")}, "0", "16.39", "3.6", "19.99"},
		{"line discounts (documents_get_document_bill.md)", []mksync.DocumentLine{net("2", "89.9", "15", "22", "EX4"), net("6", "15.5", "5", "22", "EX4")}, "0", "241.18", "53.06", "294.24"},
		{"cascaded discounts 22;23 as 39.94 %, two rates (documents_concept.md)", []mksync.DocumentLine{net("20", "21", "39.94", "20", ""), net("10", "11", "12", "8.5", "")}, "0", "349.05", "58.68", "407.73"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mksync.SalesDocument{Lines: tt.lines, DiscountValue: d(tt.discountValue)}
			doc.ComputeTotals()
			if !doc.TotalNet.Equal(d(tt.basic)) || !doc.TotalTax.Equal(d(tt.tax)) || !doc.TotalGross.Equal(d(tt.all)) {
				t.Fatalf("totals net=%s tax=%s gross=%s, want %s %s %s", doc.TotalNet, doc.TotalTax, doc.TotalGross, tt.basic, tt.tax, tt.all)
			}
		})
	}
}

func TestValidateDocumentLines(t *testing.T) {
	base := func(l mksync.DocumentLine) *mksync.SalesDocument {
		return &mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 1, 2), ContactID: "c", Currency: "EUR", Lines: []mksync.DocumentLine{l}}
	}
	tests := []struct {
		name  string
		line  mksync.DocumentLine
		field string
	}{
		{"coupon: negative quantity, free text", mksync.DocumentLine{Description: "Coupon", Quantity: d("-1"), UnitPrice: d("10"), PriceIncludesTax: true}, ""},
		{"free text without text", mksync.DocumentLine{Quantity: d("1"), UnitPrice: d("10")}, "lines[0].productId"},
		{"zero quantity", mksync.DocumentLine{ProductID: "p", Quantity: d("0")}, "lines[0].quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := base(tt.line).Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if _, ok := mksync.ErrorDetails(err)[tt.field]; !ok {
				t.Fatalf("error %v does not name %s", err, tt.field)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	plain, hash, err := mksync.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain.Reveal(), mksync.TokenPrefix) || len(plain.Reveal()) < 40 {
		t.Fatalf("token %q has wrong shape", plain.Reveal())
	}
	if !mksync.TokenMatches(plain.Reveal(), hash) || mksync.TokenMatches(plain.Reveal()+"x", hash) {
		t.Fatal("TokenMatches must accept the token and reject others")
	}
	other, _, _ := mksync.NewTokenSecret()
	if other.Reveal() == plain.Reveal() {
		t.Fatal("tokens must be random")
	}
}

func TestSyncResultMerge(t *testing.T) {
	r := mksync.SyncResult{Success: true}
	r.Merge(mksync.SyncResult{Created: 2, Skipped: 1, Success: true})
	if !r.Success || r.Processed() != 3 {
		t.Fatalf("after ok merge: %+v", r)
	}
	r.Merge(mksync.SyncResult{Failed: 1, Errors: []mksync.RecordError{{ID: "x", Code: mksync.EUPSTREAM}}})
	if r.Success || r.Failed != 1 || len(r.Errors) != 1 || r.Processed() != 4 {
		t.Fatalf("after failed merge: %+v", r)
	}
}

func TestMetakockaURLs(t *testing.T) {
	sim, err := mksync.ParseMetakockaURLs(" http://127.0.0.1:8090 , https://MK.example.com:443 ")
	if err != nil {
		t.Fatal(err)
	}
	anyURL, err := mksync.ParseMetakockaURLs("*")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		list  mksync.MetakockaURLs
		url   string
		allow bool
	}{
		{nil, "", true},
		{nil, mksync.DefaultMetakockaURL, true},
		{nil, "https://main.metakocka.si/", true},
		{nil, "HTTPS://Main.Metakocka.si:443", true},
		{nil, "http://main.metakocka.si", false},
		{nil, "https://main.metakocka.si:8443", false},
		{nil, "https://main.metakocka.si@169.254.169.254", false},
		{nil, "https://main.metakocka.si.evil.example", false},
		{nil, "http://127.0.0.1:6379", false},
		{nil, "not a url", false},
		{sim, "http://127.0.0.1:8090", true},
		{sim, "http://127.0.0.1:8091", false},
		{sim, "https://mk.example.com", true},
		{sim, mksync.DefaultMetakockaURL, true},
		{anyURL, "http://10.0.0.1:8080", true},
		{anyURL, "ftp://10.0.0.1", false},
	} {
		if got := tc.list.Allows(tc.url); got != tc.allow {
			t.Errorf("%v allows %q = %v, want %v", tc.list, tc.url, got, tc.allow)
		}
	}
	if _, err := mksync.ParseMetakockaURLs("https://main.metakocka.si,gopher://x"); mksync.ErrorCode(err) != mksync.EINVALID {
		t.Errorf("a bad entry: %v, want EINVALID", err)
	}
	if empty, err := mksync.ParseMetakockaURLs(" , "); err != nil || len(empty) != 0 {
		t.Errorf("an empty list: %v, %v", empty, err)
	}
}
