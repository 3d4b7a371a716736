package metakocka_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// simClock is the simulator's clock, stepped by the test so that records get
// distinct last_change times.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type simBundle struct {
	fake   *mkfake.Server
	client *metakocka.Client
	clock  *fakeClock // the client's retry clock
	sim    *simClock
	url    string
}

// setupSim runs the Metakocka simulator over loopback HTTP with one company
// and returns a client for it.
func setupSim(t *testing.T) simBundle {
	t.Helper()
	sim := &simClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	fake := mkfake.New(mkfake.Options{Seed: 7, Clock: sim.Now})
	fake.AddCompany(testCompany, testSecret)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close()
		srv.Close()
	})
	clock := newFakeClock()
	c, err := metakocka.New(metakocka.Config{
		BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Clock: clock,
		Pacing:   metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8},
		Timeouts: metakocka.Timeouts{Default: 5 * time.Second, List: 20 * time.Second, Search: 20 * time.Second},
	})
	require.NoError(t, err)
	return simBundle{fake: fake, client: c, clock: clock, sim: sim, url: srv.URL}
}

func TestSimPartners(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client

	added, err := c.AddPartner(ctx, metakocka.Partner{
		BusinessEntity: metakocka.NewBool(true), Taxpayer: metakocka.NewBool(true), Buyer: metakocka.NewBool(true),
		TaxIDNumber: "SI12345678", Customer: "Test Uporabnik d.o.o.", Street: "Test, 4", PostNumber: "1000",
		Place: "Ljubljana", Country: "Slovenija",
		PartnerContact: &metakocka.Contact{Name: "Test Kontakt", GSM: "041111222", Email: "kontakt@example.si"},
	})
	require.NoError(t, err)
	require.NotEmpty(t, added.MkID)

	tests := []struct {
		name string
		q    metakocka.PartnerQuery
	}{
		{"by id", metakocka.PartnerQuery{PartnerID: added.MkID}},
		{"by name", metakocka.PartnerQuery{PartnerName: "uporabnik"}},
		{"by tax number", metakocka.PartnerQuery{PartnerTaxNumber: "SI12345678"}},
		{"by email", metakocka.PartnerQuery{PartnerEmail: "kontakt@example.si"}},
		{"by phone", metakocka.PartnerQuery{PartnerPhoneNumber: "041111222"}},
	}
	for _, tt := range tests {
		got, err := c.GetPartner(ctx, tt.q)
		require.NoError(t, err, tt.name)
		require.Len(t, got, 1, tt.name)
		require.Equal(t, added.MkID, got[0].MkID, tt.name)
		require.Equal(t, "Test Uporabnik d.o.o.", got[0].Customer, tt.name)
	}

	none, err := c.GetPartner(ctx, metakocka.PartnerQuery{PartnerName: "nobody-by-this-name"})
	require.NoError(t, err)
	require.Empty(t, none)

	// Addresses change through partner_delivery_address_list by mk_id
	// (update_partner.md).
	billing := added.MkAddressIDList[0].MkID
	updated, err := c.UpdatePartner(ctx, metakocka.Partner{MkID: added.MkID, PartnerDeliveryAddressList: metakocka.List[metakocka.Address]{
		{MkID: billing, Street: "Nova ulica 1", PostNumber: "2000"}}})
	require.NoError(t, err)
	require.Equal(t, added.MkID, updated.MkID)
	got, err := c.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: added.MkID})
	require.NoError(t, err)
	require.Contains(t, addressStreets(got[0]), "Nova ulica 1")

	// By count_code too.
	require.NotEmpty(t, got[0].CountCode)
	_, err = c.UpdatePartner(ctx, metakocka.Partner{CountCode: got[0].CountCode, Customer: "Preimenovan d.o.o."})
	require.NoError(t, err)
	got, err = c.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: added.MkID})
	require.NoError(t, err)
	require.Equal(t, "Preimenovan d.o.o.", got[0].Customer)

	_, err = c.UpdatePartner(ctx, metakocka.Partner{MkID: "999999999999", Street: "x"})
	require.Error(t, err)
	require.Contains(t, []string{mksync.ENOTFOUND, mksync.EINVALID}, mksync.ErrorCode(err))
}

func addressStreets(p metakocka.Partner) []string {
	var s []string
	for _, a := range p.PartnerDeliveryAddressList {
		s = append(s, a.Street)
	}
	return s
}

func TestSimProducts(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client
	const bulk = 2345
	b.fake.SeedProducts(testCompany, bulk)

	ref, err := c.ProductAdd(ctx, metakocka.Product{
		CountCode: "eshop_001", Code: "eshop_001_sif", Name: "artikel eshop_001", Unit: "kos",
		Sales: metakocka.NewBool(true), Weight: metakocka.MustDecimal("6,3"), GrossWeight: metakocka.MustDecimal("0,8"),
	})
	require.NoError(t, err)
	require.NotEmpty(t, ref.MkID)
	require.Equal(t, "eshop_001", ref.CountCode)

	// The same count_code again is refused, and not retried.
	_, err = c.ProductAdd(ctx, metakocka.Product{CountCode: "eshop_001", Code: "eshop_001_sif", Name: "x", Unit: "kos"})
	require.Error(t, err)
	require.Contains(t, []string{mksync.ECONFLICT, mksync.EINVALID}, mksync.ErrorCode(err))

	page, err := c.ProductList(ctx, metakocka.ProductListRequest{CountCode: "eshop_001"})
	require.NoError(t, err)
	require.Len(t, page.Products, 1)
	p := page.Products[0]
	require.Equal(t, ref.MkID, p.MkID)
	require.Equal(t, "6.3", p.Weight.String())
	require.Equal(t, "0.8", p.GrossWeight.String())

	// Every product, across windows of 1000, each exactly once.
	seen := map[string]bool{}
	for p, err := range c.Products(ctx, metakocka.ProductListRequest{}) {
		require.NoError(t, err)
		require.False(t, seen[p.MkID], "duplicate %s", p.MkID)
		seen[p.MkID] = true
	}
	require.Len(t, seen, bulk+1)
	st := b.fake.Stats()
	require.Equal(t, int64(1+3), st.Calls("product_list", mkfake.OutcomeOK), "one filtered list, then 3 windows")

	// A window in the middle.
	page, err = c.ProductList(ctx, metakocka.ProductListRequest{Offset: 1000, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Products, 10)

	_, err = c.ProductUpdate(ctx, metakocka.Product{CountCode: "eshop_001", Name: "renamed", Weight: metakocka.MustDecimal("7.25")})
	require.NoError(t, err)
	page, err = c.ProductList(ctx, metakocka.ProductListRequest{MkID: ref.MkID})
	require.NoError(t, err)
	require.Equal(t, "renamed", page.Products[0].Name)
	require.Equal(t, "7.25", page.Products[0].Weight.String())
	require.Equal(t, "eshop_001_sif", page.Products[0].Code, "unset fields keep their value")

	_, err = c.ProductDelete(ctx, metakocka.ProductKey{MkID: ref.MkID})
	require.NoError(t, err)
	page, err = c.ProductList(ctx, metakocka.ProductListRequest{CountCode: "eshop_001"})
	require.NoError(t, err)
	require.Empty(t, page.Products)
	_, err = c.ProductDelete(ctx, metakocka.ProductKey{CountCode: "eshop_001"})
	require.Error(t, err)
}

func order(count, customer string, price string) metakocka.Document {
	return metakocka.Document{
		DocType: metakocka.DocSalesOrder, CountCode: count, DocDate: "2026-03-01+01:00",
		BuyerOrder: "B-" + count,
		Partner: &metakocka.Partner{
			BusinessEntity: metakocka.NewBool(true), Taxpayer: metakocka.NewBool(true), ForeignCounty: metakocka.NewBool(false),
			TaxIDNumber: fmt.Sprintf("SI%08d", crc32.ChecksumIEEE([]byte(customer))%100000000), Customer: customer, Street: "Slovenska cesta 100", PostNumber: "1000",
			Place: "Ljubljana", Country: "Slovenia",
		},
		ProductList: metakocka.List[metakocka.DocumentLine]{{
			Code: "art1", Name: "Article 1", Unit: "kos", Amount: metakocka.MustDecimal("2"),
			PriceWithTax: metakocka.MustDecimal(price), Tax: "220",
		}},
	}
}

func TestSimDocuments(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client

	for _, dt := range []metakocka.DocType{metakocka.DocSalesOffer, metakocka.DocSalesOrder, metakocka.DocSalesBillDomestic, metakocka.DocSalesBillForeign} {
		t.Run(string(dt), func(t *testing.T) {
			d := order("", "Buyer "+string(dt), "19,99")
			d.DocType = dt
			d.BuyerOrder = ""
			if dt != metakocka.DocSalesOrder && dt != metakocka.DocSalesOffer {
				d.ServiceToDate, d.DuoPayment = "2026-03-01+01:00", "2026-03-15+01:00"
			}
			put, err := c.PutDocument(ctx, d)
			require.NoError(t, err)
			require.NotEmpty(t, put.MkID)

			got, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: dt, DocID: put.MkID})
			require.NoError(t, err)
			require.Equal(t, put.MkID, got.MkID)
			require.Equal(t, "Buyer "+string(dt), got.Partner.Customer)
			require.Len(t, got.ProductList, 1)
			require.Equal(t, "19.99", got.ProductList[0].PriceWithTax.String())
			require.True(t, got.SumAll.Valid)
		})
	}

	put, err := c.PutDocument(ctx, order("SO-1", "Kupec d.o.o.", "12.20"))
	require.NoError(t, err)
	got, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: put.MkID})
	require.NoError(t, err)

	// Read, change, write back: put_document with mk_id replaces it.
	got.Title = "changed title"
	got.ProductList[0].Amount = metakocka.MustDecimal("3")
	again, err := c.PutDocument(ctx, got)
	require.NoError(t, err)
	require.Equal(t, put.MkID, again.MkID)
	got, err = c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: put.MkID})
	require.NoError(t, err)
	require.Equal(t, "changed title", got.Title)
	require.Len(t, got.ProductList, 1)
	require.Equal(t, "3", got.ProductList[0].Amount.String())

	byBuyer, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, BuyerOrder: "B-SO-1"})
	require.NoError(t, err)
	require.Equal(t, put.MkID, byBuyer.MkID)

	require.NoError(t, c.UpdateDocument(ctx, metakocka.DocumentUpdate{
		DocType: metakocka.DocSalesOrder, MkID: put.MkID, TrackingCode: "SI2001", Notes: "to so notes.",
	}))
	got, err = c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: put.MkID})
	require.NoError(t, err)
	require.Equal(t, "to so notes.", got.Notes)

	require.NoError(t, c.DeleteDocument(ctx, metakocka.DocSalesOrder, put.MkID))
	_, err = c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: put.MkID})
	require.Error(t, err)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))

	_, err = c.PutDocument(ctx, metakocka.Document{DocType: "sales_nonsense", Partner: &metakocka.Partner{Customer: "x"}})
	require.Error(t, err)
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
}

func TestSimSearchWindowsAndLastChange(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client

	const early, late = 230, 7
	for i := range early {
		_, err := c.PutDocument(ctx, order(fmt.Sprintf("E-%d", i), fmt.Sprintf("Early %d", i), "10"))
		require.NoError(t, err)
	}
	b.sim.Advance(time.Hour)
	cut := b.sim.Now()
	var lateIDs []string
	for i := range late {
		r, err := c.PutDocument(ctx, order(fmt.Sprintf("L-%d", i), fmt.Sprintf("Late %d", i), "10"))
		require.NoError(t, err)
		lateIDs = append(lateIDs, r.MkID)
	}

	before := b.fake.Stats().Calls("search", mkfake.OutcomeOK)
	var all []metakocka.Document
	for d, err := range c.SearchAll(ctx, metakocka.SearchRequest{DocType: metakocka.DocSalesOrder}) {
		require.NoError(t, err)
		all = append(all, d)
	}
	require.Len(t, all, early+late)
	require.Equal(t, int64(3), b.fake.Stats().Calls("search", mkfake.OutcomeOK)-before, "237 results in windows of 100")

	page, err := c.Search(ctx, metakocka.SearchRequest{DocType: metakocka.DocSalesOrder, Limit: 10, Offset: 5})
	require.NoError(t, err)
	require.Len(t, page.Results, 10)
	require.Equal(t, early+late, page.AllRecords)

	var changed []string
	for d, err := range c.SearchAll(ctx, metakocka.SearchRequest{
		DocType: metakocka.DocSalesOrder, FullDocuments: true, LastChangeFrom: cut, LastChangeTo: cut.Add(time.Minute),
	}) {
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(d.Partner.Customer, "Late"), d.Partner.Customer)
		changed = append(changed, d.MkID)
	}
	require.ElementsMatch(t, lateIDs, changed)
}

func TestSimFaults(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client
	b.fake.SeedPartners(testCompany, 3)
	q := metakocka.PartnerQuery{PartnerName: "Bulk partner"}

	tests := []struct {
		name    string
		kind    mkfake.FaultKind
		n       int
		wantErr bool
		calls   int64
	}{
		{"two 503 then success", mkfake.FaultHTTP503, 2, false, 3},
		{"two 500 then success", mkfake.FaultHTTP500, 2, false, 3},
		{"rate limited then success", mkfake.FaultRateLimit, 1, false, 2},
		{"reset then success", mkfake.FaultReset, 1, false, 2},
		{"injected internal opr error then success", mkfake.FaultOprError, 1, false, 2},
		{"persistent 503 gives up", mkfake.FaultHTTP503, 10, true, 4},
	}
	for _, tt := range tests {
		b.fake.ClearFaults(testCompany)
		before := b.fake.Stats().Total
		b.fake.FailNext(testCompany, tt.n, tt.kind)
		got, err := c.GetPartner(ctx, q)
		require.Equal(t, tt.calls, b.fake.Stats().Total-before, tt.name)
		if tt.wantErr {
			require.Error(t, err, tt.name)
			require.Equal(t, mksync.EUPSTREAM, mksync.ErrorCode(err), tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		require.Len(t, got, 3, tt.name)
	}
	b.fake.ClearFaults(testCompany)

	// A hang longer than the attempt timeout is retried.
	hangClient, err := metakocka.New(metakocka.Config{BaseURL: b.url, CompanyID: testCompany, SecretKey: testSecret,
		Clock: newFakeClock(), Timeouts: metakocka.Timeouts{Default: 300 * time.Millisecond}})
	require.NoError(t, err)
	b.fake.FailNext(testCompany, 1, mkfake.FaultHang)
	_, err = hangClient.GetPartner(ctx, q)
	require.NoError(t, err)

	// A create whose answer is lost after it was stored is not repeated: the
	// error says the caller may retry, and a lookup finds the record.
	before := b.fake.Stats().Total
	b.fake.FailNextMethod(testCompany, "add_partner", 1, mkfake.FaultCommitThenFail)
	_, err = c.AddPartner(ctx, metakocka.Partner{Customer: "Ambiguous d.o.o.", Street: "A 1", PostNumber: "1000", Place: "Ljubljana", Country: "Slovenia"})
	require.Error(t, err)
	var me *metakocka.Error
	require.ErrorAs(t, err, &me)
	require.True(t, me.Retryable)
	require.Equal(t, int64(1), b.fake.Stats().Total-before)
	found, err := c.GetPartner(ctx, metakocka.PartnerQuery{PartnerName: "Ambiguous"})
	require.NoError(t, err)
	require.Len(t, found, 1, "stored once, not duplicated")

	// Wrong credentials: EUNAUTHORIZED, one call, secret nowhere in the error.
	bad, err := metakocka.New(metakocka.Config{BaseURL: b.url, CompanyID: testCompany, SecretKey: "wrong-" + testSecret, Clock: newFakeClock()})
	require.NoError(t, err)
	before = b.fake.Stats().Total
	err = bad.Ping(ctx)
	require.Error(t, err)
	require.Equal(t, mksync.EUNAUTHORIZED, mksync.ErrorCode(err))
	require.Equal(t, int64(1), b.fake.Stats().Total-before)
	require.NotContains(t, err.Error(), testSecret)
	require.NoError(t, c.Ping(ctx))
}

// TestSimWebshopOrderRoundTrip puts a web shop order as documents_concept.md
// shows it (gross prices with a decimal comma, a coupon line, a
// discount_value), reads it, writes the read document back unchanged and
// checks that Metakocka's sums and lines did not change: what the client
// reads, it writes back without loss.
func TestSimWebshopOrderRoundTrip(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client
	d := order("WEB-1", "Kupec d.o.o.", "100,00")
	d.ProductList[0].Amount = metakocka.MustDecimal("1")
	d.ProductList[0].Tax = "EX4"
	d.ProductList = append(d.ProductList, metakocka.DocumentLine{
		Code: "MyCouponCode", Name: "Coupon for 10 EUR", Unit: "stor", Service: metakocka.NewBool(true), Sales: metakocka.NewBool(true),
		Amount: metakocka.MustDecimal("-1"), PriceWithTax: metakocka.MustDecimal("10"), Tax: "EX4",
	})
	d.DiscountValue = metakocka.MustDecimal("10")
	d.Notes = "Included discount 10 EUR for coupon code MyCouponCode"
	put, err := c.PutDocument(ctx, d)
	require.NoError(t, err)

	first, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: put.MkID})
	require.NoError(t, err)
	require.Equal(t, "80", first.SumAll.String(), "100 gross, less the 10 coupon line, less the 10 coupon on the total")
	require.Equal(t, "14.43", first.SumTax["ex4"].String())
	require.Equal(t, "-1", first.ProductList[1].Amount.String())

	_, err = c.PutDocument(ctx, first)
	require.NoError(t, err)
	second, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: put.MkID})
	require.NoError(t, err)
	require.Equal(t, first.SumAll.String(), second.SumAll.String())
	require.Equal(t, first.SumBasic.String(), second.SumBasic.String())
	require.Equal(t, first.SumTax["ex4"].String(), second.SumTax["ex4"].String())
	require.Equal(t, first.DiscountValue.String(), second.DiscountValue.String())
	require.Equal(t, first.Notes, second.Notes)
	require.Len(t, second.ProductList, 2)
	for i := range first.ProductList {
		a, b := first.ProductList[i], second.ProductList[i]
		require.Equal(t, a.Code, b.Code)
		require.Equal(t, a.Amount.String(), b.Amount.String())
		require.Equal(t, a.PriceWithTax.String(), b.PriceWithTax.String())
		require.False(t, b.Price.Valid, "no net price appears on a gross line")
		require.Equal(t, a.Tax, b.Tax)
	}
}

// TestSimCreditNote puts a financial credit note for an invoice through the
// client; the note takes the invoice's partner.
func TestSimCreditNote(t *testing.T) {
	t.Parallel()
	b := setupSim(t)
	ctx := context.Background()
	c := b.client
	bill := order("1-MK-1830", "Kupec d.o.o.", "12,20")
	bill.DocType, bill.BuyerOrder = metakocka.DocSalesBillDomestic, ""
	_, err := c.PutDocument(ctx, bill)
	require.NoError(t, err)
	_, err = c.ProductAdd(ctx, metakocka.Product{CountCode: "fee", Code: "fee", Name: "Fee", Unit: "kos", Service: metakocka.NewBool(true), Sales: metakocka.NewBool(true)})
	require.NoError(t, err)
	put, err := c.PutDocument(ctx, metakocka.Document{
		DocType: metakocka.DocSalesBillCreditNote, DocDate: "2026-03-02+01:00",
		CreditNoteType: metakocka.CreditNoteFinancial, CreditNoteBill: "1-MK-1830",
		ProductList: metakocka.List[metakocka.DocumentLine]{{Code: "fee", Amount: metakocka.MustDecimal("1"), Price: metakocka.MustDecimal("10"), Tax: "EX4"}},
	})
	require.NoError(t, err)
	got, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesBillCreditNote, DocID: put.MkID})
	require.NoError(t, err)
	require.Equal(t, "Kupec d.o.o.", got.Partner.Customer)
	require.Equal(t, metakocka.CreditNoteFinancial, got.CreditNoteType)
	require.Equal(t, "1-MK-1830", got.CreditNoteBill)
	require.Equal(t, "12.2", got.SumAll.String())
}
