package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// TestEntitiesShareOneAlgorithm drives each entity through the entry
// points that pick it by type (session.ops): a push creates, a second push
// and a pull of the same record change nothing, and a record that is not
// there fails with the entity's own wording.
func TestEntitiesShareOneAlgorithm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{})
	c := newContact(t, b)
	p := newProduct(t, b)
	d := newDocument(t, b, mksync.KindOrder, newContact(t, b), newProduct(t, b))
	cases := []struct {
		et      mksync.EntityType
		id      string
		missing string // the error of a push of a record that does not exist
	}{
		{mksync.EntityContact, c.ID, "find contact"},
		{mksync.EntityProduct, p.ID, "find product"},
		{mksync.EntitySalesDocument, d.ID, "find sales document"},
	}
	for _, tc := range cases {
		t.Run(string(tc.et), func(t *testing.T) {
			s, err := b.e.session(ctx, b.tenant)
			require.NoError(t, err)
			r := s.pushByID(ctx, tc.et, tc.id, false)
			require.Equal(t, outCreated, r.out, "%+v", r.rec)
			m := b.mapping(t, tc.et, tc.id)
			require.NotEmpty(t, m.MetakockaID)
			require.Equal(t, mksync.StateSynced, m.State)

			before := writes(b.fake.Stats())
			require.Equal(t, outSkipped, s.pushByID(ctx, tc.et, tc.id, false).out)
			r = s.pullByMkID(ctx, tc.et, m.MetakockaID, false)
			require.Equal(t, outSkipped, r.out, "%+v", r.rec)
			require.Equal(t, before, writes(b.fake.Stats()), "an unchanged record writes nothing to Metakocka")

			r = s.pushByID(ctx, tc.et, "0195f0c4-8a1e-7c3b-9d2f-4e5a6b7c8d9e", false)
			require.Equal(t, outFailed, r.out)
			require.Equal(t, mksync.ENOTFOUND, r.rec.Code)
			require.Contains(t, r.rec.Error, tc.missing)
			r = s.pullByMkID(ctx, tc.et, "999999999", false)
			require.Equal(t, outFailed, r.out)
			require.Equal(t, mksync.ENOTFOUND, r.rec.Code, r.rec.Error)
		})
	}
	s, err := b.e.session(ctx, b.tenant)
	require.NoError(t, err)
	for _, r := range []recordResult{
		s.pushByID(ctx, "invoice_lines", c.ID, false),
		s.pullByMkID(ctx, "invoice_lines", "1", false),
	} {
		require.Equal(t, outFailed, r.out)
		require.Equal(t, mksync.EINVALID, r.rec.Code)
	}
}

// TestSameChangeOnBothSidesIsNoConflict: a contact changed in the CRM and in
// Metakocka to the same content is settled without a conflict or a write,
// whatever the policy would have decided.
func TestSameChangeOnBothSidesIsNoConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins}})
	c := newContact(t, b)
	s, err := b.e.session(ctx, b.tenant)
	require.NoError(t, err)
	require.Equal(t, outCreated, s.pushByID(ctx, mksync.EntityContact, c.ID, false).out)
	m := b.mapping(t, mksync.EntityContact, c.ID)
	c.Name = "Renamed on both sides d.o.o."
	require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
	_, err = b.mk(t).UpdatePartner(ctx, metakocka.Partner{MkID: m.MetakockaID, Customer: c.Name})
	require.NoError(t, err)

	before := writes(b.fake.Stats())
	r := s.pushByID(ctx, mksync.EntityContact, c.ID, false)
	require.Equal(t, outSkipped, r.out, "%+v", r.rec)
	require.Equal(t, before, writes(b.fake.Stats()))
	after := b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateSynced, after.State)
	require.Equal(t, after.PushedHash, after.PulledHash)
	require.NotEqual(t, m.PushedHash, after.PushedHash)
	ers, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{Category: "SYNC"})
	require.NoError(t, err)
	require.Empty(t, ers)
}
