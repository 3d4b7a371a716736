package alerts_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
)

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	secret := []byte(webhookSecret)
	body := []byte(`{"event":"alert.opened"}`)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ts := now.Unix()
	sig := alerts.Sign(secret, ts, body)
	require.True(t, strings.HasPrefix(sig, "sha256="))
	require.Len(t, sig, len("sha256=")+64)
	tsText := strconv.FormatInt(ts, 10)

	require.NoError(t, alerts.VerifySignature(secret, tsText, sig, body, now.Add(time.Minute), 5*time.Minute))
	require.ErrorIs(t, alerts.VerifySignature(secret, tsText, sig, []byte(`{"event":"alert.resolved"}`), now, 5*time.Minute), alerts.ErrSignatureMismatch)
	require.ErrorIs(t, alerts.VerifySignature([]byte("another-secret-0123"), tsText, sig, body, now, 5*time.Minute), alerts.ErrSignatureMismatch)
	// The timestamp is signed: moving it breaks the signature.
	require.ErrorIs(t, alerts.VerifySignature(secret, strconv.FormatInt(ts+1, 10), sig, body, now, 5*time.Minute), alerts.ErrSignatureMismatch)
	require.ErrorIs(t, alerts.VerifySignature(secret, tsText, sig, body, now.Add(10*time.Minute), 5*time.Minute), alerts.ErrSignatureExpired)
	require.ErrorIs(t, alerts.VerifySignature(secret, "yesterday", sig, body, now, 5*time.Minute), alerts.ErrSignatureMismatch)
	require.ErrorIs(t, alerts.VerifySignature(secret, tsText, "sha256=00", body, now, 5*time.Minute), alerts.ErrSignatureMismatch)
}

// newTestNotifier returns a started Notifier to the receiver with fast retries.
func newTestNotifier(t *testing.T, clk *fakeClock, cfg alerts.NotifierConfig) (*alerts.Notifier, *observe.LogBuffer) {
	t.Helper()
	logs := &observe.LogBuffer{}
	cfg.Clock, cfg.Logger = clk, observe.NewLogger(logs, observe.Options{})
	cfg.InitialInterval, cfg.MaxInterval = time.Millisecond, 5*time.Millisecond
	n, err := alerts.NewNotifier(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	t.Cleanup(n.Stop)
	return n, logs
}

func flushNotifier(t *testing.T, n *alerts.Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, n.Flush(ctx))
}

var testNotice = alerts.Notice{Event: alerts.EventAlertOpened, TenantID: "tenant-1", Rule: alerts.RuleMetakockaAuth,
	Alert: mksync.Alert{ID: "alert-1", Key: alerts.RuleMetakockaAuth, Severity: alerts.SeverityCritical, Status: mksync.AlertOpen, Count: 1}}

func TestNotifierRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	recv := newReceiver(t, clk)
	recv.status = []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway}
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	n, _ := newTestNotifier(t, clk, alerts.NotifierConfig{Metrics: m, Global: alerts.NotifyTarget{URL: recv.srv.URL, Secret: webhookSecret}})
	n.Notify(testNotice)
	flushNotifier(t, n)
	got := recv.notices()
	require.Len(t, got, 1)
	require.Len(t, recv.attempts(), 4)
	for _, id := range recv.attempts() {
		require.Equal(t, "alert-1:alert.opened", id, "every attempt carries the same delivery id")
	}
	require.Equal(t, alerts.NoticeVersion, got[0].Version)
	require.Equal(t, "tenant-1", got[0].TenantID)
	require.Equal(t, alerts.RuleMetakockaAuth, got[0].Rule)
	require.Equal(t, "alert-1", got[0].Alert.ID)
	require.Equal(t, clk.Now(), got[0].SentAt)
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_alert_notifications_total", map[string]string{"outcome": "sent"}))
}

func TestNotifierGivesUpOnClientErrors(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	recv := newReceiver(t, clk)
	recv.status = []int{http.StatusBadRequest}
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	n, logs := newTestNotifier(t, clk, alerts.NotifierConfig{Metrics: m, Global: alerts.NotifyTarget{URL: recv.srv.URL, Secret: webhookSecret}})
	n.Notify(testNotice)
	flushNotifier(t, n)
	require.Len(t, recv.attempts(), 1, "a 400 is not retried")
	require.Equal(t, 1.0, observetest.Value(t, reg, "mksync_alert_notifications_total", map[string]string{"outcome": "failed"}))
	require.Contains(t, logs.String(), "alert notice not delivered")
}

// TestNotifierNeverLogsWebhookSecrets: chat webhooks carry a token in their
// URL; a failed delivery logs the host only.
func TestNotifierNeverLogsWebhookSecrets(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	recv := newReceiver(t, clk)
	recv.srv.Close() // unreachable
	const pathToken = "T0KEN-in-the-path-4455"
	n, logs := newTestNotifier(t, clk, alerts.NotifierConfig{MaxTries: 2,
		Global: alerts.NotifyTarget{URL: recv.srv.URL + "/hooks/" + pathToken + "?sig=" + pathToken, Secret: webhookSecret}})
	n.Notify(testNotice)
	flushNotifier(t, n)
	out := logs.String()
	require.Contains(t, out, "alert notice not delivered")
	require.Contains(t, out, strings.TrimPrefix(recv.srv.URL, "http://"))
	require.NotContains(t, out, pathToken)
	require.NotContains(t, out, webhookSecret)
}

func TestNotifierTenantTargets(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	global, own := newReceiver(t, clk), newReceiver(t, clk)
	n, _ := newTestNotifier(t, clk, alerts.NotifierConfig{
		Global: alerts.NotifyTarget{URL: global.srv.URL, Secret: webhookSecret},
		// The receivers are on loopback, which tenants' webhooks may not
		// be by default (see TestNotifierTenantWebhooksArePublicOnly).
		TenantHTTPClient: &http.Client{Timeout: 10 * time.Second},
		TenantTargets: func(_ context.Context, tenantID string) ([]alerts.NotifyTarget, error) {
			if tenantID != "tenant-1" {
				return nil, nil
			}
			return []alerts.NotifyTarget{{URL: own.srv.URL, Secret: webhookSecret}, {URL: global.srv.URL, Secret: webhookSecret}}, nil
		},
	})
	n.Notify(testNotice)
	other := testNotice
	other.TenantID = "tenant-2"
	n.Notify(other)
	flushNotifier(t, n)
	require.Len(t, global.notices(), 2, "the global webhook gets every tenant's notices, once")
	require.Len(t, own.notices(), 1)
	require.Equal(t, "tenant-1", own.notices()[0].TenantID)
}

func TestNotifierStoreTargets(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	own := newReceiver(t, clk)
	db, tid := newStore(t, clk)
	ctx := context.Background()
	creds := mksync.MetakockaCredentials{CompanyID: "16", SecretKey: "mk-secret",
		AlertWebhookURL: own.srv.URL + "/hook", AlertWebhookSecret: webhookSecret}
	require.NoError(t, db.SetCredentials(ctx, tid, &creds))
	// No global webhook: only the tenant's own receives the notice.
	n, logs := newTestNotifier(t, clk, alerts.NotifierConfig{TenantTargets: alerts.StoreTargets(db),
		TenantHTTPClient: &http.Client{Timeout: 10 * time.Second}})
	no := testNotice
	no.TenantID = tid
	n.Notify(no)
	other := testNotice
	other.TenantID = "0190f3c4-0000-7000-8000-00000000ffff"
	n.Notify(other)
	flushNotifier(t, n)
	got := own.notices()
	require.Len(t, got, 1, "signed (the receiver verifies) and only the configured tenant's")
	require.Equal(t, tid, got[0].TenantID)
	require.NotContains(t, logs.String(), webhookSecret)

	// Removing it takes effect on the next notice.
	creds.AlertWebhookURL, creds.AlertWebhookSecret = "", ""
	require.NoError(t, db.SetCredentials(ctx, tid, &creds))
	n.Notify(no)
	flushNotifier(t, n)
	require.Len(t, own.notices(), 1)
}

// A tenant's own webhook on a non-public address (here loopback) gets
// nothing by default: a tenant cannot make the server POST inside its
// network. The operator's global webhook may be anywhere.
func TestNotifierTenantWebhooksArePublicOnly(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	global, own := newReceiver(t, clk), newReceiver(t, clk)
	n, logs := newTestNotifier(t, clk, alerts.NotifierConfig{MaxTries: 1,
		Global: alerts.NotifyTarget{URL: global.srv.URL, Secret: webhookSecret},
		TenantTargets: func(context.Context, string) ([]alerts.NotifyTarget, error) {
			return []alerts.NotifyTarget{{URL: own.srv.URL, Secret: webhookSecret}}, nil
		},
	})
	n.Notify(testNotice)
	flushNotifier(t, n)
	require.Len(t, global.notices(), 1)
	require.Empty(t, own.notices())
	require.Contains(t, logs.String(), "refusing to connect to a non-public address")
}

// hangingWebhook accepts connections and never answers until the test
// ends; it counts the requests it holds.
func hangingWebhook(t *testing.T) (url string, held func() int) {
	t.Helper()
	release := make(chan struct{})
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// Cleanups run last-in first-out: the Notifier (registered later)
	// stops first, then the held requests are let go and the server closes.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// TestNotifierDeadWebhookDelaysOnlyItsOwnQueue: a webhook that never
// answers holds only its own queue. Another tenant's notice (and, with a
// dead global webhook, the tenant's own) arrives at once; the dead
// webhook's queue fills up to QueueSize and further notices for it are
// dropped, logged and counted.
func TestNotifierDeadWebhookDelaysOnlyItsOwnQueue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		deadGlobal bool // else tenant-a's own webhook is dead
	}{
		{name: "dead tenant webhook"},
		{name: "dead global webhook", deadGlobal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			live := newReceiver(t, clk)
			deadURL, held := hangingWebhook(t)
			m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
			cfg := alerts.NotifierConfig{
				Metrics: m, QueueSize: 2,
				// A long timeout: the dead webhook holds each attempt.
				HTTPClient: &http.Client{Timeout: time.Hour}, TenantHTTPClient: &http.Client{Timeout: time.Hour},
				TenantTargets: func(_ context.Context, tenantID string) ([]alerts.NotifyTarget, error) {
					switch {
					case tenantID == "tenant-b":
						return []alerts.NotifyTarget{{URL: live.srv.URL, Secret: webhookSecret}}, nil
					case !tc.deadGlobal:
						return []alerts.NotifyTarget{{URL: deadURL, Secret: webhookSecret}}, nil
					}
					return nil, nil
				},
			}
			if tc.deadGlobal {
				cfg.Global = alerts.NotifyTarget{URL: deadURL, Secret: webhookSecret}
			}
			n, logs := newTestNotifier(t, clk, cfg)

			a := testNotice
			a.TenantID = "tenant-a"
			n.Notify(a) // taken up by the dead webhook's worker and held
			require.Eventually(t, func() bool { return held() == 1 }, 5*time.Second, 5*time.Millisecond)
			for range 3 { // two wait in the dead webhook's queue, one is dropped
				n.Notify(a)
			}
			b := testNotice
			b.TenantID = "tenant-b"
			n.Notify(b)

			require.Eventually(t, func() bool { return len(live.notices()) == 1 }, 5*time.Second, 5*time.Millisecond,
				"tenant-b's notice does not wait for the dead webhook")
			require.Equal(t, "tenant-b", live.notices()[0].TenantID)
			require.Equal(t, 1, held(), "the dead webhook holds the first notice; the rest wait or were dropped")

			// Drops are logged with the queue they missed; the metric counts
			// every drop (in the dead-global case tenant-a's own queue, which
			// has no webhook, may drop some of the burst too).
			deadQueue, wantDropped := `"webhook":"tenant"`, 1
			if tc.deadGlobal {
				// The global queue holds every tenant's notices: a and b dropped.
				deadQueue, wantDropped = `"webhook":"global"`, 2
			}
			out := logs.String()
			require.Contains(t, out, "alert notice dropped: queue full")
			require.Equal(t, wantDropped, strings.Count(out, deadQueue), out)
			dropped := observetest.Value(t, reg, "mksync_alert_notifications_total", map[string]string{"outcome": "dropped"})
			require.Equal(t, float64(strings.Count(out, "alert notice dropped")), dropped)
			require.GreaterOrEqual(t, dropped, float64(wantDropped))
		})
	}
}
