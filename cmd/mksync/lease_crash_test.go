package main

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// maxResume is how long a run whose process was SIGKILLed may stay idle
// once a live process is available, with default recovery settings.
const maxResume = 30 * time.Second

// With default recovery settings (no --run-lease, --rescue-stuck-after,
// --bulk-slice or --bulk-timeout), the process working a bulk push is
// SIGKILLed mid-run and restarted at once: the run resumes within maxResume
// of the new process being up (its lease expires and is taken over; River's
// stuck-job rescue would take 10 minutes), and ends with every contact
// pushed exactly once. On SQLite the process is `serve`, on PostgreSQL
// `worker`. Metakocka pacing is off so the push is quick.
func TestKilledProcessResumesRunInSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: runs processes for tens of seconds")
	}
	t.Run("sqlite serve", func(t *testing.T) {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
		runResumeTest(t, dsn, nil, "listening on ", "serve", "--db", dsn, "--no-migrate", "--addr", "127.0.0.1:0",
			"--metakocka-rps", "-1", "--metakocka-in-flight", "8")
	})
	t.Run("postgres worker", func(t *testing.T) {
		dsn, _ := postgresDSN(t)
		key := testEncryptionKey(t)
		t.Setenv("MKSYNC_ENCRYPTION_KEY", key)
		runResumeTest(t, dsn, []string{"MKSYNC_ENCRYPTION_KEY=" + key}, "worker started", "worker", "--db", dsn, "--no-migrate",
			"--metakocka-rps", "-1", "--metakocka-in-flight", "8")
	})
}

// runResumeTest pushes 1,500 contacts in one bulk run on dsn, worked by a
// process started with args (printing ready once it works), SIGKILLs it at
// a random point of the middle third, starts another, and measures how long
// the run stays without progress once the new process is up.
func runResumeTest(t *testing.T, dsn string, env []string, ready string, args ...string) {
	const n = 1500
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	base := startFake(t, []string{"16:8899"}, "--latency", "2ms")
	st := openTestStore(t, dsn)
	f := newCRMFixture(t, st, base, "16:8899", n)
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, enqueuer(t, st).StartSync(t.Context(), f.tenantID, &run, nil))

	p, _ := startProc(t, "process-1", ready, env, args...)
	point := n/3 + rng.IntN(n/3)
	require.Eventually(t, func() bool {
		cur, err := st.FindSyncRun(context.Background(), f.tenantID, run.ID)
		require.NoError(t, err)
		return cur.Processed >= point || cur.Status.Final()
	}, 120*time.Second, 10*time.Millisecond)
	time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond) // mid-batch
	p.kill()
	killed := time.Now()
	atKill, err := st.FindSyncRun(t.Context(), f.tenantID, run.ID)
	require.NoError(t, err)
	require.False(t, atKill.Status.Final(), "the run finished before the kill (seed %d)", seed)

	p, _ = startProc(t, "process-2", ready, env, args...)
	available := time.Now()
	var resumedAt time.Time
	require.Eventually(t, func() bool {
		cur, err := st.FindSyncRun(context.Background(), f.tenantID, run.ID)
		require.NoError(t, err)
		if cur.Processed > atKill.Processed || cur.Status.Final() {
			resumedAt = time.Now()
			return true
		}
		return false
	}, 3*maxResume, 50*time.Millisecond, "no progress after the kill")
	resume := resumedAt.Sub(available)
	require.LessOrEqual(t, resume, maxResume, "run idle after a live process was up (seed %d)", seed)

	got := waitRunFinal(t, st, f.tenantID, run.ID, 120*time.Second)
	p.stop()
	checkRunExact(t, got, n)
	require.Zero(t, got.Result.Updated, "result %+v", got.Result)
	require.Zero(t, got.Result.Conflicts, "result %+v", got.Result)
	fig := checkPushed(t, st, base, f)
	t.Logf("resume (seed %d): %d contacts, SIGKILL at %d processed; new process up %v after the kill, run resumed %v after that "+
		"(%.2f of the %v bound); simulator: %d partners, %d add_partner calls, %d duplicates, %d missing",
		seed, n, atKill.Processed, available.Sub(killed).Round(time.Millisecond), resume.Round(time.Millisecond),
		resume.Seconds()/maxResume.Seconds(), maxResume, fig.partners, fig.creates, fig.duplicates, fig.missing)
}
