package reliability

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/bench"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
	"github.com/mksync/mksync/storetest"
)

// pgStore opens a migrated PostgreSQL store in a fresh schema whose
// connections carry their own application_name, so that the test can
// terminate exactly them (and not those of tests running beside it in the
// same database). It returns the store, the server URL and the name.
func pgStore(t *testing.T) (*postgres.DB, string, string) {
	t.Helper()
	base := pgtest.URL(t)
	schema := pgtest.Schema(t, base)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	app := "mksync_dbloss_" + hex.EncodeToString(b)
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	db, err := postgres.Open(ctx, u.String(), postgres.Options{Sealer: storetest.FakeSealer{}, Schema: schema, MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	return db, base, app
}

// terminator ends the store's server processes (backends) on demand, from
// a connection of its own.
type terminator struct {
	conn *pgx.Conn
	app  string
}

func newTerminator(t *testing.T, base, app string) *terminator {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return &terminator{conn: conn, app: app}
}

// terminate runs pg_terminate_backend on every backend of this database
// that belongs to the store and returns how many it ended.
func (k *terminator) terminate(ctx context.Context) (int, error) {
	var n int
	err := k.conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`, k.app).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("terminate backends: %w", err)
	}
	return n, nil
}

// TestPostgresConnectionLoss pushes N contacts and N products (latency
// 5 ms, concurrency 8) to the simulator on a PostgreSQL store and, while
// each run is under way, terminates every backend of the store four
// times (at a fifth, two fifths, … of the creates). The runs go on (pgx's
// pool opens new connections; a run interrupted by a store failure is
// resumed from its checkpoint, and records that failed are pushed again by
// the next run), and in the end the simulator holds every record exactly
// once and every mapping is synced.
//
// N is MKSYNC_RELIABILITY_N; the CI size is 1,000 (200 with -short).
// Needs PostgreSQL (MKSYNC_TEST_POSTGRES_URL; required when
// MKSYNC_REQUIRE_POSTGRES=1).
func TestPostgresConnectionLoss(t *testing.T) {
	st, base, app := pgStore(t)
	n := size(t, 1000, 200)
	ctx := context.Background()
	obs := &counter{}
	w := newWorld(t, st, 2*time.Second, obs)
	tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: 8, BatchSize: 50})
	require.NoError(t, err)
	require.NoError(t, st.UpsertContacts(ctx, tenant, bench.Contacts("pg", n)))
	require.NoError(t, st.UpsertProducts(ctx, tenant, bench.Products("PG", n)))
	w.Fake.SetFaults(company, mkfake.Faults{Latency: 5 * time.Millisecond, Jitter: 2 * time.Millisecond})
	kill := newTerminator(t, base, app)

	started := time.Now()
	var kills, backends, failures, resumes, runs int
	for _, et := range []mksync.EntityType{mksync.EntityContact, mksync.EntityProduct} {
		create := "add_partner"
		if et == mksync.EntityProduct {
			create = "product_add"
		}
		// Terminate the backends at each fifth of the creates.
		w.Fake.ResetStats()
		var killed atomic.Int64
		var killedBackends atomic.Int64
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := int64(1)
			for next <= 4 {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if w.Fake.Stats().Calls(create, mkfake.OutcomeOK) < next*int64(n)/5 {
					continue
				}
				m, err := kill.terminate(ctx)
				if err != nil {
					t.Errorf("%v", err)
					return
				}
				killed.Add(1)
				killedBackends.Add(int64(m))
				next++
			}
		}()
		for round := 1; ; round++ {
			out := runToEnd(t, w, tenant, et, mksync.ToMetakocka)
			runs++
			resumes += out.resumes
			failures += out.run.Result.Failed
			for _, e := range out.run.Result.Errors[:min(3, len(out.run.Result.Errors))] {
				t.Logf("%s round %d: failed %s: %s", et, round, e.ID, e.Error)
			}
			if out.run.Result.Failed == 0 && killed.Load() >= 4 {
				break
			}
			require.Less(t, round, 8, "%s: the pushes do not converge", et)
		}
		close(done)
		wg.Wait()
		kills += int(killed.Load())
		backends += int(killedBackends.Load())
	}

	// Every record exactly once in the simulator, every mapping synced.
	partners, products := w.Fake.Partners(company), w.Fake.Products(company)
	require.Len(t, partners, n)
	require.Len(t, products, n)
	var pcc, prc []string
	for _, p := range partners {
		pcc = append(pcc, p.CountCode)
	}
	for _, p := range products {
		prc = append(prc, p.CountCode)
	}
	requireUnique(t, "partner count_code", pcc)
	requireUnique(t, "product count_code", prc)
	for _, et := range []mksync.EntityType{mksync.EntityContact, mksync.EntityProduct} {
		counts, err := st.CountMappingsByState(ctx, tenant, et)
		require.NoError(t, err)
		require.Equal(t, n, counts[mksync.StateSynced], "%s: %v", et, counts)
	}
	fmt.Printf("postgres connection loss: %d contacts and %d products, backends terminated %d times (%d backends), %d runs (%d resumed after a store failure), %d record failures retried by the next run, %d client retries, duplicates 0, lost 0, %s\n",
		n, n, kills, backends, runs, resumes, failures, obs.retries.Load(), time.Since(started).Round(time.Millisecond))
}
