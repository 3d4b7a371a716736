package engine

import (
	"context"
	"fmt"

	"github.com/mksync/mksync"
)

// mapping reads the record's mapping from the store (authoritative) and
// refreshes the cache. ok is false when the record has none.
func (s *session) mapping(ctx context.Context, et mksync.EntityType, id string) (m mksync.Mapping, ok bool, err error) {
	m, err = s.e.store.FindMapping(ctx, s.tenantID, et, id)
	switch {
	case isCode(err, mksync.ENOTFOUND):
		s.e.cache.dropMapping(s.tenantID, et, id)
		return mksync.Mapping{}, false, nil
	case err != nil:
		return mksync.Mapping{}, false, fmt.Errorf("find %s mapping %s: %w", et, id, err)
	}
	s.e.cache.putMapping(s.tenantID, m)
	return m, true, nil
}

// cachedMapping is mapping through the cache: a hint for resolving a
// document's partner and products, never for deciding a create.
func (s *session) cachedMapping(ctx context.Context, et mksync.EntityType, id string) (mksync.Mapping, bool, error) {
	if m, ok := s.e.cache.mappings.GetIfPresent(cacheKey{s.tenantID, et, id}); ok {
		return m, true, nil
	}
	return s.mapping(ctx, et, id)
}

// localIDByMkID returns the local id mapped to mkID, through the cache.
func (s *session) localIDByMkID(ctx context.Context, et mksync.EntityType, mkID string) (string, bool, error) {
	if id, ok := s.e.cache.byMkID.GetIfPresent(cacheKey{s.tenantID, et, mkID}); ok {
		return id, true, nil
	}
	m, ok, err := s.mappingByMkID(ctx, et, mkID)
	return m.EntityID, ok, err
}

// mappingByMkID reads the mapping of mkID from the store.
func (s *session) mappingByMkID(ctx context.Context, et mksync.EntityType, mkID string) (mksync.Mapping, bool, error) {
	m, err := s.e.store.FindMappingByMetakockaID(ctx, s.tenantID, et, mkID)
	switch {
	case isCode(err, mksync.ENOTFOUND):
		return mksync.Mapping{}, false, nil
	case err != nil:
		return mksync.Mapping{}, false, fmt.Errorf("find %s mapping of mk_id %s: %w", et, mkID, err)
	}
	s.e.cache.putMapping(s.tenantID, m)
	return m, true, nil
}

// saveMapping writes m through the store (whose uniqueness refuses an
// mk_id already mapped to another record: ECONFLICT), in the run's group
// commit when there is one, and then the cache. It must not be called
// inside a store transaction (use inTx's save there).
func (s *session) saveMapping(ctx context.Context, m *mksync.Mapping) error {
	if s.dry {
		return nil // a preview writes no mapping
	}
	var err error
	if s.group != nil {
		err = s.group.save(ctx, m)
	} else {
		err = s.e.store.UpsertMapping(ctx, s.tenantID, m)
	}
	if err != nil {
		s.e.cache.dropMapping(s.tenantID, m.EntityType, m.EntityID)
		return fmt.Errorf("save %s mapping %s: %w", m.EntityType, m.EntityID, err)
	}
	s.e.cache.putMapping(s.tenantID, *m)
	return nil
}

// synced returns the mapping of a record that is in sync with Metakocka:
// pushed is the CRM's view, pulled what Metakocka holds; both are kept as
// fields (the next merge's base), Metakocka's only when it differs.
func (s *session) synced(et mksync.EntityType, id, mkID, countCode string, pushed, pulled snapshot) mksync.Mapping {
	m := mksync.Mapping{
		EntityType: et, EntityID: id, MetakockaID: mkID, CountCode: countCode,
		PushedHash: pushed.hash, PulledHash: pulled.hash, State: mksync.StateSynced,
		LastSyncedAt: s.e.clock.Now(), SyncedView: pushed.js,
	}
	if pulled.js != pushed.js {
		m.SyncedRemoteView = pulled.js
	}
	return m
}

// Mapping returns the mapping of the tenant's record (ENOTFOUND when it has
// none), through the mapping cache.
func (e *Engine) Mapping(ctx context.Context, tenantID string, et mksync.EntityType, id string) (mksync.Mapping, error) {
	s := &session{e: e, tenantID: tenantID, barcodes: &barcodeIndex{}}
	m, ok, err := s.cachedMapping(ctx, et, id)
	if err != nil {
		return mksync.Mapping{}, err
	}
	if !ok {
		return mksync.Mapping{}, mksync.Errorf(mksync.ENOTFOUND, "%s %s has no Metakocka mapping", et, id)
	}
	return m, nil
}

// Mappings lists the tenant's mappings of et (see mksync.MappingStore).
func (e *Engine) Mappings(ctx context.Context, tenantID string, et mksync.EntityType, f mksync.ListFilter) ([]mksync.Mapping, string, error) {
	ms, next, err := e.store.FindMappings(ctx, tenantID, et, f)
	if err != nil {
		return nil, "", fmt.Errorf("list %s mappings: %w", et, err)
	}
	return ms, next, nil
}

// inTx runs fn in one store transaction of the tenant. save writes a
// mapping inside it; the cache learns the saved mappings only after the
// commit, so a rolled back mapping is never cached.
func (s *session) inTx(ctx context.Context, fn func(tx mksync.Store, save func(*mksync.Mapping) error) error) error {
	var saved []mksync.Mapping
	err := s.e.store.InTx(ctx, s.tenantID, func(tx mksync.Store) error {
		saved = saved[:0]
		return fn(tx, func(m *mksync.Mapping) error {
			if err := tx.UpsertMapping(ctx, s.tenantID, m); err != nil {
				return fmt.Errorf("save %s mapping %s: %w", m.EntityType, m.EntityID, err)
			}
			saved = append(saved, *m)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, m := range saved {
		s.e.cache.putMapping(s.tenantID, m)
	}
	return nil
}

// inGroup is inTx for the writes of a bulk run's records: during a run it
// goes through the run's group commit (one transaction for the writes of
// many records), else it is inTx. fn may therefore run twice (in the group,
// then alone when the group failed): it must start from its inputs each
// time — work on a copy of the record — and the caller publishes what it
// wrote only once inGroup returns nil.
func (s *session) inGroup(ctx context.Context, fn func(tx mksync.Store, save func(*mksync.Mapping) error) error) error {
	if s.group == nil {
		return s.inTx(ctx, fn)
	}
	saved, err := s.group.run(ctx, fn)
	if err != nil {
		return err
	}
	for _, m := range saved {
		s.e.cache.putMapping(s.tenantID, m)
	}
	return nil
}

// lockMapped locks the local record entityID of et that a pull of the
// Metakocka record mkID (a partner, product or document: what) is about to
// update, and re-reads its mapping under the lock. ECONFLICT when the
// mapping no longer links that record to mkID (another sync moved it
// meanwhile). The caller must call unlock, also after an error.
func (s *session) lockMapped(ctx context.Context, et mksync.EntityType, entityID, mkID, what string) (m mksync.Mapping, unlock func(), err error) {
	release := s.e.locks.lock(s.tenantID, et, entityID)
	unlock = func() {
		s.preloaded.Delete(entityID)
		release()
	}
	m, mapped, err := s.mappingPreloading(ctx, et, entityID)
	if err != nil {
		return mksync.Mapping{EntityID: entityID}, unlock, err
	}
	if !mapped || m.MetakockaID != mkID {
		return mksync.Mapping{EntityID: entityID}, unlock, mksync.Errorf(mksync.ECONFLICT, "the mapping of %s %s changed while syncing; try again", what, mkID)
	}
	return m, unlock, nil
}

// DocumentMappedFinder is a store that reads a document's mapping and the
// document itself in one round trip (postgres.DB): a pull reads both under
// the record's lock, and a round trip is most of what a read costs there.
type DocumentMappedFinder interface {
	FindSalesDocumentMapped(ctx context.Context, tenantID, id string) (m mksync.Mapping, mapped bool, doc mksync.SalesDocument, err error)
}

// mappingPreloading is mapping for lockMapped: on a DocumentMappedFinder
// store a document's mapping comes with the document, kept for the load
// that follows under the same lock (documents.load; lockMapped's unlock
// drops it when none did).
func (s *session) mappingPreloading(ctx context.Context, et mksync.EntityType, id string) (mksync.Mapping, bool, error) {
	f, ok := s.e.store.(DocumentMappedFinder)
	if !ok || et != mksync.EntitySalesDocument {
		return s.mapping(ctx, et, id)
	}
	m, mapped, doc, err := f.FindSalesDocumentMapped(ctx, s.tenantID, id)
	switch {
	case isCode(err, mksync.ENOTFOUND), err == nil && !mapped:
		s.e.cache.dropMapping(s.tenantID, et, id)
		return mksync.Mapping{}, false, nil
	case err != nil:
		return mksync.Mapping{}, false, fmt.Errorf("find %s mapping %s: %w", et, id, err)
	}
	s.e.cache.putMapping(s.tenantID, m)
	s.preloaded.Store(id, doc)
	return m, true, nil
}
