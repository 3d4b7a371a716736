package mkfake

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// company is one Metakocka company: its credentials, data, fault settings
// and search queue. Data of different companies never meet.
type company struct {
	id string

	secretMu sync.RWMutex
	secret   string

	// searchSem serialises the company's search requests (capacity 1).
	searchSem chan struct{}

	faultMu sync.Mutex
	fault   faultState

	// mu guards everything below.
	mu sync.Mutex
	// idPrefix and seq make mk_ids: idPrefix followed by seq, zero-padded to
	// eight digits ("16" + "00000042"); one sequence for every record kind,
	// as Metakocka's ids come from one sequence.
	idPrefix string
	seq      uint64
	// codeSeq counts generated count_codes per record kind.
	codeSeq map[string]uint64

	partners      []*partnerRec // creation order
	partnerByID   map[string]*partnerRec
	partnerByCode map[string]*partnerRec
	partnerByTax  *multiIndex[partnerRec]
	partnerByMail *multiIndex[partnerRec]
	partnerByTel  *multiIndex[partnerRec]
	partnerByAddr *multiIndex[partnerRec] // customer|street|post_number, lower case

	products      []*productRec // ascending seq (= mk_id order)
	productByID   map[string]*productRec
	productByCode map[string]*productRec // count_code
	productByItem map[string]*productRec // code (šifra)
	warehouses    []*Warehouse           // the order added; the first is the main one

	docByID    map[string]*docRec
	docsByType map[string][]*docRec           // ascending seq
	docByCode  map[string]map[string]*docRec  // doc_type → count_code
	docByOrder map[string]*multiIndex[docRec] // doc_type → buyer_order
	changeLog  map[string][]changeEntry       // doc_type → changes in time order
	logSorted  map[string]bool                // false once the clock went backwards
}

func newCompany(id, secret string) *company {
	prefix := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, id)
	if prefix == "" {
		prefix = "9"
	}
	if len(prefix) > 6 {
		prefix = prefix[:6]
	}
	return &company{
		id:            id,
		secret:        secret,
		searchSem:     make(chan struct{}, 1),
		idPrefix:      prefix,
		codeSeq:       map[string]uint64{},
		partnerByID:   map[string]*partnerRec{},
		partnerByCode: map[string]*partnerRec{},
		partnerByTax:  newMultiIndex[partnerRec](),
		partnerByMail: newMultiIndex[partnerRec](),
		partnerByTel:  newMultiIndex[partnerRec](),
		partnerByAddr: newMultiIndex[partnerRec](),
		productByID:   map[string]*productRec{},
		productByCode: map[string]*productRec{},
		productByItem: map[string]*productRec{},
		docByID:       map[string]*docRec{},
		docsByType:    map[string][]*docRec{},
		docByCode:     map[string]map[string]*docRec{},
		docByOrder:    map[string]*multiIndex[docRec]{},
		changeLog:     map[string][]changeEntry{},
		logSorted:     map[string]bool{},
	}
}

func (c *company) secretKey() string {
	c.secretMu.RLock()
	defer c.secretMu.RUnlock()
	return c.secret
}

// nextID returns a new mk_id and its sequence number. Callers hold c.mu.
func (c *company) nextID() (string, uint64) {
	c.seq++
	return fmt.Sprintf("%s%08d", c.idPrefix, c.seq), c.seq
}

// nextCode returns a generated count_code for kind, skipping codes for
// which taken reports true. Callers hold c.mu.
func (c *company) nextCode(kind, format string, start uint64, taken func(string) bool) string {
	for {
		n := c.codeSeq[kind]
		if n == 0 {
			n = start
		}
		c.codeSeq[kind] = n + 1
		code := fmt.Sprintf(format, n)
		if !taken(code) {
			return code
		}
	}
}

// snapshot returns f of each record list(c) gives, under the company's
// lock; nil for an unknown company.
func snapshot[R, T any](s *Server, companyID string, list func(*company) []*R, f func(*R) T) []T {
	c := s.company(companyID)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := list(c)
	out := make([]T, len(recs))
	for i, r := range recs {
		out[i] = f(r)
	}
	return out
}

// multiIndex maps a key to the records that have it, in insertion order.
// Most keys name one record (a tax number, an e-mail address), so those
// are kept without a slice of their own: a catalogue of 100,000 partners
// has 100,000 keys in each index. Reads work on a nil index.
type multiIndex[T any] struct {
	one  map[string]*T   // keys with exactly one record
	more map[string][]*T // keys with two or more
}

func newMultiIndex[T any]() *multiIndex[T] {
	return &multiIndex[T]{one: map[string]*T{}, more: map[string][]*T{}}
}

func (ix *multiIndex[T]) add(key string, r *T) {
	if key == "" {
		return
	}
	if list, ok := ix.more[key]; ok {
		ix.more[key] = append(list, r)
		return
	}
	if first, ok := ix.one[key]; ok {
		delete(ix.one, key)
		ix.more[key] = []*T{first, r}
		return
	}
	ix.one[key] = r
}

func (ix *multiIndex[T]) remove(key string, r *T) {
	if ix == nil || key == "" {
		return
	}
	if ix.one[key] == r {
		delete(ix.one, key)
		return
	}
	list, ok := ix.more[key]
	if !ok {
		return
	}
	if i := slices.Index(list, r); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	switch len(list) {
	case 0:
		delete(ix.more, key)
	case 1:
		delete(ix.more, key)
		ix.one[key] = list[0]
	default:
		ix.more[key] = list
	}
}

// all returns the records with key, oldest first; the caller must not
// change the slice.
func (ix *multiIndex[T]) all(key string) []*T {
	if ix == nil || key == "" {
		return nil
	}
	if r, ok := ix.one[key]; ok {
		return []*T{r}
	}
	return ix.more[key]
}

func (ix *multiIndex[T]) first(key string) *T {
	if list := ix.all(key); len(list) > 0 {
		return list[0]
	}
	return nil
}

// changeEntry records that a document changed at a time; entries whose
// changeSeq is no longer the document's are stale and skipped.
type changeEntry struct {
	at        time.Time
	changeSeq uint64
	doc       *docRec
}
