package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres/pgtest"
)

// The mksync binary, built once by the first test that runs processes.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// mksyncBinary builds this command (once per test binary) and returns its
// path.
func mksyncBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "mksync-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "mksync")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binary.err)
	return binary.path
}

// proc is an mksync process under test.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string
	errf  string
	done  chan struct{}
}

// startProc runs the binary with args and waits for a stdout line that
// starts with ready, which it returns.
func startProc(t *testing.T, name, ready string, env []string, args ...string) (*proc, string) {
	t.Helper()
	p := launchProc(t, name, env, args...)
	return p, p.waitFor(ready)
}

// launchProc starts the binary with args; stdout lines go to p.lines,
// stderr to a file shown when the test fails.
func launchProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, lines: make(chan string, 100), errf: filepath.Join(t.TempDir(), name+".stderr"), done: make(chan struct{})}
	p.cmd = exec.Command(mksyncBinary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := os.Create(p.errf)
	require.NoError(t, err)
	p.cmd.Stderr = stderr
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_ = p.cmd.Wait()
		_ = stderr.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(p.errf)
			t.Logf("%s stderr (last 4 kB):\n%s", name, tail(b, 4096))
		}
	})
	return p
}

// waitFor waits for a stdout line starting with prefix and returns it.
func (p *proc) waitFor(prefix string) string {
	p.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-p.done:
			b, _ := os.ReadFile(p.errf)
			p.t.Fatalf("%s exited before %q: %s", p.name, prefix, tail(b, 4096))
		case <-deadline:
			p.t.Fatalf("%s did not print %q in time", p.name, prefix)
		}
	}
}

// kill ends the process at once (SIGKILL: no cleanup of any kind).
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop asks the process to stop (SIGTERM) and waits.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Errorf("%s did not stop on SIGTERM", p.name)
		p.kill()
	}
	require.Equal(p.t, 0, p.cmd.ProcessState.ExitCode(), "%s exit code", p.name)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// startFake runs `mksync fake-metakocka` with companies (ID:SECRET) and
// returns its base URL.
func startFake(t *testing.T, companies []string, extra ...string) string {
	args := []string{"fake-metakocka", "--addr", "127.0.0.1:0"}
	for _, c := range companies {
		args = append(args, "--company", c)
	}
	_, line := startProc(t, "fake-metakocka", "listening on ", nil, append(args, extra...)...)
	return strings.TrimPrefix(line, "listening on ")
}

// fakePartners returns the partners the simulator stores for a company.
func fakePartners(t *testing.T, base, company string) []struct {
	MkID      string `json:"mk_id"`
	CountCode string `json:"count_code"`
} {
	t.Helper()
	resp, err := http.Get(base + "/_fake/companies/" + company + "/partners")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out []struct {
		MkID      string `json:"mk_id"`
		CountCode string `json:"count_code"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// fakeCalls returns how many calls of method the company answered with
// outcome.
func fakeCalls(t *testing.T, base, company, method, outcome string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/_fake/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Companies map[string]map[string]map[string]int64 `json:"companies"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Companies[company][method][outcome]
}

// crmFixture is a tenant with contacts, connected to a simulator company.
type crmFixture struct {
	tenantID string
	company  string
	contacts map[string]bool // contact ids
}

// newCRMFixture creates a tenant connected to company (ID:SECRET) at base,
// with n contacts.
func newCRMFixture(t *testing.T, st mksync.Store, base, company string, n int) crmFixture {
	t.Helper()
	ctx := t.Context()
	id, secret, _ := strings.Cut(company, ":")
	tn := mksync.Tenant{Name: "tenant " + id}
	require.NoError(t, st.CreateTenant(ctx, &tn))
	creds := mksync.MetakockaCredentials{CompanyID: id, SecretKey: mksync.Secret(secret), BaseURL: base,
		Settings: mksync.SyncSettings{BatchSize: 50, Concurrency: 4}}
	require.NoError(t, st.SetCredentials(ctx, tn.ID, &creds))
	f := crmFixture{tenantID: tn.ID, company: id, contacts: map[string]bool{}}
	for start := 0; start < n; start += 500 {
		var cs []mksync.Contact
		for i := start; i < min(start+500, n); i++ {
			cs = append(cs, mksync.Contact{Name: fmt.Sprintf("Contact %s-%05d d.o.o.", id, i), Email: fmt.Sprintf("c%05d@t%s.example", i, id)})
		}
		require.NoError(t, st.UpsertContacts(ctx, tn.ID, cs))
		for _, c := range cs {
			f.contacts[c.ID] = true
		}
	}
	return f
}

// pushFigures are what checkPushed found in the simulator.
type pushFigures struct {
	partners, duplicates, missing int
	creates                       int64 // add_partner calls answered ok
}

// checkPushed checks that the simulator holds exactly one partner per
// contact of f (by count_code), created with one add_partner call each, and
// that every contact is mapped. It returns what it counted.
func checkPushed(t *testing.T, st mksync.Store, base string, f crmFixture) pushFigures {
	t.Helper()
	want := map[string]bool{}
	for id := range f.contacts {
		want[engine.CountCode(id)] = true
	}
	seen := map[string]int{}
	partners := fakePartners(t, base, f.company)
	for _, p := range partners {
		seen[p.CountCode]++
	}
	dups, missing, extra := 0, 0, 0
	for code, n := range seen {
		if n > 1 {
			dups += n - 1
		}
		if !want[code] {
			extra++
		}
	}
	for code := range want {
		if seen[code] == 0 {
			missing++
		}
	}
	require.Zero(t, dups, "duplicate partners in the simulator")
	require.Zero(t, missing, "contacts missing from the simulator")
	require.Zero(t, extra, "partners nobody asked for")
	creates := fakeCalls(t, base, f.company, "add_partner", "ok")
	require.Equal(t, int64(len(f.contacts)), creates, "one create per contact")
	mapped := 0
	var notSynced []string
	for m, err := range st.AllMappings(t.Context(), f.tenantID, mksync.EntityContact) {
		require.NoError(t, err)
		if m.MetakockaID != "" && m.State == mksync.StateSynced {
			mapped++
		} else if len(notSynced) < 5 {
			notSynced = append(notSynced, fmt.Sprintf("%s: state %s, mk_id %q, last error %s", m.EntityID, m.State, m.MetakockaID, m.LastError))
		}
	}
	require.Equal(t, len(f.contacts), mapped, "every contact mapped; not synced: %v", notSynced)
	return pushFigures{partners: len(partners), duplicates: dups, missing: missing, creates: creates}
}

// waitRunFinal polls the run until it is final.
func waitRunFinal(t *testing.T, st mksync.Store, tenantID, runID string, within time.Duration) mksync.SyncRun {
	t.Helper()
	var r mksync.SyncRun
	require.Eventually(t, func() bool {
		var err error
		r, err = st.FindSyncRun(context.Background(), tenantID, runID)
		require.NoError(t, err)
		return r.Status.Final()
	}, within, 100*time.Millisecond, "run %s not final: %+v", runID, r)
	return r
}

// checkRunExact checks a run's counts: every record once, none failed.
func checkRunExact(t *testing.T, r mksync.SyncRun, n int) {
	t.Helper()
	require.Equal(t, mksync.RunSucceeded, r.Status, "result %+v", r.Result)
	require.Equal(t, n, r.Processed)
	require.Equal(t, n, r.Total)
	require.Zero(t, r.Result.Failed)
	require.Equal(t, n, r.Result.Created+r.Result.Updated+r.Result.Skipped+r.Result.Conflicts)
}

// openTestStore opens (and migrates, River included) the store dsn names,
// as the commands do.
func openTestStore(t *testing.T, dsn string) mksync.Store {
	t.Helper()
	st, err := app.OpenStore(t.Context(), app.Config{DB: dsn}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, app.Migrate(t.Context(), st))
	return st
}

// enqueuer is an insert-only Jobs on st, as `serve --no-workers` has.
func enqueuer(t *testing.T, st mksync.Store) *jobs.Jobs {
	t.Helper()
	a, err := app.Start(t.Context(), app.Config{}, app.Options{Store: st, NoMigrate: true, Jobs: jobs.Config{NoWorkers: true}})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a.Jobs
}

// workerArgs are the flags of a worker under test: fast rescue of a
// killed process's job, short slices, no Metakocka pacing.
func workerArgs(dsn string, extra ...string) []string {
	return append([]string{"worker", "--db", dsn, "--workers", "2", "--bulk-slice", "2s", "--bulk-timeout", "3s", "--job-timeout", "3s",
		"--rescue-stuck-after", "4s", "--stop-timeout", "2s", "--metakocka-rps", "-1", "--metakocka-in-flight", "8"}, extra...)
}

// crashRecords is the size of the crash test (MKSYNC_CRASH_RECORDS).
func crashRecords(t *testing.T) int {
	if v := os.Getenv("MKSYNC_CRASH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "MKSYNC_CRASH_RECORDS")
		return n
	}
	return 3000
}

// crashSeed seeds the crash test's kill points: MKSYNC_CRASH_SEED replays
// a run whose log printed its seed; otherwise the clock.
func crashSeed(t *testing.T) uint64 {
	if v := os.Getenv("MKSYNC_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "MKSYNC_CRASH_SEED")
		return s
	}
	return uint64(time.Now().UnixNano())
}

// A worker SIGKILLed at random points of a bulk push is restarted each
// time; the run resumes from its checkpoint and ends with exact counts, and
// the simulator holds every contact exactly once. On SQLite the worker is
// killed once, on PostgreSQL three times.
func TestWorkerCrashResumesBulkRun(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: runs processes for tens of seconds")
	}
	t.Run("sqlite", func(t *testing.T) {
		runCrashTest(t, "sqlite:"+filepath.Join(t.TempDir(), "mksync.db"), nil, 1)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := postgresDSN(t)
		key := testEncryptionKey(t)
		t.Setenv("MKSYNC_ENCRYPTION_KEY", key)
		runCrashTest(t, dsn, []string{"MKSYNC_ENCRYPTION_KEY=" + key}, 3)
	})
}

// runCrashTest pushes crashRecords contacts in one bulk run on the database
// dsn names, worked by `mksync worker` processes (env added to theirs), and
// SIGKILLs the working process kills times at random points, starting a new
// one after each kill.
func runCrashTest(t *testing.T, dsn string, env []string, kills int) {
	n := crashRecords(t)
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	// Kill points: run progress (records checkpointed) in [n/10, 8n/10],
	// each followed by a random pause so that the kill lands in the middle
	// of a batch rather than just after a checkpoint.
	points := make([]int, kills)
	for i := range points {
		points[i] = n/10 + rng.IntN(max(1, 7*n/10))
	}
	slices.Sort(points)

	base := startFake(t, []string{"16:8899"}, "--latency", "2ms")
	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "16:8899", n)
	const batch = 50 // the fixture's batch size

	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))

	started := time.Now()
	w, _ := startProc(t, "worker-1", "worker started", env, workerArgs(dsn, "--no-migrate")...)
	var killedAt []string
	last := 0 // records checkpointed at the last kill
	for i, point := range points {
		// Wait for the point, and for this process to have made progress
		// of its own (a point below the last kill's is reached at once).
		goal := max(point, last+batch)
		var cur mksync.SyncRun
		require.Eventually(t, func() bool {
			var err error
			cur, err = st.FindSyncRun(context.Background(), f.tenantID, run.ID)
			require.NoError(t, err)
			return cur.Processed >= goal || cur.Status.Final()
		}, 120*time.Second, 10*time.Millisecond, "kill %d: run at %d of %d", i+1, cur.Processed, goal)
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		w.kill()
		atKill, err := st.FindSyncRun(t.Context(), f.tenantID, run.ID)
		require.NoError(t, err)
		require.False(t, atKill.Status.Final(), "kill %d: the run finished before the kill (seed %d)", i+1, seed)
		killedAt = append(killedAt, fmt.Sprintf("%d after %v", atKill.Processed, time.Since(started).Round(time.Millisecond)))
		last = atKill.Processed
		w, _ = startProc(t, fmt.Sprintf("worker-%d", i+2), "worker started", env, workerArgs(dsn, "--no-migrate")...)
	}
	lastKill := time.Now()
	// A killed worker's job waits for River's rescuer (which runs on the
	// leader, itself re-elected after a kill) before another worker takes
	// it up: about a minute per kill on PostgreSQL. The bound is generous
	// so that a loaded CI machine does not turn that wait into a failure.
	got := waitRunFinal(t, st, f.tenantID, run.ID, time.Duration(kills)*150*time.Second)
	finished := time.Since(started)
	w.stop()

	checkRunExact(t, got, n)
	// Records redone after a resume count as created (a partner an earlier
	// attempt made is adopted) or skipped (mapped and unchanged): never as
	// updates or conflicts.
	require.Zero(t, got.Result.Updated, "result %+v", got.Result)
	require.Zero(t, got.Result.Conflicts, "result %+v", got.Result)
	require.Equal(t, n, got.Result.Created+got.Result.Skipped)
	fig := checkPushed(t, st, base, f)
	t.Logf("crash (%s, seed %d): %d contacts, %d SIGKILLs at run progress %v; finished in %v (%v after the last kill); "+
		"created %d skipped %d updated %d failed %d; simulator: %d partners, %d add_partner calls, %d duplicates, %d missing",
		strings.SplitN(dsn, ":", 2)[0], seed, n, kills, killedAt, finished.Round(time.Millisecond), time.Since(lastKill).Round(time.Millisecond),
		got.Result.Created, got.Result.Skipped, got.Result.Updated, got.Result.Failed, fig.partners, fig.creates, fig.duplicates, fig.missing)
}

// A worker stopped (SIGTERM) in the middle of a bulk push ends its slice at
// a batch boundary; another one continues from the checkpoint: exact
// counts, every contact once in the simulator.
func TestWorkerStopResumesBulkRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	const n = 1500
	base := startFake(t, []string{"16:8899"}, "--latency", "2ms")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "16:8899", n)
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))

	w, _ := startProc(t, "worker-1", "worker started", nil, workerArgs(dsn, "--no-migrate", "--bulk-slice", "1m", "--bulk-timeout", "2m", "--rescue-stuck-after", "3m", "--stop-timeout", "30s")...)
	var atStop mksync.SyncRun
	require.Eventually(t, func() bool {
		var err error
		atStop, err = st.FindSyncRun(context.Background(), f.tenantID, run.ID)
		require.NoError(t, err)
		return atStop.Processed >= n/3
	}, 120*time.Second, 20*time.Millisecond)
	stopped := time.Now()
	w.stop()
	t.Logf("stop: SIGTERM at %d processed; the worker exited after %v", atStop.Processed, time.Since(stopped).Round(time.Millisecond))
	mid, err := st.FindSyncRun(t.Context(), f.tenantID, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunRunning, mid.Status)
	require.Less(t, mid.Processed, n)

	startProc(t, "worker-2", "worker started", nil, workerArgs(dsn, "--no-migrate")...)
	got := waitRunFinal(t, st, f.tenantID, run.ID, 120*time.Second)
	checkRunExact(t, got, n)
	checkPushed(t, st, base, f)
	errs, _, err := st.FindErrorRecords(t.Context(), f.tenantID, mksync.ErrorFilter{})
	require.NoError(t, err)
	require.Empty(t, errs, "a stop is not a failure")
}

// With one bulk worker, a small tenant's run queued behind a big import
// finishes while the import still runs: the import yields after each slice.
func TestWorkerBulkFairness(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	base := startFake(t, []string{"41:k41", "42:k42"}, "--latency", "2ms")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
	st := openTestStore(t, dsn)
	big := newCRMFixture(t, st, base, "41:k41", 1000)
	small := newCRMFixture(t, st, base, "42:k42", 30)
	q := enqueuer(t, st)
	bigRun := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, q.StartSync(t.Context(), big.tenantID, &bigRun, nil))

	startProc(t, "worker", "worker started", nil, workerArgs(dsn, "--no-migrate", "--workers", "1", "--bulk-slice", "300ms")...)
	require.Eventually(t, func() bool {
		r, err := st.FindSyncRun(context.Background(), big.tenantID, bigRun.ID)
		require.NoError(t, err)
		return r.Processed > 0
	}, 60*time.Second, 20*time.Millisecond)
	smallRun := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI}
	require.NoError(t, q.StartSync(t.Context(), small.tenantID, &smallRun, nil))
	checkRunExact(t, waitRunFinal(t, st, small.tenantID, smallRun.ID, 60*time.Second), 30)
	bigNow, err := st.FindSyncRun(t.Context(), big.tenantID, bigRun.ID)
	require.NoError(t, err)
	t.Logf("fairness: the small run finished with the import at %d/%d", bigNow.Processed, 1000)
	require.False(t, bigNow.Status.Final(), "the small run finished while the import ran")
	checkRunExact(t, waitRunFinal(t, st, big.tenantID, bigRun.ID, 120*time.Second), 1000)
	checkPushed(t, st, base, big)
	checkPushed(t, st, base, small)
}

// A run whose records Metakocka refuses for bad credentials is stopped
// after its first batches, marked failed, and alerted on — not sent record
// by record to be refused.
func TestRejectedCredentialsStopRun(t *testing.T) {
	base := startFake(t, []string{"16:8899"})
	st := openTestStore(t, "sqlite:"+filepath.Join(t.TempDir(), "mksync.db"))
	f := newCRMFixture(t, st, base, "16:not-the-secret", 1000)
	fl := jobFlags{bulkWorkers: 1, interactiveWorkers: 1, bulkSlice: time.Minute, bulkTimeout: 2 * time.Minute,
		jobTimeout: time.Minute, rescueAfter: 5 * time.Minute, stopTimeout: time.Second,
		pacing: metakocka.PacingConfig{RequestsPerSecond: 200}}
	o := fl.options(slog.New(slog.DiscardHandler))
	o.Store, o.NoMigrate = st, true
	a, err := app.Start(t.Context(), app.Config{}, o)
	require.NoError(t, err)
	defer a.Close()
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, a.Jobs.StartSync(t.Context(), f.tenantID, &run, nil))
	got := waitRunFinal(t, st, f.tenantID, run.ID, 60*time.Second)
	require.Equal(t, mksync.RunFailed, got.Status)
	refused := fakeCalls(t, base, "16", "add_partner", "auth_error") + fakeCalls(t, base, "16", "get_partner", "auth_error")
	t.Logf("rejected credentials: stopped at %d of 1000 contacts after %d refused calls", got.Processed, refused)
	require.Less(t, got.Processed, 1000, "stopped early")
	require.Eventually(t, func() bool {
		alerts, _, err := st.FindAlerts(t.Context(), f.tenantID, mksync.AlertOpen, mksync.Page{})
		require.NoError(t, err)
		return slices.ContainsFunc(alerts, func(a mksync.Alert) bool { return a.Key == observe.RuleMetakockaAuth })
	}, 10*time.Second, 50*time.Millisecond)
}

// postgresDSN returns a URL of the test server whose connections use a
// fresh schema (nothing migrated), with a pool big enough for workers.
func postgresDSN(t *testing.T) (dsn, schema string) {
	t.Helper()
	base := pgtest.URL(t)
	schema = pgtest.Schema(t, base)
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("pool_max_conns", "12")
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// Two worker processes on one PostgreSQL share the bulk runs: each works
// slices of them (a run moves between processes between slices), and every
// record is pushed exactly once.
func TestTwoWorkersSplitBulkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dsn, schema := postgresDSN(t)
	companies := []string{"21:k21", "22:k22", "23:k23", "24:k24"}
	base := startFake(t, companies, "--latency", "2ms")
	env := []string{"MKSYNC_ENCRYPTION_KEY=" + testEncryptionKey(t)}
	t.Setenv("MKSYNC_ENCRYPTION_KEY", strings.TrimPrefix(env[0], "MKSYNC_ENCRYPTION_KEY="))
	st := openTestStore(t, dsn)

	var fixtures []crmFixture
	var runs []mksync.SyncRun
	q := enqueuer(t, st)
	for _, c := range companies {
		f := newCRMFixture(t, st, base, c, 400)
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
		require.NoError(t, q.StartSync(t.Context(), f.tenantID, &run, nil))
		fixtures, runs = append(fixtures, f), append(runs, run)
	}
	args := workerArgs(dsn, "--no-migrate", "--workers", "1", "--bulk-slice", "300ms")
	a, _ := startProc(t, "worker-a", "worker started", env, args...)
	b, _ := startProc(t, "worker-b", "worker started", env, args...)
	for i, f := range fixtures {
		checkRunExact(t, waitRunFinal(t, st, f.tenantID, runs[i].ID, 120*time.Second), len(f.contacts))
		checkPushed(t, st, base, f)
	}
	a.stop()
	b.stop()

	// Who worked what: River appends the client id to attempted_by at
	// every fetch of a job (every slice).
	conn, err := pgx.Connect(t.Context(), pgtest.URL(t))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SELECT attempted_by FROM "+pgx.Identifier{schema, "river_job"}.Sanitize()+" WHERE kind = 'mksync_sync_run'")
	require.NoError(t, err)
	clients := map[string]int{}
	shared := 0
	for rows.Next() {
		var by []string
		require.NoError(t, rows.Scan(&by))
		distinct := map[string]bool{}
		for _, c := range by {
			clients[c]++
			distinct[c] = true
		}
		if len(distinct) > 1 {
			shared++
		}
	}
	require.NoError(t, rows.Err())
	t.Logf("slices per worker process: %v; runs worked by both processes: %d of %d", clients, shared, len(runs))
	require.Len(t, clients, 2, "both processes worked bulk slices")
}

// testEncryptionKey is a key for MKSYNC_ENCRYPTION_KEY, so that processes
// on one PostgreSQL share it.
func testEncryptionKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Three processes started at the same moment on a fresh database migrate
// it once between them, and all serve: a run queued afterwards completes.
func TestFleetStartsOnFreshDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dsn, schema := postgresDSN(t)
	key := testEncryptionKey(t)
	env := []string{"MKSYNC_ENCRYPTION_KEY=" + key}
	t.Setenv("MKSYNC_ENCRYPTION_KEY", key)
	base := startFake(t, []string{"31:k31"})

	var procs []*proc
	for i := range 3 { // Start returns at once: the three begin within milliseconds
		procs = append(procs, launchProc(t, fmt.Sprintf("fleet-%d", i), env, workerArgs(dsn)...))
	}
	for _, p := range procs {
		p.waitFor("worker started")
	}

	conn, err := pgx.Connect(t.Context(), pgtest.URL(t))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var gooseRows, gooseVersions, riverRows, riverVersions int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version_id) FROM "+pgx.Identifier{schema, "goose_db_version"}.Sanitize()).Scan(&gooseRows, &gooseVersions))
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version) FROM "+pgx.Identifier{schema, "river_migration"}.Sanitize()).Scan(&riverRows, &riverVersions))
	require.Equal(t, gooseVersions, gooseRows, "each app migration applied once")
	require.Equal(t, riverVersions, riverRows, "each River migration applied once")
	require.Positive(t, riverVersions)

	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "31:k31", 120)
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))
	checkRunExact(t, waitRunFinal(t, st, f.tenantID, run.ID, 60*time.Second), 120)
	checkPushed(t, st, base, f)
	for _, p := range procs {
		p.stop()
	}
}
