package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// newServiceProduct is a service product: a financial credit note takes
// only services (documents_put_document.md).
func newServiceProduct(t testing.TB, b *bundle) mksync.Product {
	t.Helper()
	p := newProduct(t, b)
	p.Service = true
	require.NoError(t, b.store.UpdateProduct(context.Background(), b.tenant, &p))
	return p
}

// TestCRMFinancialCreditNoteRoundTrip: a financial credit note made in the
// CRM for a CRM invoice goes to Metakocka with the invoice's count_code in
// credit_note_bill and its service date; pulled back it names the CRM
// invoice again, and the next push makes no write.
func TestCRMFinancialCreditNoteRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newServiceProduct(t, b)
	inv := newDocument(t, b, mksync.KindInvoice, c, p)
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, inv.ID)
	require.NoError(t, err, "%+v", res)
	invMap := b.mapping(t, mksync.EntitySalesDocument, inv.ID)

	served := mksync.NewDate(2025, 3, 10)
	note := mksync.SalesDocument{Kind: mksync.KindCreditNote, Date: mksync.NewDate(2025, 3, 20), ContactID: c.ID, Currency: "EUR",
		CreditNoteType: mksync.CreditNoteFinancial, CreditedInvoiceID: inv.ID, ServiceToDate: &served,
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(1), UnitPrice: decimal.RequireFromString("5"), TaxRate: decimal.RequireFromString("9.5")}}}
	require.NoError(t, b.store.CreateSalesDocument(ctx, b.tenant, &note))
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, note.ID)
	require.NoError(t, err, "%+v", res)
	fd := fakeDoc(t, b, b.mapping(t, mksync.EntitySalesDocument, note.ID).MetakockaID)
	require.Equal(t, "sales_bill_credit_note", fd.DocType)
	require.Equal(t, "financial", fd.Fields["credit_note_type"])
	require.Equal(t, invMap.CountCode, fd.Fields["credit_note_bill"])
	require.Contains(t, fd.Fields["service_to_date"], "2025-03-10")
	require.Equal(t, note.TotalGross.String(), fd.Sums["sum_all"])

	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%+v", run.Result)
	got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, note.ID)
	require.NoError(t, err)
	require.Equal(t, inv.ID, got.CreditedInvoiceID)
	require.Equal(t, mksync.CreditNoteFinancial, got.CreditNoteType)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	require.Zero(t, writes(b.fake.Stats()))
}

// TestCreditNotePulledKeepsInvoiceReference: a credit note made in
// Metakocka is pulled with the CRM invoice it credits when that invoice is
// mapped, else with the invoice's Metakocka number, and a CRM edit of the
// latter writes the same number back.
func TestCreditNotePulledKeepsInvoiceReference(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newServiceProduct(t, b)
	inv := newDocument(t, b, mksync.KindInvoice, c, p)
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, inv.ID)
	require.NoError(t, err, "%+v", res)
	invMap := b.mapping(t, mksync.EntitySalesDocument, inv.ID)
	partner := b.mapping(t, mksync.EntityContact, c.ID).MetakockaID
	product := b.mapping(t, mksync.EntityProduct, p.ID).MetakockaID
	// Orders whose numbers contain the invoice's are no match.
	for _, prefix := range []string{"A", "Z"} {
		o := newDocument(t, b, mksync.KindOrder, c, p)
		o.Number = prefix + invMap.CountCode
		require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &o))
		res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, o.ID)
		require.NoError(t, err, "%+v", res)
	}
	// An invoice made in Metakocka only, then two credit notes.
	b.putRaw(t, `{"doc_type": "sales_bill_domestic", "count_code": "MK-ONLY-1", "doc_date": "2025-03-01+01:00",
		"partner": {"mk_id": "`+partner+`"}, "product_list": [{"mk_id": "`+product+`", "amount": "2", "price": "10", "tax": "095"}]}`)
	for _, bill := range []string{invMap.CountCode, "MK-ONLY-1"} {
		b.putRaw(t, `{"doc_type": "sales_bill_credit_note", "doc_date": "2025-03-02+01:00", "service_to_date": "2025-03-01+01:00",
			"credit_note_type": "financial", "credit_note_bill": "`+bill+`", "partner": {"mk_id": "`+partner+`"},
			"product_list": [{"mk_id": "`+product+`", "amount": "1", "price": "4", "tax": "095"}]}`)
	}
	// Pull the credit notes only: the Metakocka-only invoice stays out of
	// the CRM.
	var notes []mkfake.Document
	for _, fd := range b.fake.Documents(b.company) {
		if fd.DocType == "sales_bill_credit_note" {
			notes = append(notes, fd)
		}
	}
	require.Len(t, notes, 2)
	byBill := map[string]mksync.SalesDocument{}
	for _, fd := range notes {
		res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, fd.MkID)
		require.NoError(t, err, "%+v", res)
		m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, fd.MkID)
		require.NoError(t, err)
		d, err := b.store.FindSalesDocumentByID(ctx, b.tenant, m.EntityID)
		require.NoError(t, err)
		require.Equal(t, mksync.CreditNoteFinancial, d.CreditNoteType)
		require.Equal(t, "2025-03-01", d.ServiceToDate.String())
		byBill[fd.Fields["credit_note_bill"].(string)] = d
	}
	mapped, unmapped := byBill[invMap.CountCode], byBill["MK-ONLY-1"]
	require.Equal(t, inv.ID, mapped.CreditedInvoiceID)
	require.Empty(t, mapped.CreditedInvoiceNumber)
	require.Empty(t, unmapped.CreditedInvoiceID)
	require.Equal(t, "MK-ONLY-1", unmapped.CreditedInvoiceNumber)

	unmapped.Lines[0].Quantity = decimal.NewFromInt(2)
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &unmapped))
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, unmapped.ID)
	require.NoError(t, err, "%+v", res)
	fd := fakeDoc(t, b, b.mapping(t, mksync.EntitySalesDocument, unmapped.ID).MetakockaID)
	require.Equal(t, "MK-ONLY-1", fd.Fields["credit_note_bill"])
	require.Equal(t, "2", fd.Products[0].Amount)
}

// TestCreditNoteOfUnmappedInvoiceRefused: a credit note crediting a CRM
// invoice that is not in Metakocka is refused with an error record that
// says so, and nothing is written to Metakocka.
func TestCreditNoteOfUnmappedInvoiceRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newServiceProduct(t, b)
	inv := newDocument(t, b, mksync.KindInvoice, c, p)
	note := mksync.SalesDocument{Kind: mksync.KindCreditNote, Date: mksync.NewDate(2025, 3, 20), ContactID: c.ID, Currency: "EUR",
		CreditNoteType: mksync.CreditNoteGoods, CreditedInvoiceID: inv.ID,
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(1), UnitPrice: decimal.RequireFromString("5"), TaxRate: decimal.RequireFromString("9.5")}}}
	require.NoError(t, b.store.CreateSalesDocument(ctx, b.tenant, &note))

	b.fake.ResetStats()
	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, note.ID)
	require.Error(t, err)
	require.Equal(t, 1, res.Failed)
	require.Contains(t, res.Errors[0].Error, "not in Metakocka yet")
	require.Contains(t, res.Errors[0].Error, inv.ID)
	er, err := b.store.FindErrorRecord(ctx, b.tenant, res.Errors[0].ErrorID)
	require.NoError(t, err)
	require.Equal(t, mksync.ECONFLICT, er.Code)
	require.Zero(t, b.fake.Stats().Calls("put_document", mkfake.OutcomeOK))

	// Once the invoice is in Metakocka, the credit note goes too.
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, inv.ID)
	require.NoError(t, err, "%+v", res)
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, note.ID)
	require.NoError(t, err, "%+v", res)
	fd := fakeDoc(t, b, b.mapping(t, mksync.EntitySalesDocument, note.ID).MetakockaID)
	require.Equal(t, "goods", fd.Fields["credit_note_type"])
	require.Equal(t, b.mapping(t, mksync.EntitySalesDocument, inv.ID).CountCode, fd.Fields["credit_note_bill"])
}

// TestPrepaymentRoundTrip: the prepayment an order asks for (a percentage)
// and an offer asks for (an amount) go to Metakocka as prepayment_percent
// and prepayment_value, Metakocka's sum_prepayment follows them, and a
// pull and push afterwards change nothing; a prepayment changed in
// Metakocka is pulled.
func TestPrepaymentRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c, p := newContact(t, b), newProduct(t, b)
	order := newDocument(t, b, mksync.KindOrder, c, p)
	order.PrepaymentPercent = decimal.NewFromInt(15)
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &order))
	offer := newDocument(t, b, mksync.KindOffer, c, p)
	offer.PrepaymentValue = decimal.RequireFromString("12.5")
	require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &offer))
	for _, d := range []mksync.SalesDocument{order, offer} {
		res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
		require.NoError(t, err, "%+v", res)
	}
	fo := fakeDoc(t, b, b.mapping(t, mksync.EntitySalesDocument, order.ID).MetakockaID)
	require.Equal(t, "15", fo.Fields["prepayment_percent"])
	require.Equal(t, order.TotalGross.Mul(decimal.NewFromInt(15)).Div(decimal.NewFromInt(100)).Round(2).String(), fo.Sums["sum_prepayment"])
	ff := fakeDoc(t, b, b.mapping(t, mksync.EntitySalesDocument, offer.ID).MetakockaID)
	require.Equal(t, "12.5", ff.Fields["prepayment_value"])

	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Created+run.Result.Updated+run.Result.Failed+run.Result.Conflicts, "%+v", run.Result)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	require.Zero(t, writes(b.fake.Stats()))

	// Changed in Metakocka: pulled into the CRM.
	b.putRaw(t, `{"doc_type": "sales_offer", "mk_id": "`+ff.MkID+`", "doc_date": "2025-03-14+01:00", "prepayment_value": "7,5",
		"partner": {"mk_id": "`+ff.Partner.MkID+`"},
		"product_list": [{"mk_id": "`+ff.Products[0].MkID+`", "amount": "1", "price": "19.99", "tax": "095"}]}`)
	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, ff.MkID)
	require.NoError(t, err, "%+v", res)
	got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, offer.ID)
	require.NoError(t, err)
	require.Equal(t, "7.5", got.PrepaymentValue.String())
	require.True(t, got.PrepaymentPercent.IsZero())
}

// TestNewestWinsDecidesByStatusChange: the status of an order changed in
// the CRM and in Metakocka (change_document_status) is decided under
// newest_wins by Metakocka's DOCUMENT_STATUS_CHANGE time against the CRM's
// edit: Metakocka's later change is kept (and written to the CRM), the
// CRM's later edit is kept (and written to Metakocka), whichever way the
// run goes.
func TestNewestWinsDecidesByStatusChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mkLater bool
		dir     mksync.Direction
	}{
		{"metakocka later/pull", true, mksync.FromMetakocka},
		{"metakocka later/push", true, mksync.ToMetakocka},
		{"crm later/pull", false, mksync.FromMetakocka},
		{"crm later/push", false, mksync.ToMetakocka},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mkNow atomic.Int64
			mkNow.Store(time.Now().Add(-2 * time.Hour).UnixNano())
			// The engine runs ahead of both, so that its search window
			// takes in Metakocka's change an hour from now.
			b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins},
				fakeClock: func() time.Time { return time.Unix(0, mkNow.Load()) },
				cfg:       func(c *Config) { c.Clock = aheadClock(3 * time.Hour) }})
			ctx := context.Background()
			d := newDocument(t, b, mksync.KindOrder, newContact(t, b), newProduct(t, b))
			d.Status = "Novo"
			require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
			res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntitySalesDocument, d.ID)
			require.NoError(t, err, "%+v", res)
			mkID := b.mapping(t, mksync.EntitySalesDocument, d.ID).MetakockaID

			changeInMK := func(at time.Time) {
				mkNow.Store(at.UnixNano())
				b.callRaw(t, "change_document_status", `{"doc_type": "sales_order", "status_code": "V obdelavi", "mk_id": "`+mkID+`"}`)
			}
			if !tc.mkLater {
				changeInMK(time.Now().Add(-time.Hour))
			}
			d, err = b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
			require.NoError(t, err)
			d.Status = "Poslano"
			require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
			if tc.mkLater {
				changeInMK(time.Now().Add(time.Hour))
			}

			run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: tc.dir}
			require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
			require.Equal(t, 1, run.Result.Conflicts, "%+v", run.Result)
			want := "Poslano"
			if tc.mkLater {
				want = "V obdelavi"
			}
			got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
			require.NoError(t, err)
			require.Equal(t, want, got.Status, "the CRM")
			require.Equal(t, want, fakeDoc(t, b, mkID).Fields["status_code"], "Metakocka")
			require.Equal(t, mksync.StateSynced, b.mapping(t, mksync.EntitySalesDocument, d.ID).State)
		})
	}
}

// aheadClock is the real time moved on by its duration.
type aheadClock time.Duration

func (a aheadClock) Now() time.Time { return time.Now().Add(time.Duration(a)) }
