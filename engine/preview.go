package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/mksync/mksync"
)

// A preview (a dry-run sync run, mksync.SyncRun.DryRun) runs the very push
// and pull that a real run does, on a session whose dry flag is set: the
// decisions are the same code, and every write is a hook that, on a dry
// session, notes what it would do in the record's plan item instead of
// writing (saveMapping, the error records, applyLocal, createLocal,
// adoptRemote, updateRemote and the create of push). Metakocka is only
// read.

// noteKey carries the plan item of the record being decided.
type noteKey struct{}

// withNote starts the plan item of one record (key: its local id on a
// push, its mk_id on a pull).
func withNote(ctx context.Context, key string) (context.Context, *mksync.PlanItem) {
	n := &mksync.PlanItem{Key: key}
	return context.WithValue(ctx, noteKey{}, n), n
}

// noteOf is the plan item being decided, or a throwaway one (a dependency
// decided inside another record's decision keeps its own).
func noteOf(ctx context.Context) *mksync.PlanItem {
	if n, ok := ctx.Value(noteKey{}).(*mksync.PlanItem); ok {
		return n
	}
	return &mksync.PlanItem{}
}

// finishNote completes the plan item n of a record decided with result r
// in direction dir: its action follows the outcome unless a hook set it.
func finishNote(n *mksync.PlanItem, r recordResult, dir mksync.Direction) *mksync.PlanItem {
	if n.Action == "" || r.out == outFailed {
		n.Action = planAction(r.out, dir)
	}
	if r.out == outFailed && n.Reason == "" {
		n.Reason = r.rec.Error
	}
	return n
}

// planAction is the plan action of an outcome.
func planAction(o outcome, dir mksync.Direction) mksync.PlanAction {
	switch o {
	case outCreated:
		if dir == mksync.ToMetakocka {
			return mksync.PlanCreateThere
		}
		return mksync.PlanCreateHere
	case outUpdated:
		if dir == mksync.ToMetakocka {
			return mksync.PlanUpdateThere
		}
		return mksync.PlanUpdateHere
	case outLinked:
		return mksync.PlanLink
	case outConflict:
		return mksync.PlanConflict
	case outAmbiguous:
		return mksync.PlanAmbiguous
	case outFailed:
		return mksync.PlanFail
	}
	return mksync.PlanSkip
}

// dryCopy is a dry session beside s (same tenant, client and settings):
// applying a plan decides each record on it first. It shares s's
// catalogue index; its stock reads are its own.
func (s *session) dryCopy() *session {
	return &session{e: s.e, tenantID: s.tenantID, settings: s.settings, mk: s.mk, createNew: s.createNew,
		barcodes: s.barcodes, claims: s.claims, dry: true}
}

// applyLocal writes Metakocka's version rv (snapshot rs) of r onto the
// local record p; on a dry session it notes the change instead.
func applyLocal[R, V any](ctx context.Context, s *session, p local[R, V], rv V, r *R, rs snapshot) error {
	if !s.dry {
		return p.apply(ctx, rv, r, rs)
	}
	n := noteOf(ctx)
	lv := p.view()
	n.LocalID, n.MetakockaID = p.id(), p.ident(r).mkID
	n.LocalHash, n.RemoteHash = payloadHash(lv), rs.hash
	n.Changes = diffViews(lv, rv)
	return nil
}

// linkLocal links the unmapped Metakocka record r to the local record p it
// belongs to and writes r over it (a pull that found its CRM record).
func linkLocal[R, V any](ctx context.Context, s *session, p local[R, V], rv V, r *R, rs snapshot) error {
	if s.dry {
		noteOf(ctx).Action = mksync.PlanLink
	}
	return applyLocal(ctx, s, p, rv, r, rs)
}

// createLocal creates the CRM record of r (view rv, snapshot rs); on a
// dry session it notes the new record's fields instead and returns "".
func createLocal[L, R, V any](ctx context.Context, s *session, a entity[L, R, V], rv V, r *R, rs snapshot) (string, error) {
	if !s.dry {
		return a.create(ctx, rv, r, rs)
	}
	n := noteOf(ctx)
	n.MetakockaID, n.RemoteHash = a.ident(r).mkID, rs.hash
	n.Changes = diffViews(nil, rv)
	return "", nil
}

// adoptRemote maps l to the existing Metakocka record r (matched by key),
// updating r when it differs; on a dry session it notes the link and the
// fields the update would change.
func adoptRemote[R, V any](ctx context.Context, s *session, l local[R, V], r *R, key string) (recordResult, error) {
	if !s.dry {
		return l.adopt(ctx, r)
	}
	rv, err := l.remote(ctx, r)
	if err != nil {
		return recordResult{}, err
	}
	n := noteOf(ctx)
	lv := l.view()
	n.Action, n.MatchedBy = mksync.PlanLink, key
	n.LocalID, n.MetakockaID = l.id(), l.ident(r).mkID
	n.LocalHash, n.RemoteHash = payloadHash(lv), payloadHash(rv)
	n.Changes = diffViews(rv, lv)
	return recordResult{out: outCreated}, nil
}

// planUpdateRemote notes, on a dry session, the update of r by the local
// record l (view lv) that updateRemote would send.
func planUpdateRemote[R, V any](ctx context.Context, l local[R, V], r *R, lv snapshot, out outcome) (recordResult, error) {
	rv, err := l.remote(ctx, r)
	if err != nil {
		return recordResult{}, err
	}
	n := noteOf(ctx)
	n.LocalID, n.MetakockaID = l.id(), l.ident(r).mkID
	n.LocalHash, n.RemoteHash = lv.hash, payloadHash(rv)
	n.Changes = diffViews(rv, l.view())
	return recordResult{out: out}, nil
}

// planMerged notes, on a dry session, the merge of a record changed on
// both sides (writeMerged): the merged view mv and the changes it makes on
// the side the sync goes to (Metakocka on a push, the CRM on a pull).
func planMerged[R, V any](ctx context.Context, l local[R, V], lv snapshot, r *R, rv V, rs snapshot, mv V, dir mksync.Direction) {
	n := noteOf(ctx)
	n.LocalID, n.MetakockaID = l.id(), l.ident(r).mkID
	n.LocalHash, n.RemoteHash = lv.hash, rs.hash
	if dir == mksync.ToMetakocka {
		n.Changes = diffViews(rv, mv)
	} else {
		n.Changes = diffViews(l.view(), mv)
	}
}

// planCreateRemote notes, on a dry session, the create of l in Metakocka.
func planCreateRemote[R, V any](ctx context.Context, l local[R, V], lv snapshot) (recordResult, error) {
	n := noteOf(ctx)
	n.LocalID, n.LocalHash = l.id(), lv.hash
	n.Changes = diffViews(nil, l.view())
	return recordResult{out: outCreated}, nil
}

// noteMatches notes the candidates of an ambiguous match.
func noteMatches(ctx context.Context, ids, keys []string) {
	n := noteOf(ctx)
	n.Candidates = slices.Clone(ids)
	if len(keys) > 0 {
		n.MatchedBy = keys[0]
	}
}

// diffViews lists the fields whose values differ between old (what the
// target side holds; nil for a record to be created) and new (what it
// would get), as flattened JSON paths ("lines[0].quantity") in order.
func diffViews(old, new any) []mksync.FieldChange {
	o, nw := flatView(old), flatView(new)
	keys := make([]string, 0, len(nw))
	for k := range nw {
		keys = append(keys, k)
	}
	for k := range o {
		if _, ok := nw[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []mksync.FieldChange
	for _, k := range keys {
		if o[k] != nw[k] {
			out = append(out, mksync.FieldChange{Field: k, Old: o[k], New: nw[k]})
		}
	}
	return out
}

// flatView flattens a view's JSON into path → value; empty values are
// left out (a new record's empty fields change nothing).
func flatView(v any) map[string]string {
	out := map[string]string{}
	if v == nil {
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var x any
	if json.Unmarshal(b, &x) != nil {
		return out
	}
	flatten("", x, out)
	return out
}

func flatten(prefix string, x any, out map[string]string) {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, v, out)
		}
	case []any:
		for i, v := range t {
			flatten(prefix+"["+strconv.Itoa(i)+"]", v, out)
		}
	case nil:
	case string:
		if t != "" {
			out[prefix] = t
		}
	case bool:
		if t {
			out[prefix] = "true"
		}
	default:
		if s := fmt.Sprint(t); s != "0" {
			out[prefix] = s
		}
	}
}

// planned is, in a preview, the mapping a dependency (a document's partner
// or product) would get once created first: its id stands in for the one
// the create would return, so that the document can still be decided.
func planned(et mksync.EntityType, id string) mksync.Mapping {
	return mksync.Mapping{EntityType: et, EntityID: id, MetakockaID: "(new " + string(et) + " " + id + ")"}
}

// openConflictItem is the item of a bulk push for the record id whose
// mapping m holds an open conflict: decided without a call, and listed in
// a preview's plan as needing a decision.
func (s *session) openConflictItem(id string, m mksync.Mapping) item {
	it := doneItem(id, outConflict)
	if s.dry {
		it.done.plan = &mksync.PlanItem{Key: id, LocalID: id, MetakockaID: m.MetakockaID, Action: mksync.PlanConflict,
			Reason: "an open conflict: sync the record explicitly in the direction to keep"}
	}
	return it
}

// applyPlanned syncs the record key (a local id to Metakocka, an mk_id
// from it) of the plan of the preview planRunID, as that plan said: it is
// decided again on a dry session first, and synced only when the decision
// and the state of both sides are the ones the preview saw. Otherwise
// nothing is written and the record fails with code conflict, naming the
// planned and the new decision (preview again to see it whole).
func (s *session) applyPlanned(ctx context.Context, et mksync.EntityType, dir mksync.Direction, planRunID, key string) recordResult {
	planned, err := s.e.store.FindPlanItem(ctx, s.tenantID, planRunID, key)
	if err != nil {
		return s.fail(ctx, et, dir, key, "", fmt.Errorf("read plan of preview %s: %w", planRunID, err))
	}
	if planned.Action == mksync.PlanDeleteThere {
		return s.applyPlannedDelete(ctx, et, planned)
	}
	d, force := s.dryCopy(), planned.Forced
	var fresh recordResult
	if dir == mksync.ToMetakocka {
		fresh = d.pushByID(ctx, et, key, force)
	} else {
		fresh = d.pullByMkID(ctx, et, key, force)
	}
	if fresh.interrupted {
		return fresh
	}
	if fresh.plan == nil || !samePlan(planned, *fresh.plan) {
		now := mksync.PlanFail
		if fresh.plan != nil {
			now = fresh.plan.Action
		}
		return s.fail(ctx, et, dir, key, "", mksync.Errorf(mksync.ECONFLICT,
			"changed since the preview (planned %s, now %s): not applied; preview again", planned.Action, now))
	}
	if dir == mksync.ToMetakocka {
		return s.pushByID(ctx, et, key, force)
	}
	return s.pullByMkID(ctx, et, key, force)
}

// samePlan reports whether a record decided again (b) would do what the
// preview planned (a) from the same state of both sides.
func samePlan(a, b mksync.PlanItem) bool {
	return a.Action == b.Action && a.MetakockaID == b.MetakockaID && a.LocalHash == b.LocalHash &&
		a.RemoteHash == b.RemoteHash && slices.Equal(a.Candidates, b.Candidates)
}
