package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/httperr"
)

// snapshot is everything a tenant has, to show that a rejected request
// wrote nothing.
func (b *bundle) snapshot(tenantID string) string {
	b.t.Helper()
	ctx := context.Background()
	var sb strings.Builder
	all := mksync.ListFilter{Page: mksync.Page{Limit: 1000}}
	cs, _, err := b.db.FindContacts(ctx, tenantID, all)
	require.NoError(b.t, err)
	for _, c := range cs {
		fmt.Fprintf(&sb, "c %s %d %s|", c.ID, c.Version, c.Name)
	}
	ps, _, err := b.db.FindProducts(ctx, tenantID, all)
	require.NoError(b.t, err)
	for _, p := range ps {
		fmt.Fprintf(&sb, "p %s %d %s|", p.ID, p.Version, p.StockAmount)
	}
	ds, _, err := b.db.FindSalesDocuments(ctx, tenantID, all)
	require.NoError(b.t, err)
	for _, d := range ds {
		fmt.Fprintf(&sb, "d %s %d|", d.ID, d.Version)
	}
	for _, et := range mksync.EntityTypes {
		ms, _, err := b.db.FindMappings(ctx, tenantID, et, all)
		require.NoError(b.t, err)
		for _, m := range ms {
			fmt.Fprintf(&sb, "m %s %s %s|", m.EntityID, m.MetakockaID, m.State)
		}
	}
	runs, _, err := b.db.FindSyncRuns(ctx, tenantID, mksync.SyncRunFilter{Page: all.Page})
	require.NoError(b.t, err)
	fmt.Fprintf(&sb, "runs %d|", len(runs))
	recs, _, err := b.db.FindErrorRecords(ctx, tenantID, mksync.ErrorFilter{Page: all.Page})
	require.NoError(b.t, err)
	fmt.Fprintf(&sb, "errors %d|", len(recs))
	toks, err := b.db.ListAPITokens(ctx, tenantID)
	require.NoError(b.t, err)
	for _, t := range toks {
		fmt.Fprintf(&sb, "t %s %v|", t.ID, t.RevokedAt != nil)
	}
	_, err = b.db.FindCredentials(ctx, tenantID)
	fmt.Fprintf(&sb, "creds %s|", mksync.ErrorCode(err))
	return sb.String()
}

func TestErrorEnvelopeForEveryCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.a
	var c map[string]any
	b.decode(b.do("GET", "/api/contacts/"+a.ContactID, a.Token, ""), 200, &c)
	version := int(c["version"].(float64))

	tests := []struct {
		name        string
		method      string
		path, token string
		body        string
		status      int
		code        string
		setup       func()
		record      bool // an error record must exist under the errorId
	}{
		{"invalid", "POST", "/api/contacts", a.Token, `{"name":""}`, 400, "invalid", nil, false},
		{"not found", "GET", "/api/contacts/nope", a.Token, "", 404, "not_found", nil, false},
		{"no route", "GET", "/api/nothing-here", a.Token, "", 404, "not_found", nil, false},
		{"method", "PATCH", "/api/contacts", a.Token, "", 405, "invalid", nil, false},
		{"conflict", "PUT", "/api/contacts/" + a.ContactID, a.Token, `{"name":"X","version":` + strconv.Itoa(version+7) + `}`, 409, "conflict", nil, false},
		{"unauthorized", "GET", "/api/contacts", "", "", 401, "unauthorized", nil, false},
		{"forbidden", "GET", "/api/admin/tenants", a.Token, "", 403, "forbidden", nil, false},
		{"upstream 502", "POST", "/api/integrations/metakocka/contacts/sync-to-metakocka", a.Token, `{"contactId":"` + a.ContactID + `"}`, 502, "upstream",
			func() { b.syncer.SetErr(mksync.Errorf(mksync.EUPSTREAM, "metakocka said no")) }, true},
		{"upstream 503", "POST", "/api/integrations/metakocka/contacts/sync-from-metakocka", a.Token, `{"metakockaId":"123"}`, 503, "upstream",
			func() {
				b.syncer.SetErr(&httperr.Unavailable{Err: mksync.WrapError(mksync.EUPSTREAM, "metakocka unreachable", errors.New("dial tcp: refused"))})
			}, true},
		{"internal", "POST", "/api/integrations/metakocka/products/sync-to-metakocka", a.Token, `{"productId":"` + a.ProductID + `"}`, 500, "internal",
			func() { b.syncer.SetErr(errors.New("SELECT secret FROM t: broken")) }, true},
		{"too large", "POST", "/api/contacts", a.Token, `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "invalid", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.syncer.SetErr(nil)
			if tt.setup != nil {
				tt.setup()
			}
			rec := b.do(tt.method, tt.path, tt.token, tt.body)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			env := envelope(t, rec)
			require.Equal(t, tt.code, env.Code)
			require.NotContains(t, rec.Body.String(), "SELECT")
			require.NotContains(t, rec.Body.String(), "dial tcp")
			require.NotContains(t, rec.Body.String(), "goroutine")
			if tt.record {
				er, err := b.db.FindErrorRecord(context.Background(), a.ID, env.ErrorID)
				require.NoError(t, err, "error record %s", env.ErrorID)
				require.Equal(t, "API", er.Category)
				require.Equal(t, tt.code, er.Code)
				require.NotContains(t, fmt.Sprint(er.Details), "SELECT")
			}
		})
	}
	b.syncer.SetErr(nil)
	require.Contains(t, b.Logs(), `"category":"API"`)
	require.NotContains(t, b.Logs(), a.Token)
	require.NotContains(t, b.Logs(), b.adminToken)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.a
	// Revoke a second token of A through the admin API.
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	b.decode(b.do("POST", "/api/admin/tenants/"+a.ID+"/tokens", b.adminToken, `{"name":"old"}`), 201, &tok)
	b.decode(b.do("GET", "/api/contacts", tok.Token, ""), 200, nil)
	b.decode(b.do("DELETE", "/api/admin/tenants/"+a.ID+"/tokens/"+tok.ID, b.adminToken, ""), 204, nil)

	tests := []struct {
		name   string
		path   string
		header string
		status int
	}{
		{"missing", "/api/contacts", "", 401},
		{"not bearer", "/api/contacts", "Basic dXNlcjpwYXNz", 401},
		{"empty bearer", "/api/contacts", "Bearer ", 401},
		{"unknown token", "/api/contacts", "Bearer mks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"not a token", "/api/contacts", "Bearer ' OR 1=1 --", 401},
		{"huge token", "/api/contacts", "Bearer mks_" + strings.Repeat("a", 5000), 401},
		{"revoked", "/api/contacts", "Bearer " + tok.Token, 401},
		{"tenant on admin", "/api/admin/tenants", "Bearer " + a.Token, 403},
		{"admin on tenant", "/api/contacts", "Bearer " + b.adminToken, 403},
		{"bad token on admin", "/api/admin/tenants", "Bearer mks_nope", 401},
		{"lowercase scheme ok", "/api/contacts", "bearer " + a.Token, 200},
		{"admin ok", "/api/admin/tenants", "Bearer " + b.adminToken, 200},
		{"public health", "/healthz", "", 200},
		{"public ready", "/readyz", "", 200},
		{"public openapi", "/api/openapi.json", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.do("GET", tt.path, "", "", "Authorization", tt.header)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status == 401 {
				require.Equal(t, `Bearer realm="mksync"`, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	require.NotContains(t, b.Logs(), tok.Token)
	require.NotContains(t, b.Logs(), "Authorization")
}

// TestBOLA sends tenant A's token against every route that names a record,
// with tenant B's ids: always 404, B unchanged, and nothing of B reaches the
// sync engine.
func TestBOLA(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, v := b.a, b.b
	before := b.snapshot(v.ID)
	mi := "/api/integrations/metakocka/"
	tests := []struct{ method, path, body string }{
		{"GET", "/api/contacts/" + v.ContactID, ""},
		{"PUT", "/api/contacts/" + v.ContactID, `{"name":"pwned","version":1}`},
		{"DELETE", "/api/contacts/" + v.ContactID, ""},
		{"GET", "/api/products/" + v.ProductID, ""},
		{"PUT", "/api/products/" + v.ProductID, `{"code":"X","name":"pwned","price":"1","taxRate":"22","version":1}`},
		{"DELETE", "/api/products/" + v.ProductID, ""},
		{"GET", "/api/sales-documents/" + v.DocumentID, ""},
		{"PUT", "/api/sales-documents/" + v.DocumentID, `{"kind":"order","date":"2026-01-01","contactId":"` + a.ContactID + `","currency":"EUR","lines":[{"productId":"` + a.ProductID + `","quantity":"1","unitPrice":"1","discountPercent":"0","taxRate":"22"}],"version":1}`},
		{"DELETE", "/api/sales-documents/" + v.DocumentID, ""},
		{"GET", "/api/sync-runs/" + v.RunID, ""},
		{"POST", "/api/sync-runs/" + v.RunID + "/cancel", ""},
		{"GET", "/api/errors/" + v.ErrorID, ""},
		{"GET", mi + "contacts/mappings?id=" + v.ContactID, ""},
		{"GET", mi + "products/mappings?id=" + v.ProductID, ""},
		{"GET", mi + "sales-documents/mappings?id=" + v.DocumentID, ""},
		{"POST", mi + "contacts/sync-to-metakocka", `{"contactId":"` + v.ContactID + `"}`},
		{"POST", mi + "products/sync-to-metakocka", `{"productId":"` + v.ProductID + `"}`},
		{"POST", mi + "sales-documents/sync-to-metakocka", `{"documentId":"` + v.DocumentID + `"}`},
		{"POST", mi + "contacts/sync-to-metakocka?bulk=true", `{"contactIds":["` + a.ContactID + `","` + v.ContactID + `"]}`},
		{"POST", mi + "products/sync-to-metakocka?bulk=true", `{"productIds":["` + v.ProductID + `"]}`},
		{"POST", mi + "sales-documents/sync-all-to-metakocka", `{"documentIds":["` + v.DocumentID + `"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := b.do(tt.method, tt.path, a.Token, tt.body)
			require.Equal(t, 404, rec.Code, rec.Body.String())
			require.Equal(t, "not_found", envelope(t, rec).Code)
		})
	}
	// Admin routes with a tenant token are forbidden, whoever's ids.
	for _, p := range []string{"/api/admin/tenants/" + v.ID, "/api/admin/tenants/" + v.ID + "/tokens"} {
		require.Equal(t, 403, b.do("GET", p, a.Token, "").Code)
	}
	require.Equal(t, 403, b.do("DELETE", "/api/admin/tenants/"+v.ID+"/tokens/"+v.TokenID, a.Token, "").Code)
	require.Equal(t, before, b.snapshot(v.ID))
	for _, c := range b.syncer.Calls() {
		require.NotContains(t, c, v.ID)
		require.NotContains(t, c, v.ContactID)
	}
	// A's own lists never show B's records.
	rec := b.do("GET", "/api/contacts?limit=1000", a.Token, "")
	require.NotContains(t, rec.Body.String(), v.ContactID)
	require.Contains(t, rec.Body.String(), a.ContactID)
}

func TestHostileInputIsRejectedAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.a
	beforeA, beforeB := b.snapshot(a.ID), b.snapshot(b.b.ID)
	many := make([]string, httpapi.DefaultMaxBulkIDs+1)
	for i := range many {
		many[i] = strconv.Quote(strconv.Itoa(i))
	}
	mi := "/api/integrations/metakocka/"
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string // a detail key the answer must name
	}{
		{"malformed", "POST", "/api/contacts", `{"name":`, 400, "body"},
		{"not an object", "POST", "/api/contacts", `[1,2]`, 400, "body"},
		{"trailing data", "POST", "/api/contacts", `{"name":"a"} {"name":"b"}`, 400, "body"},
		{"empty", "POST", "/api/contacts", ``, 400, ""},
		{"unknown field", "POST", "/api/contacts", `{"name":"a","isAdmin":true}`, 400, "isAdmin"},
		{"tenant smuggling", "POST", "/api/contacts", `{"name":"a","tenantId":"` + b.b.ID + `"}`, 400, "tenantId"},
		{"client id", "POST", "/api/contacts", `{"id":"` + b.b.ContactID + `","name":"a"}`, 400, "id"},
		{"wrong types", "POST", "/api/contacts", `{"name":5,"businessEntity":"yes","email":[]}`, 400, "businessEntity"},
		{"wrong decimal", "POST", "/api/products", `{"code":"X","name":"Y","price":"ten","taxRate":true}`, 400, "price"},
		{"wrong nested", "POST", "/api/sales-documents", `{"kind":"order","date":"yesterday","contactId":"x","currency":"EUR","lines":[{"productId":1,"quantity":"x"}]}`, 400, "lines[0].quantity"},
		{"every field listed", "POST", "/api/products", `{"code":"","name":"","price":"-1","taxRate":"100"}`, 400, "taxRate"},
		{"huge number", "POST", "/api/contacts", `{"name":"a","version":1e400}`, 400, ""},
		{"invalid UTF-8", "POST", "/api/contacts", "{\"name\":\"\xff\xfe\"}", 400, "body"},
		{"invalid UTF-8 in a key", "POST", "/api/contacts", "{\"name\":\"a\",\"\xc3\":1}", 400, "body"},
		{"price of 10,001 digits", "POST", "/api/products", `{"code":"X","name":"Y","price":"1e10000"}`, 400, "price"},
		{"price exponent of a billion", "POST", "/api/products", `{"code":"X","name":"Y","price":"1","taxRate":"1e1000000000"}`, 400, "taxRate"},
		{"price with 7 decimals", "POST", "/api/products", `{"code":"X","name":"Y","price":"0.0000001"}`, 400, "price"},
		{"weight of 16 digits", "POST", "/api/products", `{"code":"X","name":"Y","weight":"1234567890123456"}`, 400, "weight"},
		{"huge line discount", "POST", "/api/sales-documents", `{"kind":"order","date":"2026-01-02","contactId":"x","currency":"EUR","lines":[{"productId":"p","quantity":"1","unitPrice":"1","discountPercent":"-1e999999999"}]}`, 400, "lines[0].discountPercent"},
		{"huge line quantity", "POST", "/api/sales-documents", `{"kind":"order","date":"2026-01-02","contactId":"x","currency":"EUR","lines":[{"productId":"p","quantity":"1e10000","unitPrice":"1"}]}`, 400, "lines[0].quantity"},
		{"deep nesting", "POST", "/api/contacts", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), 400, "body"},
		{"wrong content type", "POST", "/api/contacts", `name=a`, 400, ""},
		{"too large", "POST", "/api/contacts", `{"name":"a","notes":"` + strings.Repeat("n", 1<<20) + `"}`, 413, "body"},
		{"huge id list", "POST", mi + "contacts/sync-to-metakocka?bulk=true", `{"contactIds":[` + strings.Join(many, ",") + `]}`, 400, "contactIds"},
		{"empty id list", "POST", mi + "contacts/sync-to-metakocka?bulk=true", `{"contactIds":[]}`, 400, "contactIds"},
		{"ids wrong type", "POST", mi + "products/sync-all-to-metakocka", `{"productIds":"all"}`, 400, "productIds"},
		{"single where bulk", "POST", mi + "contacts/sync-to-metakocka?bulk=true", `{"contactId":"x"}`, 400, "contactId"},
		{"bad bulk flag", "POST", mi + "contacts/sync-to-metakocka?bulk=maybe", `{"contactId":"x"}`, 400, "bulk"},
		{"id with slash", "POST", mi + "contacts/sync-to-metakocka", `{"contactId":"../../etc/passwd"}`, 400, "contactId"},
		{"id control chars", "POST", mi + "contacts/sync-from-metakocka", `{"metakockaId":"1\u0000; DROP TABLE contacts"}`, 400, "metakockaId"},
		{"path traversal", "GET", "/api/contacts/..%2F..%2Fetc%2Fpasswd", "", 404, ""},
		{"dot segments", "GET", "/api/contacts/../admin/tenants", "", 404, ""},
		{"double slash", "GET", "/api//contacts", "", 404, ""},
		{"trailing slash", "GET", "/api/contacts/", "", 404, ""},
		{"sql in id", "GET", "/api/contacts/'%20OR%201=1%20--", "", 404, ""},
		{"sql in delete", "DELETE", "/api/products/1%27%3B%20DROP%20TABLE%20products%3B--", "", 404, ""},
		{"sql in filter", "GET", "/api/contacts?q=%27%20OR%201%3D1%20--", "", 200, ""},
		{"bad state", "GET", "/api/contacts?state=synced%27%20OR%201%3D1", "", 400, "state"},
		{"bad limit", "GET", "/api/products?limit=-1", "", 400, "limit"},
		{"huge limit", "GET", "/api/products?limit=99999999999999999999", "", 400, "limit"},
		{"bad cursor", "GET", "/api/contacts?cursor=%27%3B--", "", 400, ""},
		{"bad since", "GET", "/api/errors?since=yesterday", "", 400, "since"},
		{"bad run filter", "GET", "/api/sync-runs?status=done&direction=up", "", 400, "direction"},
		{"bad alert status", "GET", "/api/alerts?status=%3Cscript%3E", "", 400, "status"},
		{"long q", "GET", "/api/contacts?q=" + strings.Repeat("x", 300), "", 400, "q"},
		{"stale write", "PUT", "/api/contacts/" + a.ContactID, `{"name":"x"}`, 400, "version"},
		{"body id mismatch", "PUT", "/api/contacts/" + a.ContactID, `{"id":"other","name":"x","version":1}`, 400, "id"},
		{"doc with B's contact", "POST", "/api/sales-documents", `{"kind":"order","date":"2026-01-01","contactId":"` + b.b.ContactID + `","currency":"EUR","lines":[{"productId":"` + a.ProductID + `","quantity":"1","unitPrice":"1","discountPercent":"0","taxRate":"22"}]}`, 400, ""},
		{"credentials missing secret", "PUT", mi + "credentials", `{"companyId":"16"}`, 400, "secretKey"},
		{"credentials bad settings", "PUT", mi + "credentials", `{"companyId":"16","secretKey":"s","settings":{"conflictPolicy":"coin","batchSize":9999,"scheduleInterval":"soon"}}`, 400, "settings.scheduleInterval"},
		{"client error empty", "POST", "/api/client-errors", `{}`, 400, "message"},
		{"client error too big", "POST", "/api/client-errors", `{"message":"` + strings.Repeat("m", 17<<10) + `","operation":"x"}`, 413, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{}
			if tt.name == "wrong content type" {
				hdr = []string{"Content-Type", "application/x-www-form-urlencoded"}
			}
			rec := b.do(tt.method, tt.path, a.Token, tt.body, hdr...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status >= 400 {
				env := envelope(t, rec)
				if tt.field != "" {
					require.Contains(t, env.Details, tt.field, "details %v", env.Details)
				}
			}
		})
	}
	require.Equal(t, beforeA, b.snapshot(a.ID))
	require.Equal(t, beforeB, b.snapshot(b.b.ID))
	require.Empty(t, b.syncer.Calls())

	t.Run("method not allowed", func(t *testing.T) {
		rec := b.do("PATCH", "/api/contacts/"+a.ContactID, a.Token, `{}`)
		require.Equal(t, 405, rec.Code)
		require.Contains(t, rec.Header().Get("Allow"), "PUT")
	})

	t.Run("every bad field at once", func(t *testing.T) {
		rec := b.do("POST", "/api/products", a.Token, `{"code":"","name":"","price":"-1","taxRate":"100","weight":"-2"}`)
		require.Equal(t, 400, rec.Code)
		env := envelope(t, rec)
		for _, f := range []string{"code", "name", "price", "taxRate", "weight"} {
			require.Contains(t, env.Details, f)
		}
		rec = b.do("POST", "/api/contacts", a.Token, `{"name":5,"businessEntity":"yes","email":[],"x":1}`)
		env = envelope(t, rec)
		for _, f := range []string{"name", "businessEntity", "email", "x"} {
			require.Contains(t, env.Details, f)
		}
	})
}

func TestRateLimitSyncRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := "/api/integrations/metakocka/contacts/sync-to-metakocka"
	body := func(id string) string { return `{"contactId":"` + id + `"}` }
	for i := 0; i < 10; i++ {
		rec := b.do("POST", path, b.a.Token, body(b.a.ContactID))
		require.Equal(t, 200, rec.Code, "call %d: %s", i+1, rec.Body.String())
		require.Equal(t, "10", rec.Header().Get("RateLimit-Limit"))
		require.Equal(t, strconv.Itoa(9-i), rec.Header().Get("RateLimit-Remaining"))
	}
	rec := b.do("POST", path, b.a.Token, body(b.a.ContactID))
	require.Equal(t, 429, rec.Code)
	require.Equal(t, "rate_limited", envelope(t, rec).Code)
	require.Equal(t, "6", rec.Header().Get("Retry-After"), "one token per 6 s at 10/min")
	require.Equal(t, "10", rec.Header().Get("RateLimit-Limit"))
	require.Equal(t, "0", rec.Header().Get("RateLimit-Remaining"))
	require.Equal(t, "60", rec.Header().Get("RateLimit-Reset"))

	// Another tenant is unaffected; other routes of the same tenant too.
	require.Equal(t, 200, b.do("POST", path, b.b.Token, body(b.b.ContactID)).Code)
	require.Equal(t, 200, b.do("GET", "/api/contacts", b.a.Token, "").Code)

	// A token comes back after 6 s of the injected clock.
	b.clock.Advance(6 * time.Second)
	require.Equal(t, 200, b.do("POST", path, b.a.Token, body(b.a.ContactID)).Code)
	require.Equal(t, 429, b.do("POST", path, b.a.Token, body(b.a.ContactID)).Code)
	require.Len(t, b.syncer.Calls(), 12)
}

func TestRateLimitUnauthenticatedByIP(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *httpapi.Config) { c.RateLimitAPI = 5 }}) // setup's 4 admin calls fit
	for i := 0; i < 5; i++ {
		require.Equal(t, 401, b.do("GET", "/api/contacts", "mks_guess"+strconv.Itoa(i), "").Code)
	}
	rec := b.do("GET", "/api/contacts", "mks_guess", "")
	require.Equal(t, 429, rec.Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	// A tenant's own bucket is separate from the IP's.
	require.Equal(t, 200, b.do("GET", "/api/contacts", b.a.Token, "").Code)
}

// panicStore panics on one call, as a bug would.
type panicStore struct{ mksync.Store }

func (panicStore) FindContacts(context.Context, string, mksync.ListFilter) ([]mksync.Contact, string, error) {
	panic("boom: index out of range")
}

// failStore fails one call like a broken database.
type failStore struct{ mksync.Store }

func (failStore) FindProducts(context.Context, string, mksync.ListFilter) ([]mksync.Product, string, error) {
	return nil, "", mksync.WrapError(mksync.EINTERNAL, "query products", errors.New(`SQL logic error near "SELECT * FROM products"`))
}

func TestPanicAndInternalErrorsAreRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{wrap: func(s mksync.Store) mksync.Store { return failStore{panicStore{s}} }})
	for _, path := range []string{"/api/contacts", "/api/products"} {
		rec := b.do("GET", path, b.a.Token, "")
		require.Equal(t, 500, rec.Code, rec.Body.String())
		env := envelope(t, rec)
		require.Equal(t, "internal", env.Code)
		require.Equal(t, "internal error", env.Error)
		require.Empty(t, env.Details)
		require.NotContains(t, rec.Body.String(), "boom")
		require.NotContains(t, rec.Body.String(), "SELECT")
		er, err := b.db.FindErrorRecord(context.Background(), b.a.ID, env.ErrorID)
		require.NoError(t, err)
		require.Equal(t, "API", er.Category)
		require.Equal(t, "GET "+path, er.Operation)
		require.Contains(t, b.Logs(), env.ErrorID)
	}
	require.Contains(t, b.Logs(), `"msg":"panic"`)
	// The server still serves after a panic.
	require.Equal(t, 200, b.do("GET", "/healthz", "", "").Code)
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc, err := openapi3.NewLoader().LoadFromData(b.srv.OpenAPI())
	require.NoError(t, err)
	require.Equal(t, "3.1.0", doc.OpenAPI)
	registered := map[string]bool{}
	for _, p := range b.srv.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		require.True(t, ok, "pattern %q has a method", p)
		registered[method+" "+path] = true
		item := doc.Paths.Find(path)
		require.NotNil(t, item, "route %s is not documented", p)
		require.NotNil(t, item.GetOperation(method), "route %s is not documented", p)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			require.True(t, registered[method+" "+path], "documented %s %s is not a route", method, path)
		}
	}
	// The served document is the same.
	rec := b.do("GET", "/api/openapi.json", "", "")
	require.Equal(t, 200, rec.Code)
	require.JSONEq(t, string(b.srv.OpenAPI()), rec.Body.String())
}

func TestCRUDRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.a.Token
	var c map[string]any
	b.decode(b.do("POST", "/api/contacts", tok, `{"name":"Janez Novak","email":"janez@example.si","version":99,"createdAt":"2020-01-01T00:00:00Z"}`), 201, &c)
	id := c["id"].(string)
	require.EqualValues(t, 1, c["version"])
	require.Nil(t, c["mapping"])
	require.NotEqual(t, "2020-01-01T00:00:00Z", c["createdAt"])

	b.decode(b.do("PUT", "/api/contacts/"+id, tok, `{"name":"Janez N.","version":1}`), 200, &c)
	require.EqualValues(t, 2, c["version"])
	require.Equal(t, 409, b.do("PUT", "/api/contacts/"+id, tok, `{"name":"late","version":1}`).Code)

	var mapped map[string]any
	b.decode(b.do("GET", "/api/contacts/"+b.a.ContactID, tok, ""), 200, &mapped)
	m := mapped["mapping"].(map[string]any)
	require.Equal(t, "synced", m["state"])
	require.Equal(t, "C-1", m["countCode"])

	var lst struct {
		Items      []map[string]any `json:"items"`
		NextCursor string           `json:"nextCursor"`
	}
	b.decode(b.do("GET", "/api/contacts?limit=1", tok, ""), 200, &lst)
	require.Len(t, lst.Items, 1)
	require.NotEmpty(t, lst.NextCursor)
	b.decode(b.do("GET", "/api/contacts?limit=1&cursor="+lst.NextCursor, tok, ""), 200, &lst)
	require.Len(t, lst.Items, 1)
	b.decode(b.do("GET", "/api/contacts?state=synced", tok, ""), 200, &lst)
	require.Len(t, lst.Items, 1)
	b.decode(b.do("GET", "/api/contacts?state=unsynced&q=janez", tok, ""), 200, &lst)
	require.Len(t, lst.Items, 1)

	// Decimals travel as strings; totals are computed, never trusted.
	var p map[string]any
	b.decode(b.do("POST", "/api/products", tok, `{"code":"SKU-1","name":"Chair","price":"19.99","taxRate":22,"stockAmount":"500"}`), 201, &p)
	require.Equal(t, "19.99", p["price"])
	require.Equal(t, "22", p["taxRate"])
	require.Equal(t, "0", p["stockAmount"])
	var d map[string]any
	b.decode(b.do("POST", "/api/sales-documents", tok, `{"kind":"invoice","date":"2026-02-03","contactId":"`+id+`","currency":"EUR","totalGross":"1","lines":[{"productId":"`+p["id"].(string)+`","quantity":"2","unitPrice":"19.99","discountPercent":"0","taxRate":"22"}]}`), 201, &d)
	require.Equal(t, "39.98", d["totalNet"])
	require.Equal(t, "48.78", d["totalGross"])
	require.Equal(t, "2026-02-03", d["date"])

	require.Equal(t, 409, b.do("DELETE", "/api/contacts/"+id, tok, "").Code, "a document uses it")
	require.Equal(t, 204, b.do("DELETE", "/api/sales-documents/"+d["id"].(string), tok, "").Code)
	require.Equal(t, 204, b.do("DELETE", "/api/contacts/"+id, tok, "").Code)
	require.Equal(t, 404, b.do("GET", "/api/contacts/"+id, tok, "").Code)
	require.GreaterOrEqual(t, b.validated, 15, "responses were validated against the OpenAPI document")
}

func TestSyncRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.a
	mi := "/api/integrations/metakocka/"
	var res mksync.SyncResult
	b.decode(b.do("POST", mi+"contacts/sync-to-metakocka", a.Token, `{"contactId":"`+a.ContactID+`"}`), 200, &res)
	require.True(t, res.Success)
	b.decode(b.do("POST", mi+"products/sync-from-metakocka", a.Token, `{"metakockaId":"4711"}`), 200, &res)
	var run struct {
		RunID string `json:"runId"`
	}
	rec := b.do("POST", mi+"contacts/sync-to-metakocka?bulk=true", a.Token, `{"contactIds":["`+a.ContactID+`","`+a.ContactID+`"]}`)
	b.decode(rec, 202, &run)
	require.Equal(t, "run-contact", run.RunID)
	require.Equal(t, "/api/sync-runs/run-contact", rec.Header().Get("Location"))
	b.decode(b.do("POST", mi+"sales-documents/sync-all-to-metakocka", a.Token, ""), 202, &run)
	b.decode(b.do("POST", mi+"products/sync-all-from-metakocka", a.Token, `{"metakockaIds":["1","2"]}`), 202, &run)
	var remote struct {
		Items []mksync.RemoteRecord `json:"items"`
	}
	b.decode(b.do("GET", mi+"products/sync-from-metakocka", a.Token, ""), 200, &remote)
	require.Len(t, remote.Items, 1)
	require.Equal(t, []string{
		"to " + a.ID + " contact " + a.ContactID,
		"from " + a.ID + " product 4711",
		"start " + a.ID + " contact to_metakocka " + a.ContactID,
		"start " + a.ID + " sales_document to_metakocka ",
		"start " + a.ID + " product from_metakocka 1,2",
		"list " + a.ID + " product",
	}, b.syncer.Calls())

	var maps struct {
		Items []map[string]any `json:"items"`
	}
	b.decode(b.do("GET", mi+"contacts/mappings", a.Token, ""), 200, &maps)
	require.Len(t, maps.Items, 1)
	b.decode(b.do("GET", mi+"contacts/mappings?id="+a.ContactID, a.Token, ""), 200, &maps)
	require.Len(t, maps.Items, 1)
	b.decode(b.do("GET", mi+"products/mappings?id="+a.ProductID, a.Token, ""), 200, &maps)
	require.Empty(t, maps.Items)

	var runs struct {
		Items []mksync.SyncRun `json:"items"`
	}
	b.decode(b.do("GET", "/api/sync-runs?entityType=contact&status=succeeded", a.Token, ""), 200, &runs)
	require.Len(t, runs.Items, 1)
	b.decode(b.do("GET", "/api/sync-runs/"+a.RunID, a.Token, ""), 200, nil)
	b.decode(b.do("GET", "/api/errors?category=SYNC&since=2020-01-01T00:00:00Z", a.Token, ""), 200, nil)
	b.decode(b.do("GET", "/api/errors/"+a.ErrorID, a.Token, ""), 200, nil)
	b.decode(b.do("GET", "/api/alerts?status=open", a.Token, ""), 200, nil)
}

func TestSyncRoutesWithoutEngine(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noSyncer: true})
	mi := "/api/integrations/metakocka/"
	for _, tt := range []struct{ method, path, body string }{
		{"POST", mi + "contacts/sync-to-metakocka", `{"contactId":"` + b.a.ContactID + `"}`},
		{"POST", mi + "contacts/sync-from-metakocka", `{"metakockaId":"1"}`},
		{"GET", mi + "contacts/sync-from-metakocka", ""},
		{"POST", mi + "products/sync-all-to-metakocka", ""},
		{"POST", mi + "sales-documents/sync-all-from-metakocka", "{}"},
	} {
		rec := b.do(tt.method, tt.path, b.a.Token, tt.body)
		require.Equal(t, 503, rec.Code, tt.path)
		env := envelope(t, rec)
		require.Equal(t, "upstream", env.Code)
		require.Equal(t, "sync engine not configured", env.Error)
	}
	// Mappings are served from the store.
	require.Equal(t, 200, b.do("GET", mi+"contacts/mappings", b.a.Token, "").Code)
}

func TestCredentialsAreWriteOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.a.Token
	base := "/api/integrations/metakocka/credentials"
	require.Equal(t, 404, b.do("GET", base, tok, "").Code)
	const secret = "very-secret-key-123"
	rec := b.do("PUT", base, tok, `{"companyId":"16","secretKey":"`+secret+`","metakockaUrl":"http://127.0.0.1:8090","webhookSecret":"hook-secret-456-0123456789","settings":{"conflictPolicy":"crm_wins","scheduleInterval":"15m","batchSize":100,"concurrency":4,"pricelist":" PC_MAIN "}}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.NotContains(t, rec.Body.String(), secret)
	var v map[string]any
	b.decode(b.do("GET", base, tok, ""), 200, &v)
	raw, _ := json.Marshal(v)
	require.NotContains(t, string(raw), secret)
	require.NotContains(t, string(raw), "hook-secret-456")
	require.Equal(t, true, v["secretKeySet"])
	require.Equal(t, "15m0s", v["settings"].(map[string]any)["scheduleInterval"])
	require.Equal(t, "PC_MAIN", v["settings"].(map[string]any)["pricelist"], "the tenant's price list, trimmed")
	// Changing settings keeps the stored secret.
	b.decode(b.do("PUT", base, tok, `{"companyId":"17"}`), 200, nil)
	c, err := b.db.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, secret, c.SecretKey.Reveal())
	require.Equal(t, "17", c.CompanyID)
	require.NotContains(t, b.Logs(), secret)
	// Tenant B has none.
	require.Equal(t, 404, b.do("GET", base, b.b.Token, "").Code)

	// The tenant's alert webhook: the URL shows, the secret never does,
	// and leaving the secret out keeps it.
	const alertSecret = "alert-secret-0123456789"
	rec = b.do("PUT", base, tok, `{"companyId":"17","alertWebhookUrl":"https://alerts.example/hook","alertWebhookSecret":"`+alertSecret+`"}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.NotContains(t, rec.Body.String(), alertSecret)
	b.decode(b.do("GET", base, tok, ""), 200, &v)
	raw, _ = json.Marshal(v)
	require.NotContains(t, string(raw), alertSecret)
	require.Equal(t, "https://alerts.example/hook", v["alertWebhookUrl"])
	require.Equal(t, true, v["alertWebhookSecretSet"])
	b.decode(b.do("PUT", base, tok, `{"companyId":"17","alertWebhookUrl":"https://alerts.example/other"}`), 200, nil)
	c, err = b.db.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example/other", c.AlertWebhookURL)
	require.Equal(t, alertSecret, c.AlertWebhookSecret.Reveal())
	require.NotContains(t, b.Logs(), alertSecret)
	for body, field := range map[string]string{
		`{"companyId":"17","alertWebhookUrl":"ftp://alerts.example/hook"}`:                                "alertWebhookUrl",
		`{"companyId":"17","alertWebhookUrl":"https://alerts.example/hook","alertWebhookSecret":"short"}`: "alertWebhookSecret",
		`{"companyId":"17","alertWebhookSecret":"` + alertSecret + `"}`:                                   "alertWebhookSecret",
	} {
		rec := b.do("PUT", base, tok, body)
		require.Equal(t, 400, rec.Code, body)
		require.Contains(t, rec.Body.String(), field, body)
		require.NotContains(t, rec.Body.String(), alertSecret)
	}
	// Leaving the URL out removes the tenant's alert webhook.
	b.decode(b.do("PUT", base, tok, `{"companyId":"17"}`), 200, &v)
	require.Equal(t, "", v["alertWebhookUrl"])
	require.Equal(t, false, v["alertWebhookSecretSet"])

	// The connection test goes to the engine.
	b.decode(b.do("POST", base+"/test", tok, ""), 200, nil)
	require.Equal(t, 404, b.do("POST", base+"/test", b.b.Token, "").Code)
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var acc struct {
		ErrorID string `json:"errorId"`
	}
	b.decode(b.do("POST", "/api/client-errors", b.a.Token, `{"message":"fetch failed","operation":"contacts.sync","code":"network","url":"/contacts","context":{"status":"502","apiToken":"mks_leak"}}`), 202, &acc)
	er, err := b.db.FindErrorRecord(context.Background(), b.a.ID, acc.ErrorID)
	require.NoError(t, err)
	require.Equal(t, "CLIENT", er.Category)
	require.Equal(t, "contacts.sync", er.Operation)
	require.NotContains(t, fmt.Sprint(er.Details), "mks_leak")
	// Its own, lower rate limit.
	for i := 0; i < httpapi.DefaultRateLimitClientErrors-1; i++ {
		require.Equal(t, 202, b.do("POST", "/api/client-errors", b.a.Token, `{"message":"m","operation":"o"}`).Code)
	}
	require.Equal(t, 429, b.do("POST", "/api/client-errors", b.a.Token, `{"message":"m","operation":"o"}`).Code)
}

func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ts struct {
		Items []mksync.Tenant `json:"items"`
	}
	b.decode(b.do("GET", "/api/admin/tenants", b.adminToken, ""), 200, &ts)
	require.Len(t, ts.Items, 2)
	b.decode(b.do("GET", "/api/admin/tenants/"+b.a.ID, b.adminToken, ""), 200, nil)
	require.Equal(t, 404, b.do("GET", "/api/admin/tenants/nope", b.adminToken, "").Code)
	require.Equal(t, 404, b.do("POST", "/api/admin/tenants/nope/tokens", b.adminToken, `{"name":"x"}`).Code)
	require.Equal(t, 400, b.do("POST", "/api/admin/tenants", b.adminToken, `{"name":""}`).Code)
	rec := b.do("GET", "/api/admin/tenants/"+b.a.ID+"/tokens", b.adminToken, "")
	require.Equal(t, 200, rec.Code)
	require.NotContains(t, rec.Body.String(), b.a.Token)
	require.NotContains(t, rec.Body.String(), `"token"`)
}

func TestRequestIDAndLogLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.do("GET", "/api/contacts/"+b.a.ContactID, b.a.Token, "", "X-Request-Id", "req-123")
	require.Equal(t, "req-123", rec.Header().Get("X-Request-Id"))
	rec = b.do("GET", "/healthz", "", "", "X-Request-Id", "bad id\n{json}")
	require.NotEqual(t, "bad id\n{json}", rec.Header().Get("X-Request-Id"))
	var line map[string]any
	for _, l := range strings.Split(b.Logs(), "\n") {
		if strings.Contains(l, "req-123") {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.Equal(t, "API", line["category"])
	require.Equal(t, b.a.ID, line["tenantId"])
	require.Equal(t, "GET /api/contacts/{id}", line["route"])
	require.EqualValues(t, 200, line["status"])
	require.Contains(t, line, "durationMs")
}

// TestResponseValidationIsStrict shows that the response check of every
// b.do call would catch an undocumented field or a wrong type.
func TestResponseValidationIsStrict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, body := range []string{
		`{"items":[{"bogus":1}],"nextCursor":""}`,
		`{"items":[],"nextCursor":5}`,
		`{"items":[]}`,
	} {
		req, err := http.NewRequest("GET", "http://localhost/api/contacts", nil)
		require.NoError(t, err)
		route, params, err := b.router.FindRoute(req)
		require.NoError(t, err)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		h := http.Header{"Content-Type": {"application/json"}}
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: 200, Header: h, Body: io.NopCloser(strings.NewReader(body)), Options: in.Options})
		require.Error(t, err, body)
	}
}

// A tenant cannot point mksync at an address of its choosing: only the real
// Metakocka API and the deployment's allowed URLs are accepted, and a
// refused request stores nothing.
func TestCredentialsRefuseMetakockaURLsNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.a.Token
	base := "/api/integrations/metakocka/credentials"
	for _, u := range []string{"http://169.254.169.254", "http://127.0.0.1:6379", "https://main.metakocka.si@10.0.0.1", "http://127.0.0.1:8091"} {
		rec := b.do("PUT", base, tok, `{"companyId":"16","secretKey":"k","metakockaUrl":"`+u+`"}`)
		require.Equal(t, 400, rec.Code, "%s: %s", u, rec.Body.String())
		var e struct {
			Code    string            `json:"code"`
			Details map[string]string `json:"details"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
		require.Equal(t, mksync.EINVALID, e.Code)
		require.Contains(t, e.Details["metakockaUrl"], "not a Metakocka URL this server connects to", u)
		require.Equal(t, 404, b.do("GET", base, tok, "").Code, "%s: nothing stored", u)
	}
	for _, u := range []string{"", mksync.DefaultMetakockaURL, "http://127.0.0.1:8090/"} {
		rec := b.do("PUT", base, tok, `{"companyId":"16","secretKey":"k","metakockaUrl":"`+u+`"}`)
		require.Equal(t, 200, rec.Code, "%s: %s", u, rec.Body.String())
	}
}

// A URL the operator set with the CLI outside the allowed list stays
// usable: a PUT that keeps it (changing other settings) is not refused for
// it, while changing it to another address outside the list still is, and
// the refusal does not suggest emptying the field (production Metakocka).
func TestCredentialsKeepOperatorsMetakockaURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.a.Token
	base := "/api/integrations/metakocka/credentials"
	const cliURL = "http://10.1.2.3:8080"
	require.NoError(t, b.store.SetCredentials(context.Background(), b.a.ID, &mksync.MetakockaCredentials{
		CompanyID: "16", SecretKey: "k", BaseURL: cliURL}))
	rec := b.do("PUT", base, tok, `{"companyId":"16","metakockaUrl":"`+cliURL+`","settings":{"conflictPolicy":"crm_wins"}}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	c, err := b.store.FindCredentials(context.Background(), b.a.ID)
	require.NoError(t, err)
	require.Equal(t, cliURL, c.BaseURL)
	require.Equal(t, mksync.CRMWins, c.Settings.ConflictPolicy)

	rec = b.do("PUT", base, tok, `{"companyId":"16","metakockaUrl":"http://10.1.2.4:8080"}`)
	require.Equal(t, 400, rec.Code, rec.Body.String())
	require.NotContains(t, rec.Body.String(), "empty")
	require.Contains(t, rec.Body.String(), "administrator")
}

// mappingReadCounter counts the store's mapping reads.
type mappingReadCounter struct {
	mksync.Store
	one, many atomic.Int64
}

func (s *mappingReadCounter) FindMapping(ctx context.Context, tenantID string, et mksync.EntityType, id string) (mksync.Mapping, error) {
	s.one.Add(1)
	return s.Store.FindMapping(ctx, tenantID, et, id)
}

func (s *mappingReadCounter) FindMappingsOf(ctx context.Context, tenantID string, et mksync.EntityType, ids []string) (map[string]mksync.Mapping, error) {
	s.many.Add(1)
	return s.Store.FindMappingsOf(ctx, tenantID, et, ids)
}

// A list page reads its records' mappings in one query, not one per row,
// and each item still carries its own mapping.
func TestListReadsMappingsInOneQuery(t *testing.T) {
	t.Parallel()
	counter := &mappingReadCounter{}
	b := setup(t, setupOpts{wrap: func(s mksync.Store) mksync.Store { counter.Store = s; return counter }})
	tok := b.a.Token
	for i := range 20 {
		b.decode(b.do("POST", "/api/contacts", tok, fmt.Sprintf(`{"name":"Kontakt %d"}`, i)), 201, nil)
	}
	counter.one.Store(0)
	counter.many.Store(0)
	var lst struct {
		Items []map[string]any `json:"items"`
	}
	b.decode(b.do("GET", "/api/contacts?limit=50", tok, ""), 200, &lst)
	require.Len(t, lst.Items, 21)
	require.Zero(t, counter.one.Load())
	require.Equal(t, int64(1), counter.many.Load())
	mapped := 0
	for _, it := range lst.Items {
		if m, ok := it["mapping"].(map[string]any); ok {
			require.Equal(t, b.a.ContactID, it["id"])
			require.Equal(t, "C-1", m["countCode"])
			mapped++
		}
	}
	require.Equal(t, 1, mapped, "only the synced contact has a mapping")
}

// AllowSync draws on the same per-tenant budget as the sync routes: syncs
// the UI started leave fewer for the API, and the other way round.
func TestAllowSyncSharesTheSyncBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for range 7 {
		ok, _ := b.srv.AllowSync(ctx, b.a.ID)
		require.True(t, ok)
	}
	path := "/api/integrations/metakocka/contacts/sync-to-metakocka"
	body := `{"contactId":"` + b.a.ContactID + `"}`
	for range 3 {
		require.Equal(t, 200, b.do("POST", path, b.a.Token, body).Code)
	}
	require.Equal(t, 429, b.do("POST", path, b.a.Token, body).Code)
	ok, wait := b.srv.AllowSync(ctx, b.a.ID)
	require.False(t, ok)
	require.Equal(t, 6*time.Second, wait)
	ok, _ = b.srv.AllowSync(ctx, b.b.ID)
	require.True(t, ok, "another tenant's budget is its own")
}

// API answers hold personal data (contacts, documents, tokens): none may be
// kept by a browser or proxy cache, error answers included.
func TestAPIAnswersAreNotCached(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/api/contacts", b.a.Token},
		{"GET", "/api/contacts/" + b.a.ContactID, b.a.Token},
		{"GET", "/api/sales-documents", b.a.Token},
		{"GET", "/api/admin/tenants", b.adminToken},
		{"GET", "/api/contacts", ""},
		{"GET", "/api/nope", b.a.Token},
		{"GET", "/healthz", ""},
	} {
		rec := b.do(c.method, c.path, c.token, "")
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), "%s %s → %d", c.method, c.path, rec.Code)
	}
}

// busyStore answers reads as the SQLite store does when another writer
// holds the database past its busy timeout.
type busyStore struct{ mksync.Store }

func (busyStore) FindContacts(context.Context, string, mksync.ListFilter) ([]mksync.Contact, string, error) {
	return nil, "", mksync.WrapError(mksync.EUNAVAILABLE, "the database is busy; try again shortly", errors.New("database is locked (5) (SQLITE_BUSY)"))
}

// A busy database is 503 with Retry-After (a client may retry), not a 500;
// no error record is written to the database that is busy.
func TestBusyDatabaseIs503(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{wrap: func(s mksync.Store) mksync.Store { return busyStore{s} }})
	rec := b.do("GET", "/api/contacts", b.a.Token, "")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	env := envelope(t, rec)
	require.Equal(t, "unavailable", env.Code)
	require.NotContains(t, rec.Body.String(), "SQLITE")
	_, err := b.db.FindErrorRecord(context.Background(), b.a.ID, env.ErrorID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
}
