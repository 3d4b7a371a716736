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

// TestBrowserSelectedPreviewThenConfirm: "Sync selected to Metakocka" goes
// through the same preview as "Sync all": the plan lists the selected
// records only, nothing is written to Metakocka (nor to the mappings)
// before Confirm, and Confirm creates exactly those records.
func TestBrowserSelectedPreviewThenConfirm(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 1440)
	bg := context.Background()
	var picked []mksync.Contact
	for i := range 5 {
		c := mksync.Contact{Name: fmt.Sprintf("Selected Customer %d", i), Email: fmt.Sprintf("selected%d@example.com", i), Country: "SI"}
		require.NoError(t, w.store.CreateContact(bg, w.a.ID, &c))
		if i < 2 {
			picked = append(picked, c)
		}
	}
	signIn(t, ctx, w.srv.URL, w.a.Token)
	w.fake.ResetStats()

	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(w.srv.URL + "/contacts?q=Selected"), visible(`#row-` + picked[0].ID)}
	for _, c := range picked {
		steps = append(steps, click(`input[name=id][value="`+c.ID+`"]`))
	}
	steps = append(steps, click(`#bulk button[value=to_metakocka]`), visible(`#preview[data-status=succeeded]`))
	do(t, ctx, steps...)
	require.Equal(t, "Will create 2 in Metakocka, link 0, update 0; 0 need a decision.", text(t, ctx, `#preview .preview-summary`))
	plan := text(t, ctx, `#preview table.plan`)
	require.Contains(t, plan, picked[0].ID)
	require.Contains(t, plan, picked[1].ID)
	require.NotContains(t, plan, "Selected Customer 2", "only the selected records are planned")
	screenshot(t, ctx, "sync-selected-preview")
	require.Zero(t, w.fake.Stats().Writes(), "nothing is written to Metakocka before the person confirms")
	for _, c := range picked {
		require.False(t, w.partnerNamed(w.compA, c.Name))
		_, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, c.ID)
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "nor to the mappings")
	}

	do(t, ctx, click(`button.confirm-plan`), visible(`#run-progress[data-status=succeeded]`))
	require.Positive(t, w.fake.Stats().Writes())
	for _, c := range picked {
		require.True(t, w.partnerNamed(w.compA, c.Name), c.Name)
	}
	for i := 2; i < 5; i++ {
		require.False(t, w.partnerNamed(w.compA, fmt.Sprintf("Selected Customer %d", i)), "an unselected record is not synced")
	}
}
