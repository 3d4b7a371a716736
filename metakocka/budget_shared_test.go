package metakocka_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
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
			dead, _, _, _, err := slots.TryAcquireSlot(ctx, company, "", 2, 200*time.Millisecond)
			require.NoError(t, err)
			live, _, _, _, err := slots.TryAcquireSlot(ctx, company, "", 2, 200*time.Millisecond)
			require.NoError(t, err)
			require.NotEmpty(t, dead)
			require.NotEmpty(t, live)
			full, _, _, _, err := slots.TryAcquireSlot(ctx, company, "", 2, time.Minute)
			require.NoError(t, err)
			require.Empty(t, full)
			require.NoError(t, slots.RenewSlots(ctx, []string{live}, time.Minute))
			time.Sleep(300 * time.Millisecond)
			freed, _, _, _, err := slots.TryAcquireSlot(ctx, company, "", 2, time.Minute)
			require.NoError(t, err)
			require.NotEmpty(t, freed, "the dead holder's slot expired")
			none, _, _, _, err := slots.TryAcquireSlot(ctx, company, "", 2, time.Minute)
			require.NoError(t, err)
			require.Empty(t, none, "the renewed slot is still held")
			require.NoError(t, slots.ReleaseSlot(ctx, company, live))
			again, _, _, _, err := slots.TryAcquireSlot(ctx, company, "", 2, time.Minute)
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
	slot, _, _, paused, err := db.TryAcquireSlot(ctx, "paused", "", 4, time.Minute)
	require.NoError(t, err)
	require.Empty(t, slot)
	require.Greater(t, paused, 100*time.Millisecond)
	require.LessOrEqual(t, paused, 300*time.Millisecond)
	time.Sleep(paused + 50*time.Millisecond)
	slot, _, _, _, err = db.TryAcquireSlot(ctx, "paused", "", 4, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, slot)
}

// Waiters for a full company's slots are served in arrival order, whoever
// asks first once a slot is free; the one without a waiter id (a one-off
// try) waits behind the queue; a waiter that stopped asking leaves it after
// WaiterTTL. Both stores.
func TestSlotsServeWaitersInArrivalOrder(t *testing.T) {
	db, _, _ := pgtest.Store(t, postgres.Options{})
	for name, slots := range map[string]metakocka.SlotStore{"memory": &metakocka.MemorySlots{}, "postgres": db} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			company := "fifo-" + name
			try := func(waiter string) (string, int, int) {
				t.Helper()
				slot, ahead, held, paused, err := slots.TryAcquireSlot(ctx, company, waiter, 1, time.Minute)
				require.NoError(t, err)
				require.Zero(t, paused)
				return slot, ahead, held
			}
			first, _, _ := try("")
			require.NotEmpty(t, first)
			slot, ahead, held := try("a")
			require.Empty(t, slot)
			require.Equal(t, 0, ahead, "a is first in the queue")
			require.Equal(t, 1, held)
			slot, ahead, _ = try("b")
			require.Empty(t, slot)
			require.Equal(t, 1, ahead, "b is behind a")

			require.NoError(t, slots.ReleaseSlot(ctx, company, first))
			slot, ahead, held = try("b")
			require.Empty(t, slot, "the free slot is a's, though b asked first")
			require.Equal(t, 1, ahead)
			require.Equal(t, 0, held, "b is owed the next one given back (1+0-1+1)")
			slot, _, _ = try("")
			require.Empty(t, slot, "a one-off try waits behind the queue")
			second, _, held := try("a")
			require.NotEmpty(t, second, "a gets it")
			require.Equal(t, 1, held)
			slot, ahead, held = try("b")
			require.Empty(t, slot)
			require.Equal(t, 0, ahead, "b is next")
			require.Equal(t, 1, held)

			slot, ahead, _ = try("c")
			require.Empty(t, slot)
			require.Equal(t, 1, ahead)
			// b stops asking (its request was cancelled): after WaiterTTL c,
			// still asking, is next.
			deadline := time.Now().Add(metakocka.WaiterTTL + 300*time.Millisecond)
			for time.Now().Before(deadline) {
				_, ahead, _ = try("c")
				if ahead == 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			require.Equal(t, 0, ahead, "b left the queue")
			require.NoError(t, slots.ReleaseSlot(ctx, company, second))
			third, _, _ := try("c")
			require.NotEmpty(t, third)
		})
	}
}

// Two processes' runs sharing one company get a fair share of its slots:
// the first run holds every slot when the second starts, and its own
// waiters are woken at once whenever it gives one back. Served in arrival
// order, the two alternate: the second gets half the requests from then
// on (0.48-0.50 in six runs on a loaded 2-core machine; 0.41-0.62 when
// served by who polls first). The test asks for 45-55 %, both when the
// store wakes the second process's waiters as soon as the first gives a
// slot back (PostgreSQL's LISTEN/NOTIFY) and when they only poll (the
// store behind a wrapper that hides its SlotNotifier); it logs how many
// requests each made, the cost of polling.
func TestSharedBudgetIsFairAcrossProcesses(t *testing.T) {
	first, url, schema := pgtest.Store(t, postgres.Options{MaxConns: 10})
	second, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema, MaxConns: 10})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })

	var total [2]int64
	for i, tc := range []struct {
		name  string
		slots [2]metakocka.SlotStore
	}{
		{"polling", [2]metakocka.SlotStore{pollingOnly{first}, pollingOnly{second}}},
		{"woken", [2]metakocka.SlotStore{first, second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := runTwoProcesses(t, tc.slots)
			total[i] = a + b
			share := float64(b) / float64(a+b)
			t.Logf("%s: first run %d requests, second %d: the second's share %.2f", tc.name, a, b, share)
			require.Greater(t, a+b, int64(40), "the runs made requests")
			require.GreaterOrEqual(t, share, 0.45)
			require.LessOrEqual(t, share, 0.55)
		})
	}
	if total[0] > 0 {
		t.Logf("woken %d requests, polling %d: %.2f×", total[1], total[0], float64(total[1])/float64(total[0]))
	}
}

// pollingOnly is a SlotStore without its SlotNotifier: its waiters learn
// of the slots given back in other processes by polling.
type pollingOnly struct{ metakocka.SlotStore }

// runTwoProcesses runs a Pacer on each of slots (two processes), limit 4,
// 8 goroutines each against a simulator answering in 20 ms; the second
// starts once the first holds every slot. It returns how many requests
// each made in the 2 s that follow.
func runTwoProcesses(t *testing.T, slots [2]metakocka.SlotStore) (first, second int64) {
	fake := mkfake.New(mkfake.Options{Seed: 7})
	fake.AddCompany(testCompany, testSecret)
	fake.SetFaults(testCompany, mkfake.Faults{Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close()
		srv.Close()
	})
	const limit, workers = 4, 8
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var measuring atomic.Bool
	var done [2]atomic.Int64
	var wg sync.WaitGroup
	start := func(i int, slots metakocka.SlotStore) {
		pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: limit, Slots: slots})
		require.NoError(t, err)
		c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
			HTTPClient: srv.Client(), Pacer: pacer})
		require.NoError(t, err)
		for range workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					_, err := c.ProductList(ctx, metakocka.ProductListRequest{Limit: 1})
					if err == nil && measuring.Load() {
						done[i].Add(1)
					}
				}
			})
		}
	}
	start(0, slots[0])
	time.Sleep(300 * time.Millisecond) // the first run holds every slot
	start(1, slots[1])
	time.Sleep(100 * time.Millisecond)
	measuring.Store(true)
	time.Sleep(2 * time.Second)
	measuring.Store(false)
	cancel()
	wg.Wait()
	require.LessOrEqual(t, fake.Stats().PeakInFlight[testCompany], int64(limit))
	return done[0].Load(), done[1].Load()
}

// A slot given back in one process wakes the waiter for it in another at
// once (PostgreSQL's LISTEN/NOTIFY), not at its next poll: with every wait
// between a waiter's tries set to 10 s, the second process's request is
// sent within 3 s of the first process giving the only slot back. Its
// listening connection, cut by the server, comes back and wakes it again.
func TestSlotGivenBackWakesAnotherProcess(t *testing.T) {
	first, url, schema := pgtest.Store(t, postgres.Options{})
	second, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })

	fake := mkfake.New(mkfake.Options{Seed: 7})
	fake.AddCompany(testCompany, testSecret)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close()
		srv.Close()
	})
	pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 1, Slots: second})
	require.NoError(t, err)
	metakocka.SetSlotPolls(pacer, 10*time.Second)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacer: pacer})
	require.NoError(t, err)
	listening := func() bool {
		_, next := second.SlotsFreed(testCompany)
		return next != nil
	}
	require.Eventually(t, listening, 10*time.Second, 10*time.Millisecond, "the second process listens")

	handOver := func(round string) {
		t.Helper()
		held, _, _, _, err := first.TryAcquireSlot(t.Context(), testCompany, "", 1, time.Minute)
		require.NoError(t, err)
		require.NotEmpty(t, held)
		sent := make(chan error, 1)
		go func() {
			_, err := c.ProductList(t.Context(), metakocka.ProductListRequest{Limit: 1})
			sent <- err
		}()
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, first.Pool().QueryRow(t.Context(),
				`SELECT count(*) FROM metakocka_slot_waiters WHERE company_id = $1`, testCompany).Scan(&n))
			return n == 1
		}, 5*time.Second, 10*time.Millisecond, "the second process's request waits for the slot")
		require.NoError(t, first.ReleaseSlot(t.Context(), testCompany, held))
		select {
		case err := <-sent:
			require.NoError(t, err)
		case <-time.After(3 * time.Second):
			t.Fatalf("%s: the waiter was not woken when the slot was given back", round)
		}
	}
	handOver("first")

	const listeners = `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = 'LISTEN ' || $1`
	var cut int
	require.NoError(t, first.Pool().QueryRow(t.Context(), listeners, "metakocka_slot").Scan(&cut))
	var ended bool
	require.NoError(t, first.Pool().QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, cut).Scan(&ended))
	require.True(t, ended, "the server cut the listening connection")
	require.Eventually(t, func() bool {
		var pid int
		err := first.Pool().QueryRow(t.Context(), listeners, "metakocka_slot").Scan(&pid)
		return err == nil && pid != cut && listening()
	}, 10*time.Second, 10*time.Millisecond, "the second process listens again, on a new connection")
	handOver("after the listener was lost")
}

// answerLost is a SlotStore whose answers are lost when the caller's
// context ends meanwhile, as a database's are: the slot is taken, the
// caller hears only that its context ended.
type answerLost struct {
	metakocka.SlotStore
	asked chan struct{} // closed at the first question
	once  sync.Once
}

func (s *answerLost) TryAcquireSlot(ctx context.Context, companyID, waiter string, limit int, ttl time.Duration) (string, int, int, time.Duration, error) {
	s.once.Do(func() { close(s.asked) })
	slot, ahead, held, paused, err := s.SlotStore.TryAcquireSlot(ctx, companyID, waiter, limit, ttl)
	time.Sleep(100 * time.Millisecond) // the caller's context ends meanwhile
	if ctx.Err() != nil {
		return "", 0, 0, 0, ctx.Err()
	}
	return slot, ahead, held, paused, err
}

// A slot taken as the request's context ends is given back, not held
// until it expires: the Pacer awaits the store's answer.
func TestSlotTakenAsTheRequestEndsIsGivenBack(t *testing.T) {
	fake := mkfake.New(mkfake.Options{Seed: 7})
	fake.AddCompany(testCompany, testSecret)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close()
		srv.Close()
	})
	mem := &metakocka.MemorySlots{}
	store := &answerLost{SlotStore: mem, asked: make(chan struct{})}
	pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 1, Slots: store})
	require.NoError(t, err)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacer: pacer})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-store.asked
		cancel()
	}()
	_, err = c.ProductList(ctx, metakocka.ProductListRequest{Limit: 1})
	require.ErrorIs(t, err, context.Canceled)
	slot, _, _, _, err := mem.TryAcquireSlot(t.Context(), testCompany, "", 1, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, slot, "the slot taken for the cancelled request is free")
}

// countingSlots counts the questions asked of a SlotStore that is a
// SlotNotifier.
type countingSlots struct {
	*postgres.DB
	asked atomic.Int64
}

func (s *countingSlots) TryAcquireSlot(ctx context.Context, companyID, waiter string, limit int, ttl time.Duration) (string, int, int, time.Duration, error) {
	s.asked.Add(1)
	return s.DB.TryAcquireSlot(ctx, companyID, waiter, limit, ttl)
}

// A woken waiter asks again only once enough slots were given back for
// one to be its own: with one slot, held by another process, and two
// waiters, the first given back wakes the first waiter alone, and the
// second (given back by the first waiter) the second. Every wait between
// tries is 10 s, so no poll asks meanwhile: two questions in all.
func TestWaitersBehindSleepUntilTheirSlot(t *testing.T) {
	first, url, schema := pgtest.Store(t, postgres.Options{})
	db, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	second := &countingSlots{DB: db}

	fake := mkfake.New(mkfake.Options{Seed: 7})
	fake.AddCompany(testCompany, testSecret)
	fake.SetFaults(testCompany, mkfake.Faults{Latency: 300 * time.Millisecond}) // the second waiter would ask meanwhile
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close()
		srv.Close()
	})
	pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 1, Slots: second})
	require.NoError(t, err)
	metakocka.SetSlotPolls(pacer, 10*time.Second)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacer: pacer})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, next := second.SlotsFreed(testCompany)
		return next != nil
	}, 10*time.Second, 10*time.Millisecond, "the second process listens")

	held, _, _, _, err := first.TryAcquireSlot(t.Context(), testCompany, "", 1, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, held)
	sent := make(chan error, 2)
	for waiters := 1; waiters <= 2; waiters++ {
		go func() {
			_, err := c.ProductList(t.Context(), metakocka.ProductListRequest{Limit: 1})
			sent <- err
		}()
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, first.Pool().QueryRow(t.Context(),
				`SELECT count(*) FROM metakocka_slot_waiters WHERE company_id = $1`, testCompany).Scan(&n))
			return n == waiters
		}, 5*time.Second, 10*time.Millisecond, "the requests queue in turn")
	}
	second.asked.Store(0)
	require.NoError(t, first.ReleaseSlot(t.Context(), testCompany, held))
	for range 2 {
		select {
		case err := <-sent:
			require.NoError(t, err)
		case <-time.After(3 * time.Second):
			t.Fatal("a waiter was not woken when its slot was given back")
		}
	}
	require.EqualValues(t, 2, second.asked.Load(), "each waiter asked once, when its slot was given back")
}
