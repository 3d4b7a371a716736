package storetest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func testInTx(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	f := newDocFixture(t, s, "tx")

	// Commit: everything is visible afterwards; inside, the tx sees its writes.
	var c mksync.Contact
	require.NoError(t, s.InTx(ctx, f.tenant, func(tx mksync.Store) error {
		c = sampleContact("In tx")
		if err := tx.CreateContact(ctx, f.tenant, &c); err != nil {
			return err
		}
		got, err := tx.FindContactByID(ctx, f.tenant, c.ID)
		if err != nil {
			return err
		}
		require.Equal(t, c.ID, got.ID)
		m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, MetakockaID: "T1", State: mksync.StateSynced}
		if err := tx.UpsertMapping(ctx, f.tenant, &m); err != nil {
			return err
		}
		n := 0
		for _, err := range tx.AllContacts(ctx, f.tenant) {
			if err != nil {
				return err
			}
			n++
		}
		require.Equal(t, 2, n)
		return tx.SetCursor(ctx, f.tenant, "k", "v1")
	}))
	_, err := s.FindContactByID(ctx, f.tenant, c.ID)
	require.NoError(t, err)
	_, err = s.FindMapping(ctx, f.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)

	// Rollback on error: nothing half-written, and the error comes back.
	var d mksync.SalesDocument
	var c2 mksync.Contact
	err = s.InTx(ctx, f.tenant, func(tx mksync.Store) error {
		c2 = sampleContact("Rolled back")
		if err := tx.CreateContact(ctx, f.tenant, &c2); err != nil {
			return err
		}
		d = f.document("RB-1")
		d.ContactID = c2.ID
		if err := tx.CreateSalesDocument(ctx, f.tenant, &d); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, f.tenant, "k", "v2"); err != nil {
			return err
		}
		upd := c
		upd.Version = 1
		upd.Name = "changed in rolled back tx"
		if err := tx.UpdateContact(ctx, f.tenant, &upd); err != nil {
			return err
		}
		if err := tx.DeleteMapping(ctx, f.tenant, mksync.EntityContact, c.ID); err != nil {
			return err
		}
		return errNope
	})
	require.ErrorIs(t, err, errNope)
	_, err = s.FindContactByID(ctx, f.tenant, c2.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	v, err := s.GetCursor(ctx, f.tenant, "k")
	require.NoError(t, err)
	require.Equal(t, "v1", v)
	got, err := s.FindContactByID(ctx, f.tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, "In tx", got.Name)
	require.EqualValues(t, 1, got.Version)
	m, err := s.FindMapping(ctx, f.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateSynced, m.State)

	// A failed call inside a transaction leaves no partial write of its own,
	// and the transaction can go on.
	require.NoError(t, s.InTx(ctx, f.tenant, func(tx mksync.Store) error {
		bad := f.document("BAD")
		bad.Lines[1].ProductID = "0190f3c4-0000-7000-8000-0000000000fe"
		err := tx.CreateSalesDocument(ctx, f.tenant, &bad)
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
		dup := sampleContact("dup")
		dup.ID = c.ID
		err = tx.CreateContact(ctx, f.tenant, &dup)
		require.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(err))
		other := sampleContact("other in tx")
		require.NoError(t, tx.CreateContact(ctx, f.tenant, &other))
		clash := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: other.ID, MetakockaID: m.MetakockaID, State: mksync.StateSynced}
		require.Equal(t, mksync.ECONFLICT, mksync.ErrorCode(tx.UpsertMapping(ctx, f.tenant, &clash)), "mk_id mapped to another record")
		missing := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: "0190f3c4-0000-7000-8000-0000000000fd", State: mksync.StatePending}
		require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(tx.UpsertMapping(ctx, f.tenant, &missing)), "no such record")
		clash.MetakockaID = "T2"
		require.NoError(t, tx.UpsertMapping(ctx, f.tenant, &clash), "the transaction goes on after refused mapping writes")
		ok := f.document("OK")
		return tx.CreateSalesDocument(ctx, f.tenant, &ok)
	}))
	docs := collect(t, s.AllSalesDocuments(ctx, f.tenant))
	require.Len(t, docs, 1)
	require.Equal(t, "OK", docs[0].Number)
	m2, err := s.FindMappingByMetakockaID(ctx, f.tenant, mksync.EntityContact, "T2")
	require.NoError(t, err, "written after the refused ones, committed with them")
	_, err = s.FindContactByID(ctx, f.tenant, m2.EntityID)
	require.NoError(t, err)

	// A panic inside fn rolls back too, and the store stays usable.
	require.Panics(t, func() {
		_ = s.InTx(ctx, f.tenant, func(tx mksync.Store) error {
			p := sampleContact("panicked")
			if err := tx.CreateContact(ctx, f.tenant, &p); err != nil {
				return err
			}
			panic("boom")
		})
	})
	found, _, err := s.FindContacts(ctx, f.tenant, mksync.ListFilter{Search: "panicked"})
	require.NoError(t, err)
	require.Empty(t, found)

	// Domain errors from fn keep their code.
	err = s.InTx(ctx, f.tenant, func(tx mksync.Store) error {
		_, err := tx.FindContactByID(ctx, f.tenant, "0190f3c4-0000-7000-8000-0000000000ff")
		return err
	})
	requireCode(t, err, mksync.ENOTFOUND)
	require.False(t, errors.Is(err, errNope))
}
