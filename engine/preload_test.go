package engine

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// mappedFinderStore reads a document with its mapping in one call (as
// PostgreSQL does in one round trip) and counts the reads of either kind.
type mappedFinderStore struct {
	mksync.Store
	together, alone atomic.Int64
}

func (s *mappedFinderStore) FindSalesDocumentMapped(ctx context.Context, tenantID, id string) (mksync.Mapping, bool, mksync.SalesDocument, error) {
	s.together.Add(1)
	d, err := s.Store.FindSalesDocumentByID(ctx, tenantID, id)
	if err != nil {
		return mksync.Mapping{}, false, d, err
	}
	m, err := s.Store.FindMapping(ctx, tenantID, mksync.EntitySalesDocument, id)
	if isCode(err, mksync.ENOTFOUND) {
		return m, false, d, nil
	}
	return m, err == nil, d, err
}

func (s *mappedFinderStore) FindSalesDocumentByID(ctx context.Context, tenantID, id string) (mksync.SalesDocument, error) {
	s.alone.Add(1)
	return s.Store.FindSalesDocumentByID(ctx, tenantID, id)
}

// On a store that reads a document with its mapping, a pull of changed
// documents reads each once, under its lock, and writes what Metakocka
// holds.
func TestPullReadsDocumentWithItsMapping(t *testing.T) {
	t.Parallel()
	var st *mappedFinderStore
	b := setup(t, setupOpts{cfg: func(c *Config) {
		st = &mappedFinderStore{Store: c.Store}
		c.Store = st
	}})
	ctx := context.Background()
	b.fake.SeedDemo(b.company)
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)

	var changed []string
	for _, fd := range b.fake.Documents(b.company) {
		if fd.DocType != string(metakocka.DocSalesOrder) || fd.Fields["status_code"] == "shipped" {
			continue
		}
		require.NoError(t, b.mk(t).UpdateDocument(ctx, metakocka.DocumentUpdate{DocType: metakocka.DocSalesOrder, MkID: fd.MkID, StatusCode: "shipped"}))
		changed = append(changed, fd.MkID)
	}
	require.NotEmpty(t, changed)
	st.together.Store(0)
	st.alone.Store(0)
	run = mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, len(changed), run.Result.Updated, "%+v", run.Result)
	require.GreaterOrEqual(t, st.together.Load(), int64(len(changed)))
	require.Zero(t, st.alone.Load(), "no document read again after it came with its mapping")
	for _, mkID := range changed {
		m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntitySalesDocument, mkID)
		require.NoError(t, err)
		got, err := b.store.FindSalesDocumentByID(ctx, b.tenant, m.EntityID)
		require.NoError(t, err)
		require.Equal(t, "shipped", got.Status)
		require.Equal(t, mksync.StateSynced, m.State)
	}
}
