package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

func TestTaxKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"SI 12345678", "12345678"},
		{"si12345678", "12345678"},
		{"12345678", "12345678"},
		{"SI 12.345.678", "12345678"},
		{" si-1234 5678 ", "12345678"},
		{"HR12345678901", "HR12345678901"},
		{"n/a", ""},
		{"", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, TaxKey(tt.in, "SI"), tt.in)
	}
	require.Equal(t, "info@firma.si", EmailKey(" Info@Firma.SI "))
}

// addPartner adds a partner made in Metakocka (not by mksync).
func addPartner(t testing.TB, mk *metakocka.Client, name, tax, email string) string {
	t.Helper()
	p := metakocka.Partner{Customer: name, TaxIDNumber: tax, Street: "Cesta 1", PostNumber: "1000", Place: "Ljubljana", Country: "SI"}
	if email != "" {
		p.PartnerContact = &metakocka.Contact{Name: name, Email: email}
	}
	res, err := mk.AddPartner(context.Background(), p)
	require.NoError(t, err)
	return res.MkID
}

func TestContactMatchesPartnerBeforeCreate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	byTax := addPartner(t, mk, "Tax d.o.o.", "SI 12345678", "")
	byMail := addPartner(t, mk, "Mail d.o.o.", "", "Info@Mail.si")
	twinA := addPartner(t, mk, "Twin d.o.o.", "SI87654321", "")
	twinB := addPartner(t, mk, "Twin 2 d.o.o.", "87654321", "")
	weak := addPartner(t, mk, "Weak d.o.o.", "", "")

	tests := []struct {
		name, tax, email string
		wantState        mksync.SyncState
		wantMkID         string
		res              func(mksync.SyncResult) int
	}{
		{"tax bare", "12345678", "", mksync.StateSynced, byTax, func(r mksync.SyncResult) int { return r.Linked }},
		{"email case", "", "info@MAIL.si", mksync.StateSynced, byMail, func(r mksync.SyncResult) int { return r.Linked }},
		{"two candidates", "si 87.654.321", "", mksync.StateAmbiguous, "", func(r mksync.SyncResult) int { return r.Ambiguous }},
		{"weak refused", "", "", mksync.StateSynced, "", func(r mksync.SyncResult) int { return r.Created }},
	}
	for _, tt := range tests {
		name := "Weak d.o.o."
		if tt.name != "weak refused" {
			name = "Contact " + tt.name
		}
		c := mksync.Contact{Name: name, TaxID: tt.tax, Email: tt.email, Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
		require.NoError(t, b.store.CreateContact(ctx, b.tenant, &c))
		res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
		require.NoError(t, err, tt.name)
		require.Equal(t, 1, tt.res(res), "%s: %+v", tt.name, res)
		m := b.mapping(t, mksync.EntityContact, c.ID)
		require.Equal(t, tt.wantState, m.State, tt.name)
		switch {
		case tt.wantMkID != "":
			require.Equal(t, tt.wantMkID, m.MetakockaID, tt.name)
		case tt.wantState == mksync.StateAmbiguous:
			require.Empty(t, m.MetakockaID)
			er, err := b.store.FindErrorRecord(ctx, b.tenant, m.LastError)
			require.NoError(t, err)
			require.Equal(t, mksync.ECONFLICT, er.Code)
			require.Contains(t, er.Message, twinA)
			require.Contains(t, er.Message, twinB)
			// A later bulk push leaves it alone: neither linked nor created.
			require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}, nil))
			require.Equal(t, mksync.StateAmbiguous, b.mapping(t, mksync.EntityContact, c.ID).State)
		default:
			require.NotEqual(t, weak, m.MetakockaID, "same name and post number is never linked")
		}
	}
	require.Len(t, b.fake.Partners(b.company), 6, "only the weak match made a new partner")
}

func TestProductDeletedInMetakockaIsNotRecreated(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	p := newProduct(t, b)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	m := b.mapping(t, mksync.EntityProduct, p.ID)
	_, err = b.mk(t).ProductDelete(ctx, metakocka.ProductKey{MkID: m.MetakockaID})
	require.NoError(t, err)

	p.Name = "changed after the delete"
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
	for range 2 {
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}, nil))
	}
	require.Empty(t, b.fake.Products(b.company), "not created again")
	got := b.mapping(t, mksync.EntityProduct, p.ID)
	require.Equal(t, mksync.StateDeletedInMetakocka, got.State)
	require.Equal(t, m.MetakockaID, got.MetakockaID, "the gone record stays named")
}

// TestFirstDayMatchesExistingRecords is the first day of a company: a
// Metakocka company with 300 partners and 200 products, a CRM with 200
// contacts (120 the same companies by tax number in varied forms or by
// e-mail, 10 matching two partners each) and 150 products (100 with
// existing codes). Syncing all to Metakocka links instead of duplicating.
func TestFirstDayMatchesExistingRecords(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk, err := metakocka.New(metakocka.Config{BaseURL: b.url, CompanyID: b.company, SecretKey: mksync.Secret("secret-" + b.company),
		Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}})
	require.NoError(t, err)
	start := time.Now()
	mkForms := []string{"SI%08d", "SI %08d", "%08d"}
	crmForms := []string{"si%08d", "%08d", "SI %08d", "SI-%08d"}
	want := map[string]string{} // contact name → pre-existing mk_id
	var contacts []mksync.Contact
	add := func(c mksync.Contact) {
		c.Street, c.PostNumber, c.City, c.Country = "Cesta 9", "2000", "Maribor", "SI"
		contacts = append(contacts, c)
	}
	// 80 by tax number, 40 by e-mail.
	for i := range 120 {
		name := fmt.Sprintf("Firma %03d d.o.o.", i)
		if i < 80 {
			want[name] = addPartner(t, mk, name, fmt.Sprintf(mkForms[i%3], 10000000+i), "")
			add(mksync.Contact{Name: name, TaxID: fmt.Sprintf(crmForms[i%4], 10000000+i)})
		} else {
			want[name] = addPartner(t, mk, name, "", fmt.Sprintf("Info%d@Firma.si", i))
			add(mksync.Contact{Name: name, Email: fmt.Sprintf("info%d@firma.SI", i)})
		}
	}
	// 10 matching two partners each.
	for i := range 10 {
		tax := 20000000 + i
		addPartner(t, mk, fmt.Sprintf("Dvojnik %d A", i), fmt.Sprintf("SI%08d", tax), "")
		addPartner(t, mk, fmt.Sprintf("Dvojnik %d B", i), fmt.Sprintf("%08d", tax), "")
		add(mksync.Contact{Name: fmt.Sprintf("Dvojnik %d", i), TaxID: fmt.Sprintf("SI %08d", tax)})
	}
	// 160 partners only in Metakocka; 70 contacts only in the CRM, five of
	// them with the same name and post number as such a partner (a weak
	// match, never linked).
	for i := range 160 {
		addPartner(t, mk, fmt.Sprintf("Samo MK %03d", i), fmt.Sprintf("SI%08d", 30000000+i), "")
	}
	for i := range 70 {
		name := fmt.Sprintf("Nova %03d", i)
		if i < 5 {
			name = fmt.Sprintf("Samo MK %03d", i)
		}
		add(mksync.Contact{Name: name, TaxID: fmt.Sprintf("SI%08d", 40000000+i), Email: fmt.Sprintf("nova%d@example.com", i)})
	}
	require.NoError(t, b.store.UpsertContacts(ctx, b.tenant, contacts))
	taxBefore := taxCounts(b.fake.Partners(b.company))

	for i := range 200 {
		_, err = mk.ProductAdd(ctx, metakocka.Product{Code: fmt.Sprintf("P-%03d", i), Name: fmt.Sprintf("Izdelek %d", i), Unit: "kos"})
		require.NoError(t, err)
	}
	products := make([]mksync.Product, 150)
	for i := range products {
		code := fmt.Sprintf("P-%03d", i)
		if i >= 100 {
			code = fmt.Sprintf("N-%03d", i)
		}
		products[i] = mksync.Product{Code: code, Name: "CRM " + code, Unit: "kos", Sales: true}
	}
	require.NoError(t, b.store.UpsertProducts(ctx, b.tenant, products))
	productIDs := map[string]string{}
	for _, p := range b.fake.Products(b.company) {
		productIDs[p.Code] = p.MkID
	}

	t.Logf("seeded %s", time.Since(start))
	b.fake.ResetStats()
	run := &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
	require.Equal(t, 70, run.Result.Created, "%+v", run.Result)
	require.Equal(t, 120, run.Result.Linked)
	require.Equal(t, 10, run.Result.Ambiguous)
	require.Zero(t, run.Result.Failed)
	t.Logf("contacts %s", time.Since(start))
	prun := &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, prun, nil))
	require.Equal(t, 50, prun.Result.Created, "%+v", prun.Result)
	require.Equal(t, 100, prun.Result.Linked)

	t.Logf("products %s", time.Since(start))
	st := b.fake.Stats()
	for _, m := range []string{"get_partner", "add_partner", "update_partner", "product_list", "product_add", "product_update"} {
		t.Logf("%s: %d calls", m, st.Calls(m, mkfake.OutcomeOK))
	}
	partners := b.fake.Partners(b.company)
	require.Len(t, partners, 370)
	require.Len(t, b.fake.Products(b.company), 250)
	for key, n := range taxCounts(partners) {
		if before, ok := taxBefore[key]; ok {
			require.Equal(t, before, n, "tax number %s is on no more partners than before", key)
		} else {
			require.Equal(t, 1, n, "tax number %s", key)
		}
	}
	ambiguous := 0
	for c, err := range b.store.AllContacts(ctx, b.tenant) {
		require.NoError(t, err)
		m := b.mapping(t, mksync.EntityContact, c.ID)
		if id, ok := want[c.Name]; ok {
			require.Equal(t, id, m.MetakockaID, c.Name)
		}
		if m.State == mksync.StateAmbiguous {
			ambiguous++
		}
	}
	require.Equal(t, 10, ambiguous)
	for p, err := range b.store.AllProducts(ctx, b.tenant) {
		require.NoError(t, err)
		if id, ok := productIDs[p.Code]; ok {
			require.Equal(t, id, b.mapping(t, mksync.EntityProduct, p.ID).MetakockaID, p.Code)
		}
	}
}

// taxCounts counts partners per normalised tax number.
func taxCounts(ps []mkfake.Partner) map[string]int {
	n := map[string]int{}
	for _, p := range ps {
		if k := TaxKey(p.TaxIDNumber, "SI"); k != "" {
			n[k]++
		}
	}
	return n
}

func TestPartnerMatchesContactBeforeCreate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	byTax := addPartner(t, mk, "Pull Tax d.o.o.", "SI 31313131", "")
	byMail := addPartner(t, mk, "Pull Mail d.o.o.", "", "Pull@Mail.si")
	twin := addPartner(t, mk, "Pull Twin d.o.o.", "SI42424242", "")
	weak := addPartner(t, mk, "Pull Weak d.o.o.", "", "")
	mkContact := func(name, tax, email string) mksync.Contact {
		c := mksync.Contact{Name: name, TaxID: tax, Email: email, Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
		require.NoError(t, b.store.CreateContact(ctx, b.tenant, &c))
		return c
	}
	cTax := mkContact("Tax", "31.313.131", "")
	cMail := mkContact("Mail", "", "pull@MAIL.si")
	mkContact("Twin A", "si 42424242", "")
	mkContact("Twin B", "42424242", "")
	mkContact("Pull Weak d.o.o.", "", "") // same name and post number only

	// Partners arrive by mk_id (Metakocka lists no partners).
	run := &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, []string{byTax, byMail, twin, weak}))
	require.Equal(t, 1, run.Result.Ambiguous, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Created, "the weak match is a new contact")
	require.Equal(t, 2, run.Result.Linked, "a pull-side link counts as linked: %+v", run.Result)
	require.Zero(t, run.Result.Updated, "a link is not an update")
	require.Equal(t, byTax, b.mapping(t, mksync.EntityContact, cTax.ID).MetakockaID)
	require.Equal(t, byMail, b.mapping(t, mksync.EntityContact, cMail.ID).MetakockaID)
	_, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityContact, twin)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "an ambiguous partner is neither linked nor created")
	n := 0
	for _, err := range b.store.AllContacts(ctx, b.tenant) {
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 6, n)
	ers, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{EntityID: twin})
	require.NoError(t, err)
	require.Len(t, ers, 1)
	require.Equal(t, mksync.ECONFLICT, ers[0].Code)
}

// TestProductMatchesByBarcodeOnPull: a Metakocka product whose code the
// CRM does not have links to the one CRM product not linked yet with its
// barcode (counted as linked); two such products make it ambiguous: neither
// linked nor created.
func TestProductMatchesByBarcodeOnPull(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	addMk := func(code, barcode string) string {
		res, err := mk.ProductAdd(ctx, metakocka.Product{Code: code, Name: "Made in Metakocka " + code, Unit: "kos", Barcode: barcode})
		require.NoError(t, err)
		return res.MkID
	}
	addCRM := func(code, barcode string) mksync.Product {
		p := mksync.Product{Code: code, Name: "CRM " + code, Unit: "kos", Barcode: barcode}
		require.NoError(t, b.store.CreateProduct(ctx, b.tenant, &p))
		return p
	}
	byBarcode := addMk("MK-X", "3830000000111")
	twin := addMk("MK-Y", "3830000000222")
	linked := addMk("MK-Z", "3830000000333")
	a := addCRM("LOC-A", "3830000000111")
	addCRM("LOC-B1", "3830000000222")
	addCRM("LOC-B2", "3830000000222")
	c := addCRM("LOC-C", "3830000000333")
	require.NoError(t, b.store.UpsertMapping(ctx, b.tenant, &mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: c.ID,
		MetakockaID: "999999", State: mksync.StateSynced}))

	run := &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
	require.Equal(t, 1, run.Result.Linked, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Ambiguous, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Created, "a product linked elsewhere is no candidate: %+v", run.Result)
	require.Equal(t, byBarcode, b.mapping(t, mksync.EntityProduct, a.ID).MetakockaID)
	_, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, twin)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "an ambiguous product is neither linked nor created")
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, linked)
	require.NoError(t, err)
	require.NotEqual(t, c.ID, m.EntityID)
	require.Len(t, collectProducts(t, b), 5)
}

// TestDocumentMatchesByNumberPartnerDate: a CRM document and a Metakocka
// document with the same number (count_code), partner and date are linked,
// not duplicated, in either direction; another date is not a match; two CRM
// documents with one key make the pulled one ambiguous.
func TestDocumentMatchesByNumberPartnerDate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newProduct(t, b)
	for et, id := range map[mksync.EntityType]string{mksync.EntityContact: c.ID, mksync.EntityProduct: p.ID} {
		_, err := b.e.SyncToMetakocka(ctx, b.tenant, et, id)
		require.NoError(t, err)
	}
	partner, product := b.mapping(t, mksync.EntityContact, c.ID).MetakockaID, b.mapping(t, mksync.EntityProduct, p.ID).MetakockaID
	mk := b.mk(t)
	putMk := func(number, date string) string {
		res, err := mk.PutDocument(ctx, metakocka.Document{DocType: metakocka.DocSalesOrder, CountCode: number, DocDate: date,
			Partner: &metakocka.Partner{MkID: partner},
			ProductList: metakocka.List[metakocka.DocumentLine]{{MkID: product, Amount: metakocka.MustDecimal("1"),
				Price: metakocka.MustDecimal("19.99"), Tax: "095"}}})
		require.NoError(t, err)
		return res.MkID
	}
	addCRM := func(number string, day int) mksync.SalesDocument {
		d := newDocument(t, b, mksync.KindOrder, c, p)
		d.Number, d.Date = number, mksync.NewDate(2025, 3, day)
		require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
		return d
	}

	// Push: one is there already, one is not.
	there := putMk("2025-100", "14.03.2025")
	pushed, fresh := addCRM("2025-100", 14), addCRM("2025-101", 14)
	run := &mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
	require.Equal(t, 1, run.Result.Linked, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Created, "%+v", run.Result)
	require.Equal(t, there, b.mapping(t, mksync.EntitySalesDocument, pushed.ID).MetakockaID)
	require.NotEqual(t, there, b.mapping(t, mksync.EntitySalesDocument, fresh.ID).MetakockaID)
	require.Len(t, b.fake.Documents(b.company), 2, "nothing duplicated")

	// Pull: made in Metakocka, already in the CRM.
	pulled := addCRM("2025-200", 14)
	otherDay := addCRM("2025-201", 15)
	addCRM("2025-202", 14)
	addCRM("2025-202", 14)
	toPull := putMk("2025-200", "14.03.2025")
	putMk("2025-201", "14.03.2025")
	twin := putMk("2025-202", "14.03.2025")
	before := len(collectDocuments(t, b))
	run = &mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
	require.Equal(t, 1, run.Result.Linked, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Ambiguous, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Created, "another date is another document: %+v", run.Result)
	require.Equal(t, toPull, b.mapping(t, mksync.EntitySalesDocument, pulled.ID).MetakockaID)
	_, err := b.store.FindMapping(ctx, b.tenant, mksync.EntitySalesDocument, otherDay.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	_, err = b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, twin)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "an ambiguous document is neither linked nor created")
	require.Len(t, collectDocuments(t, b), before+1)
}

func collectDocuments(t *testing.T, b *bundle) []mksync.SalesDocument {
	t.Helper()
	var out []mksync.SalesDocument
	for d, err := range b.store.AllSalesDocuments(context.Background(), b.tenant) {
		require.NoError(t, err)
		out = append(out, d)
	}
	return out
}

// TestProductMatchesByBarcodeOnPush: a CRM product whose code Metakocka
// does not have links to the one Metakocka product with its barcode (read
// from the catalogue once per run, since Metakocka documents no barcode
// filter); two such products make it ambiguous; a product mksync made for
// another CRM product is no candidate.
func TestProductMatchesByBarcodeOnPush(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	addMk := func(code, barcode, countCode string) string {
		res, err := mk.ProductAdd(ctx, metakocka.Product{Code: code, CountCode: countCode, Name: "Made in Metakocka " + code, Unit: "kos", Barcode: barcode})
		require.NoError(t, err)
		return res.MkID
	}
	addCRM := func(code, barcode string) mksync.Product {
		p := mksync.Product{Code: code, Name: "CRM " + code, Unit: "kos", Barcode: barcode, Price: decimal.RequireFromString("1.5"), TaxRate: decimal.NewFromInt(22)}
		require.NoError(t, b.store.CreateProduct(ctx, b.tenant, &p))
		return p
	}
	byBarcode := addMk("MK-X", "3830000000111", "")
	addMk("MK-Y1", "3830000000222", "")
	addMk("MK-Y2", "3830000000222", "")
	addMk("MK-Z", "3830000000333", CountCode("0193b4a2-7c1e-7d2a-9f00-5a1b2c3d4e5f")) // a local product since deleted
	for i := range 5 {                                                                // a catalogue of more than one record
		addMk(fmt.Sprintf("MK-FILL-%d", i), fmt.Sprintf("38300000009%02d", i), "")
	}
	a := addCRM("LOC-A", "3830000000111")
	twin := addCRM("LOC-B", "3830000000222")
	addCRM("LOC-C", "3830000000333")
	addCRM("LOC-D", "")
	before := productLists(b)

	run := &mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
	require.Equal(t, 1, run.Result.Linked, "%+v", run.Result)
	require.Equal(t, 1, run.Result.Ambiguous, "%+v", run.Result)
	require.Equal(t, 2, run.Result.Created, "%+v", run.Result)
	require.Equal(t, byBarcode, b.mapping(t, mksync.EntityProduct, a.ID).MetakockaID)
	require.Equal(t, mksync.StateAmbiguous, b.mapping(t, mksync.EntityProduct, twin.ID).State)
	require.Len(t, b.fake.Products(b.company), 11, "9 there before, 2 created for C and D, none for A and B")
	t.Logf("product_list calls for 4 products: %d", productLists(b)-before)
}

// productLists counts the company's product_list calls.
func productLists(b *bundle) int64 {
	var n int64
	for _, c := range b.fake.Stats().Companies[b.company]["product_list"] {
		n += c
	}
	return n
}
