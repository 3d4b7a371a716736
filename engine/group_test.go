package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

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
