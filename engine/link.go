package engine

import (
	"context"
	"fmt"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// Link maps the tenant's CRM record entityID of type et to the Metakocka
// record ref (its mk_id or count_code) by hand: a person's answer to an
// ambiguous match, a re-link of a record deleted in Metakocka or of a
// tombstone. It writes to neither record: the mapping is pending with no
// hashes, so the next sync compares both sides and follows the tenant's
// conflict policy. ENOTFOUND when either record is missing, ECONFLICT when
// the Metakocka record is mapped to another CRM record.
func (e *Engine) Link(ctx context.Context, tenantID string, et mksync.EntityType, entityID, ref string) (mksync.Mapping, error) {
	if ref == "" {
		return mksync.Mapping{}, mksync.Errorf(mksync.EINVALID, "a Metakocka mk_id or count_code is required")
	}
	s, err := e.session(ctx, tenantID)
	if err != nil {
		return mksync.Mapping{}, err
	}
	o, ok := s.ops(et)
	if !ok {
		return mksync.Mapping{}, mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
	}
	return o.link(ctx, entityID, ref)
}

// Unlink removes the mapping of the tenant's CRM record entityID (ENOTFOUND
// when it has none). Nothing is written to Metakocka; the next push
// matches the record again, and creates it when nothing matches.
func (e *Engine) Unlink(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) error {
	unlock := e.locks.lock(tenantID, et, entityID)
	defer unlock()
	if err := e.store.DeleteMapping(ctx, tenantID, et, entityID); err != nil {
		return fmt.Errorf("unlink %s %s: %w", et, entityID, err)
	}
	e.cache.dropMapping(tenantID, et, entityID)
	return nil
}

func (o opsOf[L, R, V]) link(ctx context.Context, id, ref string) (mksync.Mapping, error) {
	s, et := o.s, o.a.kind()
	l, err := o.a.load(ctx, id)
	if err != nil {
		return mksync.Mapping{}, err
	}
	r, found, err := o.a.fetch(ctx, ref)
	if err == nil && !found {
		r, found, err = o.a.local(&l).lookup(ctx, ref, nil)
	}
	if err != nil {
		return mksync.Mapping{}, fmt.Errorf("link %s %s: %w", et, id, err)
	}
	if !found {
		return mksync.Mapping{}, mksync.Errorf(mksync.ENOTFOUND, "Metakocka has no %s with mk_id or count_code %s", o.a.what(), ref)
	}
	rid := o.a.ident(&r)
	unlock := s.e.locks.lock(s.tenantID, et, id)
	defer unlock()
	if other, mapped, err := s.mappingByMkID(ctx, et, rid.mkID); err != nil {
		return mksync.Mapping{}, err
	} else if mapped && other.EntityID != id {
		return mksync.Mapping{}, mksync.Errorf(mksync.ECONFLICT, "Metakocka %s %s is linked to %s %s; unlink that first", o.a.what(), rid.mkID, et, other.EntityID)
	}
	m := mksync.Mapping{EntityType: et, EntityID: id, MetakockaID: rid.mkID, CountCode: rid.countCode, State: mksync.StatePending}
	if err := s.saveMapping(ctx, &m); err != nil {
		return mksync.Mapping{}, err
	}
	// A re-linked tombstone no longer holds the Metakocka record back.
	if err := s.e.store.DeleteTombstone(ctx, s.tenantID, et, rid.mkID); err != nil && !isCode(err, mksync.ENOTFOUND) {
		return m, fmt.Errorf("forget tombstone of %s %s: %w", et, rid.mkID, err)
	}
	return m, nil
}

// tombstoned reports whether the CRM record mapped to mkID was deleted on
// purpose: a pull then leaves the Metakocka record out.
func (s *session) tombstoned(ctx context.Context, et mksync.EntityType, mkID string) (bool, error) {
	_, err := s.e.store.FindTombstone(ctx, s.tenantID, et, mkID)
	switch {
	case isCode(err, mksync.ENOTFOUND):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("find tombstone of %s %s: %w", et, mkID, err)
	}
	return true, nil
}

// applyDeletes carries out the tenant's deletion policy before a bulk push
// of et: under delete_in_metakocka every tombstoned product (deleted in the
// CRM) is deleted in Metakocka with product_delete, and every tombstoned
// sales order with delete_document (documented for sales orders only:
// documents_delete_document_sales_order.md); its tombstone is then
// forgotten, since nothing is left to bring back. A refusal (Metakocka
// keeps a product a document uses) writes an error record and keeps the
// tombstone, so the next push tries again. Offers and invoices, contacts,
// and everything under the default policy (keep) are left as they are in
// Metakocka; their tombstones stay. On a dry session (a preview) nothing
// is deleted: it returns the plan items of the deletes instead.
func (s *session) applyDeletes(ctx context.Context, et mksync.EntityType) ([]mksync.PlanItem, error) {
	del := s.deleteInMetakocka(et)
	if del == nil {
		return nil, nil
	}
	var planned []mksync.PlanItem
	after := ""
	for {
		ts, next, err := s.e.store.FindTombstones(ctx, s.tenantID, et, mksync.Page{After: after, Limit: 100})
		if err != nil {
			return nil, fmt.Errorf("read %s tombstones: %w", et, err)
		}
		for _, t := range ts {
			if s.dry {
				if it, ok := deleteItem(t, del); ok {
					planned = append(planned, it)
				}
				continue
			}
			if _, err := s.deleteTombstoned(ctx, et, t, del); err != nil {
				return nil, err
			}
		}
		if next == "" {
			return planned, nil
		}
		after = next
	}
}

// deleteItem is the plan item of the delete of the tombstoned record t
// (false when the policy does not delete it). Its key is the deleted
// record's local id, like every push's item.
func deleteItem(t mksync.Tombstone, del *deleter) (mksync.PlanItem, bool) {
	what := del.what(t)
	if what == "" {
		return mksync.PlanItem{}, false
	}
	key := t.EntityID
	if key == "" {
		key = "deleted:" + t.MetakockaID
	}
	return mksync.PlanItem{Key: key, Action: mksync.PlanDeleteThere, LocalID: t.EntityID, MetakockaID: t.MetakockaID,
		Reason: fmt.Sprintf("deleted in the CRM: the deletion policy (delete_in_metakocka) deletes the %s %s in Metakocka", what, t.MetakockaID)}, true
}

// deleteTombstoned deletes the Metakocka record of the tombstone t as the
// deletion policy del says (deleted false when it keeps it) and forgets
// the tombstone. A refusal writes an error record and keeps the tombstone
// (the result then fails); an error is returned only for a store failure
// or an ended ctx.
func (s *session) deleteTombstoned(ctx context.Context, et mksync.EntityType, t mksync.Tombstone, del *deleter) (recordResult, error) {
	what := del.what(t)
	if what == "" {
		return recordResult{out: outSkipped}, nil // not deletable in Metakocka: kept
	}
	if err := del.delete(ctx, t); err != nil && !isCode(err, mksync.ENOTFOUND) {
		if ctx.Err() != nil {
			return recordResult{}, ctx.Err()
		}
		return s.fail(ctx, et, mksync.ToMetakocka, t.MetakockaID, "", fmt.Errorf("delete %s %s in Metakocka (deletion policy): %w", what, t.MetakockaID, err)), nil
	}
	if err := s.e.store.DeleteTombstone(ctx, s.tenantID, et, t.MetakockaID); err != nil && !isCode(err, mksync.ENOTFOUND) {
		return recordResult{}, fmt.Errorf("forget tombstone of %s %s: %w", what, t.MetakockaID, err)
	}
	return recordResult{out: outUpdated}, nil
}

// applyPlannedDelete carries out the planned delete p (PlanDeleteThere)
// of a preview's plan: only while the tenant's policy still deletes the
// record and its tombstone is still there; otherwise nothing is deleted
// and the record fails with code conflict (preview again). A delete counts
// as an update of Metakocka in the run's result.
func (s *session) applyPlannedDelete(ctx context.Context, et mksync.EntityType, p mksync.PlanItem) recordResult {
	del := s.deleteInMetakocka(et)
	t, err := s.e.store.FindTombstone(ctx, s.tenantID, et, p.MetakockaID)
	switch {
	case err != nil && !isCode(err, mksync.ENOTFOUND):
		return s.fail(ctx, et, mksync.ToMetakocka, p.Key, "", fmt.Errorf("find tombstone of %s %s: %w", et, p.MetakockaID, err))
	case err != nil || del == nil || del.what(t) == "":
		return s.fail(ctx, et, mksync.ToMetakocka, p.Key, "", mksync.Errorf(mksync.ECONFLICT,
			"changed since the preview (planned %s of %s, now the record is restored or the deletion policy keeps it): not applied; preview again", p.Action, p.MetakockaID))
	}
	r, err := s.deleteTombstoned(ctx, et, t, del)
	if err != nil {
		return s.fail(ctx, et, mksync.ToMetakocka, p.Key, "", err)
	}
	return r
}

// CreateNew creates the tenant's CRM record entityID of type et in
// Metakocka now, on purpose, without matching: a person's answer to an
// ambiguous match ("none of these: create a new one"). Like
// SyncToMetakocka it is idempotent (the count_code derived from the local
// id) and kept as a finished SyncRun. ECONFLICT when the record is already
// linked to a Metakocka record (unlink it first); ENOTFOUND when it does not
// exist.
func (e *Engine) CreateNew(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) (mksync.SyncResult, error) {
	if err := checkEntity(et); err != nil {
		return mksync.SyncResult{}, err
	}
	m, err := e.store.FindMapping(ctx, tenantID, et, entityID)
	switch {
	case err == nil && m.MetakockaID != "":
		return mksync.SyncResult{}, mksync.Errorf(mksync.ECONFLICT, "%s %s is linked to Metakocka record %s; unlink it first", et, entityID, m.MetakockaID)
	case err != nil && !isCode(err, mksync.ENOTFOUND):
		return mksync.SyncResult{}, fmt.Errorf("find mapping of %s %s: %w", et, entityID, err)
	}
	s, err := e.session(ctx, tenantID)
	if err != nil {
		return mksync.SyncResult{}, err
	}
	s.createNew = true
	return e.singleIn(ctx, s, et, mksync.ToMetakocka, entityID)
}

// deleter is how the deletion policy deletes tombstoned records of one
// type in Metakocka.
type deleter struct {
	// what names the Metakocka record of t ("product", "sales order"),
	// "" when the policy does not delete it.
	what func(t mksync.Tombstone) string
	// delete makes the call.
	delete func(ctx context.Context, t mksync.Tombstone) error
}

// deleteInMetakocka returns how the deletion policy deletes tombstoned
// records of et in Metakocka, or nil when it deletes none.
func (s *session) deleteInMetakocka(et mksync.EntityType) *deleter {
	if s.settings.DeletePolicy != mksync.DeleteInMetakocka {
		return nil
	}
	switch et {
	case mksync.EntityProduct:
		return &deleter{
			what: func(mksync.Tombstone) string { return "product" },
			delete: func(ctx context.Context, t mksync.Tombstone) error {
				_, err := s.mk.ProductDelete(ctx, metakocka.ProductKey{MkID: t.MetakockaID})
				return err
			},
		}
	case mksync.EntitySalesDocument:
		return &deleter{
			what: func(t mksync.Tombstone) string {
				if t.Kind != mksync.KindOrder {
					return ""
				}
				return "sales order"
			},
			delete: func(ctx context.Context, t mksync.Tombstone) error {
				return s.mk.DeleteDocument(ctx, metakocka.DocSalesOrder, t.MetakockaID)
			},
		}
	}
	return nil
}
