package engine

import (
	"context"
	"time"

	"github.com/mksync/mksync"
)

// merged is a three-way merge of a record changed on both sides since the
// last sync: the fields each side changed are taken from it; a field both
// sides changed to different values is a conflict, settled by the policy.
type merged struct {
	fields    fields
	conflicts []fieldConflict
	// fromCRM and fromMetakocka name the fields taken from each side.
	fromCRM, fromMetakocka []string
}

// fieldConflict is one field changed on both sides to different values.
type fieldConflict struct {
	field          string
	crm, metakocka []byte // the JSON values; nil when empty
}

// merge3 merges the CRM's fields l and Metakocka's r against the synced
// fields: base is the CRM's view at the last sync, remoteBase Metakocka's
// (the same unless Metakocka kept a field an update sent empty). A field
// neither side changed keeps the CRM's value.
func merge3(base, remoteBase, l, r fields) merged {
	m := merged{fields: fields{}}
	for _, k := range names(base, remoteBase, l, r) {
		lc, rc := !l.same(base, k), !r.same(remoteBase, k)
		v := l[k]
		switch {
		case rc && !lc:
			v = r[k]
			m.fromMetakocka = append(m.fromMetakocka, k)
		case lc && !rc:
			m.fromCRM = append(m.fromCRM, k)
		case lc && rc && !l.same(r, k):
			m.conflicts = append(m.conflicts, fieldConflict{field: k, crm: l[k], metakocka: r[k]})
		}
		if v != nil {
			m.fields[k] = v
		}
	}
	return m
}

// mergeNoBase is what is known of a record changed on both sides whose
// mapping has no synced fields (linked by hand, or saved before mksync
// kept them): every field that differs is a conflict, as before.
func mergeNoBase(l, r fields) merged {
	m := merged{fields: fields{}}
	for k, v := range l {
		m.fields[k] = v
	}
	for _, c := range diffFields(l, r) {
		m.conflicts = append(m.conflicts, fieldConflict{field: c.Field, crm: c.Old, metakocka: c.New})
	}
	return m
}

// take settles every conflict for w's side.
func (m *merged) take(w winner) {
	for _, c := range m.conflicts {
		v := c.crm
		if w == winMetakocka {
			v = c.metakocka
		}
		if v == nil {
			delete(m.fields, c.field)
		} else {
			m.fields[c.field] = v
		}
	}
}

// mergeOf merges the local view lv and Metakocka's rv against the synced
// fields of mapping mp.
func mergeOf(mp mksync.Mapping, lv, rv snapshot) (merged, error) {
	l, err := fieldsOf(lv.js)
	if err != nil {
		return merged{}, err
	}
	r, err := fieldsOf(rv.js)
	if err != nil {
		return merged{}, err
	}
	if mp.SyncedView == "" {
		return mergeNoBase(l, r), nil
	}
	base, err := fieldsOf(mp.SyncedView)
	if err != nil {
		return merged{}, err
	}
	remoteBase := base
	if mp.SyncedRemoteView != "" {
		if remoteBase, err = fieldsOf(mp.SyncedRemoteView); err != nil {
			return merged{}, err
		}
	}
	return merge3(base, remoteBase, l, r), nil
}

// timed is a local record that can tell when Metakocka last changed its
// record when the record read does not say (a document found by search
// carries no document_info).
type timed[R any] interface {
	remoteChanged(ctx context.Context, r *R) (time.Time, error)
}

// bothChanged settles a record whose CRM view lv and Metakocka view rv
// (record r) both moved since the last sync m, in a push (dir ToMetakocka)
// or a pull. The fields each side changed are kept; a field both changed
// to different values is a conflict, settled by the tenant's policy (an
// explicit sync settles it for its own direction's source). The merged
// record goes to Metakocka with one update and to the CRM in one
// transaction; the conflict, if any, is recorded with its fields.
func bothChanged[R, V any](ctx context.Context, s *session, l local[R, V], m mksync.Mapping, lv snapshot, r *R, rv V, rs snapshot, dir mksync.Direction, force bool) (recordResult, error) {
	mg, err := mergeOf(m, lv, rs)
	if err != nil {
		return recordResult{}, err
	}
	out, w := outUpdated, winNone
	if len(mg.conflicts) > 0 {
		out = outConflict
		w, err = conflictWinner(ctx, s, l, r, dir, force)
		if err != nil {
			return recordResult{}, err
		}
		if w == winNone {
			return s.recordConflict(ctx, l.kind(), dir, l.id(), l.ident(r).mkID, w, force, mg.conflicts), nil
		}
		mg.take(w)
	}
	if err := writeMerged(ctx, s, l, lv, r, rv, rs, mg.fields, dir); err != nil {
		return recordResult{}, err
	}
	if out == outConflict {
		return s.recordConflict(ctx, l.kind(), dir, l.id(), l.ident(r).mkID, w, force, mg.conflicts), nil
	}
	return recordResult{out: out}, nil
}

// conflictWinner is the side whose values the conflicting fields keep.
func conflictWinner[R, V any](ctx context.Context, s *session, l local[R, V], r *R, dir mksync.Direction, force bool) (winner, error) {
	switch {
	case force && dir == mksync.ToMetakocka:
		return winCRM, nil
	case force:
		return winMetakocka, nil
	}
	changed := l.ident(r).changed
	if t, ok := l.(timed[R]); ok && changed.IsZero() && s.settings.ConflictPolicy == mksync.NewestWins {
		var err error
		if changed, err = t.remoteChanged(ctx, r); err != nil {
			return winNone, err
		}
	}
	return s.decide(l.changed(), changed), nil
}

// writeMerged writes the merged fields f where they are not held yet:
// Metakocka with one update (what it holds afterwards is the next base),
// then the CRM record and its mapping in one transaction.
func writeMerged[R, V any](ctx context.Context, s *session, l local[R, V], lv snapshot, r *R, rv V, rs snapshot, f fields, dir mksync.Direction) error {
	mv, err := viewFrom[V](f)
	if err != nil {
		return err
	}
	if s.dry {
		planMerged(ctx, l, lv, r, rv, rs, mv, dir)
		return nil
	}
	ms := snap(mv)
	if ms.hash == rs.hash {
		if ms.hash == lv.hash {
			id := l.ident(r)
			nm := s.synced(l.kind(), l.id(), id.mkID, id.countCode, lv, rs)
			return s.saveMapping(ctx, &nm)
		}
		return l.apply(ctx, rv, r, rs)
	}
	q := l
	if ms.hash != lv.hash {
		if q, err = l.withView(mv); err != nil {
			return err
		}
	}
	if ms.hash != lv.hash || dir == mksync.FromMetakocka {
		// A pull has not resolved the partner and products yet; a merged
		// document may name ones the local record does not.
		if err := q.prepare(ctx); err != nil {
			return err
		}
	}
	pulled, err := q.update(ctx, r)
	if err != nil {
		return err
	}
	ps := snap(pulled)
	if ms.hash == lv.hash {
		id := l.ident(r)
		nm := s.synced(l.kind(), l.id(), id.mkID, id.countCode, lv, ps)
		return s.saveMapping(ctx, &nm)
	}
	return l.apply(ctx, mv, r, ps)
}
