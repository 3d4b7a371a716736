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

func TestComputeTotals(t *testing.T) {
	doc := mksync.SalesDocument{Lines: []mksync.DocumentLine{
		{Quantity: d("3"), UnitPrice: d("19.99"), DiscountPercent: d("10"), TaxRate: d("22")}, // 53.973 → 53.97, tax 11.87
		{Quantity: d("1.5"), UnitPrice: d("2"), TaxRate: d("9.5")},                            // 3.00, tax 0.285 → 0.29
		// A client-sent total is ignored:
	}, TotalGross: d("99999")}
	doc.ComputeTotals()
	if !doc.Lines[0].NetAmount.Equal(d("53.97")) || !doc.TotalNet.Equal(d("56.97")) ||
		!doc.TotalTax.Equal(d("12.16")) || !doc.TotalGross.Equal(d("69.13")) {
		t.Fatalf("totals net=%s tax=%s gross=%s line0=%s", doc.TotalNet, doc.TotalTax, doc.TotalGross, doc.Lines[0].NetAmount)
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
