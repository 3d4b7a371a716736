package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
	"github.com/mksync/mksync/sqlite"
)

const webhookSecret = "whsec-0123456789abcdef"

// receiver is a webhook that checks each notice's signature and keeps it.
type receiver struct {
	t      testing.TB
	clk    *fakeClock
	srv    *httptest.Server
	mu     sync.Mutex
	got    []alerts.NoticeBody
	raw    []string // every request body as received
	status []int    // answers to give, in order; 200 after them
	ids    []string // X-Mksync-Delivery of every attempt
}

func newReceiver(t testing.TB, clk *fakeClock) *receiver {
	r := &receiver{t: t, clk: clk}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, req.Header.Get(alerts.HeaderDelivery))
	r.raw = append(r.raw, string(body))
	if len(r.status) > 0 {
		s := r.status[0]
		r.status = r.status[1:]
		w.WriteHeader(s)
		return
	}
	if err := alerts.VerifySignature([]byte(webhookSecret), req.Header.Get(alerts.HeaderTimestamp),
		req.Header.Get(alerts.HeaderSignature), body, r.clk.Now(), 5*time.Minute); err != nil {
		r.t.Errorf("notice with a bad signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var n alerts.NoticeBody
	if err := json.Unmarshal(body, &n); err != nil {
		r.t.Errorf("notice is not JSON: %v", err)
	}
	if req.Header.Get(alerts.HeaderEvent) != n.Event || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("notice headers do not match its body: %v", req.Header)
	}
	r.got = append(r.got, n)
}

// rawBodies returns every request body received.
func (r *receiver) rawBodies() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.raw, "\n")
}

// attempts returns every request's X-Mksync-Delivery, in order.
func (r *receiver) attempts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func (r *receiver) notices() []alerts.NoticeBody {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alerts.NoticeBody(nil), r.got...)
}

type alertBundle struct {
	ctx    context.Context
	clk    *fakeClock
	db     *sqlite.DB
	tenant string
	a      *alerts.Alerter
	n      *alerts.Notifier
	recv   *receiver
	reg    *prometheus.Registry
	logs   *observe.LogBuffer
}

func setupAlerts(t *testing.T, tweak func(*alerts.AlertConfig)) *alertBundle {
	t.Helper()
	b := &alertBundle{ctx: context.Background(), clk: newFakeClock(), logs: &observe.LogBuffer{}}
	b.db, b.tenant = newStore(t, b.clk)
	b.recv = newReceiver(t, b.clk)
	var m *observe.Metrics
	m, b.reg = observetest.NewMetrics(t, observe.MetricsOptions{})
	log := observe.NewLogger(b.logs, observe.Options{})
	var err error
	b.n, err = alerts.NewNotifier(alerts.NotifierConfig{
		Global: alerts.NotifyTarget{URL: b.recv.srv.URL, Secret: webhookSecret},
		Logger: log, Clock: b.clk, Metrics: m, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	cfg := alerts.AlertConfig{Store: b.db, Logger: log, Clock: b.clk, Metrics: m, Notifier: b.n}
	if tweak != nil {
		tweak(&cfg)
	}
	b.a, err = alerts.NewAlerter(cfg)
	require.NoError(t, err)
	require.NoError(t, b.n.Start(b.ctx))
	require.NoError(t, b.a.Start(b.ctx))
	t.Cleanup(func() {
		b.a.Stop()
		b.a.Stop() // safe twice
		b.n.Stop()
		b.n.Stop()
	})
	return b
}

// flush waits for the evaluator and the deliveries.
func (b *alertBundle) flush(t *testing.T) { flushAll(t, b.a, b.n) }

func (b *alertBundle) alerts(t *testing.T, status mksync.AlertStatus) []mksync.Alert {
	t.Helper()
	as, _, err := b.db.FindAlerts(b.ctx, b.tenant, status, mksync.Page{})
	require.NoError(t, err)
	return as
}

func (b *alertBundle) record(outcome observe.RecordOutcome, et mksync.EntityType) {
	b.a.RecordSynced(observe.RecordEvent{TenantID: b.tenant, Entity: et, Direction: mksync.ToMetakocka, Outcome: outcome, Code: mksync.EUPSTREAM})
}

func TestRecordFailuresRule(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, func(c *alerts.AlertConfig) { c.RecordFailures = 3 })
	const key = "record_failures:contact:to_metakocka"

	b.record(observe.RecordFailed, mksync.EntityContact)
	b.record(observe.RecordFailed, mksync.EntityContact)
	b.record(observe.RecordFailed, mksync.EntityProduct) // another streak
	b.flush(t)
	require.Empty(t, b.alerts(t, ""))

	for range 5 {
		b.record(observe.RecordFailed, mksync.EntityContact)
	}
	b.flush(t)
	open := b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, key, open[0].Key)
	require.Equal(t, alerts.SeverityWarning, open[0].Severity)
	require.Equal(t, 1, open[0].Count)
	require.Contains(t, open[0].Message, "last 3 contact records failed to sync to Metakocka")
	notices := b.recv.notices()
	require.Len(t, notices, 1, "one notice per opened alert")
	require.Equal(t, alerts.EventAlertOpened, notices[0].Event)
	require.Equal(t, b.tenant, notices[0].TenantID)
	require.Equal(t, alerts.RuleRecordFailures, notices[0].Rule)
	require.Equal(t, open[0].ID, notices[0].Alert.ID)
	require.Equal(t, open[0].ID+":"+alerts.EventAlertOpened, notices[0].ID)
	require.Contains(t, b.logs.String(), `"msg":"alert opened"`)

	// Still failing after the refresh interval: the alert is bumped, not
	// duplicated, and no second notice goes out.
	b.clk.Advance(6 * time.Minute)
	b.record(observe.RecordFailed, mksync.EntityContact)
	b.flush(t)
	open = b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, 2, open[0].Count)
	require.Len(t, b.recv.notices(), 1)

	// One record that syncs resolves it.
	b.record(observe.RecordUpdated, mksync.EntityContact)
	b.record(observe.RecordSkipped, mksync.EntityContact)
	b.flush(t)
	require.Empty(t, b.alerts(t, mksync.AlertOpen))
	resolved := b.alerts(t, mksync.AlertResolved)
	require.Len(t, resolved, 1)
	notices = b.recv.notices()
	require.Len(t, notices, 2)
	require.Equal(t, alerts.EventAlertResolved, notices[1].Event)
	require.Equal(t, resolved[0].ID, notices[1].Alert.ID)
	require.Equal(t, mksync.AlertResolved, notices[1].Alert.Status)
	require.Equal(t, 1.0, observetest.Value(t, b.reg, "mksync_alerts_opened_total", map[string]string{"rule": alerts.RuleRecordFailures}))
	require.Equal(t, 1.0, observetest.Value(t, b.reg, "mksync_alerts_resolved_total", map[string]string{"rule": alerts.RuleRecordFailures}))
	require.Equal(t, 2.0, observetest.Value(t, b.reg, "mksync_alert_notifications_total", map[string]string{"outcome": "sent"}))
}

func TestRecordFailuresOutsideWindow(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, func(c *alerts.AlertConfig) { c.RecordFailures = 3; c.RecordWindow = time.Hour })
	for range 6 {
		b.record(observe.RecordFailed, mksync.EntityContact)
		b.flush(t)
		b.clk.Advance(31 * time.Minute) // three failures span more than an hour
	}
	require.Empty(t, b.alerts(t, ""))
}

func TestRunFailuresRule(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, func(c *alerts.AlertConfig) { c.RunFailures = 2 })
	run := func(st mksync.RunStatus) {
		b.a.RunFinished(mksync.SyncRun{TenantID: b.tenant, EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Status: st,
			Result: mksync.SyncResult{Errors: []mksync.RecordError{{Code: mksync.EUPSTREAM}}}})
	}
	run(mksync.RunFailed)
	run(mksync.RunPartial) // neither resets nor counts
	b.flush(t)
	require.Empty(t, b.alerts(t, ""))
	run(mksync.RunFailed)
	b.flush(t)
	open := b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, "run_failures:product:from_metakocka", open[0].Key)
	require.Equal(t, alerts.SeverityCritical, open[0].Severity)
	run(mksync.RunSucceeded)
	b.flush(t)
	require.Empty(t, b.alerts(t, mksync.AlertOpen))
	require.Len(t, b.recv.notices(), 2)
}

func TestMetakockaAuthRule(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, nil)
	req := func(outcome string) {
		b.a.MetakockaRequest(alerts.RequestEvent{TenantID: b.tenant, Method: "get_partner", Outcome: outcome})
	}
	req(mksync.ENOTFOUND) // an answer about data is not an auth failure
	req(mksync.EUNAUTHORIZED)
	req(mksync.EUNAUTHORIZED)
	b.flush(t)
	open := b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, alerts.RuleMetakockaAuth, open[0].Key)
	require.Equal(t, alerts.SeverityCritical, open[0].Severity)
	require.Contains(t, b.logs.String(), `"category":"METAKOCKA"`)
	req("ok")
	b.flush(t)
	require.Empty(t, b.alerts(t, mksync.AlertOpen))
	require.Len(t, b.recv.notices(), 2)
}

func TestMetakockaErrorRateRule(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, func(c *alerts.AlertConfig) {
		c.ErrorRateMinRequests, c.ErrorRateThreshold, c.ErrorRateWindow = 10, 0.5, 5*time.Minute
	})
	req := func(outcome string, n int) {
		for range n {
			b.a.MetakockaRequest(alerts.RequestEvent{TenantID: b.tenant, Method: "search", Outcome: outcome})
		}
	}
	req(mksync.EUPSTREAM, 9)
	req(mksync.ECANCELED, 5) // not counted at all
	b.flush(t)
	require.Empty(t, b.alerts(t, ""), "fewer requests than the minimum")
	req(mksync.ERATELIMITED, 1)
	b.flush(t)
	open := b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, alerts.RuleMetakockaErrorRate, open[0].Key)
	require.Contains(t, open[0].Message, "10 of the last 10 Metakocka requests failed")

	req("ok", 9) // 10 of 19 failed: still above half
	b.flush(t)
	require.Len(t, b.alerts(t, mksync.AlertOpen), 1)
	req(mksync.EINVALID, 1) // 10 of 20: at the threshold, resolved
	b.flush(t)
	require.Empty(t, b.alerts(t, mksync.AlertOpen))

	// Opened again, then resolved by time alone once the failures leave
	// the window (the sweep).
	req(mksync.EUPSTREAM, 30)
	b.flush(t)
	require.Len(t, b.alerts(t, mksync.AlertOpen), 1)
	b.clk.Advance(6 * time.Minute)
	b.flush(t)
	require.Empty(t, b.alerts(t, mksync.AlertOpen))
	require.Len(t, b.alerts(t, mksync.AlertResolved), 2)
	require.Len(t, b.recv.notices(), 4)
}

func TestJobDiscardedRule(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, nil)
	b.a.JobFinished(observe.JobEvent{TenantID: b.tenant, Kind: "sync_run", Outcome: observe.JobDiscarded, Attempts: 5, Code: mksync.EUPSTREAM})
	b.a.JobFinished(observe.JobEvent{Kind: "prune", Outcome: observe.JobDiscarded, Attempts: 5}) // no tenant: logged only
	b.flush(t)
	open := b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, "job_discarded:sync_run", open[0].Key)
	require.Contains(t, open[0].Message, "after 5 attempts")
	require.Contains(t, b.logs.String(), `"job_kind":"prune"`)

	b.a.JobFinished(observe.JobEvent{TenantID: b.tenant, Kind: "schedule", Outcome: observe.JobCompleted})
	b.flush(t)
	require.Len(t, b.alerts(t, mksync.AlertOpen), 1, "another kind does not resolve it")
	b.a.JobFinished(observe.JobEvent{TenantID: b.tenant, Kind: "sync_run", Outcome: observe.JobCompleted})
	b.flush(t)
	require.Empty(t, b.alerts(t, mksync.AlertOpen))
}

// TestAlertsSurviveRestart: a new evaluator finds the alert still open in
// the store: failing again sends no second notice, and the first success
// resolves it.
func TestAlertsSurviveRestart(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, nil)
	b.a.MetakockaRequest(alerts.RequestEvent{TenantID: b.tenant, Method: "get_partner", Outcome: mksync.EUNAUTHORIZED})
	b.flush(t)
	require.Len(t, b.recv.notices(), 1)
	b.a.Stop()

	a2, err := alerts.NewAlerter(alerts.AlertConfig{Store: b.db, Clock: b.clk, Notifier: b.n})
	require.NoError(t, err)
	require.NoError(t, a2.Start(b.ctx))
	defer a2.Stop()
	a2.MetakockaRequest(alerts.RequestEvent{TenantID: b.tenant, Method: "get_partner", Outcome: mksync.EUNAUTHORIZED})
	require.NoError(t, a2.Flush(b.ctx))
	require.NoError(t, b.n.Flush(b.ctx))
	require.Len(t, b.recv.notices(), 1)
	open := b.alerts(t, mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, 2, open[0].Count)

	a2.MetakockaRequest(alerts.RequestEvent{TenantID: b.tenant, Method: "get_partner", Outcome: "ok"})
	require.NoError(t, a2.Flush(b.ctx))
	require.NoError(t, b.n.Flush(b.ctx))
	require.Empty(t, b.alerts(t, mksync.AlertOpen))
	notices := b.recv.notices()
	require.Len(t, notices, 2)
	require.Equal(t, alerts.EventAlertResolved, notices[1].Event)
}

func TestAlertConfigValidation(t *testing.T) {
	t.Parallel()
	_, err := alerts.NewAlerter(alerts.AlertConfig{})
	require.ErrorContains(t, err, "Store")
	clk := newFakeClock()
	db, _ := newStore(t, clk)
	_, err = alerts.NewAlerter(alerts.AlertConfig{Store: db, ErrorRateThreshold: 2})
	require.ErrorContains(t, err, "ErrorRateThreshold")
}
