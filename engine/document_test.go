package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// putRaw sends a put_document request to the simulator as JSON text, so
// that numbers arrive exactly as the documentation writes them (a decimal
// comma), and returns the new document's mk_id.
func (b *bundle) putRaw(t testing.TB, doc string) string {
	t.Helper()
	return b.callRaw(t, "put_document", doc)
}

// callRaw sends the JSON request doc to the simulator's method with the
// bundle's credentials, requires success and returns the answer's mk_id.
func (b *bundle) callRaw(t testing.TB, method, doc string) string {
	t.Helper()
	var req map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &req))
	req["company_id"], req["secret_key"] = b.company, "secret-"+b.company
	body, err := json.Marshal(req)
	require.NoError(t, err)
	resp, err := http.Post(b.url+"/rest/eshop/v1/"+method, "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		OprCode string `json:"opr_code"`
		OprDesc string `json:"opr_desc"`
		MkID    string `json:"mk_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, "0", out.OprCode, out.OprDesc)
	return out.MkID
}

// webOrder is a web shop's order as documents_concept.md and
// documents_put_document_sales_order.md show them: gross prices with a
// decimal comma, a coupon line (amount -1 of a service), a free-text
// shipping line, a line discount and a coupon on the gross total
// (discount_value), with the delivery address, buyer order, title and
// payment method a shop sends.
const webOrder = `{
	"doc_type": "sales_order", "doc_date": "2024-09-12+02:00", "title": "Spletno naročilo 4711",
	"buyer_order": "SHOP-4711", "method_of_payment": "Kartica", "status_code": "in_progress",
	"currency_code": "EUR", "discount_value": "5,50",
	"partner": {"business_entity": "false", "taxpayer": "false", "foreign_county": "false", "customer": "Janez Novak",
		"street": "Slovenska cesta 1", "post_number": "1000", "place": "Ljubljana", "country": "Slovenia",
		"partner_contact": {"name": "Janez Novak", "email": "janez@example.com"}},
	"receiver": {"customer": "Marija Novak", "street": "Trubarjeva 2", "post_number": "2000", "place": "Maribor", "country": "Slovenia"},
	"product_list": [
		{"code": "SHOP-CHAIR", "name": "Stol", "unit": "kos", "amount": "2", "price_with_tax": "119,99", "discount": "10", "tax": "EX4"},
		{"code": "SHOP-BOOK", "name": "Knjiga", "unit": "kos", "amount": "1", "price_with_tax": "24,90", "tax": "EX3"},
		{"code": "MyCouponCode", "name": "Coupon for 10 EUR", "amount": "-1", "price_with_tax": "10", "tax": "EX4", "unit": "stor", "service": "true", "sales": "true"},
		{"name": "Poštnina", "unit": "kos", "amount": "1", "price_with_tax": "3,99", "tax": "EX4"}
	]
}`

func fakeDoc(t testing.TB, b *bundle, mkID string) mkfake.Document {
	t.Helper()
	for _, d := range b.fake.Documents(b.company) {
		if d.MkID == mkID {
			return d
		}
	}
	t.Fatalf("the simulator has no document %s", mkID)
	return mkfake.Document{}
}

// TestDocumentAsMetakockaHoldsIt is issue 15's done-when: a documented web
// shop order is pulled with the CRM's totals equal to Metakocka's sums to
// the cent, pushing it back unchanged makes no write call, and an edit in
// the CRM goes back in the form Metakocka holds (gross stays gross).
func TestDocumentAsMetakockaHoldsIt(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mkID := b.putRaw(t, webOrder)
	before := fakeDoc(t, b, mkID)

	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
	require.NoError(t, err, "%+v", res)
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
	require.NoError(t, err)
	d, err := b.store.FindSalesDocumentByID(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)

	require.Equal(t, before.Sums["sum_all"], d.TotalGross.String(), "sum_all")
	require.Equal(t, before.Sums["sum_basic"], d.TotalNet.String(), "sum_basic")
	tax := decimal.Zero
	for k, v := range before.Sums {
		if strings.HasPrefix(k, "sum_tax_") {
			tax = tax.Add(decimal.RequireFromString(v))
		}
	}
	require.Equal(t, tax.String(), d.TotalTax.String(), "sum_tax_*")
	require.Equal(t, "5.5", d.DiscountValue.String())
	require.Equal(t, "Spletno naročilo 4711", d.Title)
	require.Equal(t, "SHOP-4711", d.BuyerOrder)
	require.Equal(t, "Kartica", d.PaymentMethod)
	require.Equal(t, "in_progress", d.Status)
	require.Equal(t, &mksync.Address{Name: "Marija Novak", Street: "Trubarjeva 2", PostNumber: "2000", City: "Maribor", Country: "Slovenia"}, d.DeliveryAddress)
	require.Len(t, d.Lines, 4)
	chair, coupon, shipping := d.Lines[0], d.Lines[2], d.Lines[3]
	require.True(t, chair.PriceIncludesTax)
	require.Equal(t, "119.99", chair.UnitPrice.String())
	require.Equal(t, "10", chair.DiscountPercent.String())
	require.Equal(t, "22", chair.TaxRate.String())
	require.Equal(t, "EX4", chair.TaxCode)
	require.Equal(t, "9.5", d.Lines[1].TaxRate.String())
	require.Equal(t, "-1", coupon.Quantity.String())
	require.NotEmpty(t, coupon.ProductID, "the coupon is a service product of the catalogue")
	require.Empty(t, shipping.ProductID, "the shipping line is free text")
	require.Equal(t, "Poštnina", shipping.Description)
	require.Equal(t, "kos", shipping.Unit)

	// Pushing it back unchanged: no write call, Metakocka's document as it was.
	b.fake.ResetStats()
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err, "%+v", res)
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	require.Zero(t, writes(b.fake.Stats()))
	require.Equal(t, before, fakeDoc(t, b, mkID))

	// A pull afterwards changes nothing either.
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed, "%+v", run.Result)

	// Edit a line in the CRM and push: the gross price goes back gross,
	// the other lines and the coupon as they were, and Metakocka's sums are
	// the CRM's.
	d, err = b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
	require.NoError(t, err)
	d.Lines[0].Quantity = decimal.NewFromInt(3)
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
	b.fake.ResetStats()
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err, "%+v", res)
	require.EqualValues(t, 1, writes(b.fake.Stats()))
	after := fakeDoc(t, b, mkID)
	require.Equal(t, "3", after.Products[0].Amount)
	for i, row := range after.Products {
		require.Empty(t, row.Price, "line %d went back net", i+1)
		require.Equal(t, before.Products[i].PriceWithTax, row.PriceWithTax, "line %d", i+1)
		require.Equal(t, before.Products[i].Tax, row.Tax, "line %d", i+1)
		require.Equal(t, before.Products[i].Discount, row.Discount, "line %d", i+1)
		require.Equal(t, before.Products[i].Name, row.Name, "line %d", i+1)
	}
	// The coupon goes back in the form Metakocka sent it.
	require.Equal(t, "5,50", before.Fields["discount_value"])
	require.Equal(t, "5,50", after.Fields["discount_value"])
	require.Equal(t, before.Receiver, after.Receiver)
	require.Equal(t, d.TotalGross.String(), after.Sums["sum_all"])
	require.Equal(t, d.TotalNet.String(), after.Sums["sum_basic"])
	require.NotEqual(t, before.Sums["sum_all"], after.Sums["sum_all"])

	// And the next pull and push find nothing to do.
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%+v", run.Result)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, writes(b.fake.Stats()), "%+v", run.Result)

	// A change of the head only goes with update_document: Metakocka's
	// sums and rows stay, mk_row_ids included.
	d, err = b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
	require.NoError(t, err)
	d.Notes, d.Status = "Leave at the door", "ready_to_ship"
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
	b.fake.ResetStats()
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, b.fake.Stats().Calls("update_document", mkfake.OutcomeOK))
	require.Zero(t, b.fake.Stats().Calls("put_document", mkfake.OutcomeOK))
	noted := fakeDoc(t, b, mkID)
	require.Equal(t, "Leave at the door", noted.Fields["notes"])
	require.Equal(t, "ready_to_ship", noted.Fields["status_code"])
	require.Equal(t, after.Sums, noted.Sums)
	require.Equal(t, after.Products, noted.Products)

	// The coupon and the delivery address too; the next pull finds nothing.
	d, err = b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
	require.NoError(t, err)
	d.DiscountValue = decimal.NewFromInt(7)
	d.DeliveryAddress = &mksync.Address{Name: "Ana Novak", Street: "Prešernova 3", PostNumber: "4000", City: "Kranj", Country: "Slovenia"}
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
	b.fake.ResetStats()
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, writes(b.fake.Stats()))
	require.EqualValues(t, 1, b.fake.Stats().Calls("update_document", mkfake.OutcomeOK))
	couponed := fakeDoc(t, b, mkID)
	require.Equal(t, after.Products, couponed.Products)
	require.Equal(t, "Kranj", couponed.Receiver.Place)
	d, err = b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
	require.NoError(t, err)
	require.Equal(t, d.TotalGross.String(), couponed.Sums["sum_all"])
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%+v", run.Result)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, writes(b.fake.Stats()), "%+v", run.Result)
}

// TestDocumentTheCRMCannotHoldIsRefused: a document whose sums the CRM
// cannot reproduce (a document-level discount_percent, which it does not
// model) is refused with an error record and never written back.
func TestDocumentTheCRMCannotHoldIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mkID := b.putRaw(t, strings.Replace(webOrder, `"discount_value": "5,50"`, `"discount_percent": "3"`, 1))
	b.fake.ResetStats()
	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
	require.Error(t, err)
	require.Equal(t, 1, res.Failed)
	require.Contains(t, res.Errors[0].Error, "discount_percent")
	_, err = b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	require.Zero(t, b.fake.Stats().Calls("put_document", mkfake.OutcomeOK))
}

// TestDemoCouponOrderRoundTrip pulls every document of the demo company,
// the web shop order with a coupon line and a discount_value among them,
// and pushes them all back: totals equal Metakocka's sums, no write call.
func TestDemoCouponOrderRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	b.fake.SeedDemo(b.company)
	b.fake.SeedDemoCoupons(b.company)
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	seen, notes := 0, 0
	var note mksync.SalesDocument
	for _, fd := range b.fake.Documents(b.company) {
		m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, fd.MkID)
		require.NoError(t, err, fd.CountCode)
		d, err := b.store.FindSalesDocumentByID(ctx, b.tenant, m.EntityID)
		require.NoError(t, err)
		require.Equal(t, fd.Sums["sum_all"], d.TotalGross.String(), fd.CountCode)
		require.Equal(t, fd.Sums["sum_basic"], d.TotalNet.String(), fd.CountCode)
		if fd.DocType == "sales_bill_credit_note" {
			notes++
			require.Equal(t, mksync.KindCreditNote, d.Kind, fd.CountCode)
			note = d
		}
		if fd.CountCode == "WEB-1001" {
			seen++
			require.Equal(t, "10", d.DiscountValue.String())
			require.Equal(t, "-1", d.Lines[1].Quantity.String())
			require.True(t, d.Lines[1].PriceIncludesTax)
		}
	}
	require.Equal(t, 1, seen, "the coupon order was pulled")
	require.Equal(t, 1, notes, "the credit note was pulled as a credit note")
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	require.Zero(t, writes(b.fake.Stats()))
	t.Logf("%d Metakocka documents, %d pulled and pushed back unchanged: %d write calls, %d calls in all", len(b.fake.Documents(b.company)), run.Result.Processed(), writes(b.fake.Stats()), b.fake.Stats().Total)

	// A CRM edit of the financial credit note is written over it and
	// keeps its type and the invoice it credits, which the CRM does not
	// hold.
	mkID := b.mapping(t, mksync.EntitySalesDocument, note.ID).MetakockaID
	was := fakeDoc(t, b, mkID)
	note.Lines[0].Quantity = decimal.NewFromInt(2)
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &note))
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, note.ID)
	require.NoError(t, err, "%+v", res)
	now := fakeDoc(t, b, mkID)
	require.Equal(t, "2", now.Products[0].Amount)
	require.Equal(t, "financial", now.Fields["credit_note_type"])
	require.Equal(t, was.Fields["credit_note_bill"], now.Fields["credit_note_bill"])
	require.NotEmpty(t, now.Fields["credit_note_bill"])
	require.Equal(t, note.TotalGross.String(), now.Sums["sum_all"])
}

// TestCRMDocumentWithCouponGoesAsEntered: a document made in the CRM with
// a gross price, a free-text coupon line, a coupon on the total and a
// delivery address is created in Metakocka in that form, Metakocka's sums
// equal the CRM's totals, and the next pull and push change nothing.
func TestCRMDocumentWithCouponGoesAsEntered(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newProduct(t, b)
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2025, 3, 14), ContactID: c.ID, Currency: "EUR",
		Title: "Order by phone", BuyerOrder: "TEL-7", PaymentMethod: "Predračun", DiscountValue: decimal.RequireFromString("2.5"),
		DeliveryAddress: &mksync.Address{Name: "Skladišče Novak", Street: "Industrijska 5", PostNumber: "3000", City: "Celje", Country: "Slovenia"},
		Lines: []mksync.DocumentLine{
			{ProductID: p.ID, Quantity: decimal.NewFromInt(3), UnitPrice: decimal.RequireFromString("24.99"), PriceIncludesTax: true,
				DiscountPercent: decimal.NewFromInt(5), TaxRate: decimal.NewFromInt(22)},
			{Description: "Kupon POMLAD", Unit: "kos", Quantity: decimal.NewFromInt(-1), UnitPrice: decimal.NewFromInt(5),
				PriceIncludesTax: true, TaxRate: decimal.NewFromInt(22)},
		}}
	require.NoError(t, b.store.CreateSalesDocument(ctx, b.tenant, &d))
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err, "%+v", res)
	m := b.mapping(t, mksync.EntitySalesDocument, d.ID)
	fd := fakeDoc(t, b, m.MetakockaID)
	require.Equal(t, d.TotalGross.String(), fd.Sums["sum_all"])
	require.Equal(t, d.TotalNet.String(), fd.Sums["sum_basic"])
	require.Len(t, fd.Products, 2)
	require.Equal(t, "24.99", fd.Products[0].PriceWithTax)
	require.Empty(t, fd.Products[0].Price)
	require.Equal(t, "Kupon POMLAD", fd.Products[1].Name)
	require.Empty(t, fd.Products[1].MkID, "a free-text row")
	require.Equal(t, "-1", fd.Products[1].Amount)
	require.Equal(t, "Skladišče Novak", fd.Receiver.Customer)
	require.Equal(t, "TEL-7", fd.Fields["buyer_order"])

	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%+v", run.Result)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	require.Zero(t, writes(b.fake.Stats()))
}

// TestPushOverADocumentTheCRMCannotHold: when Metakocka's document gains
// what the CRM cannot hold (a document discount_percent) after it was
// pulled, a CRM edit is refused with an error record instead of being
// written over it.
func TestPushOverADocumentTheCRMCannotHold(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mkID := b.putRaw(t, webOrder)
	_, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
	require.NoError(t, err)
	replaced := strings.Replace(webOrder, `"discount_value": "5,50"`, `"discount_percent": "3", "mk_id": "`+mkID+`"`, 1)
	require.Equal(t, mkID, b.putRaw(t, replaced))
	before := fakeDoc(t, b, mkID)

	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
	require.NoError(t, err)
	d, err := b.store.FindSalesDocumentByID(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)
	d.Notes = "changed in the CRM"
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
	b.fake.ResetStats()
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
	require.Error(t, err)
	require.Equal(t, 1, res.Failed)
	require.Contains(t, res.Errors[0].Error, "discount_percent")
	require.NotEmpty(t, res.Errors[0].ErrorID, "an error record says why")
	require.Zero(t, writes(b.fake.Stats()))
	require.Equal(t, before, fakeDoc(t, b, mkID))
}
