package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
)

// telemetry is a process's metrics and alerting, the same in serve, worker
// and demo: one Prometheus registry with mksync's metrics and the Go and
// process collectors, the Monitor the engine and jobs report to, and the
// alert Notifier, Alerter and error-record Pruner. Lifecycle: start once,
// stop once (safe twice).
type telemetry struct {
	reg      *prometheus.Registry
	metrics  *observe.Metrics
	mon      *alerts.Monitor
	notifier *alerts.Notifier
	alerter  *alerts.Alerter
	pruner   *alerts.Pruner
	log      *slog.Logger
}

// newTelemetry builds the telemetry of a process on st from cfg
// (MetricsPerTenant, AlertWebhookURL and AlertWebhookSecret,
// ErrorRetentionDays). It starts nothing. This file is the one place that
// wires the alert rules, notifier and retention.
func newTelemetry(cfg Config, st mksync.Store, log *slog.Logger) (*telemetry, error) {
	opts := observe.MetricsOptions{PerTenant: cfg.MetricsPerTenant}
	var target alerts.NotifyTarget
	if cfg.AlertWebhookURL != "" {
		target = alerts.NotifyTarget{URL: cfg.AlertWebhookURL, Secret: cfg.AlertWebhookSecret}
	}
	days := cfg.ErrorRetentionDays
	if days == 0 {
		days = DefaultErrorRetentionDays
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("register Go metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("register process metrics: %w", err)
	}
	m, err := observe.NewMetrics(reg, opts)
	if err != nil {
		return nil, err
	}
	// Each tenant's own alert webhook (set with its credentials) is read
	// at send time, so a change needs no restart.
	n, err := alerts.NewNotifier(alerts.NotifierConfig{Global: target, TenantTargets: alerts.StoreTargets(st), Logger: log, Metrics: m})
	if err != nil {
		return nil, err
	}
	a, err := alerts.NewAlerter(alerts.AlertConfig{Store: st, Logger: log, Metrics: m, Notifier: n})
	if err != nil {
		return nil, err
	}
	p, err := alerts.NewPruner(alerts.RetentionConfig{Store: st, Days: days, Logger: log, Metrics: m})
	if err != nil {
		return nil, err
	}
	return &telemetry{reg: reg, metrics: m, mon: &alerts.Monitor{Metrics: m, Alerts: a},
		notifier: n, alerter: a, pruner: p, log: log}, nil
}

// start starts the Notifier, then the Alerter that feeds it, then the
// Pruner. ctx bounds only starting.
func (t *telemetry) start(ctx context.Context) error {
	// The services run until stop, not until the caller's ctx ends, so
	// that the alerts of a shutdown are still evaluated and sent.
	run := context.WithoutCancel(ctx)
	if err := t.notifier.Start(run); err != nil {
		return fmt.Errorf("start alert notifier: %w", err)
	}
	if err := t.alerter.Start(run); err != nil {
		t.notifier.Stop()
		return fmt.Errorf("start alert evaluator: %w", err)
	}
	if err := t.pruner.Start(run); err != nil {
		t.alerter.Stop()
		t.notifier.Stop()
		return fmt.Errorf("start error record retention: %w", err)
	}
	return nil
}

// stop stops them in reverse order: the Alerter last feeds the Notifier.
func (t *telemetry) stop() {
	t.pruner.Stop()
	t.alerter.Stop()
	t.notifier.Stop()
}

// handler serves GET /metrics.
func (t *telemetry) handler() http.Handler {
	return observe.MetricsHandler(t.reg, t.log)
}

// engineConfig adds the telemetry to an engine's config: each tenant's
// Metakocka client reports to the Monitor (requests, retries, pacing,
// authentication failures), the transport counts requests in flight and
// 429s, and the engine reports record outcomes and runs.
func (t *telemetry) engineConfig(cfg engine.Config) engine.Config {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = mksync.MaxConcurrency * 2
	cfg.HTTPClient = &http.Client{Transport: t.metrics.MetakockaTransport(tr)}
	cfg.ObserverFor = func(tenantID string) metakocka.Observer { return t.mon.MetakockaObserver(tenantID) }
	cfg.Monitor = t.mon
	return cfg
}

// watchEngine exports the engine's cache counters.
func (t *telemetry) watchEngine(e *engine.Engine) {
	t.metrics.WatchCaches(func() []observe.CacheCounts {
		s := e.CacheStats()
		return []observe.CacheCounts{
			{Cache: "mapping", Hits: s.MappingHits, Misses: s.MappingMisses, Evictions: s.MappingEvictions},
			{Cache: "mk_id", Hits: s.MkIDHits, Misses: s.MkIDMisses, Evictions: s.MkIDEvictions},
			{Cache: "metadata", Hits: s.MetadataHits, Misses: s.MetadataMisses, Evictions: s.MetadataEvictions},
		}
	})
}
