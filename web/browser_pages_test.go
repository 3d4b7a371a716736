package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// TestBrowserWhatUsersSee drives what a person sees: saving settings with a
// Metakocka URL the operator set, where the result of a save shows, a bulk
// run's live progress and words, the sign-in and sign-out pages, the
// error filters and the contacts list.
func TestBrowserWhatUsersSee(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 1280)
	base := w.srv.URL
	bg := context.Background()
	signIn(t, ctx, base, w.a.Token)

	t.Run("settings save with an operator's Metakocka URL outside the allowed list", func(t *testing.T) {
		// The world's simulator URL is a loopback address the UI does not
		// allow (no MetakockaURLs): as if the operator set it with the CLI.
		before, err := w.store.FindCredentials(bg, w.a.ID)
		require.NoError(t, err)
		do(t, ctx, chromedp.Navigate(base+"/settings"), visible(`#conflictPolicy`),
			chromedp.SetValue(chromedp.CSS(`#conflictPolicy`), string(mksync.CRMWins)),
			click(`#settings button[type=submit]`), visible(`#settings-result .flash-ok`))
		require.Equal(t, "Settings saved.", text(t, ctx, `#settings-result .flash-ok`))
		after, err := w.store.FindCredentials(bg, w.a.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.CRMWins, after.Settings.ConflictPolicy)
		require.Equal(t, before.BaseURL, after.BaseURL, "the URL is kept")

		// Changing it to another address outside the list is refused, and
		// the message does not invite emptying the field.
		do(t, ctx, chromedp.SetValue(chromedp.CSS(`#metakockaUrl`), "http://169.254.169.254"),
			click(`#settings button[type=submit]`), visible(`#metakockaUrl-err`))
		msg := text(t, ctx, `#metakockaUrl-err`)
		require.Contains(t, msg, "administrator")
		require.NotContains(t, strings.ToLower(msg), "empty")
		require.Contains(t, text(t, ctx, `#metakockaUrl-help`), "Empty means the production Metakocka")
		after, err = w.store.FindCredentials(bg, w.a.ID)
		require.NoError(t, err)
		require.Equal(t, before.BaseURL, after.BaseURL)
	})

	t.Run("the result of a save shows beside the button, where the page was", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/settings"), visible(`#settings button[type=submit]`))
		_ = run(t, ctx, chromedp.Evaluate[int](`window.scrollTo(0, document.documentElement.scrollHeight), 1`))
		y0 := run(t, ctx, chromedp.Evaluate[float64](`window.scrollY`))
		require.Positive(t, y0, "the form is taller than the window")
		do(t, ctx, click(`#settings button[type=submit]`), visible(`#settings-result .flash-ok`))
		y1 := run(t, ctx, chromedp.Evaluate[float64](`window.scrollY`))
		require.InDelta(t, y0, y1, 2, "the page stays where it was")
		inView := run(t, ctx, chromedp.Evaluate[bool](`(() => {
			const r = document.querySelector('#settings-result .flash-ok').getBoundingClientRect();
			const b = document.querySelector('#settings button[type=submit]').getBoundingClientRect();
			return r.top >= 0 && r.bottom <= window.innerHeight && Math.abs(r.top - b.top) < 80;
		})()`))
		require.True(t, inView, "the result is in view, next to the button")
	})

	t.Run("a bulk run shows live progress from the first record, in words a user knows", func(t *testing.T) {
		for i := range 60 {
			c := mksync.Contact{Name: fmt.Sprintf("Live Customer %02d", i), Email: fmt.Sprintf("live%02d@example.com", i), Country: "SI"}
			require.NoError(t, w.store.CreateContact(bg, w.a.ID, &c))
		}
		// One batch holds the whole run: its stored progress moves only at
		// the end, so what moves before comes from the live count.
		c, err := w.store.FindCredentials(bg, w.a.ID)
		require.NoError(t, err)
		c.Settings.BatchSize, c.Settings.Concurrency = 200, 1
		require.NoError(t, w.store.SetCredentials(bg, w.a.ID, &c))
		w.fake.SetFaults(w.compA, mkfake.Faults{Latency: 40 * time.Millisecond})
		defer w.fake.ClearFaults(w.compA)
		do(t, ctx, chromedp.Navigate(base+"/contacts"),
			click(`form.inline-actions input[name=scope][value=all] ~ button[value=to_metakocka]`),
			confirmPreview())
		runURL := run(t, ctx, chromedp.Evaluate[string](`location.pathname`))
		runID := strings.TrimPrefix(runURL, "/runs/")
		var shown int
		var stored mksync.SyncRun
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			shown, _ = strconv.Atoi(text(t, ctx, `#run-progress .processed`))
			stored, err = w.store.FindSyncRun(bg, w.a.ID, runID)
			require.NoError(t, err)
			if shown >= 5 || stored.Status.Final() {
				break
			}
		}
		t.Logf("while running: the page said %q; the stored run had %d done", text(t, ctx, `#run-count`), stored.Processed)
		require.Equal(t, mksync.RunRunning, stored.Status, "caught the run running")
		require.GreaterOrEqual(t, shown, 5)
		require.Zero(t, stored.Processed, "no batch committed yet: the page shows records as they are done")
		require.Regexp(t, `^[0-9.]+ records/s$`, text(t, ctx, `#run-progress .rate`))
		require.Regexp(t, `^about .+ left$`, text(t, ctx, `#run-progress .left`))
		require.Equal(t, "you, in the web app", text(t, ctx, `#run-progress .trigger`))

		do(t, ctx, visible(`#run-progress[data-status=succeeded]`))
		require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`, text(t, ctx, `#run-progress .started`))
		require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`, text(t, ctx, `#run-progress .finished`))
		require.Regexp(t, `^(under 1 s|\d+ s|\d+ min \d\d s)$`, text(t, ctx, `#run-progress .duration`))
		do(t, ctx, click(`#run-progress .records-link`), visible(`table.records`))
		require.Equal(t, "/contacts", run(t, ctx, chromedp.Evaluate[string](`location.pathname`)))

		do(t, ctx, chromedp.Navigate(base+"/runs"), visible(`main table`))
		require.Contains(t, text(t, ctx, `main table tbody tr`), "you, in the web app")
		require.Regexp(t, `^(under 1 s|\d+ s|\d+ min \d\d s)$`, text(t, ctx, `main table tbody tr .duration`))
	})

	t.Run("the contacts list shows the mk_id and one Sync menu per row", func(t *testing.T) {
		id := w.createContactViaAPI(t, w.a.Token, "Menu Customer")
		row := `#row-` + id
		do(t, ctx, chromedp.Navigate(base+"/contacts?q=Menu"), visible(row))
		require.Equal(t, 1, run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+row+` details.sync-menu').length`)))
		require.False(t, run(t, ctx, chromedp.Evaluate[bool](`!!document.querySelector('`+row+` button.sync-to').checkVisibility()`)), "the actions are in the closed menu")
		do(t, ctx, click(row+` .sync-menu summary`), visible(row+` button.sync-to`), click(row+` button.sync-to`), visible(row+` .badge-synced`))
		m, err := w.store.FindMapping(bg, w.a.ID, mksync.EntityContact, id)
		require.NoError(t, err)
		require.NotEmpty(t, m.CountCode)
		require.Equal(t, m.MetakockaID, text(t, ctx, row+` .mk-id`))
		require.NotContains(t, text(t, ctx, row), m.CountCode, "the count code is on the record's page")
		do(t, ctx, chromedp.Navigate(base+"/contacts/"+id), visible(`#map-h`))
		require.Contains(t, text(t, ctx, `#link-box dl`), m.CountCode)

		do(t, ctx, chromedp.Navigate(base+"/contacts?q=nobody-by-this-name"), visible(`table.records`))
		require.Equal(t, "No contacts found.", text(t, ctx, `table.records tbody`))
	})

	t.Run("words for users", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/settings"), visible(`#settings`))
		require.NotContains(t, text(t, ctx, `main`), "docs/")

		// The operation filter offers the operations of the tenant's errors.
		require.NoError(t, w.store.CreateErrorRecord(bg, w.a.ID, &mksync.ErrorRecord{ID: "err-words", Category: "SYNC",
			Operation: "contacts.sync_to_metakocka", Code: mksync.EUPSTREAM, Message: "boom", CreatedAt: time.Now()}))
		do(t, ctx, chromedp.Navigate(base+"/errors"), visible(`select#operation`))
		opts := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#operation option')].map(o => o.textContent)`))
		require.Contains(t, opts, "Sync contacts to Metakocka")

		// Every page has an icon: /favicon.ico answers too.
		status := run(t, ctx, chromedp.Evaluate[int](`fetch('/favicon.ico').then(r => r.status)`, chromedp.EvalAwaitPromise))
		require.Equal(t, 200, status)
		require.Equal(t, "/static/favicon.svg", run(t, ctx, chromedp.Evaluate[string](`document.querySelector('link[rel=icon]').getAttribute('href')`)))

		// Signing out says so; the sign-in page says who hands out tokens.
		do(t, ctx, click(`form.signout button`), visible(`.signed-out`))
		require.Equal(t, "You are signed out.", text(t, ctx, `.signed-out`))
		login := text(t, ctx, `main`)
		require.Contains(t, login, "Your administrator gives you one")
	})
}
