package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// The alert rules, the "rule" label of mksync_alerts_*_total and the first
// part of every alert key (rule, or rule:detail).
const (
	// RuleRecordFailures: the last RecordFailures records of one tenant,
	// entity and direction all failed, within RecordWindow. Resolved by the
	// next record of the same kind that does not fail.
	RuleRecordFailures = "record_failures"
	// RuleRunFailures: the last RunFailures runs of one tenant, entity and
	// direction ended failed, within RunWindow. Resolved by the next
	// succeeded run.
	RuleRunFailures = "run_failures"
	// RuleMetakockaAuth: Metakocka rejected the tenant's company id or
	// secret key. Resolved by the next successful Metakocka request.
	RuleMetakockaAuth = "metakocka_auth"
	// RuleMetakockaErrorRate: more than ErrorRateThreshold of the tenant's
	// Metakocka requests in ErrorRateWindow failed (at least
	// ErrorRateMinRequests requests). Resolved when the rate is at or below
	// the threshold again, or no failure is left in the window.
	RuleMetakockaErrorRate = "metakocka_error_rate"
	// RuleJobDiscarded: a job of the tenant was discarded after its
	// retries. Resolved by the next completed job of the same kind.
	RuleJobDiscarded = "job_discarded"
)

// Alert severities.
const (
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// AlertStore is the part of mksync.Store the evaluator writes to.
type AlertStore interface {
	OpenAlert(ctx context.Context, tenantID string, a *mksync.Alert) (opened bool, err error)
	ResolveAlert(ctx context.Context, tenantID, key string, now time.Time) (bool, error)
}

// AlertConfig configures an Alerter. Zero fields take the documented
// defaults; a negative count turns its rule off.
type AlertConfig struct {
	// Store keeps the alerts; required.
	Store AlertStore
	// Logger gets one line per opened (warn/error) and resolved (info)
	// alert; default discard.
	Logger *slog.Logger
	// Clock; default the real clock.
	Clock Clock
	// Metrics, when set, counts opened and resolved alerts and dropped
	// events.
	Metrics *observe.Metrics
	// Notifier, when set, is given every newly opened and every resolved
	// alert.
	Notifier *Notifier

	// RecordFailures (default 10) consecutive failed records within
	// RecordWindow (default 1h) open RuleRecordFailures.
	RecordFailures int
	RecordWindow   time.Duration
	// RunFailures (default 3) consecutive failed runs within RunWindow
	// (default 24h) open RuleRunFailures.
	RunFailures int
	RunWindow   time.Duration
	// ErrorRateThreshold (default 0.5, in (0, 1]) of failed Metakocka
	// requests within ErrorRateWindow (default 5m), counted once at least
	// ErrorRateMinRequests (default 20) were made, opens
	// RuleMetakockaErrorRate. Failed means the outcome upstream,
	// rate_limited or unauthorized; answers about the data (invalid,
	// not_found, conflict) and cancellations are not failures of Metakocka.
	ErrorRateThreshold   float64
	ErrorRateWindow      time.Duration
	ErrorRateMinRequests int
	// DisableAuthRule turns RuleMetakockaAuth off.
	DisableAuthRule bool
	// DisableJobRule turns RuleJobDiscarded off.
	DisableJobRule bool

	// RefreshInterval is how often an alert that is still firing is written
	// again (its count and updated time); default 5m.
	RefreshInterval time.Duration
	// SweepInterval is how often windows are re-evaluated without new
	// events (so an error-rate alert resolves after traffic stops); default 1m.
	SweepInterval time.Duration
	// QueueSize bounds the events waiting for the evaluator; default 4096.
	// When full, events are dropped and counted.
	QueueSize int
	// StoreTimeout bounds one store write; default 10s.
	StoreTimeout time.Duration
}

func (c AlertConfig) withDefaults() AlertConfig {
	if c.Logger == nil {
		c.Logger = observe.Discard()
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.RecordFailures, 10)
	defDur(&c.RecordWindow, time.Hour)
	def(&c.RunFailures, 3)
	defDur(&c.RunWindow, 24*time.Hour)
	if c.ErrorRateThreshold == 0 {
		c.ErrorRateThreshold = 0.5
	}
	defDur(&c.ErrorRateWindow, 5*time.Minute)
	def(&c.ErrorRateMinRequests, 20)
	defDur(&c.RefreshInterval, 5*time.Minute)
	defDur(&c.SweepInterval, time.Minute)
	def(&c.QueueSize, 4096)
	defDur(&c.StoreTimeout, 10*time.Second)
	return c
}

func (c AlertConfig) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("alert config: Store is required")
	case c.ErrorRateThreshold < 0 || c.ErrorRateThreshold > 1:
		return fmt.Errorf("alert config: ErrorRateThreshold must be in (0, 1], got %v", c.ErrorRateThreshold)
	case c.RecordWindow < 0, c.RunWindow < 0, c.ErrorRateWindow < 0, c.RefreshInterval < 0, c.SweepInterval < 0, c.StoreTimeout < 0:
		return errors.New("alert config: durations must not be negative")
	case c.QueueSize < 0:
		return fmt.Errorf("alert config: QueueSize must not be negative, got %d", c.QueueSize)
	}
	return nil
}

// Alerter evaluates the alert rules in-process. The engine, the job layer
// and the Metakocka observer feed it events (through Monitor); one goroutine
// evaluates them in order, opens alerts with Store.OpenAlert (deduplicated
// while open), resolves them with Store.ResolveAlert when their condition
// clears, logs both and hands them to the Notifier.
//
// Feeding methods never block: events go to a bounded queue. Alerter is
// safe for concurrent use. State is per process; the store's one-open-alert-
// per-key rule deduplicates across processes.
type Alerter struct {
	cfg    AlertConfig
	log    *slog.Logger
	events chan any

	life lifecycle

	// Evaluator state, owned by the run goroutine.
	streaks map[streakKey]*streak
	rates   map[string]*rateWindow // by tenant
	alerts  map[alertID]*alertState
}

// streakKey names a failure streak: records or runs of one tenant, entity
// and direction.
type streakKey struct {
	rule      string
	tenant    string
	entity    mksync.EntityType
	direction mksync.Direction
}

// streak keeps the times of the latest consecutive failures (at most the
// rule's count) and the last error code.
type streak struct {
	times []time.Time
	code  string
}

type alertID struct{ tenant, key string }

// alertState is what this process knows of an alert: open (with when it was
// last written) or not; an alert absent from the map is unknown (e.g.
// opened before a restart) and resolved through the store when it clears.
type alertState struct {
	open    bool
	written time.Time
	alert   mksync.Alert
	rule    string
}

// flushReq is a barrier in the event queue.
type flushReq struct{ done chan struct{} }

// NewAlerter returns an Alerter for cfg; call Start to run it. Errors name
// the bad field.
func NewAlerter(cfg AlertConfig) (*Alerter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Alerter{
		cfg:     cfg,
		log:     cfg.Logger,
		events:  make(chan any, cfg.QueueSize),
		streaks: map[streakKey]*streak{},
		rates:   map[string]*rateWindow{},
		alerts:  map[alertID]*alertState{},
	}, nil
}

// Start runs the evaluator until ctx ends or Stop is called. It returns at
// once; calling it again is a no-op.
func (a *Alerter) Start(ctx context.Context) error {
	a.life.start(ctx, a.run)
	return nil
}

// Stop stops the evaluator and waits for it; queued events are dropped.
// It is safe to call twice and before Start.
func (a *Alerter) Stop() { a.life.stop() }

// Flush waits until every event queued before it was evaluated and the
// windows were re-evaluated at the clock's current time. Tests use it;
// ctx bounds the wait.
func (a *Alerter) Flush(ctx context.Context) error {
	req := flushReq{done: make(chan struct{})}
	select {
	case a.events <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RecordSynced queues a record outcome.
func (a *Alerter) RecordSynced(e observe.RecordEvent) { a.enqueue(e) }

// RunFinished queues a finished run.
func (a *Alerter) RunFinished(run mksync.SyncRun) { a.enqueue(run) }

// MetakockaRequest queues a Metakocka request outcome.
func (a *Alerter) MetakockaRequest(e RequestEvent) { a.enqueue(e) }

// JobFinished queues a completed or discarded job.
func (a *Alerter) JobFinished(e observe.JobEvent) { a.enqueue(e) }

func (a *Alerter) enqueue(ev any) {
	select {
	case a.events <- ev:
	default:
		a.cfg.Metrics.AlertEventDropped()
	}
}

func (a *Alerter) run(ctx context.Context) {
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.sweep(ctx)
		case ev := <-a.events:
			switch ev := ev.(type) {
			case observe.RecordEvent:
				a.onRecord(ctx, ev)
			case mksync.SyncRun:
				a.onRun(ctx, ev)
			case RequestEvent:
				a.onRequest(ctx, ev)
			case observe.JobEvent:
				a.onJob(ctx, ev)
			case flushReq:
				a.sweep(ctx)
				close(ev.done)
			}
		}
	}
}

// onRecord advances the record failure streak of the record's kind.
func (a *Alerter) onRecord(ctx context.Context, e observe.RecordEvent) {
	if a.cfg.RecordFailures < 0 || e.TenantID == "" {
		return
	}
	k := streakKey{RuleRecordFailures, e.TenantID, e.Entity, e.Direction}
	key := fmt.Sprintf("%s:%s:%s", RuleRecordFailures, e.Entity, e.Direction)
	if e.Outcome != observe.RecordFailed {
		delete(a.streaks, k)
		a.resolve(ctx, e.TenantID, key, RuleRecordFailures)
		return
	}
	if s := a.fail(k, e.Code, a.cfg.RecordFailures, a.cfg.RecordWindow); s != nil {
		a.open(ctx, e.TenantID, RuleRecordFailures, key, SeverityWarning, observe.CatSync,
			fmt.Sprintf("the last %d %s records failed to sync %s (last error code %s)",
				len(s.times), e.Entity, directionText(e.Direction), orNone(s.code)))
	}
}

// onRun advances the run failure streak. Succeeded runs reset it; partial
// and cancelled runs leave it as it is.
func (a *Alerter) onRun(ctx context.Context, r mksync.SyncRun) {
	if a.cfg.RunFailures < 0 || r.TenantID == "" {
		return
	}
	k := streakKey{RuleRunFailures, r.TenantID, r.EntityType, r.Direction}
	key := fmt.Sprintf("%s:%s:%s", RuleRunFailures, r.EntityType, r.Direction)
	switch r.Status {
	case mksync.RunSucceeded:
		delete(a.streaks, k)
		a.resolve(ctx, r.TenantID, key, RuleRunFailures)
	case mksync.RunFailed:
		code := ""
		if len(r.Result.Errors) > 0 {
			code = r.Result.Errors[len(r.Result.Errors)-1].Code
		}
		if s := a.fail(k, code, a.cfg.RunFailures, a.cfg.RunWindow); s != nil {
			a.open(ctx, r.TenantID, RuleRunFailures, key, SeverityCritical, observe.CatSync,
				fmt.Sprintf("the last %d %s sync runs %s failed", len(s.times), r.EntityType, directionText(r.Direction)))
		}
	}
}

// fail adds a failure to the streak k and returns it when the last n
// failures all happened within window.
func (a *Alerter) fail(k streakKey, code string, n int, window time.Duration) *streak {
	s := a.streaks[k]
	if s == nil {
		s = &streak{}
		a.streaks[k] = s
	}
	now := a.cfg.Clock.Now()
	s.times = append(s.times, now)
	if len(s.times) > n {
		s.times = s.times[len(s.times)-n:]
	}
	if code != "" {
		s.code = code
	}
	if len(s.times) < n || now.Sub(s.times[0]) > window {
		return nil
	}
	return s
}

// onRequest handles the authentication and error-rate rules.
func (a *Alerter) onRequest(ctx context.Context, e RequestEvent) {
	if e.TenantID == "" {
		return
	}
	if !a.cfg.DisableAuthRule {
		switch e.Outcome {
		case mksync.EUNAUTHORIZED:
			a.open(ctx, e.TenantID, RuleMetakockaAuth, RuleMetakockaAuth, SeverityCritical, observe.CatMetakocka,
				"Metakocka rejected the company id or secret key (method "+e.Method+"); update the tenant's Metakocka credentials")
		case "ok":
			a.resolve(ctx, e.TenantID, RuleMetakockaAuth, RuleMetakockaAuth)
		}
	}
	if a.cfg.ErrorRateMinRequests < 0 {
		return
	}
	w := a.rates[e.TenantID]
	if w == nil {
		w = newRateWindow(a.cfg.ErrorRateWindow)
		a.rates[e.TenantID] = w
	}
	switch e.Outcome {
	case mksync.EUPSTREAM, mksync.ERATELIMITED, mksync.EUNAUTHORIZED:
		w.add(a.cfg.Clock.Now(), true)
	case mksync.ECANCELED:
		return
	default:
		w.add(a.cfg.Clock.Now(), false)
	}
	a.evalRate(ctx, e.TenantID, w)
}

// evalRate opens or resolves the tenant's error-rate alert.
func (a *Alerter) evalRate(ctx context.Context, tenantID string, w *rateWindow) {
	total, failed := w.counts(a.cfg.Clock.Now())
	switch {
	case total >= a.cfg.ErrorRateMinRequests && float64(failed) > a.cfg.ErrorRateThreshold*float64(total):
		a.open(ctx, tenantID, RuleMetakockaErrorRate, RuleMetakockaErrorRate, SeverityWarning, observe.CatMetakocka,
			fmt.Sprintf("%d of the last %d Metakocka requests failed within %s (threshold %.0f%%)",
				failed, total, a.cfg.ErrorRateWindow, a.cfg.ErrorRateThreshold*100))
	case failed == 0 || (total >= a.cfg.ErrorRateMinRequests && float64(failed) <= a.cfg.ErrorRateThreshold*float64(total)):
		a.resolve(ctx, tenantID, RuleMetakockaErrorRate, RuleMetakockaErrorRate)
	}
	if total == 0 {
		delete(a.rates, tenantID)
	}
}

// onJob handles the discarded-job rule.
func (a *Alerter) onJob(ctx context.Context, e observe.JobEvent) {
	if a.cfg.DisableJobRule {
		return
	}
	if e.TenantID == "" {
		if e.Outcome == observe.JobDiscarded {
			a.log.LogAttrs(ctx, slog.LevelError, "job discarded after its retries",
				observe.Category(observe.CatJobs), slog.String("job_kind", e.Kind), slog.Int("attempts", e.Attempts), slog.String("code", e.Code))
		}
		return
	}
	key := RuleJobDiscarded + ":" + e.Kind
	switch e.Outcome {
	case observe.JobDiscarded:
		a.open(ctx, e.TenantID, RuleJobDiscarded, key, SeverityWarning, observe.CatJobs,
			fmt.Sprintf("a %s job was discarded after %d attempts (last error code %s)", e.Kind, e.Attempts, orNone(e.Code)))
	case observe.JobCompleted:
		a.resolve(ctx, e.TenantID, key, RuleJobDiscarded)
	}
}

// sweep re-evaluates the time windows.
func (a *Alerter) sweep(ctx context.Context) {
	for tenantID, w := range a.rates {
		a.evalRate(ctx, tenantID, w)
	}
}

// open opens (or, once per RefreshInterval while it keeps firing, bumps)
// the alert key of tenantID.
func (a *Alerter) open(ctx context.Context, tenantID, rule, key, severity, category, msg string) {
	id := alertID{tenantID, key}
	now := a.cfg.Clock.Now()
	st := a.alerts[id]
	if st != nil && st.open && now.Sub(st.written) < a.cfg.RefreshInterval {
		return
	}
	al := mksync.Alert{Key: key, Severity: severity, Message: msg}
	sctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	opened, err := a.cfg.Store.OpenAlert(sctx, tenantID, &al)
	cancel()
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "could not open alert", observe.Category(category),
			slog.String("tenant_id", tenantID), slog.String("alert_key", key), slog.String("error", err.Error()))
		return
	}
	a.alerts[id] = &alertState{open: true, written: now, alert: al, rule: rule}
	if !opened {
		return // already open (here or in another process): no new notice
	}
	level := slog.LevelWarn
	if severity == SeverityCritical {
		level = slog.LevelError
	}
	a.log.LogAttrs(ctx, level, "alert opened", observe.Category(category),
		slog.String("tenant_id", tenantID), slog.String("alert_id", al.ID), slog.String("alert_key", key),
		slog.String("rule", rule), slog.String("severity", severity), slog.String("message", msg))
	a.cfg.Metrics.AlertOpened(rule)
	if a.cfg.Notifier != nil {
		a.cfg.Notifier.Notify(Notice{Event: EventAlertOpened, TenantID: tenantID, Rule: rule, Alert: al})
	}
}

// resolve resolves the alert key of tenantID when it is open or unknown.
func (a *Alerter) resolve(ctx context.Context, tenantID, key, rule string) {
	id := alertID{tenantID, key}
	st := a.alerts[id]
	if st != nil && !st.open {
		return
	}
	now := a.cfg.Clock.Now()
	sctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	resolved, err := a.cfg.Store.ResolveAlert(sctx, tenantID, key, now)
	cancel()
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "could not resolve alert", observe.Category(observe.CatDatabase),
			slog.String("tenant_id", tenantID), slog.String("alert_key", key), slog.String("error", err.Error()))
		return
	}
	al := mksync.Alert{Key: key}
	if st != nil {
		al = st.alert
	}
	a.alerts[id] = &alertState{open: false, alert: al, rule: rule}
	if !resolved {
		return
	}
	al.Status, al.ResolvedAt, al.UpdatedAt = mksync.AlertResolved, &now, now
	a.log.LogAttrs(ctx, slog.LevelInfo, "alert resolved", observe.Category(categoryOf(rule)),
		slog.String("tenant_id", tenantID), slog.String("alert_id", al.ID), slog.String("alert_key", key),
		slog.String("rule", rule))
	a.cfg.Metrics.AlertResolved(rule)
	if a.cfg.Notifier != nil {
		a.cfg.Notifier.Notify(Notice{Event: EventAlertResolved, TenantID: tenantID, Rule: rule, Alert: al})
	}
}

func categoryOf(rule string) string {
	switch rule {
	case RuleMetakockaAuth, RuleMetakockaErrorRate:
		return observe.CatMetakocka
	case RuleJobDiscarded:
		return observe.CatJobs
	}
	return observe.CatSync
}

func directionText(d mksync.Direction) string {
	switch d {
	case mksync.ToMetakocka:
		return "to Metakocka"
	case mksync.FromMetakocka:
		return "from Metakocka"
	}
	return string(d)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// rateWindow counts requests and failures in time buckets covering a
// sliding window (30 buckets, so memory does not grow with traffic).
type rateWindow struct {
	width   time.Duration
	buckets []rateBucket
}

type rateBucket struct {
	start         time.Time
	total, failed int
}

const rateBucketsPerWindow = 30

func newRateWindow(window time.Duration) *rateWindow {
	return &rateWindow{width: max(window/rateBucketsPerWindow, time.Millisecond)}
}

func (w *rateWindow) add(now time.Time, failed bool) {
	start := now.Truncate(w.width)
	if n := len(w.buckets); n == 0 || !w.buckets[n-1].start.Equal(start) {
		w.buckets = append(w.buckets, rateBucket{start: start})
	}
	b := &w.buckets[len(w.buckets)-1]
	b.total++
	if failed {
		b.failed++
	}
}

// counts drops buckets older than the window and returns the totals.
func (w *rateWindow) counts(now time.Time) (total, failed int) {
	cutoff := now.Add(-w.width * rateBucketsPerWindow)
	i := 0
	for i < len(w.buckets) && !w.buckets[i].start.After(cutoff) {
		i++
	}
	w.buckets = w.buckets[i:]
	for _, b := range w.buckets {
		total += b.total
		failed += b.failed
	}
	return total, failed
}
