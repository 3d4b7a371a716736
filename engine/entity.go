package engine

import (
	"context"
	"fmt"
	"iter"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// entity is one synced entity type as the shared pull (pull) and the bulk
// and single-record entry points see it: L is the CRM record type, R the
// Metakocka one, V the view both are compared in. Contacts, products and
// documents implement it in their own files with only what differs.
type entity[L, R, V any] interface {
	kind() mksync.EntityType
	// what names a Metakocka record of the type in errors ("partner").
	what() string
	// local is the CRM record l as the shared push sees it.
	local(l *L) local[R, V]
	// load reads the CRM record id; all streams them in id order.
	load(ctx context.Context, id string) (L, error)
	all(ctx context.Context) iter.Seq2[L, error]
	// fetch reads the Metakocka record mkID; found is false when it has none.
	fetch(ctx context.Context, mkID string) (r R, found bool, err error)
	// remote reads a Metakocka record in local terms; ident names it.
	remote(ctx context.Context, r *R) (V, error)
	ident(r *R) remoteID
	// lazy: the view is read only when a pull needs it (a document's view
	// pulls its partner and products), not before the mapping is read.
	lazy() bool
	// link finds the CRM record an unmapped r belongs to (mksync's
	// count_code; products also by code), or nil; id is its id, if known.
	link(ctx context.Context, r *R) (l *L, id string, err error)
	// taken says what to do when the linked record is mapped to another
	// Metakocka record: an error, or nil to create a new record.
	taken(r *R, l *L, m mksync.Mapping) error
	// create makes the CRM record of r (view rv, snapshot rs) with its
	// mapping, in one transaction, and returns its id.
	create(ctx context.Context, rv V, r *R, rs snapshot) (string, error)
	// unchanged settles a mapped r whose hash is the one last pulled
	// (products still copy their one-way stock).
	unchanged(ctx context.Context, m mksync.Mapping, r *R) (string, recordResult, error)
	// same runs when the CRM record already equals r, before the mapping
	// is saved (products copy their stock).
	same(ctx context.Context, l *L, r *R) error
}

// The entities; their own files hold what differs. A document's partner
// and products are synced first, in whichever direction it goes
// (ensureRemote, viewOfMkDocument); a product's stock is one-way
// (Metakocka → CRM) and copied beside its view.
type (
	contacts struct {
		common[mksync.Contact, metakocka.Partner, contactView]
	}
	products struct {
		common[mksync.Product, metakocka.Product, productView]
	}
	documents struct {
		common[mksync.SalesDocument, metakocka.Document, documentView]
	}
)

// newContacts is the contact entity: CRM contacts ⇄ Metakocka partners.
func newContacts(s *session) contacts {
	st := s.e.store
	return contacts{common[mksync.Contact, metakocka.Partner, contactView]{s, mksync.EntityContact, "partner", "contact", st.FindContactByID, st.AllContacts}}
}

// newProducts is the product entity: CRM products ⇄ Metakocka products.
func newProducts(s *session) products {
	return products{common[mksync.Product, metakocka.Product, productView]{
		s: s, et: mksync.EntityProduct, name: "product", noun: "product", find: s.e.store.FindProductByID, each: s.e.store.AllProducts}}
}

// newDocuments is the sales document entity: CRM sales documents ⇄
// Metakocka documents.
func newDocuments(s *session) documents {
	c := common[mksync.SalesDocument, metakocka.Document, documentView]{s: s, et: mksync.EntitySalesDocument, name: "document", noun: "sales document"}
	c.find, c.each = s.e.store.FindSalesDocumentByID, s.e.store.AllSalesDocuments
	return documents{c}
}

// common is what every entity shares and the defaults of entity and local
// for what most entities do not need; an entity embeds it and overrides
// the rest.
type common[L, R, V any] struct {
	s    *session
	et   mksync.EntityType
	name string // a Metakocka record in errors: "partner"
	noun string // a CRM record in errors: "contact"
	find func(ctx context.Context, tenantID, id string) (L, error)
	each func(ctx context.Context, tenantID string) iter.Seq2[L, error]
}

func (c common[L, R, V]) kind() mksync.EntityType { return c.et }
func (c common[L, R, V]) what() string            { return c.name }

func (c common[L, R, V]) load(ctx context.Context, id string) (L, error) {
	l, err := c.find(ctx, c.s.tenantID, id)
	return l, wrapf(err, "find %s %s", c.noun, id)
}

func (c common[L, R, V]) all(ctx context.Context) iter.Seq2[L, error] {
	return func(yield func(L, error) bool) {
		for l, err := range c.each(ctx, c.s.tenantID) {
			if !yield(l, wrapf(err, "read %ss", c.noun)) {
				return
			}
		}
	}
}

// link finds the CRM record whose id the count_code cc carries (mksync
// made it; its mapping was lost).
func (c common[L, R, V]) linkByCountCode(ctx context.Context, cc string) (l *L, id string, err error) {
	id, ok := LocalIDOf(cc)
	if !ok {
		return nil, "", nil
	}
	x, err := c.find(ctx, c.s.tenantID, id)
	if isCode(err, mksync.ENOTFOUND) {
		return nil, id, nil
	}
	if err != nil {
		return nil, id, fmt.Errorf("find %s %s: %w", c.noun, id, err)
	}
	return &x, id, nil
}

// lazy: by default the view of a Metakocka record is cheap to read.
func (c common[L, R, V]) lazy() bool { return false }

// taken: by default a CRM record mapped to another Metakocka record keeps
// its mapping, and the pulled record gets a CRM record of its own.
func (c common[L, R, V]) taken(*R, *L, mksync.Mapping) error { return nil }

// unchanged: by default nothing is one-way, so nothing is copied.
func (c common[L, R, V]) unchanged(_ context.Context, m mksync.Mapping, _ *R) (string, recordResult, error) {
	return m.EntityID, recordResult{out: outSkipped}, nil
}

func (c common[L, R, V]) same(context.Context, *L, *R) error { return nil }

// prepare: by default a push needs nothing resolved first.
func (c common[L, R, V]) prepare(context.Context) error { return nil }

// again: by default a failed push is not tried again.
func (c common[L, R, V]) again(error) local[R, V] { return nil }

// mapCreated: by default both sides hold what was sent (view v).
func (c common[L, R, V]) mapCreated(ctx context.Context, localID string, id remoteID, v snapshot) error {
	nm := c.s.synced(c.et, localID, id.mkID, id.countCode, v, v)
	return c.s.saveMapping(ctx, &nm)
}

// wrapf wraps a non-nil err with context; nil stays nil.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// ops is an entity's push and pull behind its entity type, for the entry
// points that name the type at run time (session.ops).
type ops interface {
	// pushByID reads the CRM record id and pushes it.
	pushByID(ctx context.Context, id string, force bool) recordResult
	// pullByMkID reads the Metakocka record mkID and pulls it.
	pullByMkID(ctx context.Context, mkID string, force bool) recordResult
	// eachLocal calls emit with every CRM record of the type in id order,
	// the hash of its view and its push, until emit returns false or an
	// error.
	eachLocal(ctx context.Context, emit func(id, hash string, push func(context.Context) recordResult) (bool, error)) error
	// link maps the CRM record id to the Metakocka record ref (mk_id or
	// count_code) by hand (Engine.Link).
	link(ctx context.Context, id, ref string) (mksync.Mapping, error)
}

// opsOf is the ops of entity a.
type opsOf[L, R, V any] struct {
	s *session
	a entity[L, R, V]
}

func newOps[L, R, V any](s *session, a entity[L, R, V]) ops { return opsOf[L, R, V]{s, a} }

// ops returns the ops of et; false for an unknown type.
func (s *session) ops(et mksync.EntityType) (ops, bool) {
	switch et {
	case mksync.EntityContact:
		return newOps(s, newContacts(s)), true
	case mksync.EntityProduct:
		return newOps(s, newProducts(s)), true
	case mksync.EntitySalesDocument:
		return newOps(s, newDocuments(s)), true
	}
	return nil, false
}

func (o opsOf[L, R, V]) pushByID(ctx context.Context, id string, force bool) recordResult {
	l, err := o.a.load(ctx, id)
	if err != nil {
		return o.s.fail(ctx, o.a.kind(), mksync.ToMetakocka, id, "", err)
	}
	return pushOne(ctx, o.s, o.a, &l, force)
}

func (o opsOf[L, R, V]) pullByMkID(ctx context.Context, mkID string, force bool) recordResult {
	et := o.a.kind()
	r, found, err := o.a.fetch(ctx, mkID)
	if err != nil {
		return o.s.fail(ctx, et, mksync.FromMetakocka, mkID, "", err)
	}
	if !found {
		return o.s.fail(ctx, et, mksync.FromMetakocka, mkID, "", mksync.Errorf(mksync.ENOTFOUND, "Metakocka has no %s with mk_id %s", et, mkID))
	}
	res, _ := pullOne(ctx, o.s, o.a, r, force)
	return res
}

func (o opsOf[L, R, V]) eachLocal(ctx context.Context, emit func(id, hash string, push func(context.Context) recordResult) (bool, error)) error {
	for l, err := range o.a.all(ctx) {
		if err != nil {
			return err
		}
		p := o.a.local(&l)
		more, err := emit(p.id(), payloadHash(p.view()), func(ctx context.Context) recordResult {
			return pushOne(ctx, o.s, o.a, &l, false)
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}
