package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// adminPage is RequireAdmin around a handler that counts what reaches it
// (River's job dashboard in production).
func adminPage(b *bundle) (http.Handler, *atomic.Int32) {
	var reached atomic.Int32
	return b.srv.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	})), &reached
}

// A page open in the admin's browser holds Basic credentials the browser
// re-sends to any site's form: a cross-site POST (text/plain needs no
// preflight) must not reach the dashboard's API, as the review's job
// delete did.
func TestAdminPageRefusesCrossOriginWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, reached := adminPage(b)
	post := func(hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://mksync.example/admin/jobs/api/jobs/delete", strings.NewReader(`{"ids":["1"]}`))
		req.Header.Set("Content-Type", "text/plain")
		req.SetBasicAuth("admin", b.adminToken)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"}, // an older browser without Sec-Fetch-Site
	} {
		rec := post(hdr...)
		require.Equal(t, http.StatusForbidden, rec.Code, "%v: %s", hdr, rec.Body)
		require.Equal(t, "forbidden", envelope(t, rec).Code)
	}
	require.Zero(t, reached.Load(), "no cross-origin write reached the dashboard")

	// The dashboard's own requests (same origin) and tools (no browser
	// headers) pass.
	require.Equal(t, http.StatusOK, post("Sec-Fetch-Site", "same-origin").Code)
	require.Equal(t, http.StatusOK, post("Origin", "http://mksync.example").Code)
	require.Equal(t, http.StatusOK, post().Code)
	require.EqualValues(t, 3, reached.Load())
}

func TestAdminPageSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, _ := adminPage(b)
	for _, basic := range []string{b.adminToken, "wrong", ""} {
		req := httptest.NewRequest(http.MethodGet, "/admin/jobs/", nil)
		if basic != "" {
			req.SetBasicAuth("admin", basic)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		csp := rec.Header().Get("Content-Security-Policy")
		require.Contains(t, csp, "frame-ancestors 'none'", basic)
		require.Contains(t, csp, "script-src 'self'", basic)
		require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	}
}

// Wrong admin tokens are limited per client IP: after the budget, even the
// right token waits (or guesses could go on, told apart by their status).
func TestAdminPageLimitsWrongTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, reached := adminPage(b)
	try := func(ip, pass string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/admin/jobs/", nil)
		req.RemoteAddr = ip + ":40000"
		req.SetBasicAuth("admin", pass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, try("203.0.113.7", "guess").Code, "attempt %d", i+1)
	}
	rec := try("203.0.113.7", "guess")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "rate_limited", envelope(t, rec).Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Equal(t, http.StatusTooManyRequests, try("203.0.113.7", b.adminToken).Code, "blocked before the token is checked")
	require.Zero(t, reached.Load())

	// Another address is not blocked; the first one may try again later.
	require.Equal(t, http.StatusOK, try("198.51.100.1", b.adminToken).Code)
	b.clock.Advance(10 * time.Second)
	require.Equal(t, http.StatusOK, try("203.0.113.7", b.adminToken).Code)
	// The right token spends no attempt.
	for range 20 {
		require.Equal(t, http.StatusOK, try("198.51.100.1", b.adminToken).Code)
	}
}
