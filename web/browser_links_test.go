package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// mkClient is a Metakocka client of tenant A's company in the world's
// simulator: records made there, not by mksync.
func (w *world) mkClient(t *testing.T) *metakocka.Client {
	t.Helper()
	c, err := w.store.FindCredentials(context.Background(), w.a.ID)
	require.NoError(t, err)
	mk, err := metakocka.New(metakocka.Config{BaseURL: c.BaseURL, CompanyID: c.CompanyID, SecretKey: c.SecretKey})
	require.NoError(t, err)
	return mk
}

func addPartner(t *testing.T, mk *metakocka.Client, name, tax string) string {
	t.Helper()
	res, err := mk.AddPartner(context.Background(), metakocka.Partner{Customer: name, TaxIDNumber: tax, Street: "Cesta 1", PostNumber: "1000", Place: "Ljubljana", Country: "SI"})
	require.NoError(t, err)
	return res.MkID
}

// ambiguousContact is a CRM contact whose push matched several partners.
func (w *world) ambiguousContact(t *testing.T, name, tax string) string {
	t.Helper()
	ctx := context.Background()
	c := mksync.Contact{Name: name, TaxID: tax, Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
	require.NoError(t, w.store.CreateContact(ctx, w.a.ID, &c))
	_, err := w.engine.SyncToMetakocka(ctx, w.a.ID, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	m, err := w.store.FindMapping(ctx, w.a.ID, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateAmbiguous, m.State)
	return c.ID
}

// TestBrowserLinks drives linking by hand against the real engine and the
// simulator: link and unlink on a record page (and the 409 of a partner
// linked elsewhere), picking a candidate and "create new" in the ambiguous
// list, and the dashboard's counts.
func TestBrowserLinks(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 1280)
	base := w.srv.URL
	bg := context.Background()
	mk := w.mkClient(t)
	signIn(t, ctx, base, w.a.Token)

	t.Run("link and unlink on a record page", func(t *testing.T) {
		partner := addPartner(t, mk, "Linked Partner d.o.o.", "")
		id := w.createContactViaAPI(t, w.a.Token, "Link Me")
		other := w.createContactViaAPI(t, w.a.Token, "Link Me Too")
		do(t, ctx, chromedp.Navigate(base+"/contacts/"+id), visible(`#link-box .badge-unsynced`),
			chromedp.SendKeys(chromedp.CSS(`#link-ref`), partner), click(`#link-box .link-btn`),
			visible(`#link-box .flash-ok`))
		require.Equal(t, partner, text(t, ctx, `#link-box .mk-id`))
		require.Equal(t, "Pending", text(t, ctx, `#link-box .badge`))
		require.False(t, run(t, ctx, chromedp.Evaluate[bool](`!!document.querySelector('#link-box button[disabled]')`)), "once linked it can be pulled")
		m, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, id)
		require.NoError(t, err)
		require.Equal(t, partner, m.MetakockaID)
		screenshot(t, ctx, "record-linked")

		// The same partner for another contact: refused in the page.
		do(t, ctx, chromedp.Navigate(base+"/contacts/"+other), visible(`#link-ref`),
			chromedp.SendKeys(chromedp.CSS(`#link-ref`), partner), click(`#link-box .link-btn`),
			visible(`#link-box .flash-error`))
		require.Contains(t, text(t, ctx, `#link-box .flash-error .flash-msg`), "unlink that first")
		require.Contains(t, text(t, ctx, `#link-box .flash-error .errid`), "conflict")
		_, err = w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, other)
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))

		// Unlink: the link is gone; linking writes nothing to Metakocka.
		do(t, ctx, chromedp.Navigate(base+"/contacts/"+id), visible(`#link-box .unlink-btn`),
			click(`#link-box .unlink-btn`), visible(`#link-box .badge-unsynced`), visible(`#link-box .flash-ok`))
		_, err = w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, id)
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
		require.False(t, w.partnerNamed(w.compA, "Link Me"), "no partner was created or renamed")
	})

	t.Run("pick a candidate or create a new one in the ambiguous list", func(t *testing.T) {
		twinA := addPartner(t, mk, "Twin d.o.o.", "SI 87654321")
		twinB := addPartner(t, mk, "Twin 2 d.o.o.", "87654321")
		addPartner(t, mk, "Pair d.o.o.", "SI11223344")
		addPartner(t, mk, "Pair 2 d.o.o.", "11223344")
		picked := w.ambiguousContact(t, "Twin CRM", "87654321")
		created := w.ambiguousContact(t, "Pair CRM", "11223344")
		partners := len(w.fake.Partners(w.compA))

		row := `#row-` + picked
		do(t, ctx, chromedp.Navigate(base+"/contacts/decisions"), visible(row+` li[data-mk-id="`+twinB+`"] .pick-btn`))
		cands := text(t, ctx, row+` .candidate-list`)
		for _, want := range []string{twinA, "Twin d.o.o.", twinB, "Twin 2 d.o.o.", "by tax number"} {
			require.Contains(t, cands, want)
		}
		screenshot(t, ctx, "decisions")
		do(t, ctx, click(row+` li[data-mk-id="`+twinB+`"] .pick-btn`), visible(row+`.decided .flash-ok`))
		require.Contains(t, text(t, ctx, row), "linked to Metakocka record "+twinB)
		m, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, picked)
		require.NoError(t, err)
		require.Equal(t, twinB, m.MetakockaID)

		row = `#row-` + created
		do(t, ctx, click(row+` .create-new-btn`), visible(row+`.decided .flash-ok`))
		require.Len(t, w.fake.Partners(w.compA), partners+1, "one partner created on purpose")
		require.True(t, w.partnerNamed(w.compA, "Pair CRM"))
		m, err = w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, created)
		require.NoError(t, err)
		require.Equal(t, mksync.StateSynced, m.State)

		do(t, ctx, chromedp.Navigate(base+"/contacts/decisions"), visible(`#amb-h`))
		require.Equal(t, "Nothing to decide.", text(t, ctx, `table.ambiguous tbody`))
	})

	t.Run("the dashboard counts links per record type", func(t *testing.T) {
		addPartner(t, mk, "Open d.o.o.", "SI55667788")
		addPartner(t, mk, "Open 2 d.o.o.", "55667788")
		w.ambiguousContact(t, "Open CRM", "55667788")
		// A product deleted in Metakocka, one deleted in the CRM.
		for _, code := range []string{"GONE-MK", "GONE-CRM"} {
			p := mksync.Product{Code: code, Name: code, Unit: "kos"}
			require.NoError(t, w.store.CreateProduct(bg, w.a.ID, &p))
			_, err := w.engine.SyncToMetakocka(bg, w.a.ID, mksync.EntityProduct, p.ID)
			require.NoError(t, err)
			m, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityProduct, p.ID)
			require.NoError(t, err)
			if code == "GONE-CRM" {
				require.NoError(t, w.store.DeleteProduct(bg, w.a.ID, p.ID))
				continue
			}
			_, err = mk.ProductDelete(bg, metakocka.ProductKey{MkID: m.MetakockaID})
			require.NoError(t, err)
			// Changed since: the next push looks for it in Metakocka.
			p.Name = "changed after the delete"
			require.NoError(t, w.store.UpdateProduct(bg, w.a.ID, &p))
			run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
			require.NoError(t, w.engine.PrepareRun(bg, w.a.ID, &run, nil))
			require.NoError(t, w.store.CreateSyncRun(bg, w.a.ID, &run))
			for done := false; !done; {
				done, err = w.engine.WorkRun(bg, w.a.ID, run.ID, nil)
				require.NoError(t, err)
			}
			m, err = w.store.FindMapping(bg, w.a.ID, mksync.EntityProduct, p.ID)
			require.NoError(t, err)
			require.Equal(t, mksync.StateDeletedInMetakocka, m.State)
		}
		do(t, ctx, chromedp.Navigate(base+"/"), visible(`.links-table`))
		cell := func(entity, col string) string {
			return text(t, ctx, `.links-table tr[data-entity=`+entity+`] td.`+col)
		}
		// Contacts: the tenant's first contact and the two of the link
		// test are not linked; Twin CRM and Pair CRM are; Open CRM is open.
		for col, want := range map[string]string{"linked": "2", "to-create": "3", "ambiguous": "1", "deleted": "0", "tombstones": "0"} {
			require.Equal(t, want, cell("contacts", col), "contacts %s", col)
		}
		for col, want := range map[string]string{"linked": "0", "to-create": "0", "ambiguous": "0", "deleted": "1", "tombstones": "1"} {
			require.Equal(t, want, cell("products", col), "products %s", col)
		}
		screenshot(t, ctx, "dashboard-links")
		// The counts lead to the lists.
		do(t, ctx, click(`.links-table tr[data-entity=products] td.deleted a`), visible(`table.deleted`))
		require.Contains(t, text(t, ctx, `table.deleted tbody`), "GONE-MK")
		require.Contains(t, text(t, ctx, `table.tombstones tbody`), "Recreate in the CRM")

		// Recreate on purpose what was deleted in the CRM: the pull brings
		// it back, linked to the same Metakocka record.
		do(t, ctx, click(`table.tombstones .recreate-btn`), visible(`table.tombstones tr.decided .flash-ok`))
		back, err := w.store.FindProductByCode(bg, w.a.ID, "GONE-CRM")
		require.NoError(t, err)
		m, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityProduct, back.ID)
		require.NoError(t, err)
		require.NotEmpty(t, m.MetakockaID)
		ts, _, err := w.store.FindTombstones(bg, w.a.ID, mksync.EntityProduct, mksync.Page{})
		require.NoError(t, err)
		require.Empty(t, ts)
	})
}
