package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// TestBrowserPartnerAndConflict drives the contact page end to end: a bad
// partner value is shown on its field and nothing is written; a good save
// updates the page's fields and the next push sends the contact person,
// flags, payment terms and delivery address to Metakocka; a field then
// changed on both sides shows as a conflict with both values and the side
// kept.
func TestBrowserPartnerAndConflict(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 1280)
	bg := context.Background()
	base := w.srv.URL
	signIn(t, ctx, base, w.a.Token)
	id := w.createContactViaAPI(t, w.a.Token, "Partner Edit")
	_, err := w.engine.SyncToMetakocka(bg, w.a.ID, mksync.EntityContact, id)
	require.NoError(t, err)

	do(t, ctx, chromedp.Navigate(base+"/contacts/"+id), visible(`#partner`),
		chromedp.SetValue(chromedp.CSS(`#contactPerson`), "Ana Novak"),
		chromedp.SetValue(chromedp.CSS(`#paymentDueDays`), "thirty"),
		click(`#partner button.save-partner`), visible(`#paymentDueDays-err`))
	require.Equal(t, "Payment due must be a whole number of days", text(t, ctx, `#paymentDueDays-err`))
	require.Equal(t, "Ana Novak", run(t, ctx, chromedp.Evaluate[string](`document.querySelector('#contactPerson').value`)), "what was typed stays")
	got, err := w.store.FindContactByID(bg, w.a.ID, id)
	require.NoError(t, err)
	require.Empty(t, got.ContactPerson, "a refused form writes nothing")

	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`#paymentDueDays`), "30"),
		chromedp.SetValue(chromedp.CSS(`#buyer`), "no"),
		click(`#taxpayer`),
		chromedp.SetValue(chromedp.CSS(`#deliveryStreet`), "Skladiščna 5"),
		chromedp.SetValue(chromedp.CSS(`#deliveryPostNumber`), "2000"),
		chromedp.SetValue(chromedp.CSS(`#deliveryCity`), "Maribor"),
		chromedp.SetValue(chromedp.CSS(`#deliveryCountry`), "SI"),
		click(`#partner button.save-partner`), visible(`#partner .flash-ok`))
	require.Equal(t, "Partner details saved.", text(t, ctx, `#partner .flash-ok`))
	fields := text(t, ctx, `#record-fields`)
	require.Contains(t, fields, "Ana Novak", "the record's fields show the save")
	require.Contains(t, fields, "30 days")
	require.Contains(t, fields, "Skladiščna 5, 2000 Maribor, SI")
	screenshot(t, ctx, "contact-partner")

	_, err = w.engine.SyncToMetakocka(bg, w.a.ID, mksync.EntityContact, id)
	require.NoError(t, err)
	p := partnerByName(t, w.fake.Partners(w.compA), "Partner Edit")
	require.False(t, p.Buyer)
	require.True(t, p.Taxpayer)
	require.NotEmpty(t, p.Contacts)
	require.Equal(t, "Ana Novak", p.Contacts[0].Name)
	var delivery *mkfake.PartnerAddress
	for i, a := range p.Addresses {
		if a.AddressType == "Dobava" {
			delivery = &p.Addresses[i]
		}
	}
	require.NotNil(t, delivery, "the delivery address reached Metakocka")
	require.Equal(t, "Maribor", delivery.City)
	require.Equal(t, "30", p.Addresses[0].PaymentDueDays)

	// The name changed on both sides: a conflict, listed on the page with
	// both values and the side kept.
	got, err = w.store.FindContactByID(bg, w.a.ID, id)
	require.NoError(t, err)
	got.Name = "Partner Edit CRM"
	require.NoError(t, w.store.UpdateContact(bg, w.a.ID, &got))
	creds, err := w.store.FindCredentials(bg, w.a.ID)
	require.NoError(t, err)
	mk, err := metakocka.New(metakocka.Config{BaseURL: creds.BaseURL, CompanyID: w.compA, SecretKey: mksync.Secret("secret-" + w.compA)})
	require.NoError(t, err)
	_, err = mk.UpdatePartner(bg, metakocka.Partner{MkID: p.MkID, Customer: "Partner Edit MK"})
	require.NoError(t, err)
	res, err := w.engine.SyncToMetakocka(bg, w.a.ID, mksync.EntityContact, id)
	require.NoError(t, err)
	require.Equal(t, 1, res.Conflicts, "%+v", res)

	// A sync of one record in one direction settles it that way ("explicit").
	do(t, ctx, chromedp.Navigate(base+"/contacts/"+id), visible(`#conflict`))
	require.Equal(t, "name", text(t, ctx, `#conflict tr[data-field=name] th`))
	require.Equal(t, "Partner Edit CRM kept", text(t, ctx, `#conflict tr[data-field=name] td.crm`))
	require.Equal(t, "Partner Edit MK", text(t, ctx, `#conflict tr[data-field=name] td.metakocka`))
	require.Equal(t, "the CRM's values", text(t, ctx, `#conflict .conflict-kept`))
	require.Contains(t, text(t, ctx, `#conflict`), "policy: a sync in one direction, on purpose")
	require.Equal(t, "Partner Edit CRM", partnerByName(t, w.fake.Partners(w.compA), "Partner Edit CRM").Customer, "the kept value is Metakocka's now")
	screenshot(t, ctx, "contact-conflict")
}

func partnerByName(t *testing.T, ps []mkfake.Partner, name string) mkfake.Partner {
	t.Helper()
	for _, p := range ps {
		if p.Customer == name {
			return p
		}
	}
	t.Fatalf("no partner %q in Metakocka", name)
	return mkfake.Partner{}
}
