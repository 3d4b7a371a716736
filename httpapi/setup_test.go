package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/httperr"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
)

// clock is a settable clock for rate limits and records.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeSyncer records the calls the API makes and answers what it is told.
type fakeSyncer struct {
	// The job layer's side of mksync.Syncer (PrepareRun, WorkRun,
	// ApplyStock) is never called by a front door: nil, it would panic.
	mksync.Syncer
	mu    sync.Mutex
	calls []string
	err   error // returned by every method when set
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

func (f *fakeSyncer) SyncToMetakocka(_ context.Context, tenantID string, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	if err := f.record("to " + tenantID + " " + string(et) + " " + id); err != nil {
		return mksync.SyncResult{}, err
	}
	return mksync.SyncResult{Success: true, Created: 1}, nil
}

func (f *fakeSyncer) SyncFromMetakocka(_ context.Context, tenantID string, et mksync.EntityType, mkID string) (mksync.SyncResult, error) {
	if err := f.record("from " + tenantID + " " + string(et) + " " + mkID); err != nil {
		return mksync.SyncResult{}, err
	}
	return mksync.SyncResult{Success: true, Updated: 1}, nil
}

func (f *fakeSyncer) StartSync(_ context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	call := "start " + tenantID + " " + string(run.EntityType) + " " + string(run.Direction) + " " + strings.Join(ids, ",")
	if run.DryRun {
		call += " dry"
	}
	if run.Explicit {
		call += " explicit"
	}
	if run.PlanRunID != "" {
		call += " plan=" + run.PlanRunID
	}
	if err := f.record(call); err != nil {
		return err
	}
	run.ID = "run-" + string(run.EntityType)
	run.Status = mksync.RunQueued
	return nil
}

func (f *fakeSyncer) ListNotInCRM(_ context.Context, tenantID string, et mksync.EntityType, _ mksync.Page) ([]mksync.RemoteRecord, string, error) {
	if err := f.record("list " + tenantID + " " + string(et)); err != nil {
		return nil, "", err
	}
	return []mksync.RemoteRecord{{EntityType: et, MetakockaID: "1001", CountCode: "P-1", Title: "Remote"}}, "", nil
}

func (f *fakeSyncer) TestConnection(_ context.Context, tenantID string) error {
	return f.record("test " + tenantID)
}

// fakeQueue records the stock webhooks the API queues.
type fakeQueue struct {
	mu    sync.Mutex
	calls []queuedStock
	err   error // returned by EnqueueStock when set
}

type queuedStock struct {
	TenantID string
	Payload  string
	InTx     bool // st was a transaction's Store, not the server's
}

func (q *fakeQueue) EnqueueStock(_ context.Context, st mksync.Store, tenantID string, payload []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	_, outer := st.(*sqlite.DB)
	q.calls = append(q.calls, queuedStock{TenantID: tenantID, Payload: string(payload), InTx: st != nil && !outer})
	return nil
}

func (q *fakeQueue) Calls() []queuedStock {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queuedStock(nil), q.calls...)
}

func (q *fakeQueue) SetErr(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
}

// tenantFixture is one tenant with a token and one record of each kind.
type tenantFixture struct {
	ID, Token                               string
	ContactID, ProductID, DocumentID, RunID string
	ErrorID                                 string
	TokenID                                 string
}

// bundle is what a test gets from setup.
type bundle struct {
	t          testing.TB
	db         *sqlite.DB
	store      mksync.Store // what the server uses (db, or a wrapper)
	srv        *httpapi.Server
	clock      *clock
	syncer     *fakeSyncer
	queue      *fakeQueue
	adminToken string
	a, b       tenantFixture
	router     routers.Router
	logs       *bytes.Buffer
	logMu      *sync.Mutex
	validated  int // responses checked against the OpenAPI document
}

type setupOpts struct {
	noSyncer bool
	wrap     func(mksync.Store) mksync.Store
	cfg      func(*httpapi.Config)
}

func setup(t testing.TB, opts ...setupOpts) *bundle {
	t.Helper()
	var o setupOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	kr, err := keyring.New(key)
	require.NoError(t, err)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: kr, Logger: observe.Discard(), Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))

	b := &bundle{t: t, db: db, store: db, clock: clk, syncer: &fakeSyncer{}, queue: &fakeQueue{}, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	if o.wrap != nil {
		b.store = o.wrap(db)
	}
	admin, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	require.NoError(t, db.SetAdminTokenHash(ctx, hash))
	b.adminToken = admin.Reveal()

	cfg := httpapi.Config{
		Store:      b.store,
		Syncer:     b.syncer,
		Runs:       b.syncer,
		StockQueue: b.queue,
		Logger:     observe.NewLogger(lockedWriter{b.logMu, b.logs}, observe.Options{}),
		Now:        clk.Now,
		// A simulator the tests name; anything else is refused.
		MetakockaURLs: mksync.MetakockaURLs{"http://127.0.0.1:8090"},
	}
	if o.noSyncer {
		cfg.Syncer, cfg.Runs = nil, nil
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	srv, err := httpapi.New(cfg)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	b.srv = srv

	doc, err := openapi3.NewLoader().LoadFromData(srv.OpenAPI())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(ctx))
	b.router, err = legacy.NewRouter(doc)
	require.NoError(t, err)

	b.a = b.newTenant("Tenant A")
	b.b = b.newTenant("Tenant B")
	return b
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (b *bundle) Logs() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.logs.String()
}

// newTenant creates a tenant through the admin API and seeds its records
// directly in the store.
func (b *bundle) newTenant(name string) tenantFixture {
	t := b.t
	ctx := context.Background()
	var ten mksync.Tenant
	b.decode(b.do("POST", "/api/admin/tenants", b.adminToken, `{"name":"`+name+`"}`), http.StatusCreated, &ten)
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	b.decode(b.do("POST", "/api/admin/tenants/"+ten.ID+"/tokens", b.adminToken, `{"name":"ci"}`), http.StatusCreated, &tok)
	f := tenantFixture{ID: ten.ID, Token: tok.Token, TokenID: tok.ID}

	c := mksync.Contact{Name: name + " contact", Email: "c@example.com"}
	require.NoError(t, b.db.CreateContact(ctx, ten.ID, &c))
	p := mksync.Product{Code: "P1", Name: name + " product", Price: decimal.RequireFromString("10.50"), TaxRate: decimal.RequireFromString("22")}
	require.NoError(t, b.db.CreateProduct(ctx, ten.ID, &p))
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 2, 1), ContactID: c.ID, Currency: "EUR",
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.RequireFromString("2"), UnitPrice: decimal.RequireFromString("10.50"), TaxRate: decimal.RequireFromString("22")}}}
	require.NoError(t, b.db.CreateSalesDocument(ctx, ten.ID, &d))
	require.NoError(t, b.db.UpsertMapping(ctx, ten.ID, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, MetakockaID: "mk-" + c.ID[:8], CountCode: "C-1", State: mksync.StateSynced, LastSyncedAt: b.clock.Now()}))
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunSucceeded, Result: mksync.SyncResult{Success: true}}
	require.NoError(t, b.db.CreateSyncRun(ctx, ten.ID, &run))
	rec := mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka", Code: mksync.EUPSTREAM, Message: "boom", CreatedAt: b.clock.Now()}
	require.NoError(t, b.db.CreateErrorRecord(ctx, ten.ID, &rec))
	f.ContactID, f.ProductID, f.DocumentID, f.RunID, f.ErrorID = c.ID, p.ID, d.ID, run.ID, rec.ID
	return f
}

// do sends a request through the server and validates the answer against
// the OpenAPI document (for routes the document knows).
func (b *bundle) do(method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	b.validate(method, path, body, rec)
	return rec
}

// validate checks rec against the document: the response of a documented
// route, and the envelope shape for every non-2xx.
func (b *bundle) validate(method, path, body string, rec *httptest.ResponseRecorder) {
	b.t.Helper()
	if rec.Code >= 300 {
		var env httperr.Body
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		require.NoError(b.t, dec.Decode(&env), "non-2xx must be the error envelope: %s", rec.Body.String())
		require.NotEmpty(b.t, env.ErrorID, "errorId")
		require.NotEmpty(b.t, env.Error, "error")
		require.Contains(b.t, []string{"invalid", "not_found", "conflict", "unauthorized", "forbidden", "rate_limited", "upstream", "unavailable", "internal"}, env.Code)
		require.NotNil(b.t, env.Details)
	}
	req, err := http.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
	require.NoError(b.t, err)
	route, params, err := b.router.FindRoute(req)
	if err != nil {
		return // not a documented route (e.g. a 404 probe); the envelope was checked
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: in.Options,
	})
	require.NoError(b.t, err, "%s %s → %d %s", method, path, rec.Code, rec.Body.String())
	b.validated++
}

// decode checks the status and decodes the body into v.
func (b *bundle) decode(rec *httptest.ResponseRecorder, status int, v any) {
	b.t.Helper()
	require.Equal(b.t, status, rec.Code, rec.Body.String())
	if v != nil {
		require.NoError(b.t, json.Unmarshal(rec.Body.Bytes(), v))
	}
}

// envelope decodes an error answer.
func envelope(t *testing.T, rec *httptest.ResponseRecorder) httperr.Body {
	t.Helper()
	var e httperr.Body
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
	return e
}
