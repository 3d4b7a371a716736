package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/web"
)

func TestSignedOutIsRedirectedToSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser()
	for _, path := range []string{"/", "/contacts", "/contacts/" + b.a.ContactID, "/runs", "/errors", "/settings"} {
		p := br.get(path)
		require.Equal(t, http.StatusSeeOther, p.Status, path)
		require.Equal(t, "/login?next="+url.QueryEscape(path), p.Location, path)
	}
	// htmx gets HX-Redirect instead of a redirect it would follow silently.
	p := br.get("/runs/x/progress", "HX-Request", "true")
	require.Equal(t, http.StatusUnauthorized, p.Status)
	require.Equal(t, "/login?next=%2Fruns%2Fx%2Fprogress", p.Header.Get("HX-Redirect"))
	// Posts go to sign in too, without running anything.
	p = br.post("/contacts/"+b.a.ContactID+"/sync-to-metakocka", url.Values{})
	require.Equal(t, http.StatusSeeOther, p.Status)
	require.Empty(t, b.syncer.Calls())
	// The static assets need no session.
	require.Equal(t, http.StatusOK, br.get("/static/htmx.min.js").Status)
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser()
	p := br.get("/login")
	csrf := loginCSRF.FindStringSubmatch(p.Body)[1]

	t.Run("wrong token", func(t *testing.T) {
		p := br.post("/login", url.Values{"csrf": {csrf}, "token": {"mks_nope"}})
		require.Equal(t, http.StatusUnauthorized, p.Status)
		require.Contains(t, p.Body, "unknown or revoked")
	})
	t.Run("login form without its csrf token", func(t *testing.T) {
		p := br.post("/login", url.Values{"token": {b.a.Token}})
		require.Equal(t, http.StatusForbidden, p.Status)
	})
	t.Run("cookie flags", func(t *testing.T) {
		p := br.get("/login")
		csrf := loginCSRF.FindStringSubmatch(p.Body)[1]
		req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/login", strings.NewReader(url.Values{"csrf": {csrf}, "token": {b.a.Token}, "next": {"//evil.example/x"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := br.client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/", res.Header.Get("Location"), "never redirect off-site")
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "mksync_session" {
				session = c
			}
		}
		require.NotNil(t, session)
		require.True(t, session.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, session.SameSite)
		require.NotContains(t, session.Value, b.a.Token, "the cookie never holds the token")
	})
	t.Run("signed in, then out", func(t *testing.T) {
		p := br.get("/")
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, "Tenant A")
		p = br.post("/logout", br.form())
		require.Equal(t, http.StatusSeeOther, p.Status)
		require.Equal(t, http.StatusSeeOther, br.get("/").Status)
	})
}

// TestSignInRedirectStaysOnSite: the next parameter of a phishing link
// never sends a freshly signed-in browser to another site, however it is
// encoded (the review's /x/../%5Cevil.com came back as Location: /\evil.com).
func TestSignInRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hostile := []string{
		"/x/../%5Cevil.example", "/x/..%2F%5Cevil.example", "%2F%2Fevil.example", "/%5C%5Cevil.example",
		"/%09/evil.example", "https:%2F%2Fevil.example", "/x/../../%2F%2Fevil.example", "/%0A/evil.example",
	}
	offSite := func(loc string) bool {
		u, err := url.Parse(loc)
		return err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(loc, "/") ||
			strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t\n\r")
	}
	for _, next := range hostile {
		br := b.browser()
		// Signing in with the link's next.
		p := br.get("/login?next=" + next)
		require.Equal(t, http.StatusOK, p.Status)
		csrf := loginCSRF.FindStringSubmatch(p.Body)[1]
		q, err := url.ParseQuery("next=" + next)
		require.NoError(t, err)
		p = br.post("/login", url.Values{"csrf": {csrf}, "token": {b.a.Token}, "next": {q.Get("next")}})
		require.Equal(t, http.StatusSeeOther, p.Status, next)
		require.False(t, offSite(p.Location), "%s → %q", next, p.Location)
		// Already signed in: the form redirects at once.
		p = br.get("/login?next=" + next)
		require.Equal(t, http.StatusSeeOther, p.Status, next)
		require.False(t, offSite(p.Location), "%s → %q", next, p.Location)
	}
}

// A session cookie saved before signing out (a copy in another browser, a
// stolen one) opens nothing afterwards: signing out ends every session of
// the token, while other tokens' sessions live on.
func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	other := b.browser().login(b.a.Token) // the same token in a second browser
	tenantB := b.browser().login(b.b.Token)
	saved := br.client.Jar.Cookies(mustURL(t, b.srv.URL))
	require.NotEmpty(t, saved)

	p := br.post("/logout", br.form())
	require.Equal(t, http.StatusSeeOther, p.Status)

	replay := b.browser()
	replay.client.Jar.SetCookies(mustURL(t, b.srv.URL), saved)
	p = replay.get("/settings")
	require.Equal(t, http.StatusSeeOther, p.Status, "the saved cookie still opened the settings")
	require.True(t, strings.HasPrefix(p.Location, "/login"), p.Location)
	require.Equal(t, http.StatusSeeOther, other.get("/settings").Status)
	require.Equal(t, http.StatusOK, tenantB.get("/settings").Status, "another tenant's session")

	// Signing in again works.
	require.Equal(t, http.StatusOK, b.browser().login(b.a.Token).get("/settings").Status)
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

// Behind a TLS proxy (SecureCookies, from MKSYNC_PUBLIC_URL=https://…) the
// cookies are Secure and answers carry HSTS; on plain HTTP without it,
// neither (a Secure cookie would never come back).
func TestSecureCookiesAndHSTS(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		b := setup(t, func(c *web.Config) { c.SecureCookies = secure })
		res, err := http.Get(b.srv.URL + "/login")
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		if secure {
			require.Equal(t, "max-age=31536000", res.Header.Get("Strict-Transport-Security"))
		} else {
			require.Empty(t, res.Header.Get("Strict-Transport-Security"))
		}
		require.NotEmpty(t, res.Cookies())
		for _, c := range res.Cookies() {
			require.Equal(t, secure, c.Secure, c.Name)
		}
	}
	// Under TLS itself, always.
	b := setup(t)
	tls := httptest.NewTLSServer(b.srv.Config.Handler)
	t.Cleanup(tls.Close)
	res, err := tls.Client().Get(tls.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	require.NotEmpty(t, res.Header.Get("Strict-Transport-Security"))
	for _, c := range res.Cookies() {
		require.True(t, c.Secure, c.Name)
	}
}

func TestRevokedTokenEndsSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	ctx := context.Background()
	toks, err := b.store.ListAPITokens(ctx, b.a.ID)
	require.NoError(t, err)
	require.NoError(t, b.store.RevokeAPIToken(ctx, b.a.ID, toks[0].ID, time.Now()))
	require.Equal(t, http.StatusSeeOther, br.get("/").Status)
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	path := "/contacts/" + b.a.ContactID + "/sync-to-metakocka"

	// A forged post: the victim's cookie is sent, the CSRF token is not.
	p := br.post(path, url.Values{"csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, p.Status)
	require.Contains(t, p.Body, "expired or was not sent from this site")
	p = br.post(path, url.Values{})
	require.Equal(t, http.StatusForbidden, p.Status)
	// Another session's token does not fit this session.
	other := b.browser().login(b.a.Token)
	p = br.post(path, url.Values{"csrf": {other.csrf}})
	require.Equal(t, http.StatusForbidden, p.Status)
	// A cross-origin browser request is refused whatever it carries.
	p = br.post(path, br.form(), "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, p.Status)
	p = br.post(path, br.form(), "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, p.Status)
	require.Empty(t, b.syncer.Calls(), "nothing forged ran")

	// The real token works, in the form or in htmx's header.
	p = br.post(path, br.form())
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	p = br.post(path, url.Values{}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Len(t, b.syncer.Calls(), 2)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	// Tenant B's records, runs and errors are not found for tenant A.
	ctx := context.Background()
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI, Status: mksync.RunQueued}
	require.NoError(t, b.store.CreateSyncRun(ctx, b.b.ID, &run))
	rec := mksync.ErrorRecord{ID: "err-of-b", Category: observe.CatSync, Operation: "x", Code: mksync.EUPSTREAM, Message: "b's failure", CreatedAt: time.Now()}
	require.NoError(t, b.store.CreateErrorRecord(ctx, b.b.ID, &rec))

	for _, path := range []string{"/contacts/" + b.b.ContactID, "/runs/" + run.ID, "/errors/err-of-b", "/products/" + b.b.ContactID} {
		p := br.get(path)
		require.Equal(t, http.StatusNotFound, p.Status, path)
		require.Contains(t, p.Body, "Not found", path)
		require.NotContains(t, p.Body, "Tenant B Customer", path)
	}
	p := br.post("/contacts/"+b.b.ContactID+"/sync-to-metakocka", br.form())
	require.Equal(t, http.StatusNotFound, p.Status)
	p = br.post("/contacts/sync", br.form("direction", "to_metakocka", "id", b.b.ContactID))
	require.Equal(t, http.StatusNotFound, p.Status)
	require.Empty(t, b.syncer.Calls())
	// Search by errorId does not find another tenant's error either.
	p = br.get("/errors?q=err-of-b")
	require.Equal(t, http.StatusNotFound, p.Status)
	require.Contains(t, p.Body, "No error with id")
	// A's own record is there.
	p = br.get("/contacts/" + b.a.ContactID)
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Tenant A Customer")
}

func TestListAndRowSync(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	p := br.get("/contacts")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Tenant A Customer")
	require.Contains(t, p.Body, `badge-unsynced`)
	require.NotContains(t, p.Body, "Tenant B Customer")

	// htmx gets the row back with its new state, and the message out of band.
	p = br.post("/contacts/"+b.a.ContactID+"/sync-to-metakocka", url.Values{}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusOK, p.Status)
	require.True(t, strings.HasPrefix(p.Body, `<tr id="row-`+b.a.ContactID), p.Body)
	require.Contains(t, p.Body, "badge-synced")
	require.Contains(t, p.Body, `hx-swap-oob="innerHTML"`)
	require.Contains(t, p.Body, "synced to Metakocka: created")

	// The filter finds it by state; search narrows.
	require.Contains(t, br.get("/contacts?state=synced").Body, "Tenant A Customer")
	require.NotContains(t, br.get("/contacts?state=unsynced").Body, "Tenant A Customer")
	require.NotContains(t, br.get("/contacts?q=nobody").Body, "Tenant A Customer")
	require.Equal(t, http.StatusBadRequest, br.get("/contacts?state=bogus").Status)

	// Pulling uses the mapping's mk_id.
	p = br.post("/contacts/"+b.a.ContactID+"/sync-from-metakocka", br.form())
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, b.syncer.Calls(), "from contact mk-"+b.a.ContactID[len(b.a.ContactID)-4:])
}

func TestSyncFailureShowsErrorID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	b.syncer.SetErr(&mksync.Error{Code: mksync.EUPSTREAM, Message: "Metakocka failed (errorId e-123)", Details: map[string]string{"errorId": "e-123"}})
	p := br.post("/contacts/"+b.a.ContactID+"/sync-to-metakocka", url.Values{}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusBadGateway, p.Status)
	require.Equal(t, "e-123", p.Header.Get("X-Error-Id"))
	require.Contains(t, p.Body, `href="/errors/e-123"`)
	require.Contains(t, p.Body, `role="alert"`)

	// Without htmx: a full page, never a blank one.
	p = br.post("/contacts/"+b.a.ContactID+"/sync-to-metakocka", br.form())
	require.Equal(t, http.StatusBadGateway, p.Status)
	require.Contains(t, p.Body, "<!doctype html>")
	require.Contains(t, p.Body, "e-123")

	// A failure without an engine errorId gets a stored error record.
	b.syncer.SetErr(mksync.Errorf(mksync.EUPSTREAM, "Metakocka unreachable"))
	p = br.post("/connection/test", url.Values{}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusBadRequest, p.Status, "no credentials yet")
	require.NoError(t, b.store.SetCredentials(context.Background(), b.a.ID, &mksync.MetakockaCredentials{CompanyID: "16", SecretKey: "s"}))
	p = br.post("/connection/test", url.Values{}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusBadGateway, p.Status)
	id := p.Header.Get("X-Error-Id")
	require.NotEmpty(t, id)
	rec, err := b.store.FindErrorRecord(context.Background(), b.a.ID, id)
	require.NoError(t, err)
	require.Equal(t, "UI", rec.Category)
	require.Contains(t, br.get("/errors/"+id).Body, "Metakocka unreachable")
}

func TestBulkSync(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	// Sync selected: a preview of exactly those records first, as "Sync
	// all" (nothing runs for real before a person confirms).
	p := br.post("/contacts/sync", br.form("direction", "to_metakocka", "scope", "selected", "id", b.a.ContactID))
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	require.True(t, strings.HasPrefix(p.Location, "/previews/"), p.Location)
	require.Equal(t, "start contact to_metakocka ui "+b.a.ContactID+" dry", b.syncer.Calls()[0])
	pv, err := b.store.FindSyncRun(context.Background(), b.a.ID, strings.TrimPrefix(p.Location, "/previews/"))
	require.NoError(t, err)
	require.True(t, pv.DryRun)

	// Pulling the selected records previews them by their mk_ids.
	require.NoError(t, b.store.UpsertMapping(context.Background(), b.a.ID, &mksync.Mapping{EntityType: mksync.EntityContact,
		EntityID: b.a.ContactID, MetakockaID: "4242", State: mksync.StateSynced}))
	p = br.post("/contacts/sync", br.form("direction", "from_metakocka", "scope", "selected", "id", b.a.ContactID))
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	require.True(t, strings.HasPrefix(p.Location, "/previews/"), p.Location)
	require.Equal(t, "start contact from_metakocka ui 4242 dry", b.syncer.Calls()[1])
	require.NoError(t, b.store.DeleteMapping(context.Background(), b.a.ID, mksync.EntityContact, b.a.ContactID))

	// The run page polls its progress while the run is not final.
	queued := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI, Status: mksync.RunQueued}
	require.NoError(t, b.store.CreateSyncRun(context.Background(), b.a.ID, &queued))
	runURL := "/runs/" + queued.ID
	run := br.get(runURL)
	require.Equal(t, http.StatusOK, run.Status)
	require.Contains(t, run.Body, `hx-get="`+runURL+`/progress"`)
	frag := br.get(runURL+"/progress", "HX-Request", "true")
	require.Equal(t, http.StatusOK, frag.Status)
	require.True(t, strings.HasPrefix(frag.Body, `<section id="run-progress"`))

	// Sync all, with htmx: a preview first, HX-Redirect to it.
	p = br.post("/products/sync", url.Values{"scope": {"all"}, "direction": {"from_metakocka"}}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusNoContent, p.Status)
	require.True(t, strings.HasPrefix(p.Header.Get("HX-Redirect"), "/previews/"))
	require.Equal(t, "start product from_metakocka ui  dry", b.syncer.Calls()[2])

	// Nothing selected is a clear message, not a run.
	p = br.post("/contacts/sync", br.form("direction", "to_metakocka"))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "Select at least one contact")
	// Pulling a record that is not in Metakocka yet says so.
	p = br.post("/contacts/sync", br.form("direction", "from_metakocka", "id", b.a.ContactID))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "not in Metakocka yet")
}

func TestRemoteImportAndSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	p := br.get("/contacts/in-metakocka")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Remote Partner d.o.o.")
	p = br.post("/contacts/import", url.Values{"mkId": {"9001"}, "title": {"Remote Partner d.o.o."}}, "X-CSRF-Token", br.csrf, "HX-Request", "true")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Imported contact 9001")
	require.Contains(t, b.syncer.Calls(), "from contact 9001")

	// Settings: domain validation shows per field; secrets are write-only.
	p = br.post("/settings", br.form("companyId", "", "batchSize", "9999", "schedule", "soon"))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "Schedule must be a duration")
	p = br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key", "batchSize", "9999"))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "Batch size must be between 1 and 500")
	p = br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key", "conflictPolicy", "crm_wins", "schedule", "15m", "webhookSecret", "hook-secret-0123456789"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, "Settings saved")
	require.NotContains(t, p.Body, "top-secret-key")
	require.NotContains(t, p.Body, "hook-secret")
	// Saving again without the secret keeps it.
	p = br.post("/settings", br.form("companyId", "17", "conflictPolicy", "newest_wins"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err := b.store.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "17", c.CompanyID)
	require.Equal(t, "top-secret-key", c.SecretKey.Reveal())
	require.Contains(t, br.get("/settings").Body, "/webhooks/metakocka/"+c.WebhookID+"/stock")
}

func TestClientErrorReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	body := `{"message":"boom","operation":"js.error","code":"js_error","url":"/contacts","context":{"line":"3","password":"hunter2"}}`
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/client-errors", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", br.csrf)
	p := br.do(req)
	require.Equal(t, http.StatusAccepted, p.Status, p.Body)
	recs, _, err := b.store.FindErrorRecords(context.Background(), b.a.ID, mksync.ErrorFilter{Category: observe.CatClient})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, "boom", recs[0].Message)
	require.Equal(t, observe.Redacted, recs[0].Details["password"])

	// Without the CSRF header it is refused; a bad body is invalid.
	req, _ = http.NewRequest(http.MethodPost, b.srv.URL+"/client-errors", strings.NewReader(body))
	require.Equal(t, http.StatusForbidden, br.do(req).Status)
	req, _ = http.NewRequest(http.MethodPost, b.srv.URL+"/client-errors", strings.NewReader(`{"message":""}`))
	req.Header.Set("X-CSRF-Token", br.csrf)
	require.Equal(t, http.StatusBadRequest, br.do(req).Status)
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	for _, path := range []string{"/", "/contacts", "/products", "/sales-documents", "/runs", "/runs?status=failed&direction=to_metakocka", "/errors", "/settings", "/contacts/" + b.a.ContactID} {
		p := br.get(path)
		require.Equal(t, http.StatusOK, p.Status, path)
		require.Contains(t, p.Body, "</html>", path)
		require.Equal(t, "text/html; charset=utf-8", p.Header.Get("Content-Type"))
		require.Contains(t, p.Header.Get("Content-Security-Policy"), "script-src 'self'")
	}
	p := br.get("/no/such/page")
	require.Equal(t, http.StatusNotFound, p.Status)
	require.Contains(t, p.Body, "There is no page at this address")
	require.Equal(t, http.StatusBadRequest, br.get("/runs?status=bogus").Status)
}

func TestMount(t *testing.T) {
	t.Parallel()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(298) })
	h := web.Mount(api, ui)
	for path, want := range map[string]int{"/api/contacts": 299, "/api": 299, "/api//x": 299, "/healthz": 299, "/readyz": 299,
		"/": 298, "/apix": 298, "/contacts": 298, "/static/app.css": 298} {
		rec := &statusRecorder{}
		h.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}})
		require.Equal(t, want, rec.status, path)
	}
}

type statusRecorder struct {
	status int
}

func (r *statusRecorder) Header() http.Header         { return http.Header{} }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(code int)        { r.status = code }

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	_, err := web.New(web.Config{})
	require.ErrorContains(t, err, "Store is required")
	b := setup(t)
	_, err = web.New(web.Config{Store: b.store, SessionKey: []byte("short")})
	require.ErrorContains(t, err, "SessionKey")
}

func TestErrorsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	ctx := context.Background()
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02 15:04", s)
		require.NoError(t, err)
		return d
	}
	for _, rec := range []mksync.ErrorRecord{
		{ID: "e-old-sync", Category: observe.CatSync, Operation: "sync contact", Code: mksync.EUPSTREAM, Message: "old sync failure", CreatedAt: day("2025-03-01 10:00")},
		{ID: "e-mid-push", Category: observe.CatSync, Operation: "push product", Code: mksync.EUPSTREAM, Message: "mid push failure", CreatedAt: day("2025-03-05 23:30")},
		{ID: "e-new-sync", Category: observe.CatMetakocka, Operation: "sync contact", Code: mksync.EUPSTREAM, Message: "new sync failure", CreatedAt: day("2025-03-09 00:10")},
	} {
		require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &rec))
	}
	shown := func(path string) []string {
		t.Helper()
		p := br.get(path)
		require.Equal(t, http.StatusOK, p.Status, path+": "+p.Body)
		var ids []string
		for _, id := range []string{"e-old-sync", "e-mid-push", "e-new-sync"} {
			if strings.Contains(p.Body, `href="/errors/`+id+`"`) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	require.Equal(t, []string{"e-old-sync", "e-mid-push", "e-new-sync"}, shown("/errors"))
	require.Equal(t, []string{"e-old-sync", "e-new-sync"}, shown("/errors?operation=sync+contact"))
	require.Equal(t, []string{"e-old-sync"}, shown("/errors?operation=sync+contact&category="+observe.CatSync))
	// Both ends are whole days, inclusive.
	require.Equal(t, []string{"e-mid-push"}, shown("/errors?since=2025-03-05&until=2025-03-05"))
	require.Equal(t, []string{"e-mid-push", "e-new-sync"}, shown("/errors?since=2025-03-02"))
	require.Equal(t, []string{"e-old-sync", "e-mid-push"}, shown("/errors?until=2025-03-08"))
	require.Equal(t, []string{"e-new-sync"}, shown("/errors?operation=sync+contact&since=2025-03-02&until=2025-03-09"))

	// The form shows back what was searched for.
	p := br.get("/errors?operation=push+product&since=2025-03-01&until=2025-03-31")
	require.Contains(t, p.Body, `<option value="push product" selected>push product</option>`)
	// The operation is chosen from those of the tenant's error records.
	require.Contains(t, p.Body, `<option value="sync contact">sync contact</option>`)
	require.Contains(t, p.Body, `name="since" type="date" value="2025-03-01"`)
	require.Contains(t, p.Body, `name="until" type="date" value="2025-03-31"`)

	for _, bad := range []string{"since=yesterday", "until=2025-13-01", "since=2025-03-09&until=2025-03-01", "operation=" + strings.Repeat("x", 201)} {
		require.Equal(t, http.StatusBadRequest, br.get("/errors?"+bad).Status, bad)
	}
}

func TestErrorsNextPageKeepsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *web.Config) { c.PageSize = 1 })
	br := b.browser().login(b.a.Token)
	ctx := context.Background()
	for i, id := range []string{"e-1", "e-2", "e-3"} {
		rec := mksync.ErrorRecord{ID: id, Category: observe.CatSync, Operation: "sync contact", Code: mksync.EUPSTREAM, Message: "failure", CreatedAt: time.Date(2025, 3, 1+i, 12, 0, 0, 0, time.UTC)}
		require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &rec))
	}
	p := br.get("/errors?operation=sync+contact&since=2025-03-02")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, `href="/errors/e-3"`)
	m := regexp.MustCompile(`href="(/errors\?[^"]+)" rel="next"`).FindStringSubmatch(p.Body)
	require.NotNil(t, m, p.Body)
	next := html.UnescapeString(m[1])
	require.Contains(t, next, "operation=sync+contact")
	require.Contains(t, next, "since=2025-03-02")
	p = br.get(next)
	require.Contains(t, p.Body, `href="/errors/e-2"`)
	require.NotContains(t, p.Body, `href="/errors/e-1"`)
}

func TestSettingsAlertWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	const secret = "alert-secret-0123456789"
	p := br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key", "alertWebhookUrl", "https://alerts.example/hook", "alertWebhookSecret", secret))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, `value="https://alerts.example/hook"`)
	require.NotContains(t, p.Body, secret)
	c, err := b.store.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example/hook", c.AlertWebhookURL)
	require.Equal(t, secret, c.AlertWebhookSecret.Reveal())

	// Saving without the secret keeps it; the page never shows it.
	p = br.post("/settings", br.form("companyId", "16", "alertWebhookUrl", "https://alerts.example/other"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err = b.store.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example/other", c.AlertWebhookURL)
	require.Equal(t, secret, c.AlertWebhookSecret.Reveal())
	require.NotContains(t, br.get("/settings").Body, secret)

	// Bad values show per field and change nothing.
	p = br.post("/settings", br.form("companyId", "16", "alertWebhookUrl", "ftp://alerts.example/hook"))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "URL must be an absolute http(s) URL")
	p = br.post("/settings", br.form("companyId", "16", "alertWebhookUrl", "https://alerts.example/x", "alertWebhookSecret", "short"))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "Secret must be at least 16 bytes")
	c, err = b.store.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example/other", c.AlertWebhookURL)

	// An empty URL removes it.
	p = br.post("/settings", br.form("companyId", "16"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err = b.store.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Empty(t, c.AlertWebhookURL)
	require.True(t, c.AlertWebhookSecret.IsZero())
}

// The settings page refuses a Metakocka URL the deployment does not allow,
// like the REST API, and stores nothing.
func TestSettingsRefuseMetakockaURLNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	p := br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key", "metakockaUrl", "http://169.254.169.254"))
	require.Equal(t, http.StatusBadRequest, p.Status, p.Body)
	require.Contains(t, p.Body, "not a Metakocka URL this server connects to")
	_, err := b.store.FindCredentials(context.Background(), b.a.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))

	p = br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key", "metakockaUrl", mksync.DefaultMetakockaURL))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
}

// The UI's sync actions draw on the tenant's sync budget (shared with the
// REST API in serve): past it they answer 429 with Retry-After and start
// nothing; another tenant's budget is its own.
func TestSyncActionsAreRateLimited(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	used := map[string]int{}
	b := setup(t, func(c *web.Config) {
		c.SyncLimit = func(_ context.Context, tenantID string) (bool, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			used[tenantID]++
			return used[tenantID] <= 2, 30 * time.Second
		}
	})
	br := b.browser().login(b.a.Token)
	path := "/contacts/" + b.a.ContactID + "/sync-to-metakocka"
	for range 2 {
		require.Equal(t, http.StatusOK, br.post(path, br.form()).Status)
	}
	calls := len(b.syncer.Calls())
	p := br.post(path, br.form())
	require.Equal(t, http.StatusTooManyRequests, p.Status, p.Body)
	require.Equal(t, "30", p.Header.Get("Retry-After"))
	require.Contains(t, p.Body, "Too many syncs in the last minute")
	require.Equal(t, http.StatusTooManyRequests, br.post("/contacts/sync", br.form("all", "1", "direction", "to")).Status)
	require.Equal(t, http.StatusTooManyRequests, br.post("/connection/test", br.form()).Status)
	require.Len(t, b.syncer.Calls(), calls, "nothing started past the budget")

	other := b.browser().login(b.b.Token)
	require.Equal(t, http.StatusOK, other.post("/contacts/"+b.b.ContactID+"/sync-to-metakocka", other.form()).Status)
}

// The settings page says where the price list came from: a discovered list
// is marked and stays discovered when saved unchanged; an undecided one
// asks for a list; entering one makes it chosen.
func TestSettingsPricelistSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.browser().login(b.a.Token)
	p := br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err := b.store.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	c.Settings.Pricelist, c.Settings.PricelistSource = "PC_MAIN", mksync.PricelistDiscovered
	require.NoError(t, b.store.SetCredentials(ctx, b.a.ID, &c))
	require.Contains(t, br.get("/settings").Body, "Discovered from your company")

	p = br.post("/settings", br.form("companyId", "16", "pricelist", "PC_MAIN"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err = b.store.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.PricelistDiscovered, c.Settings.PricelistSource, "saved unchanged")

	c.Settings.Pricelist, c.Settings.PricelistSource = "", mksync.PricelistUndecided
	require.NoError(t, b.store.SetCredentials(ctx, b.a.ID, &c))
	require.Contains(t, br.get("/settings").Body, "carry several price lists")
	p = br.post("/settings", br.form("companyId", "16", "pricelist", "PC_B"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err = b.store.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "PC_B", c.Settings.Pricelist)
	require.Equal(t, mksync.PricelistChosen, c.Settings.PricelistSource)
	require.NotContains(t, p.Body, "Discovered from your company")
}
