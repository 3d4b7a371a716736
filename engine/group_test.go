package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// txCountingStore counts the transactions and mapping writes that reach
// the store outside a transaction.
type txCountingStore struct {
	mksync.Store
	txs, upserts atomic.Int64
}

func (s *txCountingStore) InTx(ctx context.Context, tenantID string, fn func(mksync.Store) error) error {
	s.txs.Add(1)
	return s.Store.InTx(ctx, tenantID, fn)
}

func (s *txCountingStore) UpsertMapping(ctx context.Context, tenantID string, m *mksync.Mapping) error {
	s.upserts.Add(1)
	return s.Store.UpsertMapping(ctx, tenantID, m)
}

func TestMappingGroupCommitsWritesTogether(t *testing.T) {
	t.Parallel()
	var counting *txCountingStore
	b := setup(t, setupOpts{cfg: func(c *Config) {
		counting = &txCountingStore{Store: c.Store}
		c.Store = counting
	}})
	ctx := context.Background()
	const n = 40
	contacts := make([]mksync.Contact, n)
	for i := range contacts {
		contacts[i] = newContact(t, b)
	}
	s, err := b.e.session(ctx, b.tenant)
	require.NoError(t, err)
	g := s.startMappingGroup(ctx)
	s.group = g

	// Every write returns once committed; together they take far fewer
	// transactions than writes.
	counting.txs.Store(0)
	var wg sync.WaitGroup
	for i, c := range contacts {
		wg.Go(func() {
			m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, CountCode: CountCode(c.ID), State: mksync.StatePending}
			if i == 7 {
				m.EntityID = "00000000-0000-0000-0000-000000000000" // no such contact
			}
			err := s.saveMapping(ctx, &m)
			if i == 7 {
				assert.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "a refused write fails alone")
				return
			}
			if assert.NoError(t, err) {
				assert.Equal(t, b.tenant, m.TenantID, "the stored mapping comes back")
				assert.False(t, m.UpdatedAt.IsZero())
			}
		})
	}
	wg.Wait()
	g.stop()
	s.group = nil
	for i, c := range contacts {
		if i == 7 {
			continue
		}
		m, err := b.store.FindMapping(ctx, b.tenant, mksync.EntityContact, c.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.StatePending, m.State)
	}
	txs := counting.txs.Load()
	require.Positive(t, txs)
	require.Less(t, txs, int64(n/2), "40 concurrent writes were committed in %d transactions", txs)

	// After stop, writes go straight to the store again.
	counting.upserts.Store(0)
	m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: contacts[0].ID, CountCode: CountCode(contacts[0].ID), State: mksync.StateSynced, MetakockaID: "777"}
	require.NoError(t, s.saveMapping(ctx, &m))
	require.Equal(t, int64(1), counting.upserts.Load())
}

func TestMappingGroupEndsWithTheRequestContext(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newContact(t, b)
	s, err := b.e.session(context.Background(), b.tenant)
	require.NoError(t, err)
	g := s.startMappingGroup(context.Background())
	defer g.stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, State: mksync.StatePending}
	require.ErrorIs(t, g.save(ctx, &m), context.Canceled)
	_, err = b.store.FindMapping(context.Background(), b.tenant, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
}

// A document written from Metakocka during a run shares the run's group
// commit; a write the store refuses fails alone and leaves the record as
// it was, the others land.
func TestDocumentWritesShareTheGroupCommit(t *testing.T) {
	t.Parallel()
	var counting *txCountingStore
	b := setup(t, setupOpts{cfg: func(c *Config) {
		counting = &txCountingStore{Store: c.Store}
		c.Store = counting
	}})
	ctx := context.Background()
	c, p := newContact(t, b), newProduct(t, b)
	const n = 24
	docs := make([]mksync.SalesDocument, n)
	for i := range docs {
		docs[i] = newDocument(t, b, mksync.KindOrder, c, p)
	}
	s, err := b.e.session(ctx, b.tenant)
	require.NoError(t, err)
	g := s.startMappingGroup(ctx)
	s.group = g
	defer func() { g.stop(); s.group = nil }()

	// round writes every document from Metakocka at once (notes named
	// after round), the one at index stale (if any) over an old version.
	round := func(name string, stale int) {
		var wg sync.WaitGroup
		for i := range docs {
			wg.Go(func() {
				d := docs[i]
				if i == stale {
					d.Version-- // someone else's edit came first
				}
				before := cloneDocument(&d)
				rv := viewOfDocument(&d)
				rv.Notes = fmt.Sprintf("%s %d", name, i)
				err := s.applyMkDocument(ctx, &d, rv, fmt.Sprint(1000+i), "MK-1", snap(rv))
				if i == stale {
					assert.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(err), "a refused write fails alone")
					assert.Equal(t, before, d, "a failed write leaves the record as it was")
					return
				}
				if assert.NoError(t, err) {
					assert.Equal(t, rv.Notes, d.Notes)
					assert.Equal(t, docs[i].Version+1, d.Version, "the record is the one stored")
					docs[i] = d
				}
			})
		}
		wg.Wait()
	}

	counting.txs.Store(0)
	round("first", -1)
	txs := counting.txs.Load()
	require.Positive(t, txs)
	require.Less(t, txs, int64(n/2), "%d concurrent document writes took %d transactions", n, txs)

	const stale = 5
	round("second", stale)
	for i, d := range docs {
		got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, d.ID)
		require.NoError(t, err)
		want := fmt.Sprintf("second %d", i)
		if i == stale {
			want = fmt.Sprintf("first %d", i)
		}
		require.Equal(t, want, got.Notes)
		require.Equal(t, d.Version, got.Version)
	}
}

// parallelStore is a store that writes in parallel (ParallelWriter) and
// notes the most transactions it had open at once.
type parallelStore struct {
	mksync.Store
	n            int
	open, peak   atomic.Int64
	bothOpenOnce sync.Once
	bothOpen     chan struct{}
}

func (s *parallelStore) WriteParallelism() int { return s.n }

func (s *parallelStore) InTx(ctx context.Context, tenantID string, fn func(mksync.Store) error) error {
	now := s.open.Add(1)
	defer s.open.Add(-1)
	for {
		p := s.peak.Load()
		if now <= p || s.peak.CompareAndSwap(p, now) {
			break
		}
	}
	if now >= 2 {
		s.bothOpenOnce.Do(func() { close(s.bothOpen) })
	}
	// Hold the transaction until another one is open too (or long enough
	// to show there is none).
	select {
	case <-s.bothOpen:
	case <-time.After(2 * time.Second):
	}
	return s.Store.InTx(ctx, tenantID, fn)
}

// A store that writes in parallel gets several committers: groups are
// written at once, not in a line; one that does not gets one.
func TestMappingGroupCommittersFollowTheStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		parallel int
		wantPeak int64
	}{{1, 1}, {3, 2}} {
		t.Run(fmt.Sprint(tc.parallel), func(t *testing.T) {
			t.Parallel()
			var ps *parallelStore
			b := setup(t, setupOpts{cfg: func(c *Config) {
				ps = &parallelStore{Store: c.Store, n: tc.parallel, bothOpen: make(chan struct{})}
				c.Store = ps
			}})
			ctx := context.Background()
			const n = 12
			contacts := make([]mksync.Contact, n)
			for i := range contacts {
				contacts[i] = newContact(t, b)
			}
			s, err := b.e.session(ctx, b.tenant)
			require.NoError(t, err)
			g := s.startMappingGroup(ctx)
			s.group = g
			var wg sync.WaitGroup
			for _, c := range contacts {
				wg.Go(func() {
					m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, State: mksync.StatePending}
					assert.NoError(t, s.inGroup(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error { return save(&m) }))
				})
			}
			wg.Wait()
			g.stop()
			s.group = nil
			require.GreaterOrEqual(t, ps.peak.Load(), tc.wantPeak)
			if tc.parallel == 1 {
				require.Equal(t, int64(1), ps.peak.Load(), "one committer: one transaction at a time")
			}
			for _, c := range contacts {
				require.Equal(t, mksync.StatePending, b.mapping(t, mksync.EntityContact, c.ID).State)
			}
		})
	}
}
