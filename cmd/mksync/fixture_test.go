package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/jobs"
)

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
	cfg, err := app.LoadEnv() // the encryption key, as the processes get it
	require.NoError(t, err)
	cfg.DB = dsn
	st, err := app.OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
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
