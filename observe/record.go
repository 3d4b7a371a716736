package observe

import (
	"time"

	"github.com/mksync/mksync"
)

// The methods below update the metrics that other packages' services own
// (the alerts package's Monitor, Alerter, Notifier and Pruner): the
// declarations stay in metrics.go, in one place with docs/metrics.md. Each
// is safe on a nil *Metrics (metrics off) and for concurrent use.

// RecordsSynced adds n records of one kind that ended with outcome.
func (m *Metrics) RecordsSynced(tenantID string, et mksync.EntityType, dir mksync.Direction, outcome RecordOutcome, n int) {
	if m == nil || n == 0 {
		return
	}
	m.syncRecords.WithLabelValues(m.lv(tenantID, string(et), string(dir), string(outcome))...).Add(float64(n))
}

// RunInProgress adds delta (1 when run starts executing in this process,
// -1 when it stops) to mksync_sync_runs_in_progress.
func (m *Metrics) RunInProgress(run mksync.SyncRun, delta int) {
	if m == nil {
		return
	}
	m.syncRunsActive.WithLabelValues(m.lv(run.TenantID, string(run.EntityType), string(run.Direction))...).Add(float64(delta))
}

// RunFinished counts a run that ended, its duration and, when it
// succeeded, the time of the last success.
func (m *Metrics) RunFinished(run mksync.SyncRun) {
	if m == nil {
		return
	}
	et, dir := string(run.EntityType), string(run.Direction)
	m.syncRuns.WithLabelValues(m.lv(run.TenantID, et, dir, string(run.Status))...).Inc()
	if run.StartedAt != nil && run.FinishedAt != nil {
		m.syncRunDuration.WithLabelValues(et, dir).Observe(run.FinishedAt.Sub(*run.StartedAt).Seconds())
	}
	if run.Status == mksync.RunSucceeded && run.FinishedAt != nil {
		m.syncLastSuccess.WithLabelValues(m.lv(run.TenantID, et, dir)...).Set(float64(run.FinishedAt.UnixNano()) / 1e9)
	}
}

// JobFinished counts a discarded job (completed jobs are not counted).
func (m *Metrics) JobFinished(e JobEvent) {
	if m == nil || e.Outcome != JobDiscarded {
		return
	}
	m.jobsDiscarded.WithLabelValues(e.Kind).Inc()
}

// MetakockaRequest counts one HTTP attempt of tenantID's client to
// Metakocka that ended with outcome ("ok" or an mksync error code) after d.
func (m *Metrics) MetakockaRequest(tenantID, method, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.mkRequests.WithLabelValues(m.lv(tenantID, method, outcome)...).Inc()
	m.mkDuration.WithLabelValues(method).Observe(d.Seconds())
}

// MetakockaRetry counts a retry of a Metakocka call for reason.
func (m *Metrics) MetakockaRetry(tenantID, method, reason string) {
	if m == nil {
		return
	}
	m.mkRetries.WithLabelValues(m.lv(tenantID, method, reason)...).Inc()
}

// MetakockaBudget sets a company's in-flight limit and latency floor after
// an attempt, and counts its 429 answers.
func (m *Metrics) MetakockaBudget(companyID string, limit int, floor time.Duration, rateLimited bool) {
	if m == nil {
		return
	}
	m.mkLimit.WithLabelValues(companyID).Set(float64(limit))
	m.mkFloor.WithLabelValues(companyID).Set(floor.Seconds())
	if rateLimited {
		m.mk429s.WithLabelValues(companyID).Inc()
	}
}

// MetakockaPacingWait observes the time an attempt waited for its pacer.
func (m *Metrics) MetakockaPacingWait(method string, wait time.Duration) {
	if m == nil {
		return
	}
	m.mkPacingWait.WithLabelValues(method).Observe(wait.Seconds())
}

// AlertOpened counts an alert newly opened by rule.
func (m *Metrics) AlertOpened(rule string) {
	if m == nil {
		return
	}
	m.alertsOpened.WithLabelValues(rule).Inc()
}

// AlertResolved counts an alert of rule that resolved.
func (m *Metrics) AlertResolved(rule string) {
	if m == nil {
		return
	}
	m.alertsResolved.WithLabelValues(rule).Inc()
}

// AlertEventDropped counts an event the alert evaluator had no room for.
func (m *Metrics) AlertEventDropped() {
	if m == nil {
		return
	}
	m.alertEventsLost.Inc()
}

// The outcomes of mksync_alert_notifications_total.
const (
	// NotificationSent: the webhook accepted the notice.
	NotificationSent = "sent"
	// NotificationFailed: every attempt failed, or the webhook refused it.
	NotificationFailed = "failed"
	// NotificationDropped: the notice found its target's queue full and
	// was never tried.
	NotificationDropped = "dropped"
)

// AlertNotification counts one notice to one webhook by outcome
// (NotificationSent, NotificationFailed or NotificationDropped).
func (m *Metrics) AlertNotification(outcome string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(outcome).Inc()
}

// ErrorRecordsPruned counts error records deleted by retention.
func (m *Metrics) ErrorRecordsPruned(n int) {
	if m == nil {
		return
	}
	m.errorRecordsPruned.Add(float64(n))
}
