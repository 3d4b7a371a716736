package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
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
// record). A candidate that another record of this session (a run) has
// matched and linked (claims) is not dropped but makes the match
// ambiguous, with why naming the other record: two CRM records that are
// the same Metakocka record are left for a person rather than linked
// twice or created again. On a single match the record claims its
// candidate. It writes nothing.
func matchPlan[R, V any](ctx context.Context, s *session, l local[R, V]) (d matchDecision, out []candidate[R], why string, err error) {
	m, ok := l.(matcher[R])
	if !ok {
		return matchNone, nil, "", nil
	}
	found, err := m.match(ctx)
	if err != nil {
		return matchNone, nil, "", err
	}
	var taken []string
	for _, c := range found {
		if slices.ContainsFunc(out, func(o candidate[R]) bool { return o.mkID == c.mkID }) {
			continue
		}
		if other := s.claims.holder(l.kind(), c.mkID); other != "" && other != l.id() {
			taken = append(taken, fmt.Sprintf("%s %s is matched by %s %s in this run", c.mkID, c.key, l.kind(), other))
			out = append(out, c)
			continue
		}
		om, mapped, err := s.mappingByMkID(ctx, l.kind(), c.mkID)
		if err != nil {
			return matchNone, nil, "", err
		}
		if mapped && om.EntityID != l.id() {
			continue
		}
		out = append(out, c)
	}
	switch {
	case len(taken) > 0:
		return matchAmbiguous, out, strings.Join(taken, "; "), nil
	case len(out) == 0:
		return matchNone, nil, "", nil
	case len(out) == 1:
		if other := s.claims.claim(l.kind(), out[0].mkID, l.id()); other != "" {
			return matchAmbiguous, out, fmt.Sprintf("%s %s is matched by %s %s in this run", out[0].mkID, out[0].key, l.kind(), other), nil
		}
		return matchOne, out, "", nil
	}
	return matchAmbiguous, out, "", nil
}

// matchClaims are the Metakocka records that records of one session (a
// run's slice) matched and linked, so that a second CRM record matching
// the same one is not linked to it too (matchPlan). A preview and the run
// applying it decide alike: applying seeds the claims from the plan's
// links (seedClaims).
type matchClaims struct {
	mu  sync.Mutex
	ids map[claimKey]string // → the local id that claimed it
}

type claimKey struct {
	et   mksync.EntityType
	mkID string
}

// holder is the local id that claimed mkID, "" when none.
func (c *matchClaims) holder(et mksync.EntityType, mkID string) string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[claimKey{et, mkID}]
}

// claim claims mkID for the local record id and returns "", or the other
// record that holds it already. A session without claims claims nothing.
func (c *matchClaims) claim(et mksync.EntityType, mkID, id string) string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[claimKey]string{}
	}
	k := claimKey{et, mkID}
	if other, ok := c.ids[k]; ok && other != id {
		return other
	}
	c.ids[k] = id
	return ""
}

// seedClaims claims, for the run applying the preview planRunID (a push),
// every Metakocka record its plan links, for the record it links it to:
// whichever record the run decides first, a second one matching the same
// Metakocka record is decided as the preview decided it (ambiguous).
func (s *session) seedClaims(ctx context.Context, et mksync.EntityType, planRunID string) error {
	for after := ""; ; {
		items, next, err := s.e.store.FindPlanItems(ctx, s.tenantID, planRunID, mksync.Page{After: after, Limit: mksync.MaxPageLimit})
		if err != nil {
			return fmt.Errorf("read plan of preview %s: %w", planRunID, err)
		}
		for _, it := range items {
			if it.Action == mksync.PlanLink && it.MetakockaID != "" {
				s.claims.claim(et, it.MetakockaID, it.Key)
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
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
func (s *session) markAmbiguous(ctx context.Context, et mksync.EntityType, dir mksync.Direction, localID string, m mksync.Mapping, mkIDs, keys, titles []string, why string) (recordResult, error) {
	errorID, err := s.recordAmbiguous(ctx, et, dir, localID, mkIDs, keys, titles, why)
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
// on the other side by keys, and returns its errorId. titles, when given,
// are the candidates' names (as ids), so that a person can pick one
// without opening each (the UI's ambiguous list shows them). why, when
// set, says why a single match is ambiguous too (another record of the
// run matched it).
func (s *session) recordAmbiguous(ctx context.Context, et mksync.EntityType, dir mksync.Direction, key string, ids, keys, titles []string, why string) (string, error) {
	msg := fmt.Sprintf("%s %s matches %d records on the other side (%s): link one by hand, or create a new one on purpose",
		et, key, len(ids), strings.Join(ids, ", "))
	if why != "" {
		msg = fmt.Sprintf("%s %s matches the records %s on the other side, and %s: link one by hand, or create a new one on purpose",
			et, key, strings.Join(ids, ", "), why)
	}
	if s.dry {
		noteMatches(ctx, ids, keys)
		noteOf(ctx).Reason = msg
		return "", nil
	}
	er := mksync.ErrorRecord{
		Category: "SYNC", Operation: operation(et, dir), EntityID: key, Code: mksync.ECONFLICT, Message: msg,
		Details:   map[string]any{"entityType": string(et), "direction": string(dir), "candidates": ids, "keys": keys},
		CreatedAt: s.e.clock.Now(),
	}
	if len(titles) == len(ids) {
		er.Details["titles"] = titles
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

// numberKey names the documents' second matching rule.
const numberKey = "number + partner + date"

// linkByNumber finds the CRM documents of md's kind with its number (its
// count_code), partner (through the contact mapping: the partner is pulled
// first) and date, through the store's index; see linkFree.
func (a documents) linkByNumber(ctx context.Context, md *metakocka.Document) (*mksync.SalesDocument, string, error) {
	if md.CountCode == "" || md.Partner == nil || md.Partner.MkID == "" {
		return nil, "", nil
	}
	kind, err := docKind(md.DocType)
	if err != nil {
		return nil, "", err
	}
	contactID, ok, err := a.s.localIDByMkID(ctx, mksync.EntityContact, md.Partner.MkID)
	if err != nil || !ok {
		return nil, "", err
	}
	day, err := parseMkDate(md.DocDate)
	if err != nil || day == "" {
		return nil, "", err
	}
	date, err := mksync.ParseDate(day)
	if err != nil {
		return nil, "", err
	}
	ids, err := a.s.e.store.FindSalesDocumentIDsByNumber(ctx, a.s.tenantID, md.CountCode, contactID, date)
	if err != nil {
		return nil, "", fmt.Errorf("find sales documents by number %s: %w", md.CountCode, err)
	}
	var found []mksync.SalesDocument
	for _, id := range ids {
		d, err := a.s.e.store.FindSalesDocumentByID(ctx, a.s.tenantID, id)
		if err != nil {
			return nil, "", fmt.Errorf("read sales document %s: %w", id, err)
		}
		if d.Kind == kind {
			found = append(found, d)
		}
	}
	return linkFree(ctx, a.s, mksync.EntitySalesDocument, numberKey, found, func(d *mksync.SalesDocument) string { return d.ID })
}

// match finds the Metakocka documents that are this document by number +
// partner + date: a search of each type it may have by its number (query,
// Metakocka's search field) within its date (doc_date_from and
// doc_date_to, as search_examples.md shows them), keeping those with
// exactly this count_code, partner and date. A document without a number
// has no such key (its count_code is mksync's, looked up on a retry). It
// needs prepare (the partner's mk_id and the types).
func (l *documentLocal) match(ctx context.Context) ([]candidate[metakocka.Document], error) {
	if l.d.Number == "" || l.refs.partner == "" {
		return nil, nil
	}
	day := l.d.Date.Format("02.01.2006")
	var out []candidate[metakocka.Document]
	for _, t := range l.types {
		page, err := l.s.mk.Search(ctx, metakocka.SearchRequest{DocType: t, Query: l.d.Number, FullDocuments: true,
			QueryAdvance: []metakocka.QueryParam{{Type: "doc_date_from", Value: day}, {Type: "doc_date_to", Value: day}}})
		if err != nil {
			return nil, fmt.Errorf("match document by number %s: search %s: %w", l.d.Number, t, err)
		}
		for _, d := range page.Results {
			if date, _ := parseMkDate(d.DocDate); d.CountCode != l.d.Number || d.Partner == nil ||
				d.Partner.MkID != l.refs.partner || date != l.d.Date.String() {
				continue
			}
			if d.DocType == "" {
				d.DocType = t
			}
			out = append(out, candidate[metakocka.Document]{r: d, mkID: d.MkID, key: numberKey})
		}
	}
	return out, nil
}

// barcodeIndex maps barcodes to the mk_ids of the company's products.
// Metakocka documents no barcode filter (product_list filters by
// count_code, mk_id and code, search_with_like by count_code, code and
// title), so the one documented way to find a product by barcode is to read
// the catalogue: once per session (a run's slice, or one sync), and only
// when a product to create has a barcode that its code did not match.
type barcodeIndex struct {
	mu    sync.Mutex
	ready bool
	ids   map[string][]string
}

// productsByBarcode returns the mk_ids of the company's products with
// this barcode, reading the catalogue the first time (see barcodeIndex).
func (s *session) productsByBarcode(ctx context.Context, barcode string) ([]string, error) {
	x := s.barcodes
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.ready {
		ids := map[string][]string{}
		for p, err := range s.mk.Products(ctx, metakocka.ProductListRequest{}) {
			if err != nil {
				return nil, fmt.Errorf("read the catalogue for barcodes: %w", err)
			}
			if p.Barcode != "" {
				ids[p.Barcode] = append(ids[p.Barcode], p.MkID)
			}
		}
		x.ids, x.ready = ids, true
	}
	return x.ids[barcode], nil
}

// linkFree decides a pull-side match by key over the CRM records found:
// those already linked to a Metakocka record are dropped; the one left is
// linked, several are an ambiguousError, none is no match.
func linkFree[L any](ctx context.Context, s *session, et mksync.EntityType, key string, found []L, id func(*L) string) (*L, string, error) {
	var free []*L
	for i := range found {
		m, mapped, err := s.mapping(ctx, et, id(&found[i]))
		if err != nil {
			return nil, "", err
		}
		if !mapped || m.MetakockaID == "" {
			free = append(free, &found[i])
		}
	}
	switch len(free) {
	case 0:
		return nil, "", nil
	case 1:
		return free[0], id(free[0]), nil
	}
	amb := &ambiguousError{}
	for _, l := range free {
		amb.ids, amb.keys = append(amb.ids, id(l)), append(amb.keys, key)
	}
	return nil, "", amb
}

// candidateIDs lists the mk_ids, matching keys and titles of cs.
func candidateIDs[R any](cs []candidate[R]) (ids, keys, titles []string) {
	for _, c := range cs {
		ids, keys, titles = append(ids, c.mkID), append(keys, c.key), append(titles, candidateTitle(c.r))
	}
	return ids, keys, titles
}

// candidateTitle is a human label of a Metakocka candidate: a partner's
// name, a product's code and name (as in ListNotInCRM).
func candidateTitle(r any) string {
	switch v := r.(type) {
	case metakocka.Partner:
		return v.Customer
	case metakocka.Product:
		return strings.TrimSpace(v.Code + " " + v.Name)
	case metakocka.Document:
		return v.CountCode
	}
	return ""
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

// TaxSearchForms are the forms a tax number is asked for in get_partner,
// each once: the bare key, with the home prefix, with the home prefix and
// a space ("SI 12345678", as companies often type it) and as typed.
// get_partner.md does not say how Metakocka compares tax numbers, so
// mksync does not rely on it ignoring spaces or case; the answers are
// filtered by TaxKey. A key with a foreign prefix is asked for bare (the
// prefix included) and as typed. Empty for no digits.
func TaxSearchForms(tax, home string) []string {
	key := TaxKey(tax, home)
	if key == "" {
		return nil
	}
	forms := []string{key}
	if strings.IndexFunc(key, unicode.IsLetter) != 0 && home != "" {
		h := strings.ToUpper(home)
		forms = append(forms, h+key, h+" "+key)
	}
	if typed := strings.TrimSpace(tax); !slices.Contains(forms, typed) {
		forms = append(forms, typed)
	}
	return forms
}

// EmailKey normalises an e-mail address for matching: case and
// surrounding space do not matter.
func EmailKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }
