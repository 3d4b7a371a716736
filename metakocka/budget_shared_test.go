package metakocka_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
)

// Two processes' Pacers (each with its own PostgreSQL pool, as two workers
// have) that share the database's SlotStore keep one company within one
// budget together: the simulator never serves more of its requests at
// once than the limit. With a private MemorySlots each, the same load
// doubles it — the bound the shared store exists for. Adaptive pacers share
// the store the same way, under the operator's ceiling.
func TestSharedBudgetBoundsTwoProcesses(t *testing.T) {
	first, url, schema := pgtest.Store(t, postgres.Options{MaxConns: 8})
	second, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema, MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })

	const limit = 4
	for _, tc := range []struct {
		name     string
		slots    [2]metakocka.SlotStore
		adaptive bool
		bounded  bool
	}{
		{"fixed, shared in PostgreSQL", [2]metakocka.SlotStore{first, second}, false, true},
		{"adaptive, shared in PostgreSQL", [2]metakocka.SlotStore{first, second}, true, true},
		{"fixed, one budget per process", [2]metakocka.SlotStore{&metakocka.MemorySlots{}, &metakocka.MemorySlots{}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := mkfake.New(mkfake.Options{Seed: 7})
			fake.AddCompany(testCompany, testSecret)
			fake.SetFaults(testCompany, mkfake.Faults{Latency: 20 * time.Millisecond})
			srv := httptest.NewServer(fake)
			t.Cleanup(func() {
				fake.Close()
				srv.Close()
			})
			var wg sync.WaitGroup
			for _, slots := range tc.slots {
				pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: limit, Adaptive: tc.adaptive, Slots: slots})
				require.NoError(t, err)
				c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
					HTTPClient: srv.Client(), Pacer: pacer})
				require.NoError(t, err)
				for range 8 {
					wg.Go(func() {
						for range 12 {
							_, err := c.ProductList(context.Background(), metakocka.ProductListRequest{Limit: 1})
							assert.NoError(t, err)
						}
					})
				}
			}
			wg.Wait()
			peak := fake.Stats().PeakInFlight[testCompany]
			t.Logf("%s: peak %d requests in flight (limit %d)", tc.name, peak, limit)
			if tc.bounded {
				require.LessOrEqual(t, peak, int64(limit))
				require.GreaterOrEqual(t, peak, int64(2), "the load used the budget")
			} else {
				require.Greater(t, peak, int64(limit))
			}
		})
	}
}

// A slot of a process that died (never released nor renewed) is free again
// once its time-to-live passed; a renewed one stays held. Both stores.
func TestSlotsOfDeadHoldersExpire(t *testing.T) {
	db, _, _ := pgtest.Store(t, postgres.Options{})
	for name, slots := range map[string]metakocka.SlotStore{"memory": &metakocka.MemorySlots{}, "postgres": db} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			company := "dead-" + name
			dead, _, err := slots.TryAcquireSlot(ctx, company, 2, 200*time.Millisecond)
			require.NoError(t, err)
			live, _, err := slots.TryAcquireSlot(ctx, company, 2, 200*time.Millisecond)
			require.NoError(t, err)
			require.NotEmpty(t, dead)
			require.NotEmpty(t, live)
			full, _, err := slots.TryAcquireSlot(ctx, company, 2, time.Minute)
			require.NoError(t, err)
			require.Empty(t, full)
			require.NoError(t, slots.RenewSlots(ctx, []string{live}, time.Minute))
			time.Sleep(300 * time.Millisecond)
			freed, _, err := slots.TryAcquireSlot(ctx, company, 2, time.Minute)
			require.NoError(t, err)
			require.NotEmpty(t, freed, "the dead holder's slot expired")
			none, _, err := slots.TryAcquireSlot(ctx, company, 2, time.Minute)
			require.NoError(t, err)
			require.Empty(t, none, "the renewed slot is still held")
			require.NoError(t, slots.ReleaseSlot(ctx, company, live))
			again, _, err := slots.TryAcquireSlot(ctx, company, 2, time.Minute)
			require.NoError(t, err)
			require.NotEmpty(t, again)
		})
	}
}

// A 429's Retry-After pauses the company in the shared store: no slot for
// anyone until it passed.
func TestSharedPause(t *testing.T) {
	db, _, _ := pgtest.Store(t, postgres.Options{})
	ctx := t.Context()
	require.NoError(t, db.PauseCompany(ctx, "paused", 300*time.Millisecond))
	slot, paused, err := db.TryAcquireSlot(ctx, "paused", 4, time.Minute)
	require.NoError(t, err)
	require.Empty(t, slot)
	require.Greater(t, paused, 100*time.Millisecond)
	require.LessOrEqual(t, paused, 300*time.Millisecond)
	time.Sleep(paused + 50*time.Millisecond)
	slot, _, err = db.TryAcquireSlot(ctx, "paused", 4, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, slot)
}
