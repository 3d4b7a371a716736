package observe_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/observe"
)

// docMetricNames returns the metric names docs/metrics.md lists in its
// tables (first column, in backticks).
func docMetricNames(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/metrics.md")
	require.NoError(t, err)
	re := regexp.MustCompile("(?m)^\\| `(mksync_[a-z0-9_]+)` \\|")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

type staticJobs []observe.JobCounts

func (s staticJobs) CountJobs(context.Context) ([]observe.JobCounts, error) { return s, nil }

// touchEverything makes every metric emit at least one series.
func touchEverything(t *testing.T, m *observe.Metrics) {
	t.Helper()
	mon := &observe.Monitor{Metrics: m}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	later := now.Add(3 * time.Second)
	mon.RecordSynced(observe.RecordEvent{TenantID: "t", Entity: mksync.EntityContact, Direction: mksync.ToMetakocka, Outcome: observe.RecordCreated})
	finish := mon.RunStarted(mksync.SyncRun{TenantID: "t", EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka})
	finish(mksync.SyncRun{TenantID: "t", EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka,
		Status: mksync.RunSucceeded, StartedAt: &now, FinishedAt: &later})
	mon.JobFinished(observe.JobEvent{Kind: "sync_run", Outcome: observe.JobDiscarded})

	obs := mon.MetakockaObserver("t")
	obs.OnRequest("get_partner", "ok", 100*time.Millisecond)
	obs.OnRetry("get_partner", "timeout", time.Second)
	obs.OnPacingWait("get_partner", time.Millisecond)
	obs.OnBudget("16", 6, 120*time.Millisecond, true)

	mk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer mk.Close()
	c := &http.Client{Transport: m.MetakockaTransport(nil)}
	resp, err := c.Post(mk.URL+"/rest/eshop/v1/get_partner", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()

	h, err := m.HTTPMiddleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("RateLimit-Limit", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}), "GET /x")
	require.NoError(t, err)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))

	m.WatchCaches(func() []observe.CacheCounts { return []observe.CacheCounts{{Cache: "mapping", Hits: 1}} })
	m.WatchJobs(staticJobs{{Kind: "sync_run", Queued: 1}})

	ctx := context.Background()
	clk := newFakeClock()
	db, tenantID := newStore(t, clk)
	p, err := observe.NewPruner(observe.RetentionConfig{Store: db, Clock: clk, Metrics: m})
	require.NoError(t, err)
	_, err = p.Prune(ctx)
	require.NoError(t, err)

	n, err := observe.NewNotifier(observe.NotifierConfig{Metrics: m})
	require.NoError(t, err)
	require.NoError(t, n.Start(ctx))
	defer n.Stop()
	a, err := observe.NewAlerter(observe.AlertConfig{Store: db, Clock: clk, Metrics: m, Notifier: n, QueueSize: 1})
	require.NoError(t, err)
	// Not started: the second event overflows the queue of one.
	a.JobFinished(observe.JobEvent{TenantID: tenantID, Kind: "sync_run", Outcome: observe.JobDiscarded})
	a.JobFinished(observe.JobEvent{TenantID: tenantID, Kind: "sync_run", Outcome: observe.JobCompleted})
	require.NoError(t, a.Start(ctx))
	defer a.Stop()
	require.NoError(t, a.Flush(ctx))
	a.JobFinished(observe.JobEvent{TenantID: tenantID, Kind: "sync_run", Outcome: observe.JobCompleted})
	require.NoError(t, a.Flush(ctx))
	require.NoError(t, n.Flush(ctx))
}

// TestDocsListEveryMetric keeps docs/metrics.md, the declarations and the
// registry in step: the docs list exactly the declared names, and a scrape
// after every adapter ran shows exactly those families.
func TestDocsListEveryMetric(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, observe.MetricsOptions{})
	require.Equal(t, docMetricNames(t), m.Names(), "docs/metrics.md and observe/metrics.go list different metrics")
	for _, n := range m.Names() {
		require.True(t, strings.HasPrefix(n, "mksync_"), n)
	}

	touchEverything(t, m)
	// Deliveries fail against a closed port; one notice is enough.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	n, err := observe.NewNotifier(observe.NotifierConfig{Metrics: m, MaxTries: 1,
		Global: observe.NotifyTarget{URL: dead.URL, Secret: "0123456789abcdef0123"}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, n.Start(ctx))
	defer n.Stop()
	n.Notify(observe.Notice{Event: observe.EventAlertOpened, TenantID: "t", Rule: observe.RuleJobDiscarded, Alert: mksync.Alert{Key: "k"}})
	require.NoError(t, n.Flush(ctx))

	got := mksyncFamilies(t, reg)
	slices.Sort(got)
	require.Equal(t, m.Names(), got, "registry families differ from the declared names")
}

func TestMetricsPerTenantLabel(t *testing.T) {
	t.Parallel()
	for _, perTenant := range []bool{false, true} {
		m, reg := newMetrics(t, observe.MetricsOptions{PerTenant: perTenant})
		mon := &observe.Monitor{Metrics: m}
		mon.RecordSynced(observe.RecordEvent{TenantID: "tenant-1", Entity: mksync.EntityProduct, Direction: mksync.FromMetakocka, Outcome: observe.RecordFailed})
		mon.MetakockaObserver("tenant-1").OnRequest("product_list", "ok", time.Second)
		fams, err := reg.Gather()
		require.NoError(t, err)
		for _, f := range fams {
			if f.GetName() != "mksync_sync_records_total" && f.GetName() != "mksync_metakocka_requests_total" {
				continue
			}
			for _, s := range f.GetMetric() {
				has := labelsMatch(s, map[string]string{"tenant": "tenant-1"})
				require.Equal(t, perTenant, has, "%s tenant label with PerTenant=%v", f.GetName(), perTenant)
			}
		}
		require.Equal(t, 1.0, value(t, reg, "mksync_sync_records_total",
			map[string]string{"entity": "product", "direction": "from_metakocka", "outcome": "failed"}))
	}
}

func TestMetricsOptionsFromEnv(t *testing.T) {
	t.Setenv(observe.EnvMetricsPerTenant, "true")
	o, err := observe.MetricsOptionsFromEnv()
	require.NoError(t, err)
	require.True(t, o.PerTenant)
	t.Setenv(observe.EnvMetricsPerTenant, "maybe")
	_, err = observe.MetricsOptionsFromEnv()
	require.ErrorContains(t, err, observe.EnvMetricsPerTenant)
}

func TestSyncRunMetrics(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, observe.MetricsOptions{})
	mon := &observe.Monitor{Metrics: m}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	run := mksync.SyncRun{TenantID: "t", EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	labels := map[string]string{"entity": "sales_document", "direction": "from_metakocka"}

	finish := mon.RunStarted(run)
	require.Equal(t, 1.0, value(t, reg, "mksync_sync_runs_in_progress", labels))
	run.Status, run.StartedAt, run.FinishedAt = mksync.RunSucceeded, &start, &end
	finish(run)
	finish(run) // a second call is ignored
	require.Equal(t, 0.0, value(t, reg, "mksync_sync_runs_in_progress", labels))
	require.Equal(t, 1.0, value(t, reg, "mksync_sync_runs_total", map[string]string{"status": "succeeded"}))
	require.Equal(t, 1.0, value(t, reg, "mksync_sync_run_duration_seconds", labels))
	require.Equal(t, float64(end.Unix()), value(t, reg, "mksync_sync_last_success_timestamp_seconds", labels))

	mon.ResultSynced("t", mksync.EntityContact, mksync.ToMetakocka, mksync.SyncResult{Created: 3, Updated: 2, Skipped: 4, Failed: 1, Conflicts: 1})
	for outcome, want := range map[string]float64{"created": 3, "updated": 2, "skipped": 4, "failed": 1, "conflict": 1} {
		require.Equal(t, want, value(t, reg, "mksync_sync_records_total", map[string]string{"entity": "contact", "outcome": outcome}), outcome)
	}
}

func TestCacheAndJobSources(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, observe.MetricsOptions{})
	hits := uint64(0)
	m.WatchCaches(func() []observe.CacheCounts {
		hits += 5
		return []observe.CacheCounts{{Cache: "mapping", Hits: hits, Misses: 2, Evictions: 1}, {Cache: "metadata", Misses: 7}}
	})
	m.WatchJobs(staticJobs{{Kind: "sync_run", Queued: 3, Running: 1, Failed: 2, Discarded: 4}})
	require.Equal(t, 5.0, value(t, reg, "mksync_cache_hits_total", map[string]string{"cache": "mapping"}))
	require.Equal(t, 10.0, value(t, reg, "mksync_cache_hits_total", map[string]string{"cache": "mapping"}), "read at every scrape")
	require.Equal(t, 7.0, value(t, reg, "mksync_cache_misses_total", map[string]string{"cache": "metadata"}))
	require.Equal(t, 1.0, value(t, reg, "mksync_cache_evictions_total", map[string]string{"cache": "mapping"}))
	for state, want := range map[string]float64{"queued": 3, "running": 1, "failed": 2, "discarded": 4} {
		require.Equal(t, want, value(t, reg, "mksync_jobs", map[string]string{"kind": "sync_run", "state": state}), state)
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
	m, reg := newMetrics(t, observe.MetricsOptions{})
	m.WatchJobs(failingJobs{})
	(&observe.Monitor{Metrics: m}).RecordSynced(observe.RecordEvent{Entity: mksync.EntityContact, Direction: mksync.ToMetakocka, Outcome: observe.RecordUpdated})
	var logs observe.LogBuffer
	srv := httptest.NewServer(observe.MetricsHandler(reg, observe.NewLogger(&logs, observe.Options{})))
	defer srv.Close()
	fams := scrape(t, srv.URL)
	f := fams["mksync_sync_records_total"]
	require.NotNil(t, f)
	require.Equal(t, 1.0, f.GetMetric()[0].GetCounter().GetValue())
	require.Contains(t, logs.String(), "database is gone")
}

// scrape GETs a /metrics URL and parses the text format.
func scrape(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	require.NoError(t, err)
	return fams
}

func TestMetakockaTransport(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, observe.MetricsOptions{})
	inFlight := make(chan float64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight <- value(t, reg, "mksync_metakocka_requests_in_flight", nil)
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
	require.Equal(t, 0.0, value(t, reg, "mksync_metakocka_requests_in_flight", nil))
	require.Equal(t, 2.0, value(t, reg, "mksync_metakocka_rate_limited_total", map[string]string{"method": "product_list"}))
	require.Equal(t, 14.0, value(t, reg, "mksync_metakocka_retry_after_seconds_total", map[string]string{"method": "product_list"}))
	require.Equal(t, 0.0, value(t, reg, "mksync_metakocka_rate_limited_total", map[string]string{"method": "get_partner"}))
}

func TestHTTPMiddlewareOnServeMux(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, observe.MetricsOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h, err := m.HTTPMiddleware(mux) // no patterns: r.Pattern set by the mux
	require.NoError(t, err)
	for _, p := range []string{"/items/1", "/items/2", "/nope/secret-looking-path"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	require.Equal(t, 2.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": "GET /items/{id}", "code": "204"}))
	require.Equal(t, 1.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": observe.RouteUnmatched, "code": "404"}))
	require.Equal(t, 3.0, value(t, reg, "mksync_http_request_duration_seconds", nil))

	_, err = m.HTTPMiddleware(mux, "GET /a/{x}", "GET /a/{y}")
	require.Error(t, err, "conflicting patterns")
}

// TestHTTPMiddlewareOnAPI wraps the real REST API: routes are its patterns
// (not paths), and its rate limiter's refusals are counted.
func TestHTTPMiddlewareOnAPI(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	db, _ := newStore(t, clk)
	api, err := httpapi.New(httpapi.Config{Store: db, Logger: observe.Discard(), Now: clk.Now, RateLimitAPI: 2})
	require.NoError(t, err)
	defer api.Close()
	m, reg := newMetrics(t, observe.MetricsOptions{})
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

	const openapi = "GET /api/openapi.json"
	require.Equal(t, 2.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": openapi, "code": "200"}))
	require.Equal(t, 1.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": openapi, "code": "429"}))
	require.Equal(t, 1.0, value(t, reg, "mksync_rate_limited_total", map[string]string{"route": openapi}))
	require.Equal(t, 1.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": observe.RouteUnmatched, "code": "404"}))
	require.Equal(t, 1.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": "GET /healthz"}))
	require.Equal(t, 0.0, value(t, reg, "mksync_http_requests_in_flight", nil))

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
	clk.Advance(time.Minute) // refill the client IP's bucket
	require.Equal(t, http.StatusUnauthorized, get(path))
	require.Equal(t, 1.0, value(t, reg, "mksync_http_requests_total", map[string]string{"route": withID, "code": "401"}))
}
