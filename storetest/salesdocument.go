package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// docFixture is a tenant with a contact and two products to sell.
type docFixture struct {
	tenant  string
	contact mksync.Contact
	p1, p2  mksync.Product
}

func newDocFixture(t testing.TB, s mksync.Store, name string) docFixture {
	t.Helper()
	ctx := t.Context()
	f := docFixture{tenant: newTenant(t, s, name), contact: sampleContact("Buyer " + name), p1: sampleProduct("P1-" + name), p2: sampleProduct("P2-" + name)}
	require.NoError(t, s.CreateContact(ctx, f.tenant, &f.contact))
	require.NoError(t, s.CreateProduct(ctx, f.tenant, &f.p1))
	require.NoError(t, s.CreateProduct(ctx, f.tenant, &f.p2))
	return f
}

func (f docFixture) document(number string) mksync.SalesDocument {
	due := mksync.NewDate(2025, 2, 14)
	return mksync.SalesDocument{
		Kind:      mksync.KindInvoice,
		Number:    number,
		Date:      mksync.NewDate(2025, 1, 31),
		ContactID: f.contact.ID,
		Currency:  "EUR",
		Status:    "draft",
		Notes:     "Hvala za nakup",
		DueDate:   &due,
		Lines: []mksync.DocumentLine{
			{ProductID: f.p1.ID, Quantity: dec("3"), UnitPrice: dec("19.99"), DiscountPercent: dec("10"), TaxRate: dec("22")},
			{ProductID: f.p2.ID, Quantity: dec("0.5"), UnitPrice: dec("863.75"), DiscountPercent: dec("0"), TaxRate: dec("9.5")},
		},
		// Lies that the store must ignore.
		TotalNet:   dec("1"),
		TotalTax:   dec("2"),
		TotalGross: dec("3"),
	}
}

func testSalesDocuments(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "docs")

	d := f.document("2025-00001")
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &d))
	require.NotEmpty(t, d.ID)
	require.EqualValues(t, 1, d.Version)
	// 3 × 19.99 × 0.9 = 53.973 → 53.97; 0.5 × 863.75 = 431.875 → 431.88
	require.Equal(t, "53.97", d.Lines[0].NetAmount.String())
	require.Equal(t, "431.88", d.Lines[1].NetAmount.String())
	require.Equal(t, "485.85", d.TotalNet.String())
	// Per rate, as Metakocka sums: 65.847 → 65.85 − 53.97 = 11.88;
	// 472.903125 → 472.90 − 431.88 = 41.02
	require.Equal(t, "52.9", d.TotalTax.String())
	require.Equal(t, "538.75", d.TotalGross.String())

	got, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, d, got)
	require.Nil(t, got.DeliveryDate)
	require.Equal(t, "2025-02-14", got.DueDate.String())
	require.Equal(t, f.p1.ID, got.Lines[0].ProductID, "lines keep their order")

	// Unknown contact or product: EINVALID, nothing written.
	noContact := f.document("X-1")
	noContact.ContactID = "0190f3c4-0000-7000-8000-0000000000ff"
	requireCode(t, s.CreateSalesDocument(ctx, f.tenant, &noContact), mksync.EINVALID)
	noProduct := f.document("X-2")
	noProduct.Lines[1].ProductID = "0190f3c4-0000-7000-8000-0000000000fe"
	requireCode(t, s.CreateSalesDocument(ctx, f.tenant, &noProduct), mksync.EINVALID)
	invalid := f.document("X-3")
	invalid.Lines[0].Quantity = dec("0")
	invalid.Currency = "EURO"
	err = s.CreateSalesDocument(ctx, f.tenant, &invalid)
	requireCode(t, err, mksync.EINVALID)
	require.Contains(t, mksync.ErrorDetails(err), "lines[0].quantity")
	require.Len(t, collect(t, s.AllSalesDocuments(ctx, f.tenant)), 1)

	// Update replaces the lines and recomputes totals; versions are checked.
	upd := got
	upd.Status = "sent"
	deliv := mksync.NewDate(2025, 2, 1)
	upd.DeliveryDate = &deliv
	upd.Lines = []mksync.DocumentLine{{ProductID: f.p2.ID, Quantity: dec("2"), UnitPrice: dec("10"), DiscountPercent: dec("0"), TaxRate: dec("22")}}
	upd.TotalGross = dec("999")
	require.NoError(t, s.UpdateSalesDocument(ctx, f.tenant, &upd))
	require.EqualValues(t, 2, upd.Version)
	require.Equal(t, "24.4", upd.TotalGross.String())
	got2, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, upd, got2)
	require.Len(t, got2.Lines, 1)
	requireCode(t, s.UpdateSalesDocument(ctx, f.tenant, &got), mksync.ECONFLICT, "stale version")
	badUpd := got2
	badUpd.Lines = []mksync.DocumentLine{{ProductID: "0190f3c4-0000-7000-8000-0000000000fe", Quantity: dec("1"), UnitPrice: dec("1"), DiscountPercent: dec("0"), TaxRate: dec("0")}}
	requireCode(t, s.UpdateSalesDocument(ctx, f.tenant, &badUpd), mksync.EINVALID)
	got3, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, got2, got3, "a failed update changes nothing")

	// A synced mapping turns pending on update.
	m := mksync.Mapping{EntityType: mksync.EntitySalesDocument, EntityID: d.ID, MetakockaID: "D1", State: mksync.StateSynced}
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &m))
	require.NoError(t, s.UpdateSalesDocument(ctx, f.tenant, &got3))
	m, err = s.FindMapping(ctx, f.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StatePending, m.State)

	// Lines grow as well as shrink, two lines may name one product, and a
	// refused update leaves a synced mapping synced.
	grown := got3
	grown.Lines = append(grown.Lines,
		mksync.DocumentLine{ProductID: f.p1.ID, Quantity: dec("3"), UnitPrice: dec("5"), DiscountPercent: dec("0"), TaxRate: dec("22")},
		mksync.DocumentLine{ProductID: grown.Lines[0].ProductID, Quantity: dec("1"), UnitPrice: dec("7"), DiscountPercent: dec("0"), TaxRate: dec("22")})
	require.NoError(t, s.UpdateSalesDocument(ctx, f.tenant, &grown))
	got4, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, grown, got4)
	require.Len(t, got4.Lines, 3)
	m.State = mksync.StateSynced
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &m))
	refused := got4
	refused.Lines = append(refused.Lines[:1:1], badUpd.Lines[0])
	requireCode(t, s.UpdateSalesDocument(ctx, f.tenant, &refused), mksync.EINVALID)
	m, err = s.FindMapping(ctx, f.tenant, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateSynced, m.State, "a refused update marks nothing")
	got5, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, got4, got5, "a refused update changes nothing")

	// Records used by a document cannot be deleted.
	requireCode(t, s.DeleteContact(ctx, f.tenant, f.contact.ID), mksync.ECONFLICT)
	requireCode(t, s.DeleteProduct(ctx, f.tenant, f.p2.ID), mksync.ECONFLICT)

	// Delete removes the lines and the mapping; then the product is free.
	require.NoError(t, s.DeleteSalesDocument(ctx, f.tenant, d.ID))
	_, err = s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.FindMapping(ctx, f.tenant, mksync.EntitySalesDocument, d.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteSalesDocument(ctx, f.tenant, d.ID), mksync.ENOTFOUND)
	require.NoError(t, s.DeleteProduct(ctx, f.tenant, f.p2.ID))
}

func testSalesDocumentLists(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "doclists")

	// More than one streaming chunk, written in one transaction.
	const n = 520
	require.NoError(t, s.InTx(ctx, f.tenant, func(tx mksync.Store) error {
		for i := range n {
			d := f.document(fmt.Sprintf("INV-%04d", i))
			if i%2 == 1 {
				d.Kind = mksync.KindOrder
			}
			if err := tx.CreateSalesDocument(ctx, f.tenant, &d); err != nil {
				return err
			}
		}
		return nil
	}))
	all := collect(t, s.AllSalesDocuments(ctx, f.tenant))
	require.Len(t, all, n)
	for i, d := range all {
		require.Len(t, d.Lines, 2, "streamed documents carry their lines")
		require.Equal(t, "538.75", d.TotalGross.String())
		if i > 0 {
			require.Less(t, all[i-1].ID, d.ID)
		}
	}

	pages := pageAll(t, 100, func(p mksync.Page) ([]mksync.SalesDocument, string, error) {
		return s.FindSalesDocuments(ctx, f.tenant, mksync.ListFilter{Page: p})
	})
	require.Len(t, pages, n)
	requireSame(t, all[17], pages[17])

	found, _, err := s.FindSalesDocuments(ctx, f.tenant, mksync.ListFilter{Search: "inv-012"})
	require.NoError(t, err)
	require.Len(t, found, 10)
	require.Equal(t, "INV-0120", found[0].Number)
	require.Len(t, found[0].Lines, 2)

	m := mksync.Mapping{EntityType: mksync.EntitySalesDocument, EntityID: all[3].ID, MetakockaID: "D3", State: mksync.StateConflict}
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &m))
	conflicts, _, err := s.FindSalesDocuments(ctx, f.tenant, mksync.ListFilter{State: mksync.StateConflict})
	require.NoError(t, err)
	require.Len(t, conflicts, 1)
	require.Equal(t, all[3].ID, conflicts[0].ID)
}

// testSalesDocumentsAsMetakocka stores what a Metakocka document holds: a
// gross-priced line, a free-text coupon line with a negative quantity, an
// EX tax code, the document's coupon, title, buyer order, payment method
// and delivery address, and reads it back unchanged.
func testSalesDocumentsAsMetakocka(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "mkdocs")
	d := f.document("WEB-1001")
	d.Kind = mksync.KindOrder
	d.Title, d.BuyerOrder, d.PaymentMethod = "Web order WEB-1001", "WEB-1001", "Kartica"
	d.DiscountValue = dec("10")
	d.DeliveryAddress = &mksync.Address{Name: "Janez Novak", Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "Slovenia"}
	d.Lines = []mksync.DocumentLine{
		{ProductID: f.p1.ID, Quantity: dec("1"), UnitPrice: dec("100"), PriceIncludesTax: true, TaxRate: dec("22"), TaxCode: "EX4", Description: "gift wrapped"},
		{Description: "Coupon JESEN5", Unit: "kos", Quantity: dec("-1"), UnitPrice: dec("5"), PriceIncludesTax: true, TaxRate: dec("22"), TaxCode: "EX4"},
	}
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &d))
	// 100 − 5 = 95 gross, less the coupon of 10: 85.
	require.Equal(t, "85", d.TotalGross.String())
	require.Equal(t, "69.67", d.TotalNet.String())
	got, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, d, got)
	require.Empty(t, got.Lines[1].ProductID, "a free-text line has no product")

	// Updating drops the address and the coupon; a product can be deleted
	// once only free-text lines remain.
	got.DeliveryAddress, got.DiscountValue = nil, dec("0")
	got.Lines = got.Lines[1:]
	require.NoError(t, s.UpdateSalesDocument(ctx, f.tenant, &got))
	again, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	require.NoError(t, err)
	requireSame(t, got, again)
	require.Nil(t, again.DeliveryAddress)
	require.Equal(t, "-5", again.TotalGross.String())
	require.NoError(t, s.DeleteProduct(ctx, f.tenant, f.p1.ID))
}

// testSalesDocumentKindFields stores the header fields of credit notes and
// prepayments: a credit note's type and the invoice it credits (a CRM
// invoice of the tenant, or a Metakocka number), the service date and the
// prepayment asked for; a credit note cannot credit a document that is
// not an invoice.
func testSalesDocumentKindFields(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "kinds")
	inv := f.document("INV-1")
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &inv))

	served := mksync.NewDate(2025, 1, 30)
	credit := f.document("CN-1")
	credit.Kind, credit.CreditNoteType, credit.CreditedInvoiceID, credit.ServiceToDate =
		mksync.KindCreditNote, mksync.CreditNoteFinancial, inv.ID, &served
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &credit))
	got, err := s.FindSalesDocumentByID(ctx, f.tenant, credit.ID)
	require.NoError(t, err)
	requireSame(t, credit, got)
	require.Equal(t, inv.ID, got.CreditedInvoiceID)
	require.Equal(t, "2025-01-30", got.ServiceToDate.String())

	// Crediting an invoice that is only in Metakocka keeps its number.
	got.CreditedInvoiceID, got.CreditedInvoiceNumber, got.CreditNoteType = "", "1-MK-1830", mksync.CreditNoteGoods
	require.NoError(t, s.UpdateSalesDocument(ctx, f.tenant, &got))
	again, err := s.FindSalesDocumentByID(ctx, f.tenant, credit.ID)
	require.NoError(t, err)
	requireSame(t, got, again)
	require.Equal(t, "1-MK-1830", again.CreditedInvoiceNumber)

	order := f.document("ORD-1")
	order.Kind, order.PrepaymentPercent = mksync.KindOrder, dec("15")
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &order))
	offer := f.document("OFF-1")
	offer.Kind, offer.PrepaymentValue = mksync.KindOffer, dec("12.5")
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &offer))
	for _, d := range []mksync.SalesDocument{order, offer} {
		got, err := s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
		require.NoError(t, err)
		requireSame(t, d, got)
	}
	gotOrder, err := s.FindSalesDocumentByID(ctx, f.tenant, order.ID)
	require.NoError(t, err)
	require.Equal(t, "15", gotOrder.PrepaymentPercent.String())

	// Only an invoice can be credited, and only an existing one.
	bad := f.document("CN-2")
	bad.Kind, bad.CreditNoteType, bad.CreditedInvoiceID = mksync.KindCreditNote, mksync.CreditNoteFinancial, order.ID
	requireCode(t, s.CreateSalesDocument(ctx, f.tenant, &bad), mksync.EINVALID)
	bad.CreditedInvoiceID = "no-such-invoice"
	requireCode(t, s.CreateSalesDocument(ctx, f.tenant, &bad), mksync.EINVALID)
	// A financial credit note must name its invoice.
	bad.CreditedInvoiceID = ""
	requireCode(t, s.CreateSalesDocument(ctx, f.tenant, &bad), mksync.EINVALID)
}
