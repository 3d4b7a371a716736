package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
	"github.com/mksync/mksync/web"
)

// fakeSyncer is a test-only Syncer for the handler tests: it records calls
// and answers what it is told. The browser tests use the real engine.
type fakeSyncer struct {
	// The job layer's side of mksync.Syncer (PrepareRun, WorkRun,
	// ApplyStock) is never called by a front door: nil, it would panic.
	mksync.Syncer
	mu    sync.Mutex
	calls []string
	err   error
	store mksync.Store
}

func (f *fakeSyncer) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeSyncer) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeSyncer) SetErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSyncer) SyncToMetakocka(ctx context.Context, tenantID string, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	if err := f.record("to " + string(et) + " " + id); err != nil {
		return mksync.SyncResult{Failed: 1}, err
	}
	m := mksync.Mapping{EntityType: et, EntityID: id, MetakockaID: "mk-" + id[len(id)-4:], CountCode: "CC-" + id[len(id)-4:], State: mksync.StateSynced}
	if err := f.store.UpsertMapping(ctx, tenantID, &m); err != nil {
		return mksync.SyncResult{}, err
	}
	return mksync.SyncResult{Success: true, Created: 1}, nil
}

func (f *fakeSyncer) SyncFromMetakocka(_ context.Context, _ string, et mksync.EntityType, mkID string) (mksync.SyncResult, error) {
	if err := f.record("from " + string(et) + " " + mkID); err != nil {
		return mksync.SyncResult{}, err
	}
	return mksync.SyncResult{Success: true, Updated: 1}, nil
}

func (f *fakeSyncer) StartSync(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	call := "start " + string(run.EntityType) + " " + string(run.Direction) + " " + string(run.Trigger) + " " + strings.Join(ids, ",")
	if run.DryRun {
		call += " dry"
	}
	if run.PlanRunID != "" {
		call += " plan=" + run.PlanRunID
	}
	if err := f.record(call); err != nil {
		return err
	}
	run.Status, run.Total = mksync.RunQueued, len(ids)
	return f.store.CreateSyncRun(ctx, tenantID, run)
}

func (f *fakeSyncer) ListNotInCRM(_ context.Context, _ string, et mksync.EntityType, _ mksync.Page) ([]mksync.RemoteRecord, string, error) {
	if err := f.record("list " + string(et)); err != nil {
		return nil, "", err
	}
	return []mksync.RemoteRecord{{EntityType: et, MetakockaID: "9001", CountCode: "P-9001", Title: "Remote Partner d.o.o."}}, "", nil
}

func (f *fakeSyncer) TestConnection(context.Context, string) error {
	return f.record("test")
}

// tenant is a tenant of the test store with a token and a contact.
type tenant struct {
	ID, Token, ContactID string
}

type bundle struct {
	t      testing.TB
	store  *sqlite.DB
	syncer *fakeSyncer
	srv    *httptest.Server
	a, b   tenant
}

func setup(t testing.TB, opts ...func(*web.Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	b := &bundle{t: t, store: db, syncer: &fakeSyncer{store: db}}
	cfg := web.Config{Store: db, Syncer: b.syncer, Runs: b.syncer, Logger: observe.Discard()}
	for _, o := range opts {
		o(&cfg)
	}
	ui, err := web.New(cfg)
	require.NoError(t, err)
	b.srv = httptest.NewServer(ui)
	t.Cleanup(b.srv.Close)
	b.a = newTenant(t, db, "Tenant A")
	b.b = newTenant(t, db, "Tenant B")
	return b
}

func newTenant(t testing.TB, st mksync.Store, name string) tenant {
	t.Helper()
	ctx := context.Background()
	tn := mksync.Tenant{Name: name}
	require.NoError(t, st.CreateTenant(ctx, &tn))
	plain, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	require.NoError(t, st.CreateAPIToken(ctx, tn.ID, &mksync.APIToken{Name: "ui", Hash: hash}))
	c := mksync.Contact{Name: name + " Customer", Email: "customer@example.com"}
	require.NoError(t, st.CreateContact(ctx, tn.ID, &c))
	return tenant{ID: tn.ID, Token: plain.Reveal(), ContactID: c.ID}
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t      testing.TB
	base   string
	client *http.Client
	csrf   string
}

func (b *bundle) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(b.t, err)
	return &browser{t: b.t, base: b.srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status   int
	Body     string
	Header   http.Header
	Location string
}

func (br *browser) do(req *http.Request) page {
	br.t.Helper()
	res, err := br.client.Do(req)
	require.NoError(br.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(br.t, err)
	p := page{Status: res.StatusCode, Body: string(body), Header: res.Header, Location: res.Header.Get("Location")}
	if m := csrfMeta.FindStringSubmatch(p.Body); m != nil {
		br.csrf = m[1]
	}
	return p
}

var (
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	loginCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

func (br *browser) get(path string, hdr ...string) page {
	br.t.Helper()
	req, err := http.NewRequest(http.MethodGet, br.base+path, nil)
	require.NoError(br.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return br.do(req)
}

// post sends a form; hdr are header name/value pairs.
func (br *browser) post(path string, form url.Values, hdr ...string) page {
	br.t.Helper()
	req, err := http.NewRequest(http.MethodPost, br.base+path, strings.NewReader(form.Encode()))
	require.NoError(br.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return br.do(req)
}

// login signs in with token and returns the browser, now holding the
// session's CSRF token.
func (br *browser) login(token string) *browser {
	br.t.Helper()
	p := br.get("/login")
	require.Equal(br.t, http.StatusOK, p.Status)
	m := loginCSRF.FindStringSubmatch(p.Body)
	require.NotNil(br.t, m, "login form has a csrf field")
	p = br.post("/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/"}})
	require.Equal(br.t, http.StatusSeeOther, p.Status, p.Body)
	p = br.get("/")
	require.Equal(br.t, http.StatusOK, p.Status)
	require.NotEmpty(br.t, br.csrf)
	return br
}

// form returns values with the session's CSRF token added.
func (br *browser) form(kv ...string) url.Values {
	v := url.Values{"csrf": {br.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}
