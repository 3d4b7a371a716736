package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// testContactPartnerFields checks the partner fields of a contact (contact
// person, buyer, taxpayer, payment due days, delivery address) and the
// engine-owned partner mk_ids: SetContactPartnerIDs changes only them (no
// version bump, no pending mapping), and updates and upserts keep them.
func testContactPartnerFields(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "partner-fields")
	yes, no := true, false

	c := sampleContact("Partner d.o.o.")
	c.ContactPerson, c.Buyer, c.Taxpayer, c.PaymentDueDays = "Ana Novak", &no, true, 30
	c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry = "Skladiščna 2", "2000", "Maribor", "SI"
	require.NoError(t, s.CreateContact(ctx, tid, &c))
	got, err := s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, "Ana Novak", got.ContactPerson)
	require.NotNil(t, got.Buyer)
	require.False(t, *got.Buyer, "buyer false is kept, not read as unset")
	require.True(t, got.Taxpayer)
	require.Equal(t, 30, got.PaymentDueDays)
	require.Equal(t, []string{"Skladiščna 2", "2000", "Maribor", "SI"},
		[]string{got.DeliveryStreet, got.DeliveryPostNumber, got.DeliveryCity, got.DeliveryCountry})
	require.Equal(t, mksync.PartnerIDs{}, got.PartnerIDs)

	// A buyer not said stays null.
	unset := sampleContact("Brez oznake")
	require.NoError(t, s.CreateContact(ctx, tid, &unset))
	got, err = s.FindContactByID(ctx, tid, unset.ID)
	require.NoError(t, err)
	require.Nil(t, got.Buyer)

	// The ids are set alone: no version bump, a synced mapping stays synced.
	m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, MetakockaID: "mk-partner-fields", State: mksync.StateSynced}
	require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	ids := mksync.PartnerIDs{BillingAddress: "mk-billing", DeliveryAddress: "mk-delivery", ContactPerson: "mk-person"}
	require.NoError(t, s.SetContactPartnerIDs(ctx, tid, c.ID, ids))
	got, err = s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, ids, got.PartnerIDs)
	require.Equal(t, c.Version, got.Version)
	gm, err := s.FindMapping(ctx, tid, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateSynced, gm.State)
	requireCode(t, s.SetContactPartnerIDs(ctx, tid, "0190f3c4-0000-7000-8000-0000000000fe", ids), mksync.ENOTFOUND)

	// An update changes the fields and keeps the ids, whatever it carries.
	got.PartnerIDs = mksync.PartnerIDs{}
	got.Buyer, got.Taxpayer, got.PaymentDueDays, got.ContactPerson = &yes, false, 0, "Bor Kranjc"
	got.DeliveryStreet = "Nova 3"
	require.NoError(t, s.UpdateContact(ctx, tid, &got))
	require.Equal(t, ids, got.PartnerIDs, "the update answers the stored ids")
	after, err := s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, ids, after.PartnerIDs)
	require.True(t, *after.Buyer)
	require.False(t, after.Taxpayer)
	require.Zero(t, after.PaymentDueDays)
	require.Equal(t, "Bor Kranjc", after.ContactPerson)
	require.Equal(t, "Nova 3", after.DeliveryStreet)

	// So does a replacing upsert; buyer can go back to null.
	after.PartnerIDs, after.Buyer, after.PaymentDueDays = mksync.PartnerIDs{}, nil, 45
	batch := []mksync.Contact{after}
	require.NoError(t, s.UpsertContacts(ctx, tid, batch))
	require.Equal(t, ids, batch[0].PartnerIDs)
	after, err = s.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, ids, after.PartnerIDs)
	require.Nil(t, after.Buyer)
	require.Equal(t, 45, after.PaymentDueDays)

	// Bad input is refused field by field.
	bad := sampleContact("Slab")
	bad.PaymentDueDays = -1
	err = s.CreateContact(ctx, tid, &bad)
	requireCode(t, err, mksync.EINVALID)
	require.Contains(t, mksync.ErrorDetails(err), "paymentDueDays")
}
