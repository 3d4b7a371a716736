package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
	"github.com/mksync/mksync/web"
)

// Browser tests drive the UI in a real headless Chromium (Debian's
// chromium package) against the real sync engine and the Metakocka
// simulator over loopback HTTP. They skip when no browser is installed,
// unless MKSYNC_REQUIRE_BROWSER=1 (CI) makes that a failure.
//
// MKSYNC_UPDATE_SCREENSHOTS=1 saves screenshots to docs/screenshots/.

// chromiumPath finds the browser: MKSYNC_CHROMIUM, or chromium on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MKSYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MKSYNC_REQUIRE_BROWSER") == "1" {
		t.Fatal("MKSYNC_REQUIRE_BROWSER=1 but no chromium found (apt-get install chromium, or set MKSYNC_CHROMIUM)")
	}
	t.Skip("SKIP browser tests: no chromium on PATH (apt-get install chromium; MKSYNC_REQUIRE_BROWSER=1 makes this a failure)")
	return ""
}

// world is a running mksync (API + UI on the real engine) with the
// simulator and two tenants, each connected to its own company.
type world struct {
	store  *sqlite.DB
	fake   *mkfake.Server
	srv    *httptest.Server
	a, b   tenant
	compA  string
	engine *engine.Engine
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))

	fake := mkfake.New(mkfake.Options{Seed: 7})
	mk := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); mk.Close() })

	eng, err := engine.New(engine.Config{
		Store:      db,
		Logger:     observe.Discard(),
		Pacing:     metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 16},
		Retry:      metakocka.RetryConfig{MaxRetries: 2, InitialInterval: time.Millisecond, MaxInterval: 4 * time.Millisecond, MaxElapsed: 10 * time.Second},
		Timeouts:   metakocka.Timeouts{Default: 5 * time.Second, List: 10 * time.Second, Search: 10 * time.Second},
		RetryClock: metakocka.ShortSleeps{Max: 2 * time.Millisecond},
	})
	require.NoError(t, err)
	// Runs execute as jobs, as in the server.
	jdb := jobs.SQLite(db.WriteDB(), sqlite.TxOf)
	require.NoError(t, jobs.Migrate(ctx, jdb, nil))
	j, err := jobs.New(jdb, jobs.Config{Store: db, Runner: eng, Logger: observe.Discard()})
	require.NoError(t, err)
	require.NoError(t, j.Start(ctx))
	t.Cleanup(func() { _ = j.Stop(context.Background()) })

	api, err := httpapi.New(httpapi.Config{Store: db, Syncer: eng, Runs: j, Logger: observe.Discard()})
	require.NoError(t, err)
	t.Cleanup(api.Close)
	ui, err := web.New(web.Config{Store: db, Syncer: eng, Runs: j, Logger: observe.Discard(), PollInterval: 250 * time.Millisecond, PageSize: 50})
	require.NoError(t, err)
	srv := httptest.NewServer(web.Mount(api, ui))
	t.Cleanup(srv.Close)

	w := &world{store: db, fake: fake, srv: srv, engine: eng, compA: "16"}
	w.a = newTenant(t, db, "Tenant A")
	w.b = newTenant(t, db, "Tenant B")
	// Small batches and a little latency make a bulk run's progress visible.
	settings := mksync.SyncSettings{BatchSize: 5, Concurrency: 2}
	for company, tn := range map[string]tenant{"16": w.a, "17": w.b} {
		fake.AddCompany(company, "secret-"+company)
		require.NoError(t, db.SetCredentials(ctx, tn.ID, &mksync.MetakockaCredentials{
			CompanyID: company, SecretKey: mksync.Secret("secret-" + company), BaseURL: mk.URL, Settings: settings}))
	}
	return w
}

func clientRecords(t *testing.T, w *world) []mksync.ErrorRecord {
	recs, _, err := w.store.FindErrorRecords(context.Background(), w.a.ID, mksync.ErrorFilter{Category: observe.CatClient})
	require.NoError(t, err)
	return recs
}

// createContactViaAPI creates a contact through the REST API, as the CRM does.
func (w *world) createContactViaAPI(t *testing.T, token, name string) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com", "country": "SI"})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+"/api/contacts", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var c mksync.Contact
	require.NoError(t, json.NewDecoder(res.Body).Decode(&c))
	require.NotEmpty(t, c.ID)
	return c.ID
}

func (w *world) partnerNamed(company, name string) bool {
	for _, p := range w.fake.Partners(company) {
		if p.Customer == name {
			return true
		}
	}
	return false
}

// newBrowser starts headless Chromium with a window of width × 900.
func newBrowser(t *testing.T, width int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // required as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first Do starts the browser for the life of ctx (no timeout on
	// it; each step gets its own below).
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	return ctx
}

// stepTimeout bounds one group of browser steps (waits included).
const stepTimeout = 30 * time.Second

// do runs browser steps, failing the test on error or after stepTimeout.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(tctx, steps...))
}

// run runs one browser action that returns a value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	require.NoError(t, err)
	return v
}

// text returns the trimmed text of the first element matching the CSS
// selector sel.
//
// htmx swaps polled fragments (a run's progress) while the test reads them,
// so a node found a moment ago can be gone when its text is asked for; the
// read is then tried again on the fresh node.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		tctx, cancel := context.WithTimeout(ctx, stepTimeout)
		v, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return strings.TrimSpace(v)
		}
		if !strings.Contains(err.Error(), "No node with given id") || time.Now().After(deadline) {
			require.NoError(t, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}
func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// screenshot saves the page as docs/screenshots/name.png when
// MKSYNC_UPDATE_SCREENSHOTS=1.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("MKSYNC_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	png := run(t, ctx, chromedp.FullScreenshot(100))
	dir := filepath.Join("..", "docs", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// signIn signs in through the form and lands on the dashboard.
func signIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/"),
		visible(`#token`),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		click(`form[action="/login"] button[type=submit]`),
		visible(`#connection`),
	)
	require.Equal(t, "Dashboard", text(t, ctx, `main h1`))
}

func TestBrowser(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 1440)
	base := w.srv.URL

	t.Run("sign in and test the connection", func(t *testing.T) {
		signIn(t, ctx, base, w.a.Token)
		do(t, ctx, click(`#connection button`), visible(`#connection .flash-ok`))
		require.Contains(t, text(t, ctx, `#connection .flash-ok`), "Connected")
	})

	t.Run("sync one contact to Metakocka", func(t *testing.T) {
		id := w.createContactViaAPI(t, w.a.Token, "Zala Novak")
		row := `#row-` + id
		do(t, ctx,
			chromedp.Navigate(base+"/contacts"),
			visible(row+` .badge-unsynced`),
			click(row+` .sync-menu summary`),
			click(row+` button.sync-to`),
			visible(row+` .badge-synced`),
			visible(`#flash .flash-ok`),
		)
		require.Equal(t, "Synced", text(t, ctx, row+` .badge`))
		mkID := text(t, ctx, row+` .mk-id`)
		require.NotEmpty(t, mkID)
		require.True(t, w.partnerNamed(w.compA, "Zala Novak"), "the partner is in the simulator")
		m, err := w.store.FindMapping(context.Background(), w.a.ID, mksync.EntityContact, id)
		require.NoError(t, err)
		require.Equal(t, mkID, m.MetakockaID)
		screenshot(t, ctx, "contacts")
	})

	t.Run("bulk sync shows progress to 100 %", func(t *testing.T) {
		for i := range 40 {
			c := mksync.Contact{Name: fmt.Sprintf("Bulk Customer %02d", i), Email: fmt.Sprintf("bulk%02d@example.com", i), Country: "SI"}
			require.NoError(t, w.store.CreateContact(context.Background(), w.a.ID, &c))
		}
		w.fake.SetFaults(w.compA, mkfake.Faults{Latency: 40 * time.Millisecond})
		defer w.fake.ClearFaults(w.compA)
		do(t, ctx,
			chromedp.Navigate(base+"/contacts"),
			click(`form.inline-actions input[name=scope][value=all] ~ button[value=to_metakocka]`),
			confirmPreview(),
		)
		// Catch it running with some progress, for the screenshot.
		var status, processed string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			status = run(t, ctx, chromedp.AttributeValue(chromedp.CSS(`#run-progress`), "data-status")).Value
			processed = text(t, ctx, `#run-progress .processed`)
			if status != string(mksync.RunQueued) && status != string(mksync.RunRunning) || processed != "0" {
				break
			}
		}
		if status == string(mksync.RunRunning) {
			screenshot(t, ctx, "sync-running")
		} else {
			t.Logf("the run was %s before a screenshot of it running", status)
		}
		do(t, ctx, visible(`#run-progress[data-status=succeeded]`))
		require.Equal(t, "100 %", text(t, ctx, `#run-progress .percent`))
		require.Equal(t, "41", text(t, ctx, `#run-progress .processed`), "the applied plan: the 40 new contacts and the tenant's first (the one synced before is unchanged, so not in it)")
		for i := range 40 {
			require.True(t, w.partnerNamed(w.compA, fmt.Sprintf("Bulk Customer %02d", i)))
		}
	})

	t.Run("a failed sync shows its errorId", func(t *testing.T) {
		id := w.createContactViaAPI(t, w.a.Token, "Failing Customer")
		w.fake.FailNext(w.compA, 50, mkfake.FaultHTTP500)
		defer w.fake.ClearFaults(w.compA)
		row := `#row-` + id
		do(t, ctx,
			chromedp.Navigate(base+"/contacts?q=Failing"),
			visible(row),
			click(row+` .sync-menu summary`),
			click(row+` button.sync-to`),
			visible(`#flash .flash-error .error-id`),
			visible(row+` .badge-failed`),
		)
		errorID := text(t, ctx, `#flash .flash-error .error-id`)
		require.Contains(t, text(t, ctx, `#flash .flash-error .flash-msg`), "Failing Customer failed")
		rec, err := w.store.FindErrorRecord(context.Background(), w.a.ID, errorID)
		require.NoError(t, err, "the errorId shown is a stored error record")
		require.Equal(t, id, rec.EntityID)
		w.fake.ClearFaults(w.compA)
		screenshot(t, ctx, "sync-error-row")
		// The client logger reported the failed request, with its errorId.
		require.Eventually(t, func() bool {
			recs := clientRecords(t, w)
			return len(recs) == 1 && recs[0].Details["errorId"] == errorID && recs[0].Code == "http_502" &&
				recs[0].Operation == "htmx POST /contacts/"+id+"/sync-to-metakocka"
		}, 10*time.Second, 50*time.Millisecond)

		do(t, ctx, click(`#flash .flash-error a`), visible(`h1 .error-id`))
		require.Equal(t, errorID, text(t, ctx, `h1 .error-id`))
		screenshot(t, ctx, "error")

		// The record's page lists the error too.
		do(t, ctx, chromedp.Navigate(base+"/contacts/"+id), visible(`#err-h`))
		require.Contains(t, text(t, ctx, `#err-h + .table-wrap`), errorID)
	})

	t.Run("a bulk sync with failures links each to its error", func(t *testing.T) {
		var ids []string
		for i := range 3 {
			ids = append(ids, w.createContactViaAPI(t, w.a.Token, fmt.Sprintf("Partial Customer %d", i)))
		}
		w.fake.FailNextMethod(w.compA, "add_partner", 1000, mkfake.FaultOprError)
		defer w.fake.ClearFaults(w.compA)
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/contacts?q=Partial"), visible(`#row-` + ids[0])}
		for _, id := range ids {
			steps = append(steps, click(`input[name=id][value="`+id+`"]`))
		}
		steps = append(steps, click(`#bulk button[value=to_metakocka]`), confirmPreview(), visible(`#run-progress[data-status=partial]`))
		do(t, ctx, steps...)
		require.Equal(t, "100 %", text(t, ctx, `#run-progress .percent`))
		errs := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.record-errors .error-id')].map(e => e.textContent)`))
		require.Len(t, errs, 3)
		for _, id := range errs {
			_, err := w.store.FindErrorRecord(context.Background(), w.a.ID, id)
			require.NoError(t, err, "each failed record links to its stored error")
		}
		do(t, ctx, click(`.record-errors a[href^="/errors/"]`), visible(`h1 .error-id`))
		require.Contains(t, errs, text(t, ctx, `h1 .error-id`))
	})

	t.Run("import a record that is only in Metakocka", func(t *testing.T) {
		w.fake.SeedProducts(w.compA, 3)
		do(t, ctx, chromedp.Navigate(base+"/products/in-metakocka"), visible(`table button[aria-label^="Import"]`))
		title := text(t, ctx, `tbody tr td:nth-child(2)`)
		do(t, ctx, click(`table button[aria-label^="Import"]`), visible(`tbody tr td:nth-child(2) a`), visible(`#flash .flash-ok`))
		require.Contains(t, text(t, ctx, `#flash .flash-ok`), "Imported product")
		ps, _, err := w.store.FindProducts(context.Background(), w.a.ID, mksync.ListFilter{})
		require.NoError(t, err)
		require.Len(t, ps, 1)
		require.Equal(t, title, strings.TrimSpace(ps[0].Code+" "+ps[0].Name))
	})

	t.Run("the client logger reports script errors", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/contacts"), visible(`main h1`))
		_ = run(t, ctx, chromedp.Evaluate[int](`setTimeout(() => { throw new Error("probe from the browser test") }, 0), 1`))
		require.Eventually(t, func() bool {
			for _, r := range clientRecords(t, w) {
				if strings.Contains(r.Message, "probe from the browser test") && r.Operation == "js.error" && r.Details["url"] == "/contacts" {
					return true
				}
			}
			return false
		}, 10*time.Second, 50*time.Millisecond)
	})

	t.Run("a forged cross-site form post is refused", func(t *testing.T) {
		victim := w.createContactViaAPI(t, w.a.Token, "Victim Customer")
		evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(rw, `<!doctype html><form id=f method=post action="%s/contacts/%s/sync-to-metakocka"><input name=csrf value=guess></form><script>document.getElementById('f').submit()</script>`, base, victim)
		}))
		defer evil.Close()
		evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) // another site
		do(t, ctx, chromedp.Navigate(evilURL), visible(`.problem h1`))
		require.Equal(t, "Not allowed", text(t, ctx, `.problem h1`))
		require.Contains(t, text(t, ctx, `.problem .flash-msg`), "ross-origin")
		require.False(t, w.partnerNamed(w.compA, "Victim Customer"), "nothing was synced")
		_, err := w.store.FindMapping(context.Background(), w.a.ID, mksync.EntityContact, victim)
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	})

	t.Run("another tenant's record is not found", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/contacts/"+w.b.ContactID), visible(`main h1`))
		require.Equal(t, "Not found", text(t, ctx, `main h1`))
		require.NotContains(t, text(t, ctx, `main`), "Tenant B Customer")
	})

	t.Run("the dashboard sums it up", func(t *testing.T) {
		_, err := w.store.OpenAlert(context.Background(), w.a.ID, &mksync.Alert{Key: "consecutive_failures:contact", Severity: "warning",
			Message: "3 contacts in a row failed to sync to Metakocka", OpenedAt: time.Now(), UpdatedAt: time.Now()})
		require.NoError(t, err)
		do(t, ctx, chromedp.Navigate(base+"/"), visible(`#connection`))
		counts := text(t, ctx, `.counts-table tbody tr`)
		require.Contains(t, counts, "Contacts")
		require.Contains(t, text(t, ctx, `#alerts-h + ul`), "3 contacts in a row failed")
		require.Contains(t, text(t, ctx, `#runs-h + .table-wrap`), "partial")
		screenshot(t, ctx, "dashboard")
	})
}

// TestBrowserNarrow checks the pages at a phone's width (375 px): no
// horizontal scrolling of the page itself (wide tables scroll in place).
func TestBrowserNarrow(t *testing.T) {
	w := newWorld(t)
	ctx := newBrowser(t, 375)
	do(t, ctx, chromedp.EmulateViewport(375, 812))
	// Sign in with the keyboard only: tab to the field, type, press Enter.
	do(t, ctx,
		chromedp.Navigate(w.srv.URL+"/login"),
		visible(`#token`),
		chromedp.SendKeys(chromedp.CSS(`#token`), w.a.Token+kb.Enter),
		visible(`#connection`),
	)
	// The pages that grew: a contact with its partner fields and a
	// conflict, a product with stock in several warehouses, the preview of
	// a selected sync.
	bg := context.Background()
	c, err := w.store.FindContactByID(bg, w.a.ID, w.a.ContactID)
	require.NoError(t, err)
	c.ContactPerson, c.PaymentDueDays, c.Taxpayer = "Ana Novak Kovač", 30, true
	c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry = "Dolga ulica s predolgim imenom 123", "2000", "Maribor", "Slovenija"
	require.NoError(t, w.store.UpdateContact(bg, w.a.ID, &c))
	require.NoError(t, w.store.CreateErrorRecord(bg, w.a.ID, &mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka",
		EntityID: c.ID, Code: mksync.ECONFLICT, Message: "email changed in the CRM and in Metakocka since the last sync", CreatedAt: time.Now(),
		Details: map[string]any{"policy": "newest_wins", "winner": "metakocka", "fields": []map[string]any{
			{"field": "email", "crm": "a.very.long.address.of.the.crm@example.com", "metakocka": "another.very.long.address@example.com"},
			{"field": "deliveryStreet", "crm": "Dolga ulica s predolgim imenom 123", "metakocka": nil}}}}))
	pr := mksync.Product{Code: "STOCK-1", Name: "Stocked in several warehouses", StockAmount: decimal.RequireFromString("1234.5")}
	require.NoError(t, w.store.CreateProduct(bg, w.a.ID, &pr))
	require.NoError(t, w.store.SetWarehouseStock(bg, w.a.ID, pr.ID, []mksync.WarehouseStock{
		{WarehouseID: "91", Mark: "GLAVNO", Name: "Glavno skladišče Ljubljana", Amount: decimal.RequireFromString("1000")},
		{WarehouseID: "92", Mark: "MB", Name: "Skladišče Maribor", Amount: decimal.RequireFromString("234.5")}}))
	do(t, ctx, chromedp.Navigate(w.srv.URL+"/contacts"), visible(`#row-`+c.ID),
		click(`input[name=id][value="`+c.ID+`"]`), click(`#bulk button[value=to_metakocka]`), visible(`#preview[data-status=succeeded]`))
	preview := run(t, ctx, chromedp.Evaluate[string](`location.pathname`))
	require.Contains(t, preview, "/previews/")

	for _, path := range []string{"/", "/contacts", "/runs", "/errors", "/settings", "/contacts/decisions", "/first-connect", "/contacts/" + w.a.ContactID,
		"/products/" + pr.ID, preview} {
		do(t, ctx, chromedp.Navigate(w.srv.URL+path), visible(`main h1`))
		scrollW := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		clientW := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
		require.LessOrEqual(t, scrollW, clientW, "%s scrolls sideways at 375 px", path)
		if path == "/contacts" {
			screenshot(t, ctx, "contacts-375px")
		}
		if path == "/contacts/"+w.a.ContactID {
			do(t, ctx, visible(`#conflict`), visible(`#partner`))
			screenshot(t, ctx, "contact-375px")
		}
		if path == "/products/"+pr.ID {
			do(t, ctx, visible(`table.stock`))
		}
	}
}
