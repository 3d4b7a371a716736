package jobs_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/observe"
)

// recordingMonitor keeps the job events it hears.
type recordingMonitor struct {
	mu     sync.Mutex
	events []observe.JobEvent
}

func (m *recordingMonitor) JobFinished(e observe.JobEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
}

func (m *recordingMonitor) outcomes() []observe.JobOutcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []observe.JobOutcome
	for _, e := range m.events {
		out = append(out, e.Outcome)
	}
	return out
}

// With a Monitor, a completed job is reported to it, and a job refused for
// bad credentials keeps its error record but opens no alert of jobs' own
// (the Monitor's rules raise it).
func TestMonitorHearsJobsAndJobsOpenNoAlert(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		good := newTenant(t, d.store, "good", mksync.SyncSettings{})
		bad := newTenant(t, d.store, "bad", mksync.SyncSettings{})
		f.Fail = func(id string) error {
			if id == bad {
				return mksync.Errorf(mksync.EUNAUTHORIZED, "Metakocka rejected the company id or secret key")
			}
			return nil
		}
		mon := &recordingMonitor{}
		cfg := testConfig(d.store, f)
		cfg.Monitor = mon
		j := newJobs(t, d, cfg)

		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), good, &run, nil))
		require.Equal(t, mksync.RunSucceeded, waitRun(t, d.store, good, run.ID, 10*time.Second).Status)
		require.Eventually(t, func() bool { return len(mon.outcomes()) == 1 }, 5*time.Second, 10*time.Millisecond)
		require.Equal(t, []observe.JobOutcome{observe.JobCompleted}, mon.outcomes())

		run = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, j.StartSync(t.Context(), bad, &run, nil))
		require.Equal(t, mksync.RunFailed, waitRun(t, d.store, bad, run.ID, 10*time.Second).Status)
		require.Eventually(t, func() bool {
			errs, _, err := d.store.FindErrorRecords(t.Context(), bad, mksync.ErrorFilter{Category: "JOBS"})
			require.NoError(t, err)
			return len(errs) == 1
		}, 5*time.Second, 20*time.Millisecond)
		alerts, _, err := d.store.FindAlerts(t.Context(), bad, mksync.AlertOpen, mksync.Page{})
		require.NoError(t, err)
		require.Empty(t, alerts)
	})
}

// CountJobs counts the jobs of each kind by state.
func TestCountJobs(t *testing.T) {
	forEachDB(t, func(t *testing.T, d database) {
		f := newFakeRunner(d.store)
		cfg := testConfig(d.store, f)
		cfg.NoWorkers = true // nothing works them: they stay queued
		j := newJobs(t, d, cfg)
		for i := range 3 {
			tenant := newTenant(t, d.store, fmt.Sprintf("t%d", i), mksync.SyncSettings{})
			run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
			require.NoError(t, j.StartSync(t.Context(), tenant, &run, nil))
		}
		counts, err := j.CountJobs(t.Context())
		require.NoError(t, err)
		var runs observe.JobCounts
		for _, c := range counts {
			if c.Kind == (jobs.SyncRunArgs{}).Kind() {
				runs = c
			}
		}
		require.Equal(t, observe.JobCounts{Kind: (jobs.SyncRunArgs{}).Kind(), Queued: 3}, runs)
	})
}
