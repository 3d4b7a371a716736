package observe

import (
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

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
