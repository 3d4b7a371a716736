package observe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
)

type staticJobs []observe.JobCounts

func (s staticJobs) CountJobs(context.Context) ([]observe.JobCounts, error) { return s, nil }

func TestCacheAndJobSources(t *testing.T) {
	t.Parallel()
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	hits := uint64(0)
	m.WatchCaches(func() []observe.CacheCounts {
		hits += 5
		return []observe.CacheCounts{{Cache: "mapping", Hits: hits, Misses: 2, Evictions: 1}, {Cache: "metadata", Misses: 7}}
	})
	m.WatchJobs(staticJobs{{Kind: "sync_run", Queued: 3, Running: 1, Failed: 2, Discarded: 4}})
	require.Equal(t, 5.0, observetest.Value(t, reg, "mksync_cache_hits_total", map[string]string{"cache": "mapping"}))
	require.Equal(t, 10.0, observetest.Value(t, reg, "mksync_cache_hits_total", map[string]string{"cache": "mapping"}), "read at every scrape")
	require.Equal(t, 7.0, observetest.Value(t, reg, "mksync_cache_misses_total", map[string]string{"cache": "metadata"}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_cache_evictions_total", map[string]string{"cache": "mapping"}))
	for state, want := range map[string]float64{"queued": 3, "running": 1, "failed": 2, "discarded": 4} {
		require.Equal(t, want, observetest.Value(t, reg, "mksync_jobs", map[string]string{"kind": "sync_run", "state": state}), state)
	}
}

type failingJobs struct{}

func (failingJobs) CountJobs(context.Context) ([]observe.JobCounts, error) {
	return nil, errors.New("database is gone")
}

// TestMetricsHandler scrapes /metrics as Prometheus would: a failing job
// counter is left out and the rest is still served.
func TestMetricsHandler(t *testing.T) {
	t.Parallel()
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	m.WatchJobs(failingJobs{})
	m.RecordsSynced("", mksync.EntityContact, mksync.ToMetakocka, observe.RecordUpdated, 1)
	var logs observe.LogBuffer
	srv := httptest.NewServer(observe.MetricsHandler(reg, observe.NewLogger(&logs, observe.Options{})))
	defer srv.Close()
	fams := observetest.Scrape(t, srv.URL)
	f := fams["mksync_sync_records_total"]
	require.NotNil(t, f)
	require.Equal(t, 1.0, f.GetMetric()[0].GetCounter().GetValue())
	require.Contains(t, logs.String(), "database is gone")
}

func TestMetakockaTransport(t *testing.T) {
	t.Parallel()
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	inFlight := make(chan float64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight <- observetest.Value(t, reg, "mksync_metakocka_requests_in_flight", nil)
		if strings.HasSuffix(r.URL.Path, "/product_list") {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"opr_code":"0"}`))
	}))
	defer srv.Close()
	c := &http.Client{Transport: m.MetakockaTransport(srv.Client().Transport)}
	for _, p := range []string{"/rest/eshop/v1/json/product_list", "/rest/eshop/v1/get_partner", "/rest/eshop/v1/json/product_list", "/rest/eshop/v1/Weird%20Path"} {
		resp, err := c.Post(srv.URL+p, "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 1.0, <-inFlight)
	}
	require.Equal(t, 0.0, observetest.Value(t, reg, "mksync_metakocka_requests_in_flight", nil))
	require.Equal(t, 2.0, observetest.Value(t, reg, "mksync_metakocka_rate_limited_total", map[string]string{"method": "product_list"}))
	require.Equal(t, 14.0, observetest.Value(t, reg, "mksync_metakocka_retry_after_seconds_total", map[string]string{"method": "product_list"}))
	require.Equal(t, 0.0, observetest.Value(t, reg, "mksync_metakocka_rate_limited_total", map[string]string{"method": "get_partner"}))
}

func TestHTTPMiddlewareOnServeMux(t *testing.T) {
	t.Parallel()
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h, err := m.HTTPMiddleware(mux) // no patterns: r.Pattern set by the mux
	require.NoError(t, err)
	for _, p := range []string{"/items/1", "/items/2", "/nope/secret-looking-path"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	require.Equal(t, 2.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": "GET /items/{id}", "code": "204"}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": observe.RouteUnmatched, "code": "404"}))
	require.Equal(t, 3.0, observetest.Value(t, reg, "mksync_http_request_duration_seconds", nil))

	_, err = m.HTTPMiddleware(mux, "GET /a/{x}", "GET /a/{y}")
	require.Error(t, err, "conflicting patterns")
}

// TestHTTPMiddlewareOnAPI wraps the real REST API: routes are its patterns
// (not paths), and its rate limiter's refusals are counted.
func TestHTTPMiddlewareOnAPI(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := testNow()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	api, err := httpapi.New(httpapi.Config{Store: openStore(t), Logger: observe.Discard(), Now: clock, RateLimitAPI: 2})
	require.NoError(t, err)
	defer api.Close()
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	h, err := m.HTTPMiddleware(api, api.Patterns()...)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, get("/api/openapi.json"))
	require.Equal(t, http.StatusOK, get("/api/openapi.json"))
	require.Equal(t, http.StatusTooManyRequests, get("/api/openapi.json"))
	require.Equal(t, http.StatusOK, get("/healthz"))
	require.Equal(t, http.StatusNotFound, get("/no/such/route"))

	// The client can read an answer before the middleware's deferred
	// counting ran; in-flight drops to zero only after it.
	settled := func() {
		require.Eventually(t, func() bool {
			return observetest.Value(t, reg, "mksync_http_requests_in_flight", nil) == 0
		}, 5*time.Second, time.Millisecond)
	}
	settled()
	const openapi = "GET /api/openapi.json"
	require.Equal(t, 2.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": openapi, "code": "200"}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": openapi, "code": "429"}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_rate_limited_total", map[string]string{"route": openapi}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": observe.RouteUnmatched, "code": "404"}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": "GET /healthz"}))
	require.Equal(t, 0.0, observetest.Value(t, reg, "mksync_http_requests_in_flight", nil))

	// A pattern with a wildcard is one label for every id.
	var withID string
	for _, p := range api.Patterns() {
		if strings.HasPrefix(p, "GET ") && strings.HasSuffix(p, "/{id}") {
			withID = p
			break
		}
	}
	require.NotEmpty(t, withID)
	path := strings.Replace(strings.TrimPrefix(withID, "GET "), "{id}", "abc", 1)
	mu.Lock()
	now = now.Add(time.Minute) // refill the client IP's bucket
	mu.Unlock()
	require.Equal(t, http.StatusUnauthorized, get(path))
	settled()
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_http_requests_total", map[string]string{"route": withID, "code": "401"}))
}
