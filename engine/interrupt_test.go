package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// cancellingStore ends the run's context right after the n-th mapping
// write that maps a record to Metakocka, and reports that write as
// cancelled although it was committed (as a database driver may when a
// context ends during a commit): the record's Metakocka write and its
// mapping are done, only the caller does not know.
type cancellingStore struct {
	mksync.Store
	mu     sync.Mutex
	after  int64
	cancel context.CancelFunc
	n      atomic.Int64
}

func (s *cancellingStore) arm(after int64, cancel context.CancelFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after, s.cancel = after, cancel
	s.n.Store(0)
}

func (s *cancellingStore) UpsertMapping(ctx context.Context, tenantID string, m *mksync.Mapping) error {
	if err := s.Store.UpsertMapping(ctx, tenantID, m); err != nil {
		return err
	}
	if cancel := s.counts(m); cancel != nil {
		cancel()
		return context.Canceled
	}
	return nil
}

// InTx does the same for a transaction that holds the n-th such write
// (the engine's group commit): committed, then reported cancelled.
func (s *cancellingStore) InTx(ctx context.Context, tenantID string, fn func(mksync.Store) error) error {
	var cancel context.CancelFunc
	err := s.Store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		return fn(&countingTx{Store: tx, upsert: func(m *mksync.Mapping) {
			if c := s.counts(m); c != nil {
				cancel = c
			}
		}})
	})
	if err == nil && cancel != nil {
		cancel()
		return context.Canceled
	}
	return err
}

// counts counts a successful write of m and returns the cancel function
// when it is the n-th that maps a record.
func (s *cancellingStore) counts(m *mksync.Mapping) context.CancelFunc {
	s.mu.Lock()
	after, cancel := s.after, s.cancel
	s.mu.Unlock()
	if m.MetakockaID != "" && m.State == mksync.StateSynced && cancel != nil && s.n.Add(1) == after {
		return cancel
	}
	return nil
}

// countingTx reports its successful mapping writes.
type countingTx struct {
	mksync.Store
	upsert func(*mksync.Mapping)
}

func (t *countingTx) UpsertMapping(ctx context.Context, tenantID string, m *mksync.Mapping) error {
	if err := t.Store.UpsertMapping(ctx, tenantID, m); err != nil {
		return err
	}
	t.upsert(m)
	return nil
}

// A run whose context ends in the middle of a batch (shutdown, job
// timeout) leaves its records in flight for the resumed run: none is
// counted, marked failed or given an error record, and after the resume
// every contact is in Metakocka exactly once, synced, with its latest data
// — for creates and for updates.
func TestInterruptedRunLosesNoRecord(t *testing.T) {
	t.Parallel()
	cs := &cancellingStore{}
	b := setup(t, setupOpts{
		settings: mksync.SyncSettings{BatchSize: 10, Concurrency: 4},
		cfg:      func(c *Config) { cs.Store = c.Store; c.Store = cs },
	})
	const n = 40
	var contacts []mksync.Contact
	for range n {
		contacts = append(contacts, newContact(t, b))
	}

	interruptAndResume := func(phase string) mksync.SyncRun {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cs.arm(15, cancel) // in the middle of the second batch
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
		require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, nil))
		_, err := workToEnd(ctx, b.e, b.tenant, run.ID)
		require.ErrorIs(t, err, context.Canceled, phase)
		mid, err := b.store.FindSyncRun(context.Background(), b.tenant, run.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.RunRunning, mid.Status, "%s: resumable", phase)
		require.Less(t, mid.Processed, n, phase)
		require.Zero(t, mid.Result.Failed, "%s: an interruption is not a failure", phase)
		errs, _, err := b.store.FindErrorRecords(context.Background(), b.tenant, mksync.ErrorFilter{})
		require.NoError(t, err)
		require.Empty(t, errs, "%s: no error record for an interrupted record", phase)
		for _, c := range contacts {
			if m, err := b.store.FindMapping(context.Background(), b.tenant, mksync.EntityContact, c.ID); err == nil {
				require.NotEqual(t, mksync.StateFailed, m.State, "%s: contact %s", phase, c.ID)
			}
		}

		cs.arm(0, nil)
		done, err := workToEnd(context.Background(), b.e, b.tenant, run.ID)
		require.NoError(t, err, phase)
		require.Equal(t, mksync.RunSucceeded, done.Status, "%s: %+v", phase, done.Result)
		require.Equal(t, n, done.Processed, phase)
		require.Zero(t, done.Result.Failed, phase)
		require.Zero(t, done.Result.Conflicts, phase)
		return done
	}

	interruptAndResume("create")
	requirePartners := func(phase string) {
		t.Helper()
		byCode := map[string]string{}
		for _, p := range b.fake.Partners(b.company) {
			_, dup := byCode[p.CountCode]
			require.False(t, dup, "%s: partner %s twice", phase, p.CountCode)
			byCode[p.CountCode] = p.Customer
		}
		require.Len(t, byCode, n, phase)
		for _, c := range contacts {
			require.Equal(t, c.Name, byCode[CountCode(c.ID)], "%s: contact %s", phase, c.ID)
			m := b.mapping(t, mksync.EntityContact, c.ID)
			require.Equal(t, mksync.StateSynced, m.State, "%s: contact %s", phase, c.ID)
			require.Equal(t, payloadHash(viewOfContact(&c)), m.PushedHash, "%s: contact %s", phase, c.ID)
		}
	}
	requirePartners("create")

	for i := range contacts {
		contacts[i].Name += " (renamed)"
		require.NoError(t, b.store.UpdateContact(context.Background(), b.tenant, &contacts[i]))
	}
	interruptAndResume("update")
	requirePartners("update")

	before := writes(b.fake.Stats())
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(context.Background(), b.e, b.tenant, &run, nil))
	require.Equal(t, n, run.Result.Skipped, "nothing left to do")
	require.Equal(t, before, writes(b.fake.Stats()))
}

// WorkRun stops after the batch at which stop first reports true and
// leaves the run running at its checkpoint; the next call goes on from
// there and finishes it, each record done once.
func TestWorkRunStopsAtBatchBoundary(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 5, Concurrency: 2}})
	ctx := context.Background()
	for range 23 {
		newProduct(t, b)
	}
	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, nil))
	var asked atomic.Int32
	stopAfterTwo := func() bool { return asked.Add(1) >= 2 }
	done, err := b.e.WorkRun(ctx, b.tenant, run.ID, stopAfterTwo)
	require.NoError(t, err)
	require.False(t, done)
	mid, err := b.store.FindSyncRun(ctx, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunRunning, mid.Status)
	require.Equal(t, 10, mid.Processed, "two batches committed")
	cp, err := decodeCheckpoint(mid.Checkpoint)
	require.NoError(t, err)
	require.NotEmpty(t, cp.After)

	for !done {
		asked.Store(0)
		done, err = b.e.WorkRun(ctx, b.tenant, run.ID, stopAfterTwo)
		require.NoError(t, err)
	}
	final, err := b.store.FindSyncRun(ctx, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunSucceeded, final.Status)
	require.Equal(t, 23, final.Processed)
	require.Equal(t, 23, final.Result.Created+final.Result.Skipped)
	require.Len(t, b.fake.Products(b.company), 23)
}

// A run whose records Metakocka refuses for bad credentials stops after
// the first batch as failed with EUNAUTHORIZED, instead of sending every
// record to be refused.
func TestRejectedCredentialsFailRunEarly(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{BatchSize: 5, Concurrency: 2}})
	ctx := context.Background()
	creds, err := b.store.FindCredentials(ctx, b.tenant)
	require.NoError(t, err)
	creds.SecretKey = mksync.Secret("not-the-secret")
	require.NoError(t, b.store.SetCredentials(ctx, b.tenant, &creds))
	for range 50 {
		newContact(t, b)
	}
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, nil))
	done, err := b.e.WorkRun(ctx, b.tenant, run.ID, nil)
	require.Equal(t, mksync.EUNAUTHORIZED, mksync.ErrorCode(err), "%v", err)
	require.True(t, done)
	got, err := b.store.FindSyncRun(ctx, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunFailed, got.Status)
	require.Less(t, got.Processed, 50, "stopped early")
}

// runCancelledAfterRead cancels a run in the store right after it was read
// outside a transaction: a cancel landing between the engine's read of a
// queued run and its start.
type runCancelledAfterRead struct {
	mksync.Store
	once sync.Once
	err  error
}

func (s *runCancelledAfterRead) FindSyncRun(ctx context.Context, tenantID, id string) (mksync.SyncRun, error) {
	r, err := s.Store.FindSyncRun(ctx, tenantID, id)
	if err == nil && r.Status == mksync.RunQueued {
		s.once.Do(func() {
			c := r
			c.Status = mksync.RunCancelled
			s.err = s.Store.UpdateSyncRun(ctx, tenantID, &c)
		})
	}
	return r, err
}

// Starting a run moves it to running only from queued or running, in one
// transaction: a cancel made after the engine read the run is not
// overwritten, and nothing is synced.
func TestRunStartKeepsConcurrentCancel(t *testing.T) {
	t.Parallel()
	st := &runCancelledAfterRead{}
	b := setup(t, setupOpts{cfg: func(c *Config) { st.Store = c.Store; c.Store = st }})
	stored := pushEndingCancelled(t, b, 5, func() error { return st.err })
	require.Nil(t, stored.StartedAt, "never started")
	require.Empty(t, b.fake.Partners(b.company))
}

// cancelAfterLastBatch cancels the run in the store right after the
// transaction that committed its n-th record: a cancel landing between the
// last batch's commit and the run's final status.
type cancelAfterLastBatch struct {
	mksync.Store
	n    int
	once sync.Once
	err  error
}

func (s *cancelAfterLastBatch) InTx(ctx context.Context, tenantID string, fn func(mksync.Store) error) error {
	var wrote *mksync.SyncRun
	err := s.Store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		return fn(&runWriteSpy{Store: tx, seen: &wrote})
	})
	if err == nil && wrote != nil && wrote.Status == mksync.RunRunning && wrote.Processed == s.n {
		s.once.Do(func() {
			c := *wrote
			now := time.Now()
			c.Status, c.FinishedAt = mksync.RunCancelled, &now
			s.err = s.Store.UpdateSyncRun(ctx, tenantID, &c)
		})
	}
	return err
}

// runWriteSpy remembers the last run written through it.
type runWriteSpy struct {
	mksync.Store
	seen **mksync.SyncRun
}

func (t *runWriteSpy) UpdateSyncRun(ctx context.Context, tenantID string, r *mksync.SyncRun) error {
	if err := t.Store.UpdateSyncRun(ctx, tenantID, r); err != nil {
		return err
	}
	c := *r
	*t.seen = &c
	return nil
}

// A cancel that lands after the last batch is committed, before the run's
// final status is written, is not overwritten: a final status never
// changes.
func TestFinishKeepsCancelAfterLastBatch(t *testing.T) {
	t.Parallel()
	st := &cancelAfterLastBatch{n: 12}
	b := setup(t, setupOpts{
		settings: mksync.SyncSettings{BatchSize: 5, Concurrency: 2},
		cfg:      func(c *Config) { st.Store = c.Store; c.Store = st },
	})
	stored := pushEndingCancelled(t, b, 12, func() error { return st.err })
	require.Equal(t, 12, stored.Processed, "the work done is kept")
	require.Equal(t, 12, stored.Result.Created)
}

// pushEndingCancelled runs a push of n new contacts whose store cancels it
// meanwhile (cancelErr is the store's error in doing so) and requires the
// run to end cancelled, as WorkRun leaves it and as stored; it returns the
// stored run.
func pushEndingCancelled(t *testing.T, b *bundle, n int, cancelErr func() error) mksync.SyncRun {
	t.Helper()
	ctx := context.Background()
	for range n {
		newContact(t, b)
	}
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, b.e.CreateRun(ctx, b.tenant, &run, nil))
	got, err := workToEnd(ctx, b.e, b.tenant, run.ID)
	require.NoError(t, err)
	require.NoError(t, cancelErr())
	require.Equal(t, mksync.RunCancelled, got.Status)
	stored, err := b.store.FindSyncRun(ctx, b.tenant, run.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.RunCancelled, stored.Status)
	return stored
}
