package observe

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RouteUnmatched is the route label of requests no route pattern matched
// (404s of unknown paths), so that scanners cannot grow the label set.
const RouteUnmatched = "unmatched"

// HTTPMiddleware counts and times every request next serves
// (mksync_http_requests_total, mksync_http_request_duration_seconds,
// mksync_http_requests_in_flight, mksync_rate_limited_total).
//
// The route label is the ServeMux pattern that serves the request: the
// most specific of patterns that matches (pass httpapi's Server.Patterns():
// the API builds its own request copy, so its r.Pattern is not visible
// here), else the r.Pattern that a *http.ServeMux next set on the request,
// else RouteUnmatched. Only patterns become labels, never raw paths.
//
// A 429 answer that carries both Retry-After and RateLimit-Limit is counted
// as refused by mksync's own rate limiter (httpapi sets both only then).
// Patterns that a ServeMux would reject are an error.
func (m *Metrics) HTTPMiddleware(next http.Handler, patterns ...string) (http.Handler, error) {
	var mirror *http.ServeMux
	if len(patterns) > 0 {
		mirror = http.NewServeMux()
		noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
		for _, p := range patterns {
			if err := handleSafely(mirror, p, noop); err != nil {
				return nil, err
			}
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := ""
		if mirror != nil {
			_, route = mirror.Handler(r)
		}
		start := time.Now()
		m.httpInFlight.Inc()
		defer m.httpInFlight.Dec()
		cw := &codeWriter{ResponseWriter: w}
		defer func() {
			if route == "" {
				route = r.Pattern
			}
			if route == "" {
				route = RouteUnmatched
			}
			code := cw.code
			if code == 0 {
				code = http.StatusOK
			}
			m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			h := cw.Header()
			if code == http.StatusTooManyRequests && h.Get("Retry-After") != "" && h.Get("RateLimit-Limit") != "" {
				m.rateLimited.WithLabelValues(route).Inc()
			}
		}()
		next.ServeHTTP(cw, r)
	}), nil
}

// handleSafely registers p on mux, turning the mux's panic on a bad or
// conflicting pattern into an error.
func handleSafely(mux *http.ServeMux, p string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("http metrics: route pattern %q: %v", p, v)
		}
	}()
	mux.Handle(p, h)
	return nil
}

// codeWriter remembers the status code of an answer.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *codeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// MetricsHandler serves the registry's metrics in the Prometheus text (or
// negotiated) format for GET /metrics. A collector that fails (a job count
// that timed out) is logged to log and left out; the rest is still served.
func MetricsHandler(reg prometheus.Gatherer, log *slog.Logger) http.Handler {
	if log == nil {
		log = Discard()
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(WithCategory(log, CatAPI).Handler(), slog.LevelError),
	})
}
