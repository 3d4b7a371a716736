package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
)

// database is a store and the jobs database in it.
type database struct {
	store mksync.Store
	db    jobs.Database
	// exec runs SQL on the database (River's tables), with ? placeholders.
	exec func(ctx context.Context, q string, args ...any) error
}

// backends are the databases every job test runs on.
var backends = []struct {
	name string
	open func(t *testing.T) database
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

// forEachDB runs fn once per backend, each in its own subtest.
func forEachDB(t *testing.T, fn func(t *testing.T, d database)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fn(t, b.open(t))
		})
	}
}

func openSQLite(t *testing.T) database {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jobs.db"), sqlite.Options{Sealer: storetest.FakeSealer{}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(t.Context()))
	jdb := jobs.SQLite(db.WriteDB(), sqlite.TxOf)
	require.NoError(t, jobs.Migrate(t.Context(), jdb, nil))
	exec := func(ctx context.Context, q string, args ...any) error {
		_, err := db.WriteDB().ExecContext(ctx, q, args...)
		return err
	}
	return database{store: db, db: jdb, exec: exec}
}

func openPostgres(t *testing.T) database {
	t.Helper()
	db, _, _ := pgtest.Store(t, postgres.Options{Sealer: storetest.FakeSealer{}, MaxConns: 8})
	jdb := jobs.Postgres(db.Pool(), postgres.TxOf)
	require.NoError(t, jobs.Migrate(t.Context(), jdb, nil))
	exec := func(ctx context.Context, q string, args ...any) error {
		for i := range args {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i+1), 1)
		}
		_, err := db.Pool().Exec(ctx, q, args...)
		return err
	}
	return database{store: db, db: jdb, exec: exec}
}

// testConfig is a Config with fast polling for tests.
func testConfig(st mksync.Store, r mksync.Syncer) jobs.Config {
	return jobs.Config{
		Store:             st,
		Runner:            r,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		StopTimeout:       5 * time.Second,
		ScheduleTick:      time.Hour, // tests that need ticks set it
	}
}

// newJobs makes a Jobs, started unless cfg.NoWorkers, stopped at cleanup.
func newJobs(t *testing.T, d database, cfg jobs.Config) *jobs.Jobs {
	t.Helper()
	j, err := jobs.New(d.db, cfg)
	require.NoError(t, err)
	require.NoError(t, j.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, j.Stop(ctx))
	})
	return j
}

// newTenant creates a tenant connected to Metakocka with settings.
func newTenant(t *testing.T, st mksync.Store, name string, settings mksync.SyncSettings) string {
	t.Helper()
	tn := mksync.Tenant{Name: name}
	require.NoError(t, st.CreateTenant(t.Context(), &tn))
	creds := mksync.MetakockaCredentials{CompanyID: "16", SecretKey: mksync.Secret("secret-" + name), Settings: settings}
	require.NoError(t, st.SetCredentials(t.Context(), tn.ID, &creds))
	return tn.ID
}

// waitRun waits until the run is final and returns it.
func waitRun(t *testing.T, st mksync.Store, tenantID, runID string, within time.Duration) mksync.SyncRun {
	t.Helper()
	var r mksync.SyncRun
	require.Eventually(t, func() bool {
		var err error
		r, err = st.FindSyncRun(context.Background(), tenantID, runID)
		require.NoError(t, err)
		return r.Status.Final()
	}, within, 20*time.Millisecond, "run %s not final; last seen %+v", runID, r)
	return r
}

// fakeRunner stands in for the engine: a run of a tenant goes over that
// tenant's records "r00000"… (Records, default 10) in batches of Batch
// (default 2), each taking BatchDelay, checkpointing the next index in the
// run after each batch — as the engine does. A batch is all or nothing:
// cut by its context, none of its records count. It records how often each
// record was synced.
type fakeRunner struct {
	// The front doors' side of mksync.Syncer (ListNotInCRM,
	// TestConnection) is never called by jobs: nil, it would panic.
	mksync.Syncer
	st         mksync.Store
	Records    map[string]int // tenant → records; default 10
	Batch      int
	BatchDelay time.Duration
	// Fail, when set, fails runs and records of a tenant with its error.
	Fail func(tenantID string) error

	mu      sync.Mutex
	synced  map[string]int // tenant/entity/direction/record → times
	slices  map[string]int // run → RunSync calls
	cuts    int            // batches cut by their context
	records []string       // SyncRecord calls: tenant/entity/direction/id
	stock   []string       // ApplyStock calls: tenant/payload
	// batchDone, when set, receives each finished batch's run id.
	batchDone chan string
}

func newFakeRunner(st mksync.Store) *fakeRunner {
	return &fakeRunner{st: st, Records: map[string]int{}, Batch: 2, synced: map[string]int{}, slices: map[string]int{}}
}

func (f *fakeRunner) fail(tenantID string) error {
	if f.Fail == nil {
		return nil
	}
	return f.Fail(tenantID)
}

// PrepareRun keeps the ids in the checkpoint, as "ids:a,b,…".
func (f *fakeRunner) PrepareRun(_ context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	run.Total = len(ids)
	if len(ids) > 0 {
		run.Checkpoint = "ids:" + strings.Join(ids, ",")
	}
	return nil
}

func (f *fakeRunner) WorkRun(ctx context.Context, tenantID, runID string, stop func() bool) (bool, error) {
	f.mu.Lock()
	f.slices[runID]++
	n, ok := f.Records[tenantID]
	f.mu.Unlock()
	if !ok {
		n = 10
	}
	if err := f.fail(tenantID); err != nil {
		return false, err
	}
	run, err := f.st.FindSyncRun(ctx, tenantID, runID)
	if err != nil {
		return false, err
	}
	if run.Status.Final() {
		return true, nil
	}
	var ids []string
	if rest, ok := strings.CutPrefix(run.Checkpoint, "ids:"); ok {
		ids = strings.Split(rest, ",")
		n = len(ids)
		run.Checkpoint = ""
	}
	if run.Status == mksync.RunQueued {
		now := time.Now().UTC()
		run.Status, run.StartedAt, run.Total = mksync.RunRunning, &now, n
		if err := f.st.UpdateSyncRun(ctx, tenantID, &run); err != nil {
			return false, err
		}
	}
	next := 0
	if pos, rest, ok := strings.Cut(run.Checkpoint, "|"); ok {
		next, _ = strconv.Atoi(pos)
		if rest != "" {
			ids = strings.Split(rest, ",")
			n = len(ids)
		}
	}
	for next < n {
		select {
		case <-ctx.Done():
			f.mu.Lock()
			f.cuts++
			f.mu.Unlock()
			return false, ctx.Err()
		case <-time.After(f.BatchDelay):
		}
		end := min(next+f.Batch, n)
		f.mu.Lock()
		for i := next; i < end; i++ {
			id := fmt.Sprintf("r%05d", i)
			if len(ids) > 0 {
				id = ids[i]
			}
			f.synced[fmt.Sprintf("%s/%s/%s/%s", tenantID, run.EntityType, run.Direction, id)]++
		}
		f.mu.Unlock()
		cur, err := f.st.FindSyncRun(ctx, tenantID, runID)
		if err != nil {
			return false, err
		}
		if cur.Status == mksync.RunCancelled {
			return true, nil
		}
		run.Result.Created += end - next
		run.Processed = end
		run.Checkpoint = strconv.Itoa(end) + "|" + strings.Join(ids, ",")
		next = end
		if next == n {
			now := time.Now().UTC()
			run.Status, run.FinishedAt, run.Result.Success = mksync.RunSucceeded, &now, true
		}
		if err := f.st.UpdateSyncRun(ctx, tenantID, &run); err != nil {
			return false, err
		}
		if f.batchDone != nil {
			f.batchDone <- runID
		}
		if next < n && stop() {
			return false, nil
		}
	}
	return true, nil
}

func (f *fakeRunner) SyncToMetakocka(ctx context.Context, tenantID string, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	return f.syncRecord(ctx, tenantID, et, mksync.ToMetakocka, id)
}

func (f *fakeRunner) SyncFromMetakocka(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) (mksync.SyncResult, error) {
	return f.syncRecord(ctx, tenantID, et, mksync.FromMetakocka, mkID)
}

func (f *fakeRunner) syncRecord(_ context.Context, tenantID string, et mksync.EntityType, dir mksync.Direction, id string) (mksync.SyncResult, error) {
	if err := f.fail(tenantID); err != nil {
		return mksync.SyncResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, fmt.Sprintf("%s/%s/%s/%s", tenantID, et, dir, id))
	return mksync.SyncResult{Success: true, Updated: 1}, nil
}

func (f *fakeRunner) ApplyStock(_ context.Context, tenantID string, payload []byte) error {
	if err := f.fail(tenantID); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stock = append(f.stock, tenantID+"/"+string(payload))
	return nil
}

// syncedCounts returns how often each record of the tenant was synced.
func (f *fakeRunner) syncedCounts(tenantID string, et mksync.EntityType, dir mksync.Direction) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := fmt.Sprintf("%s/%s/%s/", tenantID, et, dir)
	out := map[string]int{}
	for k, v := range f.synced {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			out[k[len(prefix):]] = v
		}
	}
	return out
}

func (f *fakeRunner) cutBatches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts
}

func (f *fakeRunner) slicesOf(runID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slices[runID]
}

func (f *fakeRunner) recordCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.records...)
}

func (f *fakeRunner) stockCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stock...)
}

// fakeClock is a settable Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
