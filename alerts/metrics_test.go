package alerts_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
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
	mon := &alerts.Monitor{Metrics: m}
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
	p, err := alerts.NewPruner(alerts.RetentionConfig{Store: db, Clock: clk, Metrics: m})
	require.NoError(t, err)
	_, err = p.Prune(ctx)
	require.NoError(t, err)

	n, err := alerts.NewNotifier(alerts.NotifierConfig{Metrics: m})
	require.NoError(t, err)
	require.NoError(t, n.Start(ctx))
	defer n.Stop()
	a, err := alerts.NewAlerter(alerts.AlertConfig{Store: db, Clock: clk, Metrics: m, Notifier: n, QueueSize: 1})
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
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	require.Equal(t, docMetricNames(t), m.Names(), "docs/metrics.md and observe/metrics.go list different metrics")
	for _, n := range m.Names() {
		require.True(t, strings.HasPrefix(n, "mksync_"), n)
	}

	touchEverything(t, m)
	// Deliveries fail against a closed port; one notice is enough.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	n, err := alerts.NewNotifier(alerts.NotifierConfig{Metrics: m, MaxTries: 1,
		Global: alerts.NotifyTarget{URL: dead.URL, Secret: "0123456789abcdef0123"}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, n.Start(ctx))
	defer n.Stop()
	n.Notify(alerts.Notice{Event: alerts.EventAlertOpened, TenantID: "t", Rule: alerts.RuleJobDiscarded, Alert: mksync.Alert{Key: "k"}})
	require.NoError(t, n.Flush(ctx))

	got := observetest.Families(t, reg)
	slices.Sort(got)
	require.Equal(t, m.Names(), got, "registry families differ from the declared names")
}

func TestMetricsPerTenantLabel(t *testing.T) {
	t.Parallel()
	for _, perTenant := range []bool{false, true} {
		m, reg := observetest.NewMetrics(t, observe.MetricsOptions{PerTenant: perTenant})
		mon := &alerts.Monitor{Metrics: m}
		mon.RecordSynced(observe.RecordEvent{TenantID: "tenant-1", Entity: mksync.EntityProduct, Direction: mksync.FromMetakocka, Outcome: observe.RecordFailed})
		mon.MetakockaObserver("tenant-1").OnRequest("product_list", "ok", time.Second)
		fams, err := reg.Gather()
		require.NoError(t, err)
		for _, f := range fams {
			if f.GetName() != "mksync_sync_records_total" && f.GetName() != "mksync_metakocka_requests_total" {
				continue
			}
			for _, s := range f.GetMetric() {
				has := observetest.LabelsMatch(s, map[string]string{"tenant": "tenant-1"})
				require.Equal(t, perTenant, has, "%s tenant label with PerTenant=%v", f.GetName(), perTenant)
			}
		}
		require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_sync_records_total",
			map[string]string{"entity": "product", "direction": "from_metakocka", "outcome": "failed"}))
	}
}

func TestSyncRunMetrics(t *testing.T) {
	t.Parallel()
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	mon := &alerts.Monitor{Metrics: m}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	run := mksync.SyncRun{TenantID: "t", EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	labels := map[string]string{"entity": "sales_document", "direction": "from_metakocka"}

	finish := mon.RunStarted(run)
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_sync_runs_in_progress", labels))
	run.Status, run.StartedAt, run.FinishedAt = mksync.RunSucceeded, &start, &end
	finish(run)
	finish(run) // a second call is ignored
	require.Equal(t, 0.0, observetest.Value(t, reg, "mksync_sync_runs_in_progress", labels))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_sync_runs_total", map[string]string{"status": "succeeded"}))
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_sync_run_duration_seconds", labels))
	require.Equal(t, float64(end.Unix()), observetest.Value(t, reg, "mksync_sync_last_success_timestamp_seconds", labels))

	mon.ResultSynced("t", mksync.EntityContact, mksync.ToMetakocka, mksync.SyncResult{Created: 3, Updated: 2, Skipped: 4, Failed: 1, Conflicts: 1})
	for outcome, want := range map[string]float64{"created": 3, "updated": 2, "skipped": 4, "failed": 1, "conflict": 1} {
		require.Equal(t, want, observetest.Value(t, reg, "mksync_sync_records_total", map[string]string{"entity": "contact", "outcome": outcome}), outcome)
	}
}
