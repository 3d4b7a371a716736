package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// partnerOf returns the simulator's partner mkID.
func (b *bundle) partnerOf(t testing.TB, mkID string) mkfake.Partner {
	t.Helper()
	for _, p := range b.fake.Partners(b.company) {
		if p.MkID == mkID {
			return p
		}
	}
	t.Fatalf("the simulator has no partner %s", mkID)
	return mkfake.Partner{}
}

func addressOf(t testing.TB, p mkfake.Partner, mkID string) mkfake.PartnerAddress {
	t.Helper()
	for _, a := range p.Addresses {
		if a.MkID == mkID {
			return a
		}
	}
	t.Fatalf("partner %s has no address %s", p.MkID, mkID)
	return mkfake.PartnerAddress{}
}

// TestPartnerAddressesByMkID: a new partner is sent as add_partner.md
// shows it (a buyer, the contact person's own name, the delivery address);
// an address change in the CRM then updates the billing and the delivery
// address by their mk_ids (update_partner.md; the simulator ignores a
// top-level street, as the documented answer shows).
func TestPartnerAddressesByMkID(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := mksync.Contact{Name: "Naslovi d.o.o.", BusinessEntity: true, TaxID: "SI55500011", Email: "ana@naslovi.si",
		Mobile: "041 111 222", ContactPerson: "Ana Novak", Taxpayer: true, PaymentDueDays: 30,
		Street: "Glavna 1", PostNumber: "1000", City: "Ljubljana", Country: "SI",
		DeliveryStreet: "Skladiščna 2", DeliveryPostNumber: "2000", DeliveryCity: "Maribor", DeliveryCountry: "SI"}
	require.NoError(t, b.store.CreateContact(ctx, b.tenant, &c))

	res, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "%+v", res)
	m := b.mapping(t, mksync.EntityContact, c.ID)
	p := b.partnerOf(t, m.MetakockaID)
	require.True(t, p.Buyer, "a new partner is sent as a buyer")
	require.True(t, p.Taxpayer)
	require.Len(t, p.Addresses, 2)
	require.Equal(t, "Račun", p.Addresses[0].AddressType)
	require.Equal(t, "Glavna 1", p.Addresses[0].Street)
	require.Equal(t, "30", p.Addresses[0].PaymentDueDays)
	require.Equal(t, "Dobava", p.Addresses[1].AddressType)
	require.Equal(t, "Skladiščna 2", p.Addresses[1].Street)
	require.Len(t, p.Contacts, 1)
	require.Equal(t, "Ana Novak", p.Contacts[0].Name, "the contact person carries its own name, not the company's")
	require.Equal(t, "041 111 222", p.Contacts[0].GSM)

	got, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.PartnerIDs{BillingAddress: p.Addresses[0].MkID, DeliveryAddress: p.Addresses[1].MkID,
		ContactPerson: p.Contacts[0].MkID}, got.PartnerIDs, "the ids add_partner answered are kept")
	require.Equal(t, c.Version, got.Version, "keeping them is no CRM change")

	// Both addresses change in the CRM: updated in place, by mk_id.
	got.Street, got.PostNumber, got.City = "Nova ulica 5", "3000", "Celje"
	got.DeliveryStreet = "Logistična 9"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &got))
	b.fake.ResetStats()
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Updated, "%+v", res)
	require.EqualValues(t, 1, b.fake.Stats().Calls("update_partner", mkfake.OutcomeOK))
	p = b.partnerOf(t, m.MetakockaID)
	require.Len(t, p.Addresses, 2, "no address added")
	billing := addressOf(t, p, got.PartnerIDs.BillingAddress)
	require.Equal(t, []string{"Račun", "Nova ulica 5", "3000", "Celje", "30"},
		[]string{billing.AddressType, billing.Street, billing.PostNumber, billing.City, billing.PaymentDueDays})
	delivery := addressOf(t, p, got.PartnerIDs.DeliveryAddress)
	require.Equal(t, []string{"Dobava", "Logistična 9", "2000", "Maribor"},
		[]string{delivery.AddressType, delivery.Street, delivery.PostNumber, delivery.City})
	require.Len(t, p.Contacts, 1, "the contact person is updated by its mk_id, not added")

	// A delivery address added in the CRM later is added in Metakocka,
	// and its new mk_id kept.
	plain := newContact(t, b)
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, plain.ID)
	require.NoError(t, err)
	plain, err = b.store.FindContactByID(ctx, b.tenant, plain.ID)
	require.NoError(t, err)
	require.Empty(t, plain.PartnerIDs.DeliveryAddress)
	plain.DeliveryStreet, plain.DeliveryPostNumber, plain.DeliveryCity = "Dostava 1", "4000", "Kranj"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &plain))
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, plain.ID)
	require.NoError(t, err)
	plain, err = b.store.FindContactByID(ctx, b.tenant, plain.ID)
	require.NoError(t, err)
	require.NotEmpty(t, plain.PartnerIDs.DeliveryAddress)
	p = b.partnerOf(t, b.mapping(t, mksync.EntityContact, plain.ID).MetakockaID)
	d := addressOf(t, p, plain.PartnerIDs.DeliveryAddress)
	require.Equal(t, []string{"Dobava", "Dostava 1", "Kranj"}, []string{d.AddressType, d.Street, d.City})
	require.Equal(t, plain.Street, addressOf(t, p, plain.PartnerIDs.BillingAddress).Street, "billing address unchanged")
}

// TestPartnerFieldsRoundTrip: the contact person's own name, buyer,
// taxpayer and payment_due_days changed in Metakocka arrive in the CRM,
// and changed in the CRM arrive in Metakocka.
func TestPartnerFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)
	c.ContactPerson = "Marko Kos"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	c, err = b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	mkID := b.mapping(t, mksync.EntityContact, c.ID).MetakockaID

	// Metakocka: another contact person name, not a buyer, a taxpayer,
	// 45 days to pay (on the billing address, where get_partner shows it).
	_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: mkID, Buyer: metakocka.NewBool(false), Taxpayer: metakocka.NewBool(true),
		PartnerContactList:         metakocka.List[metakocka.Contact]{{MkID: c.PartnerIDs.ContactPerson, Name: "Petra Kos"}},
		PartnerDeliveryAddressList: metakocka.List[metakocka.Address]{{MkID: c.PartnerIDs.BillingAddress, PaymentDueDays: metakocka.NewInt(45)}}})
	require.NoError(t, err)
	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityContact, mkID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Updated, "%+v", res)
	got, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, "Petra Kos", got.ContactPerson)
	require.Equal(t, c.Name, got.Name, "the company keeps its name")
	require.NotNil(t, got.Buyer)
	require.False(t, *got.Buyer)
	require.True(t, got.Taxpayer)
	require.Equal(t, 45, got.PaymentDueDays)

	// The CRM: a buyer again, not a taxpayer, 10 days, another person.
	yes := true
	got.Buyer, got.Taxpayer, got.PaymentDueDays, got.ContactPerson = &yes, false, 10, "Jure Kos"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &got))
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Updated, "%+v", res)
	p := b.partnerOf(t, mkID)
	require.True(t, p.Buyer)
	require.False(t, p.Taxpayer)
	require.Equal(t, "10", addressOf(t, p, got.PartnerIDs.BillingAddress).PaymentDueDays)
	require.Len(t, p.Contacts, 1)
	require.Equal(t, "Jure Kos", p.Contacts[0].Name)

	// Both sides now agree: pulling and pushing again writes nothing.
	b.fake.ResetStats()
	_, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityContact, mkID)
	require.NoError(t, err)
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Zero(t, writes(b.fake.Stats()))
	after, err := b.store.FindContactByID(ctx, b.tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, got.Version, after.Version, "nothing written to the CRM either")
}

// TestPartnerPulledThenPushedWritesNothing: a partner made in Metakocka
// with everything a contact maps (delivery address, contact person,
// payment due days) is pulled, and a push of the unchanged contact makes
// no write call.
func TestPartnerPulledThenPushedWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	mk := b.mk(t)
	added, err := mk.AddPartner(ctx, metakocka.Partner{Customer: "Iz Metakocke d.o.o.", BusinessEntity: metakocka.NewBool(true),
		Taxpayer: metakocka.NewBool(true), Buyer: metakocka.NewBool(true), TaxIDNumber: "SI77700011",
		Street: "Test, 4", PostNumber: "54375", Place: "Test", Country: "Slovenija",
		PartnerContact:         &metakocka.Contact{Name: "Test Kontakt", GSM: "54367865463", Email: "test@test.com"},
		PartnerDeliveryAddress: &metakocka.Address{AddressType: "Dobava", Street: "Tehnološki park 24", PostNumber: "1000", City: "Ljubljana", Country: "Slovenija"}})
	require.NoError(t, err)
	_, err = mk.UpdatePartner(ctx, metakocka.Partner{MkID: added.MkID, PartnerDeliveryAddressList: metakocka.List[metakocka.Address]{
		{MkID: added.MkAddressIDList[0].MkID, PaymentDueDays: metakocka.NewInt(15)}}})
	require.NoError(t, err)

	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityContact, added.MkID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "%+v", res)
	cs, _, err := b.store.FindContacts(ctx, b.tenant, mksync.ListFilter{})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	c := cs[0]
	require.Equal(t, "Test Kontakt", c.ContactPerson)
	require.Equal(t, "Tehnološki park 24", c.DeliveryStreet)
	require.Equal(t, 15, c.PaymentDueDays)
	require.True(t, c.Taxpayer)
	require.Equal(t, mksync.PartnerIDs{BillingAddress: added.MkAddressIDList[0].MkID, DeliveryAddress: added.MkAddressIDList[1].MkID,
		ContactPerson: added.MkContactID}, c.PartnerIDs)

	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, mksync.RunSucceeded, run.Status)
	require.Zero(t, writes(b.fake.Stats()), "an unchanged partner is not written back")
	res, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Zero(t, writes(b.fake.Stats()), "nor by a single-record sync")
	require.Equal(t, 1, res.Skipped, "%+v", res)
}

// TestViewOfPartnerBuyerNotSaid: an answer without buyer (get_partner.md
// shows none) leaves the CRM's flag; one that says false is read.
func TestViewOfPartnerBuyerNotSaid(t *testing.T) {
	t.Parallel()
	no, yes := false, true
	for _, tc := range []struct {
		name  string
		buyer metakocka.Bool
		crm   *bool
		want  *bool
	}{
		{"not said, CRM not said", metakocka.Bool{}, nil, nil},
		{"not said, CRM buyer", metakocka.Bool{}, &yes, &yes},
		{"said false", metakocka.NewBool(false), nil, &no},
		{"said true over false", metakocka.NewBool(true), &no, &yes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mksync.Contact{Buyer: tc.crm}
			viewOfPartner(&metakocka.Partner{Customer: "x", Buyer: tc.buyer}).applyTo(&c)
			require.Equal(t, tc.want, c.Buyer)
		})
	}
	// A contact that does not say hashes as one that says buyer.
	require.Equal(t, payloadHash(viewOfContact(&mksync.Contact{Name: "x"})), payloadHash(viewOfContact(&mksync.Contact{Name: "x", Buyer: &yes})))
}

// TestContactPersonNamedAfterThePartner: a partner whose contact person
// carries the company's name (what mksync sent before contacts had a
// contact person, or useCustomerAsContact) reads as no name of its own, so
// an upgrade does not rewrite every contact; a name of its own is read.
func TestContactPersonNamedAfterThePartner(t *testing.T) {
	t.Parallel()
	old := viewOfContact(&mksync.Contact{Name: "Firma d.o.o.", Email: "a@firma.si"})
	p := metakocka.Partner{Customer: "Firma d.o.o.", Buyer: metakocka.NewBool(true), Taxpayer: metakocka.NewBool(false),
		PartnerContactList: metakocka.List[metakocka.Contact]{{MkID: "1", Name: "Firma d.o.o.", Email: "a@firma.si"}}}
	require.Equal(t, payloadHash(old), payloadHash(viewOfPartner(&p)), "same hash as before the upgrade")
	p.PartnerContactList[0].Name = "Ana Novak"
	require.Equal(t, "Ana Novak", viewOfPartner(&p).ContactPerson)
}
