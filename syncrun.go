package mksync

import "time"

// Direction says which way a sync moves records.
type Direction string

// The directions.
const (
	ToMetakocka   Direction = "to_metakocka"
	FromMetakocka Direction = "from_metakocka"
)

// Trigger says what started a sync run.
type Trigger string

// The triggers.
const (
	TriggerAPI      Trigger = "api"
	TriggerUI       Trigger = "ui"
	TriggerCLI      Trigger = "cli"
	TriggerSchedule Trigger = "schedule"
	TriggerWebhook  Trigger = "webhook"
	TriggerAutoPush Trigger = "auto_push"
)

// RunStatus is the life-cycle state of a sync run.
type RunStatus string

// The run statuses. Succeeded, Partial, Failed and Cancelled are final.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded" // every record synced or skipped
	RunPartial   RunStatus = "partial"   // some records failed
	RunFailed    RunStatus = "failed"    // the run as a whole failed
	RunCancelled RunStatus = "cancelled"
)

// Final reports whether s is an end state.
func (s RunStatus) Final() bool {
	return s == RunSucceeded || s == RunPartial || s == RunFailed || s == RunCancelled
}

// SyncResult aggregates the outcome of syncing one or many records. It has the
// shape the original integration's callers expect, plus skipped and conflicts.
type SyncResult struct {
	Success   bool `json:"success"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Skipped   int  `json:"skipped"`
	Failed    int  `json:"failed"`
	Conflicts int  `json:"conflicts"`
	// Linked counts records matched to an existing record on the other
	// side by a strong key instead of being created; Ambiguous those that
	// matched two or more and wait for a person (docs/mapping.md).
	Linked    int           `json:"linked,omitempty"`
	Ambiguous int           `json:"ambiguous,omitempty"`
	Errors    []RecordError `json:"errors"`
}

// RecordError is the failure of one record within a sync.
type RecordError struct {
	ID      string `json:"id"`
	Code    string `json:"code"`
	Error   string `json:"error"`
	ErrorID string `json:"errorId,omitempty"`
}

// Merge adds o's counts and errors to r. Success stays true only while no
// record failed.
func (r *SyncResult) Merge(o SyncResult) {
	r.Created += o.Created
	r.Updated += o.Updated
	r.Skipped += o.Skipped
	r.Failed += o.Failed
	r.Conflicts += o.Conflicts
	r.Linked += o.Linked
	r.Ambiguous += o.Ambiguous
	r.Errors = append(r.Errors, o.Errors...)
	r.Success = r.Failed == 0
}

// Processed is the number of records the result accounts for.
func (r *SyncResult) Processed() int {
	return r.Created + r.Updated + r.Skipped + r.Failed + r.Conflicts + r.Linked + r.Ambiguous
}

// SyncRun is one execution of a sync, single-record or bulk, persisted with
// its progress so that the API and UI can follow it and a crash can resume it.
type SyncRun struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"-"`
	EntityType EntityType `json:"entityType"`
	Direction  Direction  `json:"direction"`
	Trigger    Trigger    `json:"trigger"`
	Status     RunStatus  `json:"status"`
	Processed  int        `json:"processed"`
	Total      int        `json:"total"`
	Result     SyncResult `json:"result"`
	// DryRun marks a preview: the run decides every record as a real run
	// would and stores the plan (PlanStore) instead of writing anything to
	// Metakocka, records or mappings; its Result counts what would happen.
	DryRun bool `json:"dryRun,omitempty"`
	// PlanRunID, on a run that applies a preview, is the preview's id: the
	// run syncs exactly the plan's records, re-deciding any whose state
	// moved since (reported as failed with code conflict, not written).
	PlanRunID string `json:"planRunId,omitempty"`
	// Explicit marks a run over one record that stands for an explicit
	// single-record sync (a single-record preview): it decides the record
	// as SyncToMetakocka / SyncFromMetakocka would, settling an open
	// conflict for the side synced to. Set when starting a run; it is kept
	// in the run's checkpoint, not on its own.
	Explicit bool `json:"-"`
	// Checkpoint is an opaque resume position (e.g. the last id done).
	Checkpoint string     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// LiveProgress is how far a bulk run executing now has got, counted record
// by record as each outcome is known: a run's stored Processed moves only
// when a batch commits, so a page following the run would otherwise stand
// still for a whole batch. Only the process executing the run knows it.
type LiveProgress struct {
	Processed int       // records with a known outcome, those committed before Since included
	Total     int       // records the run will see; 0 while unknown
	Since     time.Time // when this process began executing the run
	// ProcessedAtSince is Processed at Since (a resumed run's records
	// committed earlier); the rate counts only what came after.
	ProcessedAtSince int
}
