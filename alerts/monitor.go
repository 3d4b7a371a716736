package alerts

import (
	"sync"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// Clock is time as the alerts package's services see it (alert windows,
// retention cut-offs, notice timestamps). Tests inject one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// RequestEvent is the outcome of one HTTP attempt to a tenant's Metakocka
// company: "ok" or the mksync error code (metakocka.Observer's outcome).
type RequestEvent struct {
	TenantID string
	Method   string
	Outcome  string
}

// Monitor is the one sink the sync engine and the job layer report to: it
// updates the metrics and feeds the alert evaluator. Either field may be
// nil. Its methods never block on I/O (the evaluator queues events) and are
// safe for concurrent use. The engine and jobs packages declare the few
// methods they call as an interface of their own, over observe's event
// types, so they do not import this package.
type Monitor struct {
	Metrics *observe.Metrics
	Alerts  *Alerter
}

// MetakockaObserver returns the observer to pass as metakocka.Config.Observer
// of tenantID's client.
func (mon *Monitor) MetakockaObserver(tenantID string) MetakockaObserver {
	return MetakockaObserver{TenantID: tenantID, Metrics: mon.Metrics, Alerts: mon.Alerts}
}

// RecordSynced reports one record's outcome.
func (mon *Monitor) RecordSynced(e observe.RecordEvent) {
	mon.Metrics.RecordsSynced(e.TenantID, e.Entity, e.Direction, e.Outcome, 1)
	if mon.Alerts != nil {
		mon.Alerts.RecordSynced(e)
	}
}

// ResultSynced reports the records of a batch whose per-record order is not
// known, from its SyncResult. The evaluator sees the successes first and
// then the failures, so a batch that ends in failures is not hidden by
// earlier successes.
func (mon *Monitor) ResultSynced(tenantID string, et mksync.EntityType, dir mksync.Direction, res mksync.SyncResult) {
	ev := observe.RecordEvent{TenantID: tenantID, Entity: et, Direction: dir}
	for _, c := range []struct {
		o observe.RecordOutcome
		n int
	}{{observe.RecordCreated, res.Created}, {observe.RecordUpdated, res.Updated}, {observe.RecordSkipped, res.Skipped}, {observe.RecordConflict, res.Conflicts}} {
		if c.n == 0 {
			continue
		}
		ev.Outcome = c.o
		mon.Metrics.RecordsSynced(tenantID, et, dir, c.o, c.n)
		if mon.Alerts != nil {
			mon.Alerts.RecordSynced(ev) // one success resets a failure streak
		}
	}
	if res.Failed == 0 {
		return
	}
	ev.Outcome = observe.RecordFailed
	mon.Metrics.RecordsSynced(tenantID, et, dir, observe.RecordFailed, res.Failed)
	if mon.Alerts != nil {
		for i := range res.Failed {
			ev.Code = ""
			if i < len(res.Errors) {
				ev.Code = res.Errors[i].Code
			}
			mon.Alerts.RecordSynced(ev)
		}
	}
}

// RunStarted reports that run began executing in this process and returns
// the function to call, once, with the run as it ended (its Status final,
// StartedAt and FinishedAt set). Pairing the two keeps
// mksync_sync_runs_in_progress exact.
func (mon *Monitor) RunStarted(run mksync.SyncRun) (finished func(final mksync.SyncRun)) {
	return mon.executing(run, true)
}

// RunExecuting reports that run (status running) executes in this
// process now: a whole run, or one slice of a run that the job layer works
// slice by slice (its slices may run in several processes, one after
// another). It returns the function to call, once, when this execution
// stops, with the run as it is then: a final run is counted as finished
// (RunFinished); a run that stopped resumable (a slice ended, the process
// is stopping) only leaves mksync_sync_runs_in_progress, so a run worked in
// many slices is counted once.
func (mon *Monitor) RunExecuting(run mksync.SyncRun) (stopped func(run mksync.SyncRun)) {
	return mon.executing(run, false)
}

// executing counts run in progress until the returned func is called;
// that func reports the run as finished when always is set or its status
// is final.
func (mon *Monitor) executing(run mksync.SyncRun, always bool) func(mksync.SyncRun) {
	mon.Metrics.RunInProgress(run, 1)
	var once sync.Once
	return func(now mksync.SyncRun) {
		once.Do(func() {
			mon.Metrics.RunInProgress(run, -1)
			if always || now.Status.Final() {
				mon.RunFinished(now)
			}
		})
	}
}

// RunFinished reports a run that ended (also one that never started here,
// e.g. cancelled while queued). Use RunStarted's function for runs that
// executed here.
func (mon *Monitor) RunFinished(run mksync.SyncRun) {
	mon.Metrics.RunFinished(run)
	if mon.Alerts != nil {
		mon.Alerts.RunFinished(run)
	}
}

// JobFinished reports a job that completed or was discarded.
func (mon *Monitor) JobFinished(e observe.JobEvent) {
	mon.Metrics.JobFinished(e)
	if mon.Alerts != nil {
		mon.Alerts.JobFinished(e)
	}
}

// MetakockaObserver reports one tenant's Metakocka calls to the metrics and
// the alert evaluator. It implements metakocka.Observer,
// metakocka.PacingObserver and metakocka.BudgetObserver (alerts does not
// import metakocka; the tests assert them). Pass one per tenant client as metakocka.Config.Observer.
// Nil Metrics or Alerts are skipped. It never blocks: the evaluator queues
// the event.
type MetakockaObserver struct {
	// TenantID is the tenant whose company the client calls; it labels
	// per-tenant series (observe.MetricsOptions.PerTenant) and keys the
	// alerts. Empty for a client shared by tenants (then no alert is fed).
	TenantID string
	Metrics  *observe.Metrics
	Alerts   *Alerter
}

// OnRequest implements metakocka.Observer: one HTTP attempt ended with
// outcome ("ok" or an mksync error code) after d.
func (o MetakockaObserver) OnRequest(method, outcome string, d time.Duration) {
	o.Metrics.MetakockaRequest(o.TenantID, method, outcome, d)
	if o.Alerts != nil && o.TenantID != "" {
		o.Alerts.MetakockaRequest(RequestEvent{TenantID: o.TenantID, Method: method, Outcome: outcome})
	}
}

// OnRetry implements metakocka.Observer: a retry of method for reason will
// follow after wait.
func (o MetakockaObserver) OnRetry(method, reason string, _ time.Duration) {
	o.Metrics.MetakockaRetry(o.TenantID, method, reason)
}

// OnPacingWait implements metakocka.PacingObserver.
func (o MetakockaObserver) OnPacingWait(method string, wait time.Duration) {
	o.Metrics.MetakockaPacingWait(method, wait)
}

// OnBudget implements metakocka.BudgetObserver: after an attempt, the
// company's in-flight limit, latency floor and whether it answered 429.
func (o MetakockaObserver) OnBudget(companyID string, limit int, floor time.Duration, rateLimited bool) {
	o.Metrics.MetakockaBudget(companyID, limit, floor, rateLimited)
}
