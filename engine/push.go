package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/mksync/mksync"
)

// remoteID names a Metakocka record: its mk_id, its count_code and its
// last change (zero when Metakocka does not say: partners and products).
type remoteID struct {
	mkID, countCode string
	changed         time.Time
}

// local is one CRM record as the shared push (push) sees it: what differs
// between contacts, products and documents, and nothing else. R is the
// Metakocka record type, V the view both sides are compared in (its hash
// is what mappings keep). An entity builds one per push (entity.local), so
// a document can keep what its partner and products resolved to.
type local[R, V any] interface {
	kind() mksync.EntityType
	id() string
	// check refuses input Metakocka cannot take before any call.
	check() error
	// view is the record's synced part; changed its last local change.
	view() V
	changed() time.Time
	// prepare runs before Metakocka is read for the record (a document
	// pushes its partner and products first).
	prepare(ctx context.Context) error
	// get reads the Metakocka record mkID; found is false when it is gone.
	get(ctx context.Context, mkID string) (r R, found bool, err error)
	// lookup finds the record an earlier create may have made, by
	// count_code; addErr is the create's failure (nil before a create).
	lookup(ctx context.Context, countCode string, addErr error) (r R, found bool, err error)
	// remote reads a Metakocka record in local terms; ident names it.
	remote(ctx context.Context, r *R) (V, error)
	ident(r *R) remoteID
	// apply writes the view v (Metakocka's, or a merge of both sides)
	// onto the local record and maps them, in one transaction; pulled is
	// what Metakocka holds (the next pull compares with it).
	apply(ctx context.Context, v V, r *R, pulled snapshot) error
	// update writes the local view over r; pulled is the view Metakocka
	// holds afterwards (the next pull compares with it).
	update(ctx context.Context, r *R) (pulled V, err error)
	// withView is this local record with the view v written over its
	// synced fields, not saved: what a merge sends to Metakocka.
	withView(v V) (local[R, V], error)
	// countCode is the count_code a new Metakocka record gets.
	countCode() string
	// creator prepares the create of the record with count_code cc: what
	// names the call in errors, add makes it (an answer without a
	// count_code keeps cc).
	creator(cc string) (what string, add func(context.Context) (remoteID, error), err error)
	// mapCreated maps the record localID to the Metakocka record id just
	// created; v is its view.
	mapCreated(ctx context.Context, localID string, id remoteID, v snapshot) error
	// adopt maps the record to r, which an earlier create made (found by
	// lookup), updating r when it differs.
	adopt(ctx context.Context, r *R) (recordResult, error)
	// again is the push to try once more after err (a document whose
	// cached mappings may be stale), or nil.
	again(err error) local[R, V]
}

// push syncs one local record to Metakocka: create (idempotent, see the
// package doc), update, or nothing when unchanged. force marks an explicit
// single-record sync, which resolves a conflict in favour of the CRM. The
// caller holds the record's lock.
func push[R, V any](ctx context.Context, s *session, l local[R, V], force bool) (recordResult, error) {
	if err := l.check(); err != nil {
		return recordResult{}, err
	}
	lv := snap(l.view())
	m, mapped, err := s.mapping(ctx, l.kind(), l.id())
	if err != nil {
		return recordResult{}, err
	}
	if mapped {
		switch {
		case m.State == mksync.StateDeletedInMetakocka:
			// Gone from Metakocka: not created again (re-link, or unlink
			// and sync to create it on purpose).
			return recordResult{out: outSkipped}, nil
		case m.State == mksync.StateAmbiguous && !force:
			return recordResult{out: outAmbiguous}, nil
		}
	}
	if mapped && m.MetakockaID != "" {
		if m.State == mksync.StateConflict && !force {
			return recordResult{out: outConflict}, nil
		}
		if lv.hash == m.PushedHash && !force {
			return s.skipped(ctx, m)
		}
	}
	if err := l.prepare(ctx); err != nil {
		return recordResult{}, err
	}
	if mapped && m.MetakockaID != "" {
		r, found, err := l.get(ctx, m.MetakockaID)
		if err != nil {
			return recordResult{}, err
		}
		if found {
			return pushOver(ctx, s, l, m, lv, &r, force)
		}
		return s.markDeletedInMetakocka(ctx, m)
	}
	return create(ctx, s, l, m, mapped, lv)
}

// pushOver pushes a mapped record (local view lv) whose Metakocka record
// r exists: an update when only the CRM changed, nothing when both hold
// the same, a three-way merge when both changed (bothChanged).
func pushOver[R, V any](ctx context.Context, s *session, l local[R, V], m mksync.Mapping, lv snapshot, r *R, force bool) (recordResult, error) {
	rv, err := l.remote(ctx, r)
	if err != nil {
		return recordResult{}, err
	}
	rs := snap(rv)
	if lv.hash == rs.hash {
		// Already equal: the same change made on both sides, or an
		// earlier push whose mapping write was interrupted; no conflict.
		id := l.ident(r)
		nm := s.synced(l.kind(), l.id(), id.mkID, id.countCode, lv, rs)
		return recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
	}
	if rs.hash == m.PulledHash || lv.hash == m.PushedHash {
		return updateRemote(ctx, s, l, r, lv, outUpdated)
	}
	return bothChanged(ctx, s, l, m, lv, r, rv, rs, mksync.ToMetakocka, force)
}

// updateRemote writes the local record (view lv) over r and maps them.
func updateRemote[R, V any](ctx context.Context, s *session, l local[R, V], r *R, lv snapshot, out outcome) (recordResult, error) {
	if s.dry {
		return planUpdateRemote(ctx, l, r, lv, out)
	}
	pulled, err := l.update(ctx, r)
	if err != nil {
		return recordResult{}, err
	}
	id := l.ident(r)
	nm := s.synced(l.kind(), l.id(), id.mkID, id.countCode, lv, snap(pulled))
	if err := s.saveMapping(ctx, &nm); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: out}, nil
}

// create creates the record in Metakocka, idempotently: an intent mapping
// first, a count_code lookup before creating when an earlier attempt may
// have created it, and after an ambiguous failure before trying again.
func create[R, V any](ctx context.Context, s *session, l local[R, V], m mksync.Mapping, mapped bool, lv snapshot) (recordResult, error) {
	cc := l.countCode()
	if mapped && m.CountCode != "" {
		cc = m.CountCode
	}
	if mapped && m.State != mksync.StateAmbiguous {
		// An earlier attempt may have created it: look before creating.
		r, found, err := l.lookup(ctx, cc, nil)
		if err != nil {
			return recordResult{}, err
		}
		if found {
			return adoptRemote(ctx, s, l, &r, "count_code")
		}
	}
	if !mapped || m.State == mksync.StateAmbiguous {
		intent := mksync.Mapping{EntityType: l.kind(), EntityID: l.id(), CountCode: cc, State: mksync.StatePending}
		if err := s.saveMapping(ctx, &intent); err != nil {
			return recordResult{}, err
		}
		m = intent
	}
	// Input Metakocka would refuse fails before any call.
	what, add, err := l.creator(cc)
	if err != nil {
		return recordResult{}, err
	}
	// Before any create: the record may exist there already (unless a
	// person chose to create it on purpose).
	decision, cands, why, err := matchNone, []candidate[R](nil), "", error(nil)
	if !s.createNew {
		decision, cands, why, err = matchPlan(ctx, s, l)
	}
	if err != nil {
		return recordResult{}, err
	}
	switch decision {
	case matchOne:
		return linkMatched(ctx, s, l, &cands[0])
	case matchAmbiguous:
		ids, keys, titles := candidateIDs(cands)
		return s.markAmbiguous(ctx, l.kind(), mksync.ToMetakocka, l.id(), m, ids, keys, titles, why)
	}
	if s.dry {
		return planCreateRemote(ctx, l, lv)
	}
	for attempt := 1; ; attempt++ {
		id, err := add(ctx)
		if err == nil {
			id.countCode = firstNonEmpty(id.countCode, cc)
			return recordResult{out: outCreated}, l.mapCreated(ctx, l.id(), id, lv)
		}
		if !retryable(err) && !isCode(err, mksync.ECONFLICT) {
			return recordResult{}, fmt.Errorf("%s: %w", what, err)
		}
		r, found, lerr := l.lookup(ctx, cc, err)
		if lerr != nil {
			return recordResult{}, fmt.Errorf("%s failed (%v), then looking it up failed: %w", what, err, lerr)
		}
		if found {
			return l.adopt(ctx, &r)
		}
		if !retryable(err) || attempt >= s.e.cfg.CreateAttempts {
			return recordResult{}, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// adoptOrUpdate is adopt for records whose count_code is all they share
// with the created one: map r when it equals the local view, else update it.
func adoptOrUpdate[R, V any](ctx context.Context, s *session, l local[R, V], r *R) (recordResult, error) {
	rv, err := l.remote(ctx, r)
	if err != nil {
		return recordResult{}, err
	}
	lv := snap(l.view())
	if rs := snap(rv); rs.hash == lv.hash {
		id := l.ident(r)
		nm := s.synced(l.kind(), l.id(), id.mkID, id.countCode, lv, rs)
		return recordResult{out: outCreated}, s.saveMapping(ctx, &nm)
	}
	return updateRemote(ctx, s, l, r, lv, outCreated)
}

// pushOne pushes the local record l of entity a under its lock and turns
// a failure into a failed result (see fail).
func pushOne[L, R, V any](ctx context.Context, s *session, a entity[L, R, V], l *L, force bool) (res recordResult) {
	p := a.local(l)
	unlock := s.e.locks.lock(s.tenantID, p.kind(), p.id())
	defer unlock()
	var note *mksync.PlanItem
	if s.dry {
		ctx, note = withNote(ctx, p.id())
		note.LocalID, note.LocalHash = p.id(), payloadHash(p.view())
		defer func() { res.plan = finishNote(note, res, mksync.ToMetakocka) }()
	}
	r, err := push(ctx, s, p, force)
	if err != nil {
		if q := p.again(err); q != nil {
			r, err = push(ctx, s, q, force)
		}
	}
	if err != nil {
		return s.fail(ctx, p.kind(), mksync.ToMetakocka, p.id(), p.id(), err)
	}
	return r
}

// skipped settles a record whose payload is what was last pushed: a
// pending mapping (the store marks any update pending, also one of a
// CRM-only field) becomes synced again — a store write, no Metakocka call.
func (s *session) skipped(ctx context.Context, m mksync.Mapping) (recordResult, error) {
	// Failed with the payload last pushed: Metakocka has it (a pushed hash
	// is kept only once Metakocka accepted it), so the failure came after
	// the write — e.g. a lost database connection while the mapping was
	// being saved, whose commit may have gone through. Left failed, the
	// record would never be pushed again to clear it.
	if m.State == mksync.StatePending || m.State == mksync.StateFailed {
		m.State, m.LastError = mksync.StateSynced, ""
		if err := s.saveMapping(ctx, &m); err != nil {
			return recordResult{}, err
		}
	}
	return recordResult{out: outSkipped}, nil
}

// markDeletedInMetakocka marks the mapping m, whose Metakocka record is
// gone, deleted in Metakocka: the record is not created again.
func (s *session) markDeletedInMetakocka(ctx context.Context, m mksync.Mapping) (recordResult, error) {
	m.State, m.LastError = mksync.StateDeletedInMetakocka, ""
	if err := s.saveMapping(ctx, &m); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: outSkipped}, nil
}
