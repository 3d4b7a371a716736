package alerts_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
	"github.com/mksync/mksync/sqlite"
)

// world is a tenant connected to a simulated Metakocka company, wired to
// metrics, the alert evaluator and a webhook receiver the way cmd/mksync
// wires them.
type world struct {
	ctx     context.Context
	clk     *fakeClock
	db      *sqlite.DB
	tenant  string
	fake    *mkfake.Server
	client  *metakocka.Client
	mon     *alerts.Monitor
	alerts  *alerts.Alerter
	notify  *alerts.Notifier
	recv    *receiver
	reg     *prometheus.Registry
	metrics *httptest.Server // serves /metrics
	logs    *observe.LogBuffer
	log     *slog.Logger
}

const (
	e2eCompany = "4321"
	e2eSecret  = "mk-secret-ZX81-do-not-leak"
)

func newWorld(t *testing.T, secretSent mksync.Secret, tweak func(*alerts.AlertConfig)) *world {
	t.Helper()
	w := &world{ctx: context.Background(), clk: newFakeClock(), logs: &observe.LogBuffer{}}
	w.log = observe.NewLogger(w.logs, observe.Options{Level: slog.LevelDebug})
	w.db, w.tenant = newStore(t, w.clk)
	w.fake = mkfake.New(mkfake.Options{Seed: 3, Clock: w.clk.Now})
	w.fake.AddCompany(e2eCompany, e2eSecret)
	mk := httptest.NewServer(w.fake)
	t.Cleanup(func() {
		w.fake.Close()
		mk.Close()
	})
	w.recv = newReceiver(t, w.clk)

	w.reg = prometheus.NewPedanticRegistry()
	m, err := observe.NewMetrics(w.reg, observe.MetricsOptions{})
	require.NoError(t, err)
	w.notify, err = alerts.NewNotifier(alerts.NotifierConfig{
		Global: alerts.NotifyTarget{URL: w.recv.srv.URL, Secret: webhookSecret},
		Logger: w.log, Clock: w.clk, Metrics: m, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	cfg := alerts.AlertConfig{Store: w.db, Logger: w.log, Clock: w.clk, Metrics: m, Notifier: w.notify, RecordFailures: 5}
	if tweak != nil {
		tweak(&cfg)
	}
	w.alerts, err = alerts.NewAlerter(cfg)
	require.NoError(t, err)
	require.NoError(t, w.notify.Start(w.ctx))
	require.NoError(t, w.alerts.Start(w.ctx))
	t.Cleanup(w.alerts.Stop)
	t.Cleanup(w.notify.Stop)
	w.mon = &alerts.Monitor{Metrics: m, Alerts: w.alerts}
	w.metrics = httptest.NewServer(observe.MetricsHandler(w.reg, w.log))
	t.Cleanup(w.metrics.Close)

	w.client, err = metakocka.New(metakocka.Config{
		BaseURL: mk.URL, CompanyID: e2eCompany, SecretKey: secretSent,
		HTTPClient: &http.Client{Transport: m.MetakockaTransport(mk.Client().Transport)},
		Logger:     w.log,
		Observer:   w.mon.MetakockaObserver(w.tenant),
		Clock:      w.clk,
		Retry:      metakocka.RetryConfig{MaxRetries: 1, InitialInterval: time.Second},
		Pacing:     metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 4},
		Timeouts:   metakocka.Timeouts{Default: 10 * time.Second},
	})
	require.NoError(t, err)
	return w
}

// pushContact does what the engine does for one contact pushed to
// Metakocka: look the partner up, add it when missing, and on failure keep
// an error record (code, user-safe message, cause) and a log line; the
// outcome goes to the Monitor.
func (w *world) pushContact(t *testing.T, name string) error {
	t.Helper()
	ev := observe.RecordEvent{TenantID: w.tenant, Entity: mksync.EntityContact, Direction: mksync.ToMetakocka}
	found, err := w.client.GetPartner(w.ctx, metakocka.PartnerQuery{PartnerName: name})
	if err == nil && len(found) == 0 {
		_, err = w.client.AddPartner(w.ctx, metakocka.Partner{Customer: name, Street: "Dunajska 1", PostNumber: "1000", Place: "Ljubljana", Country: "Slovenija"})
		ev.Outcome = observe.RecordCreated
	} else if err == nil {
		ev.Outcome = observe.RecordSkipped
	}
	if err != nil {
		rec := mksync.ErrorRecord{
			Category: observe.CatSync, Operation: "contacts.sync_to_metakocka", EntityID: name,
			Code: mksync.ErrorCode(err), Message: mksync.ErrorMessage(err),
			Details: map[string]any{"cause": err.Error(), "entityType": "contact", "direction": "to_metakocka"},
		}
		require.NoError(t, w.db.CreateErrorRecord(w.ctx, w.tenant, &rec))
		w.log.LogAttrs(w.ctx, slog.LevelWarn, "record sync failed", observe.Category(observe.CatSync),
			slog.String("tenant_id", w.tenant), slog.String("entity_id", name), slog.String("error_id", rec.ID),
			slog.String("code", rec.Code), slog.String("error", err.Error()))
		ev.Outcome, ev.Code = observe.RecordFailed, rec.Code
	}
	w.mon.RecordSynced(ev)
	return err
}

func (w *world) flush(t *testing.T) { flushAll(t, w.alerts, w.notify) }

// metric scrapes /metrics and returns the value of one series.
func (w *world) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	f := observetest.Scrape(t, w.metrics.URL)[name]
	if f == nil {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if observetest.LabelsMatch(m, labels) {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// TestE2ECompanyStartsFailing: a tenant's Metakocka company starts failing
// (simulator faults). Its records fail and the record-failure alert opens
// with exactly one signed notice; as failures go on, the Metakocka
// error-rate alert opens too, again with exactly one notice, while the
// first alert stays deduplicated. When the faults stop, the next record
// resolves the first alert and, once the failures leave the window, the
// error-rate alert resolves: one notice each. Metrics (scraped from
// /metrics) and error records tell the same story.
//
// The sync engine is not wired yet, so the test plays the engine's part
// (pushContact) with the real client, store, evaluator and notifier.
func TestE2ECompanyStartsFailing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, e2eSecret, nil)
	findAlerts := func(st mksync.AlertStatus) []mksync.Alert {
		as, _, err := w.db.FindAlerts(w.ctx, w.tenant, st, mksync.Page{})
		require.NoError(t, err)
		return as
	}
	contact := map[string]string{"entity": "contact", "direction": "to_metakocka"}
	with := func(base map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for bk, bv := range base {
			out[bk] = bv
		}
		return out
	}

	// Healthy: three contacts are created (6 requests).
	for i := range 3 {
		require.NoError(t, w.pushContact(t, fmt.Sprintf("Healthy %d d.o.o.", i)))
	}
	w.flush(t)
	require.Empty(t, w.recv.notices())
	require.Empty(t, findAlerts(""))

	// The company starts failing: every request gets HTTP 500 or 503. Six
	// records fail (a lookup and its retry each: 12 requests, below the
	// error-rate rule's minimum of 20).
	w.fake.SetFaults(e2eCompany, mkfake.Faults{ErrorRate: 1})
	failed := 0
	pushFailing := func(n int) {
		for range n {
			err := w.pushContact(t, fmt.Sprintf("Failing %d d.o.o.", failed))
			require.Error(t, err)
			require.Equal(t, mksync.EUPSTREAM, mksync.ErrorCode(err))
			failed++
		}
		w.flush(t)
	}
	pushFailing(6)
	open := findAlerts(mksync.AlertOpen)
	require.Len(t, open, 1, "one alert, however many records failed")
	require.Equal(t, "record_failures:contact:to_metakocka", open[0].Key)
	notices := w.recv.notices()
	require.Len(t, notices, 1, "exactly one signed notice for the open alert")
	require.Equal(t, alerts.EventAlertOpened, notices[0].Event)
	require.Equal(t, open[0].ID, notices[0].Alert.ID)
	require.Equal(t, w.tenant, notices[0].TenantID)
	require.Contains(t, w.logs.String(), `"msg":"alert opened"`)

	// Failures go on: 20 of 26 requests failed, so the error-rate alert
	// opens as well; the record alert sends nothing new.
	pushFailing(4)
	open = findAlerts(mksync.AlertOpen)
	require.Len(t, open, 2)
	notices = w.recv.notices()
	require.Len(t, notices, 2, "one notice per opened alert")
	require.Equal(t, alerts.RuleMetakockaErrorRate, notices[1].Rule)
	require.Equal(t, alerts.EventAlertOpened, notices[1].Event)

	recs, _, err := w.db.FindErrorRecords(w.ctx, w.tenant, mksync.ErrorFilter{Category: observe.CatSync})
	require.NoError(t, err)
	require.Len(t, recs, failed)
	for _, r := range recs {
		require.Equal(t, mksync.EUPSTREAM, r.Code)
		require.Equal(t, "Metakocka failed or could not be reached", r.Message)
	}

	// The metrics saw the same.
	require.Equal(t, 3.0, w.metric(t, "mksync_sync_records_total", with(contact, "outcome", "created")))
	require.Equal(t, float64(failed), w.metric(t, "mksync_sync_records_total", with(contact, "outcome", "failed")))
	require.Equal(t, float64(2*failed), w.metric(t, "mksync_metakocka_requests_total", map[string]string{"method": "get_partner", "outcome": "upstream"}))
	require.Equal(t, float64(failed), w.metric(t, "mksync_metakocka_retries_total", map[string]string{"method": "get_partner"}))
	require.Equal(t, 3.0, w.metric(t, "mksync_metakocka_requests_total", map[string]string{"method": "add_partner", "outcome": "ok"}))
	require.Equal(t, float64(2*failed+6), w.metric(t, "mksync_metakocka_pacing_wait_seconds", nil))
	require.Equal(t, float64(2*failed+6), w.metric(t, "mksync_metakocka_request_duration_seconds", nil))
	require.Equal(t, 0.0, w.metric(t, "mksync_metakocka_requests_in_flight", nil))
	require.Equal(t, 1.0, w.metric(t, "mksync_alerts_opened_total", map[string]string{"rule": alerts.RuleRecordFailures}))
	require.Equal(t, 1.0, w.metric(t, "mksync_alerts_opened_total", map[string]string{"rule": alerts.RuleMetakockaErrorRate}))
	require.Equal(t, 2.0, w.metric(t, "mksync_alert_notifications_total", map[string]string{"outcome": "sent"}))

	// The faults stop: the next contact syncs and resolves the record alert.
	w.fake.ClearFaults(e2eCompany)
	require.NoError(t, w.pushContact(t, "Recovered d.o.o."))
	w.flush(t)
	open = findAlerts(mksync.AlertOpen)
	require.Len(t, open, 1)
	require.Equal(t, alerts.RuleMetakockaErrorRate, open[0].Key, "20 of 28 requests in the window still failed")
	notices = w.recv.notices()
	require.Len(t, notices, 3)
	require.Equal(t, alerts.EventAlertResolved, notices[2].Event)
	require.Equal(t, alerts.RuleRecordFailures, notices[2].Rule)

	// Once the failures have left the window, the error-rate alert resolves.
	w.clk.Advance(6 * time.Minute)
	require.NoError(t, w.pushContact(t, "Later d.o.o."))
	w.flush(t)
	require.Empty(t, findAlerts(mksync.AlertOpen))
	resolved := findAlerts(mksync.AlertResolved)
	require.Len(t, resolved, 2)
	for _, a := range resolved {
		require.NotNil(t, a.ResolvedAt)
	}
	notices = w.recv.notices()
	require.Len(t, notices, 4)
	require.Equal(t, alerts.EventAlertResolved, notices[3].Event)
	require.Equal(t, alerts.RuleMetakockaErrorRate, notices[3].Rule)

	require.Equal(t, 5.0, w.metric(t, "mksync_sync_records_total", with(contact, "outcome", "created")))
	require.Equal(t, 1.0, w.metric(t, "mksync_alerts_resolved_total", map[string]string{"rule": alerts.RuleRecordFailures}))
	require.Equal(t, 1.0, w.metric(t, "mksync_alerts_resolved_total", map[string]string{"rule": alerts.RuleMetakockaErrorRate}))
	require.Equal(t, 4.0, w.metric(t, "mksync_alert_notifications_total", map[string]string{"outcome": "sent"}))
	require.Contains(t, w.logs.String(), `"msg":"alert resolved"`)
}

// TestE2EMetakockaRateLimits: 429s with Retry-After reach the metrics.
func TestE2EMetakockaRateLimits(t *testing.T) {
	t.Parallel()
	w := newWorld(t, e2eSecret, nil)
	w.fake.SetFaults(e2eCompany, mkfake.Faults{RateLimitRate: 1, RetryAfter: 3 * time.Second})
	require.Error(t, w.pushContact(t, "Throttled d.o.o."))
	require.Equal(t, 2.0, w.metric(t, "mksync_metakocka_rate_limited_total", map[string]string{"method": "get_partner"}))
	require.Equal(t, 6.0, w.metric(t, "mksync_metakocka_retry_after_seconds_total", map[string]string{"method": "get_partner"}))
	require.Equal(t, 1.0, w.metric(t, "mksync_metakocka_retries_total", map[string]string{"method": "get_partner", "reason": "rate_limited"}))
	require.Equal(t, 2.0, w.metric(t, "mksync_metakocka_requests_total", map[string]string{"method": "get_partner", "outcome": "rate_limited"}))
}
