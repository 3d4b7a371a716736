package engine

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// mk is a Metakocka client for the bundle's company, to change Metakocka
// behind the engine's back.
func (b *bundle) mk(t testing.TB) *metakocka.Client {
	t.Helper()
	c, err := metakocka.New(metakocka.Config{BaseURL: b.url, CompanyID: b.company, SecretKey: mksync.Secret("secret-" + b.company)})
	require.NoError(t, err)
	return c
}

func TestCountCode(t *testing.T) {
	t.Parallel()
	id := "0195f0c4-8a1e-7c3b-9d2f-4e5a6b7c8d9e"
	cc := CountCode(id)
	require.LessOrEqual(t, len(cc), 30)
	require.Equal(t, cc, CountCode(id), "deterministic")
	back, ok := LocalIDOf(cc)
	require.True(t, ok)
	require.Equal(t, id, back)
	require.NotEqual(t, cc, CountCode("0195f0c4-8a1e-7c3b-9d2f-4e5a6b7c8d9f"))
	other := CountCode("not-a-uuid")
	require.LessOrEqual(t, len(other), 30)
	_, ok = LocalIDOf(other)
	require.False(t, ok)
}

func TestTaxCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rate string
		code string
	}{{"22", "220"}, {"9.5", "095"}, {"0", "000"}, {"8.5", "085"}, {"5", "050"}} {
		code, err := taxCode(decimal.RequireFromString(tc.rate))
		require.NoError(t, err)
		require.Equal(t, tc.code, code)
		back, err := taxRatePercent(code, metakocka.Decimal{})
		require.NoError(t, err)
		require.True(t, back.Equal(decimal.RequireFromString(tc.rate)), "%s → %s → %s", tc.rate, code, back)
	}
	_, err := taxCode(decimal.RequireFromString("9.55"))
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
	r, err := taxRatePercent("EX2", metakocka.Decimal{})
	require.NoError(t, err)
	require.True(t, r.IsZero())
	r, err = taxRatePercent("", metakocka.MustDecimal("0,22"))
	require.NoError(t, err)
	require.Equal(t, "22", dec(r))
	_, err = taxRatePercent("XX", metakocka.Decimal{})
	require.Error(t, err)
	require.Equal(t, "10.5", dec(decimal.RequireFromString("10.50")))
}

func TestContactPushUpdateAndNoopResync(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)

	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	m := b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateSynced, m.State)
	require.Equal(t, CountCode(c.ID), m.CountCode)
	ps := b.fake.Partners(b.company)
	require.Len(t, ps, 1)
	require.Equal(t, m.MetakockaID, ps[0].MkID)
	require.Equal(t, c.Name, ps[0].Customer)
	require.Equal(t, c.Email, ps[0].Contacts[0].Email)

	c.Name, c.City = "Renamed d.o.o.", "Maribor"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Updated)
	ps = b.fake.Partners(b.company)
	require.Len(t, ps, 1)
	require.Equal(t, "Renamed d.o.o.", ps[0].Customer)
	require.Equal(t, "Maribor", ps[0].Addresses[0].City)

	// A CRM-only change (notes) and an unchanged resync: no write call.
	c.Notes = "called back"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, mksync.RunSucceeded, run.Status)
	require.Equal(t, 1, run.Result.Skipped)
	require.Zero(t, b.fake.Stats().Total, "an unchanged record makes no Metakocka call")
	require.Equal(t, mksync.StateSynced, b.mapping(t, mksync.EntityContact, c.ID).State)
}

func TestContactPullChangedInMetakocka(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	m := b.mapping(t, mksync.EntityContact, c.ID)

	// The billing address changes by its mk_id (update_partner.md), which
	// the push kept on the contact.
	pushed, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	require.NotEmpty(t, pushed.PartnerIDs.BillingAddress)
	_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: m.MetakockaID, Customer: "Changed in MK",
		PartnerDeliveryAddressList: metakocka.List[metakocka.Address]{{MkID: pushed.PartnerIDs.BillingAddress, Street: "New street 1"}}})
	require.NoError(t, err)

	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, 1, run.Result.Updated, "%+v", run.Result)
	got, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, "Changed in MK", got.Name)
	require.Equal(t, "New street 1", got.Street)
	require.Equal(t, c.Email, got.Email)

	// Pull again, and push: nothing changed on either side.
	b.fake.ResetStats()
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.FromMetakocka}, nil))
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}, nil))
	require.Zero(t, writes(b.fake.Stats()))

	// A partner new in Metakocka, pulled by mk_id, becomes a contact.
	add, err := b.mk(t).AddPartner(ctx, metakocka.Partner{Customer: "Born in MK", Street: "X 1", PostNumber: "2000", Place: "Maribor",
		PartnerContact: &metakocka.Contact{Email: "mk@example.com"}})
	require.NoError(t, err)
	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityContact, add.MkID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	mm, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityContact, add.MkID)
	require.NoError(t, err)
	nc, err := b.store.FindContactByID(ctx, b.tenant, mm.EntityID)
	require.NoError(t, err)
	require.Equal(t, "Born in MK", nc.Name)
	require.Equal(t, "mk@example.com", nc.Email)
}

func TestProductRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	p := newProduct(t, b)
	p.Description, p.Weight = "A fine thing", decimal.RequireFromString("1.250")
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))

	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	fps := b.fake.Products(b.company)
	require.Len(t, fps, 1)
	require.Equal(t, CountCode(p.ID), fps[0].CountCode)
	require.Equal(t, p.Code, fps[0].Code)
	require.Len(t, fps[0].Prices, 1)
	require.Equal(t, "220", fps[0].Prices[0].Tax)
	require.Equal(t, "19.99", fps[0].Prices[0].Price)

	// Changed in Metakocka: price and tax code; stock moves (one-way).
	m := b.mapping(t, mksync.EntityProduct, p.ID)
	_, err = b.mk(t).ProductUpdate(ctx, metakocka.Product{MkID: m.MetakockaID, Name: "Renamed in MK",
		Pricelist: metakocka.List[metakocka.Pricelist]{{CountCode: "MPC", PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal("24,50"), Tax: "095"}}}}})
	require.NoError(t, err)
	require.True(t, b.fake.SetStock(b.company, fps[0].CountCode, "42"))
	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, 1, run.Result.Updated, "%+v", run.Result)
	got, err := b.store.FindProductByID(ctx, b.tenant, p.ID)
	require.NoError(t, err)
	require.Equal(t, "Renamed in MK", got.Name)
	require.Equal(t, "24.5", dec(got.Price))
	require.Equal(t, "9.5", dec(got.TaxRate))
	require.Equal(t, "42", dec(got.StockAmount))
	require.Equal(t, "A fine thing", got.Description)

	// Only the stock moves: the product is updated locally, nothing pushed.
	require.True(t, b.fake.SetStock(b.company, fps[0].CountCode, "40"))
	b.fake.ResetStats()
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}, nil))
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}, nil))
	require.Zero(t, writes(b.fake.Stats()))
	got, err = b.store.FindProductByID(ctx, b.tenant, p.ID)
	require.NoError(t, err)
	require.Equal(t, "40", dec(got.StockAmount))

	// Clearing a text in the CRM clears it in Metakocka.
	got.Description = ""
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &got))
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	require.Empty(t, b.fake.Products(b.company)[0].NameDesc)
}

func TestProductLinksExistingCatalogue(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	p := newProduct(t, b)
	// The same SKU exists in Metakocka already (made there, not by mksync).
	_, err := b.mk(t).ProductAdd(ctx, metakocka.Product{Code: p.Code, Name: "old name", Unit: "kos"})
	require.NoError(t, err)
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Linked, "matched by code before any create: linked")
	fps := b.fake.Products(b.company)
	require.Len(t, fps, 1, "linked, not duplicated")
	require.Equal(t, p.Name, fps[0].Name)
}

func TestDocumentPushEnsuresPartnerAndProducts(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)
	p1, p2 := newProduct(t, b), newProduct(t, b)
	for _, tc := range []struct {
		kind    mksync.DocumentKind
		country string
		want    string
	}{
		{mksync.KindOffer, "SI", "sales_offer"},
		{mksync.KindOrder, "SI", "sales_order"},
		{mksync.KindInvoice, "SI", "sales_bill_domestic"},
		{mksync.KindInvoice, "Austria", "sales_bill_foreign"},
	} {
		cc := c
		if tc.country != "SI" {
			cc = newContact(t, b)
			cc.Country = tc.country
			require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &cc))
		}
		d := newDocument(t, b, tc.kind, cc, p1, p2)
		res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
		require.NoError(t, err, tc.kind)
		require.Equal(t, 1, res.Created)
		m := b.mapping(t, mksync.EntitySalesDocument, d.ID)
		var got *mkfake.Document
		for _, fd := range b.fake.Documents(b.company) {
			if fd.MkID == m.MetakockaID {
				got = &fd
			}
		}
		require.NotNil(t, got)
		require.Equal(t, tc.want, got.DocType)
		require.Len(t, got.Products, 2)
		require.Equal(t, "095", got.Products[0].Tax)
		local, err := b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
		require.NoError(t, err)
		require.Equal(t, got.CountCode, local.Number, "the document takes Metakocka's number")
	}
	require.Len(t, b.fake.Products(b.company), 2, "products created once")
	require.Len(t, b.fake.Partners(b.company), 2)

	// Unchanged: a resync of all documents makes no write.
	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, 4, run.Result.Skipped)
	require.Zero(t, b.fake.Stats().Total)
}

func TestDocumentWithUnresolvableProductIsRefusedWhole(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)
	good, bad := newProduct(t, b), newProduct(t, b)
	bad.TaxRate = decimal.RequireFromString("9.55") // no Metakocka tax code
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &bad))
	d := newDocument(t, b, mksync.KindOrder, c, good, bad)

	b.fake.ResetStats()
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.Error(t, err)
	require.Equal(t, 1, res.Failed)
	require.Contains(t, res.Errors[0].Error, "line 2")
	require.NotEmpty(t, res.Errors[0].ErrorID)
	require.Zero(t, b.fake.Stats().Calls("put_document", mkfake.OutcomeOK))
	require.Empty(t, b.fake.Documents(b.company))
	er, err := b.store.FindErrorRecord(ctx, b.tenant, res.Errors[0].ErrorID)
	require.NoError(t, err)
	require.Equal(t, "SYNC", er.Category)

	// Pull side: a Metakocka document whose product clashes with a local
	// product mapped elsewhere writes no local document.
	other := newProduct(t, b)
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, other.ID)
	require.NoError(t, err)
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	cm := b.mapping(t, mksync.EntityContact, c.ID)
	// A product made in Metakocka with the same SKU as "other" but its own
	// count_code cannot be linked (other is mapped already).
	b.fake.ClearFaults(b.company)
	mkc := b.mk(t)
	_, err = mkc.ProductAdd(ctx, metakocka.Product{Code: "CLASH-" + other.Code, Name: "x", Unit: "kos"})
	require.NoError(t, err)
	other.Code = "CLASH-" + other.Code // the local product now has the code of the Metakocka one
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &other))
	put, err := mkc.PutDocument(ctx, metakocka.Document{DocType: metakocka.DocSalesOrder, Partner: &metakocka.Partner{MkID: cm.MetakockaID},
		ProductList: metakocka.List[metakocka.DocumentLine]{{Code: other.Code, Amount: metakocka.MustDecimal("1")}}})
	require.NoError(t, err)
	before, _, err := b.store.FindSalesDocuments(ctx, b.tenant, mksync.ListFilter{})
	require.NoError(t, err)
	res, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, put.MkID)
	require.Error(t, err)
	require.Equal(t, 1, res.Failed)
	require.Contains(t, res.Errors[0].Error, "line 1")
	after, _, err := b.store.FindSalesDocuments(ctx, b.tenant, mksync.ListFilter{})
	require.NoError(t, err)
	require.Len(t, after, len(before), "no half document written")
}

func TestDocumentPullIncremental(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	b.fake.SeedDemo(b.company)
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	n := len(b.fake.Documents(b.company))
	require.Equal(t, n, run.Result.Created)
	docs, _, err := b.store.FindSalesDocuments(ctx, b.tenant, mksync.ListFilter{Page: mksync.Page{Limit: 1000}})
	require.NoError(t, err)
	require.Len(t, docs, n)

	// Again: the overlap re-reads recent documents, but writes nothing.
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed)
	require.Zero(t, writes(b.fake.Stats()))

	// Changed in Metakocka → pulled.
	fd := b.fake.Documents(b.company)[0]
	require.NoError(t, b.mk(t).UpdateDocument(ctx, metakocka.DocumentUpdate{DocType: metakocka.DocType(fd.DocType), MkID: fd.MkID, StatusCode: "shipped"}))
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, 1, run.Result.Updated, "%+v", run.Result)
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, fd.MkID)
	require.NoError(t, err)
	got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)
	require.Equal(t, "shipped", got.Status)

	// And pushing it all back changes nothing.
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, writes(b.fake.Stats()), "%+v", run.Result)
}

func TestNoDuplicateAfterCommitThenFail(t *testing.T) {
	t.Parallel()
	for _, kind := range []mkfake.FaultKind{mkfake.FaultCommitThenFail, mkfake.FaultCommitThenHang} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{timeout: 300 * time.Millisecond})
			ctx := context.Background()
			c, p := newContact(t, b), newProduct(t, b)
			d := newDocument(t, b, mksync.KindOrder, c, p)
			b.fake.FailNextMethod(b.company, "add_partner", 1, kind)
			b.fake.FailNextMethod(b.company, "product_add", 1, kind)
			b.fake.FailNextMethod(b.company, "put_document", 1, kind)
			res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
			require.NoError(t, err)
			require.Equal(t, 1, res.Created)
			require.Len(t, b.fake.Partners(b.company), 1)
			require.Len(t, b.fake.Products(b.company), 1)
			require.Len(t, b.fake.Documents(b.company), 1)
			st := b.fake.Stats()
			require.Equal(t, int64(1), st.Calls("put_document", mkfake.OutcomeCommitThenFail))
		})
	}
}

func TestCrashAfterCreateDoesNotDuplicate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)
	// An earlier process wrote its intent and created the partner, then died
	// before mapping it.
	intent := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, CountCode: CountCode(c.ID), State: mksync.StatePending}
	require.NoError(t, b.store.UpsertMapping(ctx, b.tenant, &intent))
	_, err := b.mk(t).AddPartner(ctx, metakocka.Partner{CountCode: CountCode(c.ID), Customer: c.Name})
	require.NoError(t, err)
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	ps := b.fake.Partners(b.company)
	require.Len(t, ps, 1)
	require.Equal(t, c.Email, ps[0].Contacts[0].Email, "the adopted partner was brought up to date")
}

func TestTransientFaultsRetriedBadInputNot(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{timeout: 300 * time.Millisecond})
	ctx := context.Background()
	c := newContact(t, b)
	b.fake.FailNext(b.company, 1, mkfake.FaultHTTP503)
	b.fake.FailNext(b.company, 1, mkfake.FaultRateLimit)
	b.fake.FailNext(b.company, 1, mkfake.FaultHang)
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	require.Len(t, b.fake.Partners(b.company), 1)

	// Metakocka refuses bad input: reported with an errorId, not retried.
	p := newProduct(t, b)
	b.fake.ResetStats()
	_, err = b.mk(t).ProductAdd(ctx, metakocka.Product{Code: "TAKEN", Name: "x", Unit: "kos", CountCode: CountCode(p.ID) + "X"})
	require.NoError(t, err)
	pricelist := metakocka.List[metakocka.Pricelist]{{CountCode: "MPC", PriceDef: metakocka.List[metakocka.PriceDef]{{Tax: "ZZZ"}}}}
	_, err = b.mk(t).ProductAdd(ctx, metakocka.Product{Code: "BAD", Name: "x", Unit: "kos", Pricelist: pricelist})
	require.Error(t, err, "the simulator refuses an unknown tax code")
	b.fake.ResetStats()
	p.TaxRate = decimal.RequireFromString("12.34")
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.Error(t, err)
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
	require.Equal(t, 1, res.Failed)
	require.NotEmpty(t, res.Errors[0].ErrorID)
	require.Zero(t, b.fake.Stats().Calls("product_add", mkfake.OutcomeOK)+b.fake.Stats().Calls("product_add", mkfake.OutcomeOprError))
	require.Equal(t, mksync.StateFailed, b.mapping(t, mksync.EntityProduct, p.ID).State)
}

// TestEntitiesShareOneAlgorithm drives each entity through the entry
// points that pick it by type (session.ops): a push creates, a second push
// and a pull of the same record change nothing, and a record that is not
// there fails with the entity's own wording.
func TestEntitiesShareOneAlgorithm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{})
	c := newContact(t, b)
	p := newProduct(t, b)
	d := newDocument(t, b, mksync.KindOrder, newContact(t, b), newProduct(t, b))
	cases := []struct {
		et      mksync.EntityType
		id      string
		missing string // the error of a push of a record that does not exist
	}{
		{mksync.EntityContact, c.ID, "find contact"},
		{mksync.EntityProduct, p.ID, "find product"},
		{mksync.EntitySalesDocument, d.ID, "find sales document"},
	}
	for _, tc := range cases {
		t.Run(string(tc.et), func(t *testing.T) {
			s, err := b.e.session(ctx, b.tenant)
			require.NoError(t, err)
			r := s.pushByID(ctx, tc.et, tc.id, false)
			require.Equal(t, outCreated, r.out, "%+v", r.rec)
			m := b.mapping(t, tc.et, tc.id)
			require.NotEmpty(t, m.MetakockaID)
			require.Equal(t, mksync.StateSynced, m.State)

			before := writes(b.fake.Stats())
			require.Equal(t, outSkipped, s.pushByID(ctx, tc.et, tc.id, false).out)
			r = s.pullByMkID(ctx, tc.et, m.MetakockaID, false)
			require.Equal(t, outSkipped, r.out, "%+v", r.rec)
			require.Equal(t, before, writes(b.fake.Stats()), "an unchanged record writes nothing to Metakocka")

			r = s.pushByID(ctx, tc.et, "0195f0c4-8a1e-7c3b-9d2f-4e5a6b7c8d9e", false)
			require.Equal(t, outFailed, r.out)
			require.Equal(t, mksync.ENOTFOUND, r.rec.Code)
			require.Contains(t, r.rec.Error, tc.missing)
			r = s.pullByMkID(ctx, tc.et, "999999999", false)
			require.Equal(t, outFailed, r.out)
			require.Equal(t, mksync.ENOTFOUND, r.rec.Code, r.rec.Error)
		})
	}
	s, err := b.e.session(ctx, b.tenant)
	require.NoError(t, err)
	for _, r := range []recordResult{
		s.pushByID(ctx, "invoice_lines", c.ID, false),
		s.pullByMkID(ctx, "invoice_lines", "1", false),
	} {
		require.Equal(t, outFailed, r.out)
		require.Equal(t, mksync.EINVALID, r.rec.Code)
	}
}

// TestSameChangeOnBothSidesIsNoConflict: a contact changed in the CRM and in
// Metakocka to the same content is settled without a conflict or a write,
// whatever the policy would have decided.
func TestSameChangeOnBothSidesIsNoConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins}})
	c := newContact(t, b)
	s, err := b.e.session(ctx, b.tenant)
	require.NoError(t, err)
	require.Equal(t, outCreated, s.pushByID(ctx, mksync.EntityContact, c.ID, false).out)
	m := b.mapping(t, mksync.EntityContact, c.ID)
	c.Name = "Renamed on both sides d.o.o."
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
	_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: m.MetakockaID, Customer: c.Name})
	require.NoError(t, err)

	before := writes(b.fake.Stats())
	r := s.pushByID(ctx, mksync.EntityContact, c.ID, false)
	require.Equal(t, outSkipped, r.out, "%+v", r.rec)
	require.Equal(t, before, writes(b.fake.Stats()))
	after := b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateSynced, after.State)
	require.Equal(t, after.PushedHash, after.PulledHash)
	require.NotEqual(t, m.PushedHash, after.PushedHash)
	ers, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{Category: "SYNC"})
	require.NoError(t, err)
	require.Empty(t, ers)
}

// A pull finds the CRM record of a Metakocka record through the cache's
// mk_id hint, but the store decides: a mapping removed behind the cache's
// back (another instance unlinked it) makes the pull ask the store, which
// finds no mapping and links the product by its code, as without a hint.
func TestPullStaleCacheHintAsksTheStore(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	p := newProduct(t, b)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	m := b.mapping(t, mksync.EntityProduct, p.ID)
	_, hinted := b.e.cache.byMkID.GetIfPresent(cacheKey{b.tenant, mksync.EntityProduct, m.MetakockaID})
	require.True(t, hinted, "the push left the hint")

	require.NoError(t, b.store.DeleteMapping(ctx, b.tenant, mksync.EntityProduct, p.ID))
	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, m.MetakockaID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Linked, "%+v", res)
	require.Zero(t, res.Failed)
	again := b.mapping(t, mksync.EntityProduct, p.ID)
	require.Equal(t, m.MetakockaID, again.MetakockaID)
}
