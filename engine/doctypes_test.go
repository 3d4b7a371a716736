package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// TestCreditNoteAndPrepaymentInvoice: a credit note and a prepayment
// invoice made in the CRM go to Metakocka as the documented types (a
// credit note without an invoice as "standalone"), their sums are the
// CRM's, and the next pull and push change nothing; a credit note changed
// in Metakocka afterwards is pulled again, although the search of credit
// notes cannot ask for changed ones (Metakocka documents last_change only
// for sales orders, and the simulator refuses it elsewhere).
func TestCreditNoteAndPrepaymentInvoice(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newProduct(t, b)
	note := newDocument(t, b, mksync.KindCreditNote, c, p)
	prepaid := newDocument(t, b, mksync.KindPrepaymentInvoice, c, p, p)
	for _, tc := range []struct {
		d       mksync.SalesDocument
		docType string
	}{{note, "sales_bill_credit_note"}, {prepaid, "sales_bill_prepaid"}} {
		res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, tc.d.ID)
		require.NoError(t, err, "%+v", res)
		fd := fakeDoc(t, b, b.mapping(t, mksync.EntitySalesDocument, tc.d.ID).MetakockaID)
		require.Equal(t, tc.docType, fd.DocType)
		require.Equal(t, tc.d.TotalGross.String(), fd.Sums["sum_all"])
		require.Equal(t, tc.d.TotalNet.String(), fd.Sums["sum_basic"])
		if tc.docType == "sales_bill_credit_note" {
			require.Equal(t, "standalone", fd.Fields["credit_note_type"])
		}
	}

	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%+v", run.Result)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	require.Zero(t, writes(b.fake.Stats()))

	// Changed in Metakocka (a put over it): the next pull reads it again.
	mkID := b.mapping(t, mksync.EntitySalesDocument, note.ID).MetakockaID
	fd := fakeDoc(t, b, mkID)
	b.putRaw(t, `{"doc_type": "sales_bill_credit_note", "mk_id": "`+mkID+`", "doc_date": "2025-03-14+01:00",
		"credit_note_type": "standalone", "partner": {"mk_id": "`+fd.Partner.MkID+`"},
		"product_list": [{"mk_id": "`+fd.Products[0].MkID+`", "amount": "3", "price": "19.99", "tax": "095"}]}`)
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, 1, run.Result.Updated, "%+v", run.Result)
	got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, note.ID)
	require.NoError(t, err)
	require.Equal(t, "3", got.Lines[0].Quantity.String())
	require.Equal(t, fakeDoc(t, b, mkID).Sums["sum_all"], got.TotalGross.String())
	require.Zero(t, b.fake.Stats().Calls("search", mkfake.OutcomeOprError), "no search the simulator refuses")
}

// TestFaithfulRefusesAnUnknownCreditNoteType: a credit note whose
// credit_note_type is none of the documented ones is refused with a clear
// error, not pulled as if it were a plain one.
func TestFaithfulRefusesAnUnknownCreditNoteType(t *testing.T) {
	t.Parallel()
	v := documentView{Lines: []lineView{{Quantity: "1", UnitPrice: "10", TaxRate: "22", Discount: "0"}}}
	for _, tc := range []struct {
		typ string
		ok  bool
	}{{"financial", true}, {"goods", true}, {"standalone", true}, {"debit", false}, {"", false}} {
		d := metakocka.Document{MkID: "1", DocType: metakocka.DocSalesBillCreditNote, CreditNoteType: tc.typ, SumAll: metakocka.NewDecimal(decimal.RequireFromString("12.2"))}
		err := faithful(v, &d)
		if tc.ok {
			require.NoError(t, err, tc.typ)
			continue
		}
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err), tc.typ)
		require.True(t, strings.Contains(err.Error(), "credit_note_type"), err.Error())
	}
}

// TestDatesGoOutWithTheirOffset: dates are written as the docs show them,
// with the company's offset on that day (summer and winter), and a date
// Metakocka holds goes back as it was read when it did not change.
func TestDatesGoOutWithTheirOffset(t *testing.T) {
	t.Parallel()
	loc := Config{}.withDefaults().Location
	for _, tc := range []struct{ date, had, want string }{
		{"2024-09-12", "", "2024-09-12+02:00"},
		{"2024-01-12", "", "2024-01-12+01:00"},
		{"2024-09-12", "12.09.2024", "12.09.2024"},
		{"2024-09-13", "2024-09-12+02:00", "2024-09-13+02:00"},
		{"", "2024-09-12+02:00", ""},
	} {
		require.Equal(t, tc.want, mkDate(tc.date, tc.had, loc), tc)
	}
}

// TestProductEXTaxCodeGoesBackAsRead: a product priced with the company's
// own tax code (EX4, 22 %) keeps that code when a CRM edit is pushed,
// rather than the three-digit code of the same rate; a changed rate takes
// the rate's code.
func TestProductEXTaxCodeGoesBackAsRead(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	ref, err := b.mk(t).ProductAdd(ctx, metakocka.Product{Code: "EX-1", Name: "Chair", Unit: "kos",
		Pricelist: metakocka.List[metakocka.Pricelist]{{CountCode: "MPC", PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal("20"), Tax: "EX4"}}}}})
	require.NoError(t, err)
	_, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, ref.MkID)
	require.NoError(t, err)
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, ref.MkID)
	require.NoError(t, err)
	taxOf := func() string {
		page, err := b.mk(t).ProductList(ctx, metakocka.ProductListRequest{MkID: ref.MkID, ReturnPricelist: metakocka.NewBool(true)})
		require.NoError(t, err)
		for _, pl := range page.Products[0].Pricelist {
			if pl.CountCode == "MPC" {
				return pl.PriceDef[0].Tax
			}
		}
		return ""
	}
	for _, tc := range []struct{ name, rate, want string }{{"Armchair", "22", "EX4"}, {"Armchair", "9.5", "095"}} {
		p, err := b.store.FindProductByID(ctx, b.tenant, m.EntityID)
		require.NoError(t, err)
		p.Name, p.TaxRate = tc.name, decimal.RequireFromString(tc.rate)
		require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
		res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
		require.NoError(t, err, "%+v", res)
		require.Equal(t, tc.want, taxOf(), tc.rate)
	}
}

// TestHeadUpdate: which changes go with update_document (as documented per
// type) and which need a whole put_document.
func TestHeadUpdate(t *testing.T) {
	t.Parallel()
	base := documentView{Kind: "order", Number: "N-1", Date: "2025-01-02", ContactID: "c", Currency: "EUR", Status: "new",
		Notes: "n", DiscountValue: "5", Lines: []lineView{{ProductID: "p", Quantity: "1", UnitPrice: "10", Discount: "0", TaxRate: "22"}}}
	for _, tc := range []struct {
		name    string
		docType metakocka.DocType
		change  func(v *documentView)
		ok      bool
		check   func(t *testing.T, u metakocka.DocumentUpdate)
	}{
		{"order status", metakocka.DocSalesOrder, func(v *documentView) { v.Status = "shipped" }, true,
			func(t *testing.T, u metakocka.DocumentUpdate) { require.Equal(t, "shipped", u.StatusCode) }},
		{"order notes emptied", metakocka.DocSalesOrder, func(v *documentView) { v.Notes = "" }, true,
			func(t *testing.T, u metakocka.DocumentUpdate) { require.Equal(t, []string{"notes"}, u.Clear) }},
		{"order coupon", metakocka.DocSalesOrder, func(v *documentView) { v.DiscountValue = "7.5" }, true,
			func(t *testing.T, u metakocka.DocumentUpdate) { require.Equal(t, "7.5", u.DiscountValue.String()) }},
		{"order receiver", metakocka.DocSalesOrder, func(v *documentView) { v.Delivery = &addressView{Name: "A", City: "Kranj"} }, true,
			func(t *testing.T, u metakocka.DocumentUpdate) { require.Equal(t, "Kranj", u.Receiver.Place) }},
		{"order coupon removed", metakocka.DocSalesOrder, func(v *documentView) { v.DiscountValue = "" }, false, nil},
		{"order status emptied", metakocka.DocSalesOrder, func(v *documentView) { v.Status = "" }, false, nil},
		{"order line", metakocka.DocSalesOrder, func(v *documentView) { v.Lines[0].Quantity = "2" }, false, nil},
		{"order date", metakocka.DocSalesOrder, func(v *documentView) { v.Date = "2025-01-03" }, false, nil},
		{"order title", metakocka.DocSalesOrder, func(v *documentView) { v.Title = "t" }, false, nil},
		{"bill status", metakocka.DocSalesBillDomestic, func(v *documentView) { v.Status = "paid" }, true,
			func(t *testing.T, u metakocka.DocumentUpdate) { require.Equal(t, "paid", u.StatusCode) }},
		{"bill notes", metakocka.DocSalesBillDomestic, func(v *documentView) { v.Notes = "x" }, false, nil},
		{"offer status", metakocka.DocSalesOffer, func(v *documentView) { v.Status = "accepted" }, false, nil},
		{"credit note status", metakocka.DocSalesBillCreditNote, func(v *documentView) { v.Status = "x" }, false, nil},
		{"nothing", metakocka.DocSalesOrder, func(*documentView) {}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			had := base
			had.Lines = append([]lineView(nil), base.Lines...)
			v := base
			v.Lines = append([]lineView(nil), base.Lines...)
			tc.change(&v)
			u, ok := headUpdate(&metakocka.Document{MkID: "1", DocType: tc.docType}, had, v)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, "1", u.MkID)
				require.Equal(t, tc.docType, u.DocType)
				tc.check(t, u)
			}
		})
	}
}
