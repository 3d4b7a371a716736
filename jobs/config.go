package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// The queues. Each has its own workers in every process, so that one kind
// of work never waits behind another.
const (
	// QueueInteractive holds single-record syncs and stock webhooks: short
	// jobs a person or Metakocka is waiting for.
	QueueInteractive = "interactive"
	// QueueBulk holds sync runs, worked a slice at a time.
	QueueBulk = "bulk"
	// QueueSchedule holds the schedule tick.
	QueueSchedule = "schedule"
)

// Monitor hears how jobs ended. It must be safe for concurrent use and
// must not block.
type Monitor interface {
	JobFinished(e observe.JobEvent)
}

// Clock is time as jobs see it (schedule decisions, bulk slices, run
// times). Tests inject one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config configures a Jobs. Zero fields take the documented defaults; New
// validates the rest and names the bad field.
type Config struct {
	// Store keeps tenants, credentials, sync runs, error records and alerts.
	// Required. It must be the store whose database Database names.
	Store mksync.Store
	// Runner is the sync engine (mksync.Syncer): it prepares runs and works
	// them, syncs single records and applies stock webhooks. Required
	// (StartSync prepares runs with it even when this process works no
	// jobs).
	Runner mksync.Syncer
	// Logger receives JOBS lines; default a logger that discards. River's
	// own lines go to it at warn level and above.
	Logger *slog.Logger
	// Clock; default the real clock.
	Clock Clock
	// Monitor, when set, hears every job that completed or was discarded
	// (metrics, and the alert rules that watch jobs and Metakocka's
	// answers: alerts.Monitor implements it). The alerts then come from
	// it alone: jobs opens none of its own. Without it, jobs opens its own
	// alerts (AlertCredentialsRejected, AlertJobDiscarded).
	Monitor Monitor

	// NoWorkers makes this process insert jobs only (e.g. `serve
	// --no-workers` beside separate `mksync worker` processes): Start works
	// nothing and registers no periodic job.
	NoWorkers bool
	// BulkWorkers is how many sync run slices this process works at once;
	// default 4. Every slice talks to one Metakocka company with the
	// tenant's concurrency (SyncSettings.Concurrency), so a process makes at
	// most BulkWorkers × Concurrency bulk requests at once.
	BulkWorkers int
	// InteractiveWorkers is how many single-record and stock jobs this
	// process works at once; default 8.
	InteractiveWorkers int
	// ScheduleWorkers works schedule ticks; default 1.
	ScheduleWorkers int

	// BulkSlice is how long a sync run job works before it yields its
	// worker to the next waiting run (checked between batches); default
	// 1 minute. Smaller is fairer, larger wastes less on re-fetching.
	BulkSlice time.Duration
	// BulkTimeout cancels a sync run slice that runs this long (a batch
	// stuck on Metakocka); the run resumes from its last checkpoint on the
	// next attempt. Default 8 minutes; must be below RescueStuckJobsAfter.
	BulkTimeout time.Duration
	// JobTimeout cancels any other job that runs this long; default 3
	// minutes; must be below RescueStuckJobsAfter.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before
	// River's leader assumes its process died and retries it; default 10
	// minutes. Sync runs do not wait for it (see RunLease): it is the last
	// resort for them, and the rescue of record and stock jobs.
	RescueStuckJobsAfter time.Duration
	// RunLease is how long a sync run slice's lease on its run lasts
	// without a heartbeat (slices renew it every third of it): a run whose
	// worker died is taken over by another process about this long after
	// its last heartbeat. Default 15 s. Worker clocks must agree to well
	// within it.
	RunLease time.Duration
	// FetchCooldown is the least time between two fetches of one queue;
	// default 20 ms (River's 100 ms caps a queue at 10 fetches a second).
	FetchCooldown time.Duration
	// FetchPollInterval is how often a queue is polled when no insert
	// notification arrives (always on SQLite, which has none; and for jobs
	// inserted in a transaction); default 500 ms.
	FetchPollInterval time.Duration
	// ScheduleTick is how often the schedule tick runs; default 1 minute
	// (the least SyncSettings.ScheduleInterval).
	ScheduleTick time.Duration
	// StopTimeout is how long Stop lets running jobs finish before it
	// cancels them (a cancelled slice is put back at once, without losing an
	// attempt); default 30 s.
	StopTimeout time.Duration
	// MaxAttempts of a sync run job before River discards it (and its run
	// is marked failed); snoozes do not count. Default 10 (about 3 hours of
	// River's backoff). Record and stock jobs get at most 5.
	MaxAttempts int
	// ClientID names this process among River's clients (attempted_by,
	// leader election); default River's random id.
	ClientID string
}

// Defaults of Config.
const (
	DefaultBulkWorkers          = 4
	DefaultInteractiveWorkers   = 8
	DefaultScheduleWorkers      = 1
	DefaultBulkSlice            = time.Minute
	DefaultBulkTimeout          = 8 * time.Minute
	DefaultJobTimeout           = 3 * time.Minute
	DefaultRescueStuckJobsAfter = 10 * time.Minute
	DefaultRunLease             = 15 * time.Second
	DefaultFetchCooldown        = 20 * time.Millisecond
	DefaultFetchPollInterval    = 500 * time.Millisecond
	DefaultScheduleTick         = time.Minute
	DefaultStopTimeout          = 30 * time.Second
	DefaultMaxAttempts          = 10
	maxSmallJobAttempts         = 5
	minRunLease                 = 30 * time.Millisecond
)

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.BulkWorkers, DefaultBulkWorkers)
	def(&c.InteractiveWorkers, DefaultInteractiveWorkers)
	def(&c.ScheduleWorkers, DefaultScheduleWorkers)
	def(&c.MaxAttempts, DefaultMaxAttempts)
	defD(&c.BulkSlice, DefaultBulkSlice)
	defD(&c.BulkTimeout, DefaultBulkTimeout)
	defD(&c.JobTimeout, DefaultJobTimeout)
	defD(&c.RescueStuckJobsAfter, DefaultRescueStuckJobsAfter)
	defD(&c.RunLease, DefaultRunLease)
	defD(&c.FetchCooldown, DefaultFetchCooldown)
	defD(&c.FetchPollInterval, DefaultFetchPollInterval)
	defD(&c.ScheduleTick, DefaultScheduleTick)
	defD(&c.StopTimeout, DefaultStopTimeout)
	return c
}

// validate checks a Config that has its defaults.
func (c Config) validate() error {
	bad := func(field, rule string, v any) error {
		return mksync.Errorf(mksync.EINVALID, "jobs config: %s %v: %s", field, v, rule)
	}
	switch {
	case c.Store == nil:
		return mksync.Errorf(mksync.EINVALID, "jobs config: Store is required")
	case c.Runner == nil:
		return mksync.Errorf(mksync.EINVALID, "jobs config: Runner is required")
	}
	for _, w := range []struct {
		name string
		v    int
	}{{"BulkWorkers", c.BulkWorkers}, {"InteractiveWorkers", c.InteractiveWorkers}, {"ScheduleWorkers", c.ScheduleWorkers}} {
		if w.v < 1 || w.v > 10_000 {
			return bad(w.name, "must be between 1 and 10000", w.v)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"BulkSlice", c.BulkSlice}, {"BulkTimeout", c.BulkTimeout}, {"JobTimeout", c.JobTimeout},
		{"RescueStuckJobsAfter", c.RescueStuckJobsAfter}, {"RunLease", c.RunLease}, {"FetchCooldown", c.FetchCooldown},
		{"FetchPollInterval", c.FetchPollInterval}, {"ScheduleTick", c.ScheduleTick}, {"StopTimeout", c.StopTimeout},
	} {
		if d.v < 0 {
			return bad(d.name, "must not be negative", d.v)
		}
	}
	switch {
	case c.BulkTimeout <= c.BulkSlice:
		return bad("BulkTimeout", fmt.Sprintf("must be above BulkSlice (%v)", c.BulkSlice), c.BulkTimeout)
	case c.RescueStuckJobsAfter <= c.BulkTimeout:
		return bad("RescueStuckJobsAfter", fmt.Sprintf("must be above BulkTimeout (%v), or a live slice would be run twice", c.BulkTimeout), c.RescueStuckJobsAfter)
	case c.RescueStuckJobsAfter <= c.JobTimeout:
		return bad("RescueStuckJobsAfter", fmt.Sprintf("must be above JobTimeout (%v)", c.JobTimeout), c.RescueStuckJobsAfter)
	case c.RunLease < minRunLease:
		return bad("RunLease", fmt.Sprintf("must be at least %v", minRunLease), c.RunLease)
	case c.FetchPollInterval < c.FetchCooldown:
		return bad("FetchPollInterval", fmt.Sprintf("must be at least FetchCooldown (%v)", c.FetchCooldown), c.FetchPollInterval)
	case c.ScheduleTick < time.Second:
		return bad("ScheduleTick", "must be at least 1s", c.ScheduleTick)
	case c.MaxAttempts < 1:
		return bad("MaxAttempts", "must be at least 1", c.MaxAttempts)
	}
	return nil
}
