package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/mksync/mksync"
)

// uniqueWhileActive are the job states in which a unique job blocks a
// duplicate: every state but the final ones. River's default also counts
// completed jobs (for 24 h), which would refuse a new "sync all" for a day
// after the previous one finished.
var uniqueWhileActive = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateRetryable,
	rivertype.JobStateScheduled,
}

// SyncRunArgs are the arguments of a sync run job. The unique fields make
// one job per tenant, entity type, direction and scope while one is active.
type SyncRunArgs struct {
	TenantID   string            `json:"tenant_id" river:"unique"`
	EntityType mksync.EntityType `json:"entity_type" river:"unique"`
	Direction  mksync.Direction  `json:"direction" river:"unique"`
	// Scope is "all", or "ids:" and the hash of the sorted ids (the ids
	// themselves are in the run's checkpoint), followed by ":preview" for a
	// preview and ":apply:<preview id>" for the apply of a plan (modeOf).
	Scope string `json:"scope" river:"unique"`
	RunID string `json:"run_id"`
}

// Kind implements river.JobArgs.
func (SyncRunArgs) Kind() string { return "mksync_sync_run" }

// scopeOf names the records a run covers, for uniqueness.
func scopeOf(ids []string) string {
	if len(ids) == 0 {
		return "all"
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\x00")))
	return "ids:" + hex.EncodeToString(sum[:16])
}

// modeOf tells previews and the apply of a plan apart from real runs of
// the same scope, for uniqueness: a preview (which writes nothing) never
// waits for, or stands in for, a real run, nor a real run for a preview.
func modeOf(run *mksync.SyncRun) string {
	switch {
	case run.DryRun:
		return ":preview"
	case run.PlanRunID != "":
		return ":apply:" + run.PlanRunID
	}
	return ""
}

// runTag tags a sync run's job with its run id, so Cancel can find it.
func runTag(runID string) string { return "run-" + runID }

// RecordArgs are the arguments of a single-record sync job. A job is unique
// per record and version while active: saving the same version twice
// queues one push, a newer version queues another.
type RecordArgs struct {
	TenantID   string            `json:"tenant_id" river:"unique"`
	EntityType mksync.EntityType `json:"entity_type" river:"unique"`
	Direction  mksync.Direction  `json:"direction" river:"unique"`
	// ID is a CRM id (ToMetakocka) or an mk_id (FromMetakocka).
	ID string `json:"id" river:"unique"`
	// Version of the CRM record written, 0 when unknown.
	Version int64          `json:"version,omitempty" river:"unique"`
	Trigger mksync.Trigger `json:"trigger,omitempty"`
}

// Kind implements river.JobArgs.
func (RecordArgs) Kind() string { return "mksync_sync_record" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RecordArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueInteractive,
		MaxAttempts: maxSmallJobAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueWhileActive},
	}
}

// StockArgs are the arguments of a stock webhook job.
type StockArgs struct {
	TenantID string `json:"tenant_id"`
	// Payload is the verified webhook body, as Metakocka sent it.
	Payload []byte `json:"payload"`
}

// Kind implements river.JobArgs.
func (StockArgs) Kind() string { return "mksync_stock" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (StockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueInteractive, MaxAttempts: maxSmallJobAttempts}
}

// ScheduleTickArgs are the arguments of the periodic schedule tick.
type ScheduleTickArgs struct{}

// Kind implements river.JobArgs.
func (ScheduleTickArgs) Kind() string { return "mksync_schedule_tick" }

// tickInsertOpts keeps one tick per period however many leaders enqueue it.
func tickInsertOpts(tick time.Duration) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueSchedule,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByPeriod: tick},
	}
}
