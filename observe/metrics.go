package observe

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// This file declares every Prometheus metric mksync exports; docs/metrics.md
// lists the same names (a test keeps them in step). Rules: the "mksync_"
// prefix, "_total" on counters, "_seconds" on durations, and only bounded
// labels (entity, direction, outcome, method, reason, route, code, cache,
// kind, state, rule) — never a record id. The "tenant" label appears only
// with MetricsOptions.PerTenant.

// MetricsOptions configure NewMetrics.
type MetricsOptions struct {
	// PerTenant adds a "tenant" label (the tenant id) to the per-tenant sync
	// and Metakocka series (see docs/metrics.md). Off by default: every
	// tenant multiplies those series, which suits small fleets only.
	PerTenant bool
}

// Histogram buckets, in seconds. Metakocka calls take from tens of
// milliseconds to tens of seconds (documented opr_time_ms: median 121 ms, max
// 47.8 s); bulk runs take from a second to hours.
var (
	metakockaBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120}
	pacingBuckets    = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	runBuckets       = []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200}
	httpBuckets      = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180}
)

// Metrics holds every mksync metric, registered on one registry. Its
// methods and adapters are safe for concurrent use. Build it once in main
// with NewMetrics and hand its adapters to the subsystems.
type Metrics struct {
	perTenant bool

	// Sync (engine and jobs).
	syncRecords     *prometheus.CounterVec   // entity, direction, outcome [, tenant]
	syncRuns        *prometheus.CounterVec   // entity, direction, status [, tenant]
	syncRunDuration *prometheus.HistogramVec // entity, direction
	syncRunsActive  *prometheus.GaugeVec     // entity, direction [, tenant]
	syncLastSuccess *prometheus.GaugeVec     // entity, direction [, tenant]

	// Metakocka client.
	mkRequests    *prometheus.CounterVec   // method, outcome [, tenant]
	mkDuration    *prometheus.HistogramVec // method
	mkRetries     *prometheus.CounterVec   // method, reason [, tenant]
	mkRateLimited *prometheus.CounterVec   // method
	mkRetryAfter  *prometheus.CounterVec   // method
	mkInFlight    prometheus.Gauge
	mkPacingWait  *prometheus.HistogramVec // method
	mkLimit       *prometheus.GaugeVec     // company
	mkFloor       *prometheus.GaugeVec     // company
	mk429s        *prometheus.CounterVec   // company

	// HTTP API.
	httpRequests *prometheus.CounterVec   // route, code
	httpDuration *prometheus.HistogramVec // route
	httpInFlight prometheus.Gauge
	rateLimited  *prometheus.CounterVec // route

	// Caches and jobs, read from their owners at scrape time.
	cacheHits      *prometheus.Desc // cache
	cacheMisses    *prometheus.Desc // cache
	cacheEvictions *prometheus.Desc // cache
	jobs           *prometheus.Desc // kind, state
	jobsDiscarded  *prometheus.CounterVec

	// Alerts, notifications and retention.
	alertsOpened       *prometheus.CounterVec // rule
	alertsResolved     *prometheus.CounterVec // rule
	alertEventsLost    prometheus.Counter
	notifications      *prometheus.CounterVec // outcome
	errorRecordsPruned prometheus.Counter

	sources *sourceCollector
	names   []string
}

// withTenant appends "tenant" to labels when per-tenant series are on.
func (m *Metrics) withTenant(labels ...string) []string {
	if m.perTenant {
		return append(labels, "tenant")
	}
	return labels
}

// lv returns label values, with the tenant id last when per-tenant series
// are on.
func (m *Metrics) lv(tenantID string, values ...string) []string {
	if m.perTenant {
		return append(values, tenantID)
	}
	return values
}

// NewMetrics creates every mksync metric and registers it on reg (main
// passes its *prometheus.Registry; tests pass a fresh one). It fails when a
// name is already registered there.
func NewMetrics(reg prometheus.Registerer, opts MetricsOptions) (*Metrics, error) {
	m := &Metrics{perTenant: opts.PerTenant}
	d := &declarer{}

	m.syncRecords = d.counterVec("mksync_sync_records_total",
		"Records synced, by entity, direction and outcome (created, updated, skipped, failed, conflict).",
		m.withTenant("entity", "direction", "outcome")...)
	m.syncRuns = d.counterVec("mksync_sync_runs_total",
		"Finished sync runs, by entity, direction and final status (succeeded, partial, failed, cancelled).",
		m.withTenant("entity", "direction", "status")...)
	m.syncRunDuration = d.histogramVec("mksync_sync_run_duration_seconds",
		"Wall time of finished sync runs, by entity and direction.", runBuckets,
		"entity", "direction")
	m.syncRunsActive = d.gaugeVec("mksync_sync_runs_in_progress",
		"Sync runs executing now in this process, by entity and direction.",
		m.withTenant("entity", "direction")...)
	m.syncLastSuccess = d.gaugeVec("mksync_sync_last_success_timestamp_seconds",
		"Unix time at which this process last finished a succeeded sync run, by entity and direction.",
		m.withTenant("entity", "direction")...)

	m.mkRequests = d.counterVec("mksync_metakocka_requests_total",
		"HTTP attempts to Metakocka, by API method and outcome (ok or the mksync error code).",
		m.withTenant("method", "outcome")...)
	m.mkDuration = d.histogramVec("mksync_metakocka_request_duration_seconds",
		"Duration of one HTTP attempt to Metakocka (after pacing), by API method.", metakockaBuckets,
		"method")
	m.mkRetries = d.counterVec("mksync_metakocka_retries_total",
		"Retries of Metakocka calls, by API method and reason (timeout, transport, http_503, rate_limited, …).",
		m.withTenant("method", "reason")...)
	m.mkRateLimited = d.counterVec("mksync_metakocka_rate_limited_total",
		"HTTP 429 answers received from Metakocka, by API method.", "method")
	m.mkRetryAfter = d.counterVec("mksync_metakocka_retry_after_seconds_total",
		"Sum of the Retry-After delays Metakocka asked for, in seconds, by API method.", "method")
	m.mkInFlight = d.gauge("mksync_metakocka_requests_in_flight",
		"HTTP requests to Metakocka awaiting their answer now.")
	m.mkPacingWait = d.histogramVec("mksync_metakocka_pacing_wait_seconds",
		"Time an attempt waited for the per-company pacer (rate limit, in-flight bound, one search at a time), by API method.",
		pacingBuckets, "method")
	m.mkLimit = d.gaugeVec("mksync_metakocka_inflight_limit",
		"The in-flight limit of a Metakocka company now (adaptive: found from its answers), by company id.", "company")
	m.mkFloor = d.gaugeVec("mksync_metakocka_latency_floor_seconds",
		"The least latency seen from a Metakocka company (the adaptive limit's baseline), by company id.", "company")
	m.mk429s = d.counterVec("mksync_metakocka_company_rate_limited_total",
		"HTTP 429 answers received from a Metakocka company, by company id.", "company")

	m.httpRequests = d.counterVec("mksync_http_requests_total",
		"HTTP requests served, by route pattern and status code.", "route", "code")
	m.httpDuration = d.histogramVec("mksync_http_request_duration_seconds",
		"Time to serve an HTTP request, by route pattern.", httpBuckets, "route")
	m.httpInFlight = d.gauge("mksync_http_requests_in_flight",
		"HTTP requests being served now.")
	m.rateLimited = d.counterVec("mksync_rate_limited_total",
		"HTTP requests refused by mksync's own per-tenant rate limits (429), by route pattern.", "route")

	m.cacheHits = d.desc("mksync_cache_hits_total",
		"Cache lookups that found an entry, by cache.", "cache")
	m.cacheMisses = d.desc("mksync_cache_misses_total",
		"Cache lookups that found no entry, by cache.", "cache")
	m.cacheEvictions = d.desc("mksync_cache_evictions_total",
		"Entries evicted by a cache's size bound, by cache.", "cache")
	m.jobs = d.desc("mksync_jobs",
		"Background jobs by kind and state (queued, running, failed = waiting for a retry, discarded = gave up).",
		"kind", "state")
	m.jobsDiscarded = d.counterVec("mksync_jobs_discarded_total",
		"Jobs discarded after exhausting their retries, by kind.", "kind")

	m.alertsOpened = d.counterVec("mksync_alerts_opened_total",
		"Alerts newly opened by the in-process evaluator, by rule.", "rule")
	m.alertsResolved = d.counterVec("mksync_alerts_resolved_total",
		"Alerts resolved by the in-process evaluator, by rule.", "rule")
	m.alertEventsLost = d.counter("mksync_alert_events_dropped_total",
		"Events the alert evaluator dropped because its queue was full.")
	m.notifications = d.counterVec("mksync_alert_notifications_total",
		"Alert notices, one per notice and webhook, by outcome (sent, failed, dropped).", "outcome")
	m.errorRecordsPruned = d.counter("mksync_error_records_pruned_total",
		"Error records deleted by retention.")

	m.sources = &sourceCollector{m: m}
	m.names = d.names
	for _, c := range append(d.collectors, m.sources) {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// Names returns the name of every metric NewMetrics declares, sorted.
// docs/metrics.md lists the same names.
func (m *Metrics) Names() []string { return slices.Sorted(slices.Values(m.names)) }

// declarer creates metrics and remembers their names and collectors.
type declarer struct {
	names      []string
	collectors []prometheus.Collector
}

func (d *declarer) add(name string, c prometheus.Collector) {
	d.names = append(d.names, name)
	if c != nil {
		d.collectors = append(d.collectors, c)
	}
}

func (d *declarer) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	d.add(name, c)
	return c
}

func (d *declarer) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	d.add(name, c)
	return c
}

func (d *declarer) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	d.add(name, g)
	return g
}

func (d *declarer) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	d.add(name, g)
	return g
}

func (d *declarer) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	d.add(name, h)
	return h
}

// desc declares a metric whose values are read from its owner at scrape
// time (sourceCollector).
func (d *declarer) desc(name, help string, labels ...string) *prometheus.Desc {
	d.add(name, nil)
	return prometheus.NewDesc(name, help, labels, nil)
}
