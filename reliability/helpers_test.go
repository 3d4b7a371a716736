package reliability

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/bench"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
)

// size is the records per entity: MKSYNC_RELIABILITY_N when set (the
// issue's 5,000), else ciSize, or shortSize with -short.
func size(t *testing.T, ciSize, shortSize int) int {
	t.Helper()
	if v := os.Getenv("MKSYNC_RELIABILITY_N"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "MKSYNC_RELIABILITY_N")
		require.Positive(t, n, "MKSYNC_RELIABILITY_N")
		return n
	}
	if testing.Short() {
		return shortSize
	}
	return ciSize
}

// counter is a metakocka.Observer counting requests and retries.
type counter struct {
	requests, retries atomic.Int64
}

func (c *counter) OnRequest(string, string, time.Duration) { c.requests.Add(1) }
func (c *counter) OnRetry(string, string, time.Duration)   { c.retries.Add(1) }

// sqliteStore is a migrated SQLite store in a temp dir.
func sqliteStore(t *testing.T) mksync.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	return db
}

// newWorld starts a bench.World on st whose Metakocka calls time out
// after timeout (lists and searches, whose windows of up to 1,000 records
// take longer: after ten times that) and are counted by obs.
func newWorld(t *testing.T, st mksync.Store, timeout time.Duration, obs *counter) *bench.World {
	t.Helper()
	w, err := bench.NewWorld(bench.WorldConfig{Store: st, Seed: 9, Engine: func(c *engine.Config) {
		c.Timeouts.Default, c.Timeouts.List, c.Timeouts.Search = timeout, 10*timeout, 10*timeout
		c.Observer = obs
	}})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	return w
}

// runOutcome is a run taken to its end, resumed as often as it was
// interrupted.
type runOutcome struct {
	run     mksync.SyncRun
	resumes int
}

// runToEnd creates a run over the records ids of et in dir (every record
// when ids is empty) and executes it;
// an interrupted run (WorkRun returned an error and left it running) is
// resumed, as the job layer would, up to 100 times (a product pull whose
// product_list window meets a 429 burst is interrupted at every burst).
func runToEnd(t *testing.T, w *bench.World, tenant string, et mksync.EntityType, dir mksync.Direction, ids ...string) runOutcome {
	t.Helper()
	ctx := context.Background()
	run := mksync.SyncRun{EntityType: et, Direction: dir, Trigger: mksync.TriggerCLI}
	require.NoError(t, w.Engine.CreateRun(ctx, tenant, &run, ids))
	out := runOutcome{}
	for {
		_, err := w.Engine.WorkRun(ctx, tenant, run.ID, nil)
		done, ferr := w.Store.FindSyncRun(ctx, tenant, run.ID)
		require.NoError(t, ferr)
		if err == nil {
			require.True(t, done.Status.Final(), "%s %s: status %s", et, dir, done.Status)
			out.run = done
			return out
		}
		require.False(t, done.Status.Final() && done.Status == mksync.RunFailed, "%s %s run failed: %v", et, dir, err)
		out.resumes++
		require.Less(t, out.resumes, 100, "%s %s: the run does not get through: %v", et, dir, err)
		if out.resumes <= 3 {
			t.Logf("%s %s: resuming after: %v", et, dir, err)
		}
	}
}

// faultsInjected counts the simulator's injected faults in st.
func faultsInjected(st mkfake.Stats) (all, commitThenFail int64) {
	for _, m := range st.Methods {
		all += m[mkfake.OutcomeHTTP5xx] + m[mkfake.OutcomeHang] + m[mkfake.OutcomeCommitThenFail] + m[mkfake.OutcomeRateLimited] + m[mkfake.OutcomeReset]
		commitThenFail += m[mkfake.OutcomeCommitThenFail]
	}
	return all, commitThenFail
}

// requireUnique fails on a repeated key.
func requireUnique(t *testing.T, what string, keys []string) {
	t.Helper()
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		require.False(t, seen[k], "duplicate %s %q", what, k)
		seen[k] = true
	}
}

// allMappings reads the tenant's mappings of et.
func allMappings(t *testing.T, st mksync.Store, tenant string, et mksync.EntityType) []mksync.Mapping {
	t.Helper()
	var out []mksync.Mapping
	for m, err := range st.AllMappings(context.Background(), tenant, et) {
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// errorRecords counts the tenant's SYNC error records.
func errorRecords(t *testing.T, st mksync.Store, tenant string) int {
	t.Helper()
	n := 0
	f := mksync.ErrorFilter{Category: "SYNC", Page: mksync.Page{Limit: 1000}}
	for {
		ers, next, err := st.FindErrorRecords(context.Background(), tenant, f)
		require.NoError(t, err)
		n += len(ers)
		if next == "" {
			return n
		}
		f.After = next
	}
}
