package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// confirmPreview waits for the preview a bulk sync button opened to finish
// and confirms it, landing on the run that applies its plan.
func confirmPreview() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		visible(`#preview[data-status=succeeded]`),
		click(`button.confirm-plan`),
		visible(`#run-progress`),
	)
}

// TestBrowserPreviewThenConfirm: "Sync all to Metakocka" shows a preview
// first (its totals and its records) and writes nothing to Metakocka until
// the person confirms; confirming applies the plan.
func TestBrowserPreviewThenConfirm(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 1440)
	bg := context.Background()
	creds, err := w.store.FindCredentials(bg, w.a.ID)
	require.NoError(t, err)
	mk, err := metakocka.New(metakocka.Config{BaseURL: creds.BaseURL, CompanyID: w.compA, SecretKey: mksync.Secret("secret-" + w.compA)})
	require.NoError(t, err)
	existing, err := mk.AddPartner(bg, metakocka.Partner{Customer: "Že v Metakocki d.o.o.", TaxIDNumber: "SI55554444", Country: "SI"})
	require.NoError(t, err)
	linked := mksync.Contact{Name: "Že v Metakocki", TaxID: "55554444", Country: "SI"}
	require.NoError(t, w.store.CreateContact(bg, w.a.ID, &linked))
	for i := range 12 {
		c := mksync.Contact{Name: fmt.Sprintf("Preview Customer %02d", i), Email: fmt.Sprintf("preview%02d@example.com", i), Country: "SI"}
		require.NoError(t, w.store.CreateContact(bg, w.a.ID, &c))
	}
	signIn(t, ctx, w.srv.URL, w.a.Token)
	w.fake.ResetStats()

	do(t, ctx,
		chromedp.Navigate(w.srv.URL+"/contacts"),
		click(`form.inline-actions input[name=scope][value=all] ~ button[value=to_metakocka]`),
		visible(`#preview[data-status=succeeded]`),
	)
	summary := text(t, ctx, `#preview .preview-summary`)
	require.Regexp(t, `^Will create 1[2-9] in Metakocka, link 1, update 0; 0 need a decision\.$`, summary)
	require.Contains(t, text(t, ctx, `#preview table.plan`), "mk_id "+existing.MkID+" (by tax number)")
	require.Contains(t, text(t, ctx, `#preview table.plan`), "Preview Customer 00")
	screenshot(t, ctx, "sync-preview")
	require.Zero(t, w.fake.Stats().Writes(), "nothing is written to Metakocka before the person confirms")
	require.False(t, w.partnerNamed(w.compA, "Preview Customer 00"))
	_, err = w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, linked.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "nor to the mappings")

	do(t, ctx, click(`button.confirm-plan`), visible(`#run-progress[data-status=succeeded]`))
	require.Positive(t, w.fake.Stats().Writes())
	for i := range 12 {
		require.True(t, w.partnerNamed(w.compA, fmt.Sprintf("Preview Customer %02d", i)))
	}
	require.Eventually(t, func() bool {
		m, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, linked.ID)
		return err == nil && m.MetakockaID == existing.MkID
	}, 5*time.Second, 50*time.Millisecond, "the linked contact is mapped to the partner that was there")
}
