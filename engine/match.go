package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"

	"github.com/mksync/mksync"
)

// candidate is a record on the other side that matches a record about to
// be created by a strong key (docs/mapping.md, "Matching before creating").
type candidate[R any] struct {
	r    R
	mkID string
	// key names the rule that matched: "tax number", "e-mail", "code", …
	key string
}

// matcher is the matching hook of a record about to be created in
// Metakocka: the adapters say which strong keys they look up, the shared
// push decides (matchPlan). Kept apart from the writes so that a dry run can
// call it and write nothing.
type matcher[R any] interface {
	// match returns the Metakocka records that share a strong key with
	// the record, in rule order; weak keys (name, post number) never count.
	match(ctx context.Context) ([]candidate[R], error)
}

// matchDecision is what matching decides for one record.
type matchDecision int

const (
	matchNone      matchDecision = iota // no candidate: create
	matchOne                            // exactly one: link to it
	matchAmbiguous                      // two or more: left for a person
)

// matchPlan runs l's matching and drops candidates already linked to
// another record of the tenant (each Metakocka record maps to one CRM
// record). It writes nothing.
func matchPlan[R, V any](ctx context.Context, s *session, l local[R, V]) (matchDecision, []candidate[R], error) {
	m, ok := l.(matcher[R])
	if !ok {
		return matchNone, nil, nil
	}
	found, err := m.match(ctx)
	if err != nil {
		return matchNone, nil, err
	}
	var out []candidate[R]
	for _, c := range found {
		if slices.ContainsFunc(out, func(o candidate[R]) bool { return o.mkID == c.mkID }) {
			continue
		}
		om, mapped, err := s.mappingByMkID(ctx, l.kind(), c.mkID)
		if err != nil {
			return matchNone, nil, err
		}
		if mapped && om.EntityID != l.id() {
			continue
		}
		out = append(out, c)
	}
	switch len(out) {
	case 0:
		return matchNone, nil, nil
	case 1:
		return matchOne, out, nil
	}
	return matchAmbiguous, out, nil
}

// linkMatched maps l to the one Metakocka record that matched it. A push
// carries the CRM's content: the record is updated when it differs.
func linkMatched[R, V any](ctx context.Context, s *session, l local[R, V], c *candidate[R]) (recordResult, error) {
	res, err := adoptRemote(ctx, s, l, &c.r, c.key)
	if err != nil {
		return res, fmt.Errorf("link to %s %s matched by %s: %w", l.kind(), c.mkID, c.key, err)
	}
	if res.out == outCreated {
		res.out = outLinked
	}
	return res, nil
}

// markAmbiguous records that the record localID matched several records
// on the other side (recordAmbiguous) and gives it an ambiguous mapping
// naming the error record, so that the record is listed for a person and
// neither linked nor created until one decides.
func (s *session) markAmbiguous(ctx context.Context, et mksync.EntityType, dir mksync.Direction, localID string, m mksync.Mapping, mkIDs, keys []string) (recordResult, error) {
	errorID, err := s.recordAmbiguous(ctx, et, dir, localID, mkIDs, keys)
	if err != nil {
		return recordResult{}, err
	}
	m.EntityType, m.EntityID, m.MetakockaID = et, localID, ""
	m.State, m.LastError = mksync.StateAmbiguous, errorID
	if err := s.saveMapping(ctx, &m); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: outAmbiguous}, nil
}

// recordAmbiguous writes the error record (code conflict) of a record
// (key: a local id, or an mk_id on a pull) that matched the records ids
// on the other side by keys, and returns its errorId.
func (s *session) recordAmbiguous(ctx context.Context, et mksync.EntityType, dir mksync.Direction, key string, ids, keys []string) (string, error) {
	if s.dry {
		noteMatches(ctx, ids, keys)
		return "", nil
	}
	msg := fmt.Sprintf("%s %s matches %d records on the other side (%s): link one by hand, or create a new one on purpose",
		et, key, len(ids), strings.Join(ids, ", "))
	er := mksync.ErrorRecord{
		Category: "SYNC", Operation: operation(et, dir), EntityID: key, Code: mksync.ECONFLICT, Message: msg,
		Details:   map[string]any{"entityType": string(et), "direction": string(dir), "candidates": ids, "keys": keys},
		CreatedAt: s.e.clock.Now(),
	}
	if err := s.e.store.CreateErrorRecord(context.WithoutCancel(ctx), s.tenantID, &er); err != nil {
		return "", fmt.Errorf("record ambiguous match of %s %s: %w", et, key, err)
	}
	s.e.log.LogAttrs(ctx, slog.LevelInfo, "ambiguous match left for a person",
		slog.String("tenant_id", s.tenantID), slog.String("entity_type", string(et)),
		slog.String("entity_id", key), slog.String("error_id", er.ID), slog.Int("candidates", len(ids)))
	return er.ID, nil
}

// ambiguousError is a pulled record that matched several CRM records.
type ambiguousError struct {
	ids  []string // the CRM records' ids
	keys []string
}

func (e *ambiguousError) Error() string {
	return fmt.Sprintf("matches %d CRM records (%s)", len(e.ids), strings.Join(e.ids, ", "))
}

// candidateIDs lists the mk_ids and matching keys of cs.
func candidateIDs[R any](cs []candidate[R]) (ids, keys []string) {
	for _, c := range cs {
		ids, keys = append(ids, c.mkID), append(keys, c.key)
	}
	return ids, keys
}

// TaxKey normalises a tax number for matching: spaces, dots, dashes and
// case do not matter, and a two-letter country prefix equal to the home
// country (home, e.g. "SI") is dropped, so that "SI 12345678",
// "si12345678" and "12.345.678" are one key for a Slovenian partner. A
// foreign prefix is kept ("HR123…" is not "123…"). "" for no digits.
func TaxKey(v, home string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(v) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	k := b.String()
	if !strings.ContainsFunc(k, unicode.IsDigit) {
		return ""
	}
	if h := strings.ToUpper(home); len(k) > 2 && h != "" && strings.HasPrefix(k, h) {
		k = k[len(h):]
	}
	return k
}

// EmailKey normalises an e-mail address for matching: case and
// surrounding space do not matter.
func EmailKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }
