package observe

import (
	"sync"
	"time"

	"github.com/mksync/mksync"
)

// Clock is time as observe's services see it (alert windows, retention
// cut-offs, notice timestamps). Tests inject one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// RecordOutcome is how the sync of one record ended.
type RecordOutcome string

// The record outcomes, the "outcome" label of mksync_sync_records_total.
const (
	RecordCreated  RecordOutcome = "created"
	RecordUpdated  RecordOutcome = "updated"
	RecordSkipped  RecordOutcome = "skipped"
	RecordFailed   RecordOutcome = "failed"
	RecordConflict RecordOutcome = "conflict"
)

// RecordEvent is the outcome of syncing one record.
type RecordEvent struct {
	TenantID  string
	Entity    mksync.EntityType
	Direction mksync.Direction
	Outcome   RecordOutcome
	// Code is the mksync error code of a failed record ("" otherwise).
	Code string
}

// RequestEvent is the outcome of one HTTP attempt to a tenant's Metakocka
// company: "ok" or the mksync error code (metakocka.Observer's outcome).
type RequestEvent struct {
	TenantID string
	Method   string
	Outcome  string
}

// JobOutcome is how a job ended.
type JobOutcome string

// The job outcomes the evaluator cares about.
const (
	JobCompleted JobOutcome = "completed"
	// JobDiscarded: the job failed its last allowed attempt and will not run
	// again by itself.
	JobDiscarded JobOutcome = "discarded"
)

// JobEvent is a job that ended for good.
type JobEvent struct {
	// TenantID is the tenant the job worked for; a job of no tenant opens
	// no alert (it is still counted and logged).
	TenantID string
	// Kind is the job kind (bounded: "sync_run", "schedule", …).
	Kind     string
	Outcome  JobOutcome
	Attempts int
	// Code is the mksync error code of the last failure of a discarded job.
	Code string
}

// Monitor is the one sink the sync engine and the job layer report to: it
// updates the metrics and feeds the alert evaluator. Either field may be
// nil. Its methods never block on I/O (the evaluator queues events) and are
// safe for concurrent use. The engine and jobs packages should declare the
// few methods they call as an interface of their own.
type Monitor struct {
	Metrics *Metrics
	Alerts  *Alerter
}

// MetakockaObserver returns the observer to pass as metakocka.Config.Observer
// of tenantID's client.
func (mon *Monitor) MetakockaObserver(tenantID string) MetakockaObserver {
	return MetakockaObserver{TenantID: tenantID, Metrics: mon.Metrics, Alerts: mon.Alerts}
}

// RecordSynced reports one record's outcome.
func (mon *Monitor) RecordSynced(e RecordEvent) {
	if m := mon.Metrics; m != nil {
		m.syncRecords.WithLabelValues(m.lv(e.TenantID, string(e.Entity), string(e.Direction), string(e.Outcome))...).Inc()
	}
	if mon.Alerts != nil {
		mon.Alerts.RecordSynced(e)
	}
}

// ResultSynced reports the records of a batch whose per-record order is not
// known, from its SyncResult. The evaluator sees the successes first and
// then the failures, so a batch that ends in failures is not hidden by
// earlier successes.
func (mon *Monitor) ResultSynced(tenantID string, et mksync.EntityType, dir mksync.Direction, res mksync.SyncResult) {
	ev := RecordEvent{TenantID: tenantID, Entity: et, Direction: dir}
	for _, c := range []struct {
		o RecordOutcome
		n int
	}{{RecordCreated, res.Created}, {RecordUpdated, res.Updated}, {RecordSkipped, res.Skipped}, {RecordConflict, res.Conflicts}} {
		if c.n == 0 {
			continue
		}
		ev.Outcome = c.o
		if m := mon.Metrics; m != nil {
			m.syncRecords.WithLabelValues(m.lv(tenantID, string(et), string(dir), string(c.o))...).Add(float64(c.n))
		}
		if mon.Alerts != nil {
			mon.Alerts.RecordSynced(ev) // one success resets a failure streak
		}
	}
	if res.Failed == 0 {
		return
	}
	ev.Outcome = RecordFailed
	if m := mon.Metrics; m != nil {
		m.syncRecords.WithLabelValues(m.lv(tenantID, string(et), string(dir), string(RecordFailed))...).Add(float64(res.Failed))
	}
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
	m := mon.Metrics
	if m != nil {
		m.syncRunsActive.WithLabelValues(m.lv(run.TenantID, string(run.EntityType), string(run.Direction))...).Inc()
	}
	var once sync.Once
	return func(final mksync.SyncRun) {
		once.Do(func() {
			if m != nil {
				m.syncRunsActive.WithLabelValues(m.lv(run.TenantID, string(run.EntityType), string(run.Direction))...).Dec()
			}
			mon.RunFinished(final)
		})
	}
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
	m := mon.Metrics
	if m != nil {
		m.syncRunsActive.WithLabelValues(m.lv(run.TenantID, string(run.EntityType), string(run.Direction))...).Inc()
	}
	var once sync.Once
	return func(now mksync.SyncRun) {
		once.Do(func() {
			if m != nil {
				m.syncRunsActive.WithLabelValues(m.lv(run.TenantID, string(run.EntityType), string(run.Direction))...).Dec()
			}
			if now.Status.Final() {
				mon.RunFinished(now)
			}
		})
	}
}

// RunFinished reports a run that ended (also one that never started here,
// e.g. cancelled while queued). Use RunStarted's function for runs that
// executed here.
func (mon *Monitor) RunFinished(run mksync.SyncRun) {
	if m := mon.Metrics; m != nil {
		et, dir := string(run.EntityType), string(run.Direction)
		m.syncRuns.WithLabelValues(m.lv(run.TenantID, et, dir, string(run.Status))...).Inc()
		if run.StartedAt != nil && run.FinishedAt != nil {
			m.syncRunDuration.WithLabelValues(et, dir).Observe(run.FinishedAt.Sub(*run.StartedAt).Seconds())
		}
		if run.Status == mksync.RunSucceeded && run.FinishedAt != nil {
			m.syncLastSuccess.WithLabelValues(m.lv(run.TenantID, et, dir)...).Set(float64(run.FinishedAt.UnixNano()) / 1e9)
		}
	}
	if mon.Alerts != nil {
		mon.Alerts.RunFinished(run)
	}
}

// JobFinished reports a job that completed or was discarded.
func (mon *Monitor) JobFinished(e JobEvent) {
	if m := mon.Metrics; m != nil && e.Outcome == JobDiscarded {
		m.jobsDiscarded.WithLabelValues(e.Kind).Inc()
	}
	if mon.Alerts != nil {
		mon.Alerts.JobFinished(e)
	}
}
