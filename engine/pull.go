package engine

import (
	"context"
	"errors"

	"github.com/mksync/mksync"
)

// remoteView is the view of a pulled Metakocka record, read once.
type remoteView[L, R, V any] struct {
	a    entity[L, R, V]
	r    *R
	v    V
	s    snapshot
	done bool
}

func (x *remoteView[L, R, V]) read(ctx context.Context) error {
	if x.done {
		return nil
	}
	v, err := x.a.remote(ctx, x.r)
	if err != nil {
		return err
	}
	x.v, x.s, x.done = v, snap(v), true
	return nil
}

// pull syncs one Metakocka record into the CRM: create the local record,
// update it, or nothing when unchanged. force marks an explicit
// single-record sync, which resolves a conflict in favour of Metakocka.
// It returns the local record's id when there is one.
func pull[L, R, V any](ctx context.Context, s *session, a entity[L, R, V], r *R, force bool) (string, recordResult, error) {
	rv := &remoteView[L, R, V]{a: a, r: r}
	if !a.lazy() {
		if err := rv.read(ctx); err != nil {
			return "", recordResult{}, err
		}
	}
	mkID := a.ident(r).mkID
	// The cache's mk_id → record hint saves a mapping read per record:
	// pullMapped reads the mapping from the store under the record's lock
	// anyway, and a hint it finds stale is dropped for the store's answer.
	if id, ok := s.e.cache.byMkID.GetIfPresent(cacheKey{s.tenantID, a.kind(), mkID}); ok {
		lid, res, err := pullMapped(ctx, s, rv, id, force, true)
		if !errors.Is(err, errStaleHint) {
			return lid, res, err
		}
		s.e.cache.byMkID.Invalidate(cacheKey{s.tenantID, a.kind(), mkID})
	}
	m, mapped, err := s.mappingByMkID(ctx, a.kind(), mkID)
	if err != nil {
		return "", recordResult{}, err
	}
	if !mapped {
		return pullNew(ctx, s, rv)
	}
	return pullMapped(ctx, s, rv, m.EntityID, force, false)
}

// errStaleHint is pullMapped's answer when the cache's hint named a record
// no longer mapped to the Metakocka record: the caller asks the store.
var errStaleHint = errors.New("the cached mapping hint is stale")

// pullNew pulls a Metakocka record no CRM record is mapped to: link the
// CRM record it came from (its mapping was lost), or create one.
func pullNew[L, R, V any](ctx context.Context, s *session, rv *remoteView[L, R, V]) (string, recordResult, error) {
	a, mkID := rv.a, rv.a.ident(rv.r).mkID
	unlock := s.e.locks.lock(s.tenantID, a.kind(), "mk:"+mkID)
	defer unlock()
	// Another worker may have pulled it while this one waited.
	if m, again, err := s.mappingByMkID(ctx, a.kind(), mkID); err != nil || again {
		return m.EntityID, recordResult{out: outSkipped}, err
	}
	// A CRM record deleted on purpose is not brought back.
	if gone, err := s.tombstoned(ctx, a.kind(), mkID); err != nil || gone {
		return "", recordResult{out: outSkipped}, err
	}
	if err := rv.read(ctx); err != nil {
		return "", recordResult{}, err
	}
	l, id, err := a.link(ctx, rv.r)
	if amb := (*ambiguousError)(nil); errors.As(err, &amb) {
		// Several CRM records are this one: neither linked nor created.
		_, err := s.recordAmbiguous(ctx, a.kind(), mksync.FromMetakocka, mkID, amb.ids, amb.keys, nil, "")
		return "", recordResult{out: outAmbiguous}, err
	}
	if err != nil {
		return id, recordResult{}, err
	}
	if l != nil {
		om, has, err := s.mapping(ctx, a.kind(), id)
		if err != nil {
			return id, recordResult{}, err
		}
		if !has || om.MetakockaID == "" {
			// A link, not an update: counted as linked (SyncResult.linked).
			return id, recordResult{out: outLinked}, linkLocal(ctx, s, a.local(l), rv.v, rv.r, rv.s)
		}
		if err := a.taken(rv.r, l, om); err != nil {
			return id, recordResult{}, err
		}
	}
	id, err = createLocal(ctx, s, a, rv.v, rv.r, rv.s)
	if err != nil {
		return "", recordResult{}, err
	}
	return id, recordResult{out: outCreated}, nil
}

// pullMapped pulls a Metakocka record mapped to the CRM record entityID.
// hint marks an entityID from the cache: when the store no longer maps it
// to the record, the error is errStaleHint and nothing was done.
func pullMapped[L, R, V any](ctx context.Context, s *session, rv *remoteView[L, R, V], entityID string, force, hint bool) (string, recordResult, error) {
	a, rid := rv.a, rv.a.ident(rv.r)
	m, unlock, err := s.lockMapped(ctx, a.kind(), entityID, rid.mkID, a.what())
	defer unlock()
	if err != nil && hint && isCode(err, mksync.ECONFLICT) {
		return "", recordResult{}, errStaleHint
	}
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	if m.State == mksync.StateConflict && !force {
		return m.EntityID, recordResult{out: outConflict}, nil
	}
	if err := rv.read(ctx); err != nil {
		return m.EntityID, recordResult{}, err
	}
	if rv.s.hash == m.PulledHash && !force {
		if s.dry {
			return m.EntityID, recordResult{out: outSkipped}, nil
		}
		return a.unchanged(ctx, m, rv.r)
	}
	l, err := a.load(ctx, m.EntityID)
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	p := a.local(&l)
	lv := snap(p.view())
	switch {
	case lv.hash == rv.s.hash:
		if s.dry {
			return p.id(), recordResult{out: outSkipped}, nil
		}
		if err := a.same(ctx, &l, rv.r); err != nil {
			return p.id(), recordResult{}, err
		}
		nm := s.synced(a.kind(), p.id(), rid.mkID, rid.countCode, lv, rv.s)
		return p.id(), recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
	case lv.hash != m.PushedHash && rv.s.hash != m.PulledHash:
		// Both changed: merged field by field (bothChanged).
		r, err := bothChanged(ctx, s, p, m, lv, rv.r, rv.v, rv.s, mksync.FromMetakocka, force)
		return p.id(), r, err
	case rv.s.hash == m.PulledHash && !force:
		// Only the CRM changed: the next push carries it.
		return p.id(), recordResult{out: outSkipped}, nil
	}
	return p.id(), recordResult{out: outUpdated}, applyLocal(ctx, s, p, rv.v, rv.r, rv.s)
}

// pullOne pulls r and turns a failure into a failed result (see fail).
func pullOne[L, R, V any](ctx context.Context, s *session, a entity[L, R, V], r R, force bool) (res recordResult, id string) {
	if s.dry {
		var note *mksync.PlanItem
		mkID := a.ident(&r).mkID
		ctx, note = withNote(ctx, mkID)
		note.MetakockaID = mkID
		defer func() {
			note.LocalID = firstNonEmpty(note.LocalID, id)
			res.plan = finishNote(note, res, mksync.FromMetakocka)
		}()
	}
	id, res, err := pull(ctx, s, a, &r, force)
	if err != nil {
		return s.fail(ctx, a.kind(), mksync.FromMetakocka, a.ident(&r).mkID, id, err), id
	}
	return res, id
}
