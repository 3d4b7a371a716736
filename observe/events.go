package observe

import "github.com/mksync/mksync"

// The events below are what the engine and the job layer report. They are
// declared here, beside the metrics they feed, so that engine and jobs need
// not import the alerts package that also listens to them.

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

// JobOutcome is how a job ended.
type JobOutcome string

// The job outcomes that metrics and alerts care about.
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
