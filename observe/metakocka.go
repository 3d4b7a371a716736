package observe

import (
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// MetakockaObserver reports one tenant's Metakocka calls to the metrics and
// the alert evaluator. It implements metakocka.Observer,
// metakocka.PacingObserver and metakocka.BudgetObserver (observe cannot
// import metakocka, which imports it; the observe tests assert them). Pass one per tenant client as
// metakocka.Config.Observer. Nil Metrics or Alerts are skipped. It never
// blocks: the evaluator queues the event.
type MetakockaObserver struct {
	// TenantID is the tenant whose company the client calls; it labels
	// per-tenant series (MetricsOptions.PerTenant) and keys the alerts.
	// Empty for a client shared by tenants (then no alert is fed).
	TenantID string
	Metrics  *Metrics
	Alerts   *Alerter
}

// OnRequest implements metakocka.Observer: one HTTP attempt ended with
// outcome ("ok" or an mksync error code) after d.
func (o MetakockaObserver) OnRequest(method, outcome string, d time.Duration) {
	if m := o.Metrics; m != nil {
		m.mkRequests.WithLabelValues(m.lv(o.TenantID, method, outcome)...).Inc()
		m.mkDuration.WithLabelValues(method).Observe(d.Seconds())
	}
	if o.Alerts != nil && o.TenantID != "" {
		o.Alerts.MetakockaRequest(RequestEvent{TenantID: o.TenantID, Method: method, Outcome: outcome})
	}
}

// OnRetry implements metakocka.Observer: a retry of method for reason will
// follow after wait.
func (o MetakockaObserver) OnRetry(method, reason string, _ time.Duration) {
	if m := o.Metrics; m != nil {
		m.mkRetries.WithLabelValues(m.lv(o.TenantID, method, reason)...).Inc()
	}
}

// OnPacingWait implements metakocka.PacingObserver.
func (o MetakockaObserver) OnPacingWait(method string, wait time.Duration) {
	if m := o.Metrics; m != nil {
		m.mkPacingWait.WithLabelValues(method).Observe(wait.Seconds())
	}
}

// OnBudget implements metakocka.BudgetObserver: after an attempt, the
// company's in-flight limit, latency floor and whether it answered 429.
func (o MetakockaObserver) OnBudget(companyID string, limit int, floor time.Duration, rateLimited bool) {
	if m := o.Metrics; m != nil {
		m.mkLimit.WithLabelValues(companyID).Set(float64(limit))
		m.mkFloor.WithLabelValues(companyID).Set(floor.Seconds())
		if rateLimited {
			m.mk429s.WithLabelValues(companyID).Inc()
		}
	}
}

// MetakockaTransport wraps next (nil: http.DefaultTransport) to count the
// requests in flight to Metakocka and the HTTP 429 answers with their
// Retry-After, which only the transport sees. Use it as the Transport of
// the http.Client given to the Metakocka clients (engine.Config.HTTPClient).
func (m *Metrics) MetakockaTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &mkTransport{m: m, next: next}
}

type mkTransport struct {
	m    *Metrics
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *mkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.m.mkInFlight.Inc()
	defer t.m.mkInFlight.Dec()
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		method := methodLabel(r.URL.Path)
		t.m.mkRateLimited.WithLabelValues(method).Inc()
		if secs, perr := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("Retry-After")), 64); perr == nil && secs > 0 {
			t.m.mkRetryAfter.WithLabelValues(method).Add(secs)
		} else if at, perr := http.ParseTime(resp.Header.Get("Retry-After")); perr == nil {
			if d := time.Until(at); d > 0 {
				t.m.mkRetryAfter.WithLabelValues(method).Add(d.Seconds())
			}
		}
	}
	return resp, err
}

// methodLabel turns a Metakocka URL path (/rest/eshop/v1/[json/]<method>)
// into a bounded label: the method when it looks like one, else "other".
func methodLabel(p string) string {
	name := path.Base(p)
	if len(name) == 0 || len(name) > 40 {
		return "other"
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && c != '_' {
			return "other"
		}
	}
	return name
}
