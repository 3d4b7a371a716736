package engine

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// contactReadsStore counts the contacts read by id.
type contactReadsStore struct {
	mksync.Store
	reads atomic.Int64
}

func (s *contactReadsStore) FindContactByID(ctx context.Context, tenantID, id string) (mksync.Contact, error) {
	s.reads.Add(1)
	return s.Store.FindContactByID(ctx, tenantID, id)
}

// A bulk push of many documents of few buyers reads each buyer once; the
// documents go to Metakocka with their partner and the type its country
// gives, as when each read it.
func TestBulkPushReadsEachBuyerOnce(t *testing.T) {
	t.Parallel()
	var counting *contactReadsStore
	b := setup(t, setupOpts{cfg: func(c *Config) {
		counting = &contactReadsStore{Store: c.Store}
		c.Store = counting
	}})
	ctx := context.Background()
	home, abroad := newContact(t, b), newContact(t, b)
	abroad.Country = "AT"
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &abroad))
	p := newProduct(t, b)
	for _, c := range []mksync.Contact{home, abroad} {
		run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
		require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, []string{c.ID}))
	}
	const n = 60
	docs := make([]mksync.SalesDocument, n)
	for i := range docs {
		c := home
		if i%3 == 0 {
			c = abroad
		}
		docs[i] = newDocument(t, b, mksync.KindInvoice, c, p)
	}
	counting.reads.Store(0)
	run := mksync.SyncRun{EntityType: mksync.EntitySalesDocument, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Equal(t, n, run.Result.Created, "%+v", run.Result)
	reads := counting.reads.Load()
	require.Positive(t, reads)
	require.Less(t, reads, int64(n/2), "%d contact reads for %d documents of 2 buyers (at most one per worker that started before the first was read)", reads, n)

	partners := map[string]string{home.ID: b.mapping(t, mksync.EntityContact, home.ID).MetakockaID, abroad.ID: b.mapping(t, mksync.EntityContact, abroad.ID).MetakockaID}
	inMk := map[string]mkfake.Document{}
	for _, md := range b.fake.Documents(b.company) {
		inMk[md.MkID] = md
	}
	for _, d := range docs {
		md, ok := inMk[b.mapping(t, mksync.EntitySalesDocument, d.ID).MetakockaID]
		require.True(t, ok)
		require.Equal(t, partners[d.ContactID], md.Partner.MkID)
		want := "sales_bill_domestic"
		if d.ContactID == abroad.ID {
			want = "sales_bill_foreign"
		}
		require.Equal(t, want, md.DocType)
	}
}
