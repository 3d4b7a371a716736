package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mksync/mksync"
)

// list is the shape of every list answer.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// mappingView is a record's link to Metakocka as the API shows it.
type mappingView struct {
	EntityType   mksync.EntityType `json:"entityType"`
	EntityID     string            `json:"entityId"`
	MetakockaID  string            `json:"metakockaId"`
	CountCode    string            `json:"countCode"`
	State        mksync.SyncState  `json:"state"`
	LastError    string            `json:"lastError,omitempty"`
	LastSyncedAt *time.Time        `json:"lastSyncedAt"`
	// Candidates are, for an ambiguous record, the Metakocka records it
	// matched (from its error record), so that a person can pick one
	// without opening each.
	Candidates []candidateView `json:"candidates,omitempty"`
}

// candidateView is one Metakocka record an ambiguous record matched: its
// mk_id, a human title (a partner's name, a product's code and name) and
// the key that matched ("tax number", "e-mail", "code", …).
type candidateView struct {
	MkID  string `json:"mkId"`
	Title string `json:"title"`
	Key   string `json:"key"`
}

// withCandidates fills v's candidates from the error record of an
// ambiguous mapping (details candidates, titles, keys). An unreadable or
// missing record leaves them out: the mapping is still worth answering.
func (s *Server) withCandidates(ctx context.Context, tenantID string, v *mappingView) {
	if v.State != mksync.StateAmbiguous || v.LastError == "" {
		return
	}
	er, err := s.cfg.Store.FindErrorRecord(ctx, tenantID, v.LastError)
	if err != nil {
		return
	}
	ids, keys, titles := strList(er.Details["candidates"]), strList(er.Details["keys"]), strList(er.Details["titles"])
	for i, id := range ids {
		c := candidateView{MkID: id}
		if i < len(keys) {
			c.Key = keys[i]
		}
		if i < len(titles) {
			c.Title = titles[i]
		}
		v.Candidates = append(v.Candidates, c)
	}
}

// strList reads a list of strings from an error record's details (kept as
// JSON: []any once read back, []string as written).
func strList(x any) []string {
	switch t := x.(type) {
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, v := range t {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func newMappingView(m mksync.Mapping) mappingView {
	v := mappingView{
		EntityType: m.EntityType, EntityID: m.EntityID, MetakockaID: m.MetakockaID,
		CountCode: m.CountCode, State: m.State, LastError: m.LastError,
	}
	if !m.LastSyncedAt.IsZero() {
		t := m.LastSyncedAt
		v.LastSyncedAt = &t
	}
	return v
}

// mappingOf returns the record's mapping, or nil when it has none (or it
// cannot be read: the record itself is still worth answering).
func (s *Server) mappingOf(ctx context.Context, tenantID string, et mksync.EntityType, id string) *mappingView {
	m, err := s.cfg.Store.FindMapping(ctx, tenantID, et, id)
	if err != nil {
		return nil
	}
	v := newMappingView(m)
	s.withCandidates(ctx, tenantID, &v)
	return &v
}

// The record views: the domain record with its mapping (null when unsynced).
type (
	contactView struct {
		mksync.Contact
		Mapping *mappingView `json:"mapping"`
	}
	productView struct {
		mksync.Product
		Mapping *mappingView `json:"mapping"`
	}
	salesDocumentView struct {
		mksync.SalesDocument
		Mapping *mappingView `json:"mapping"`
	}
)

// entityRoutes describes one CRM entity for the routes shared by all three.
type entityRoutes struct {
	path     string // URL segment: "contacts"
	typ      mksync.EntityType
	idField  string // sync body field of one id: "contactId"
	idsField string // … of many: "contactIds"
	// exists is nil when the tenant has the record, ENOTFOUND otherwise.
	exists func(ctx context.Context, tenantID, id string) error
}

// RecordQueue queues the push of one CRM record to Metakocka inside the
// caller's transaction tx (the Store passed to Store.InTx's function), so
// the record and its job commit or roll back together.
type RecordQueue interface {
	EnqueueRecordPush(ctx context.Context, tx mksync.Store, tenantID string, et mksync.EntityType, id string, version int64) error
}

// crud is the typed store access of one entity. create and update take the
// store to write with, so that a write can join a transaction.
type crud[T any] struct {
	entityRoutes
	create   func(st mksync.Store, ctx context.Context, tenantID string, v *T) error
	find     func(ctx context.Context, tenantID, id string) (T, error)
	list     func(ctx context.Context, tenantID string, f mksync.ListFilter) ([]T, string, error)
	update   func(st mksync.Store, ctx context.Context, tenantID string, v *T) error
	delete   func(ctx context.Context, tenantID, id string) error
	validate func(v *T) error
	// meta points at the fields the server owns.
	meta func(v *T) (id *string, version *int64, created, updated *time.Time)
	// keep copies fields clients may not change from the stored record into
	// an update (e.g. a product's stock amount, read from Metakocka only).
	keep func(dst, stored *T)
	// clear resets such fields on create.
	clear func(v *T)
	view  func(v T, m *mappingView) any
}

func (s *Server) registerCRUD(e entityRoutes) {
	st := s.cfg.Store
	switch e.typ {
	case mksync.EntityContact:
		registerCRUD(s, crud[mksync.Contact]{
			entityRoutes: e,
			create:       mksync.Store.CreateContact, find: st.FindContactByID, list: st.FindContacts,
			update: mksync.Store.UpdateContact, delete: st.DeleteContact,
			validate: (*mksync.Contact).Validate,
			meta: func(v *mksync.Contact) (*string, *int64, *time.Time, *time.Time) {
				return &v.ID, &v.Version, &v.CreatedAt, &v.UpdatedAt
			},
			keep:  func(dst, stored *mksync.Contact) {},
			clear: func(v *mksync.Contact) {},
			view:  func(v mksync.Contact, m *mappingView) any { return contactView{v, m} },
		})
	case mksync.EntityProduct:
		registerCRUD(s, crud[mksync.Product]{
			entityRoutes: e,
			create:       mksync.Store.CreateProduct, find: findProductWithStock(st), list: st.FindProducts,
			update: mksync.Store.UpdateProduct, delete: st.DeleteProduct,
			validate: (*mksync.Product).Validate,
			meta: func(v *mksync.Product) (*string, *int64, *time.Time, *time.Time) {
				return &v.ID, &v.Version, &v.CreatedAt, &v.UpdatedAt
			},
			keep: func(dst, stored *mksync.Product) {
				dst.StockAmount, dst.Warehouses = stored.StockAmount, stored.Warehouses
			},
			clear: func(v *mksync.Product) { v.StockAmount, v.Warehouses = mksync.Decimal{}, nil },
			view:  func(v mksync.Product, m *mappingView) any { return productView{v, m} },
		})
	case mksync.EntitySalesDocument:
		registerCRUD(s, crud[mksync.SalesDocument]{
			entityRoutes: e,
			create:       mksync.Store.CreateSalesDocument, find: st.FindSalesDocumentByID, list: st.FindSalesDocuments,
			update: mksync.Store.UpdateSalesDocument, delete: st.DeleteSalesDocument,
			validate: (*mksync.SalesDocument).Validate,
			meta: func(v *mksync.SalesDocument) (*string, *int64, *time.Time, *time.Time) {
				return &v.ID, &v.Version, &v.CreatedAt, &v.UpdatedAt
			},
			keep:  func(dst, stored *mksync.SalesDocument) { dst.ComputeTotals() },
			clear: func(v *mksync.SalesDocument) { v.ComputeTotals() },
			view:  func(v mksync.SalesDocument, m *mappingView) any { return salesDocumentView{v, m} },
		})
	default:
		panic("httpapi: no CRUD for " + e.typ)
	}
}

// registerCRUD adds GET/POST /api/{entity} and GET/PUT/DELETE
// /api/{entity}/{id}. Server-owned fields (id, version, times, totals,
// stock) sent by a client are ignored, except that a PUT must name the
// version it read (optimistic locking) and a body id must match the path.
func registerCRUD[T any](s *Server, c crud[T]) {
	base := "/api/" + c.path
	s.handle("GET "+base, tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		f, err := listFilter(r)
		if err != nil {
			return err
		}
		vs, next, err := c.list(r.Context(), p.TenantID, f)
		if err != nil {
			return fmt.Errorf("list %s: %w", c.path, err)
		}
		ids := make([]string, len(vs))
		for i := range vs {
			id, _, _, _ := c.meta(&vs[i])
			ids[i] = *id
		}
		// One query for the page's mappings; a page that cannot read them
		// still answers, with every mapping null (as mappingOf does).
		ms, err := s.cfg.Store.FindMappingsOf(r.Context(), p.TenantID, c.typ, ids)
		if err != nil {
			ms = nil
		}
		items := make([]any, len(vs))
		for i, v := range vs {
			var mv *mappingView
			if m, ok := ms[ids[i]]; ok {
				x := newMappingView(m)
				mv = &x
			}
			items[i] = c.view(v, mv)
		}
		writeJSON(w, http.StatusOK, list[any]{Items: items, NextCursor: next})
		return nil
	})
	s.handle("POST "+base, tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		var v T
		if err := decodeJSON(r, &v); err != nil {
			return err
		}
		id, version, created, updated := c.meta(&v)
		if *id != "" {
			return invalid(map[string]string{"id": "is assigned by the server; leave it out"})
		}
		*version, *created, *updated = 0, time.Time{}, time.Time{}
		// Validated first: clearing computes totals, which must only see
		// bounded numbers.
		if err := c.validate(&v); err != nil {
			return err
		}
		c.clear(&v)
		err := s.writeRecord(r.Context(), p.TenantID, c.typ, func(st mksync.Store) (string, int64, error) {
			err := c.create(st, r.Context(), p.TenantID, &v)
			return *id, *version, err
		})
		if err != nil {
			return fmt.Errorf("create %s: %w", c.typ, err)
		}
		w.Header().Set("Location", base+"/"+*id)
		writeJSON(w, http.StatusCreated, c.view(v, nil))
		return nil
	})
	s.handle("GET "+base+"/{id}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		v, err := c.find(r.Context(), p.TenantID, id)
		if err != nil {
			return fmt.Errorf("find %s: %w", c.typ, err)
		}
		writeJSON(w, http.StatusOK, c.view(v, s.mappingOf(r.Context(), p.TenantID, c.typ, id)))
		return nil
	})
	s.handle("PUT "+base+"/{id}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		pid, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var v T
		if err := decodeJSON(r, &v); err != nil {
			return err
		}
		id, version, created, updated := c.meta(&v)
		problems := map[string]string{}
		if *id != "" && *id != pid {
			problems["id"] = "must match the id in the path"
		}
		if *version < 1 {
			problems["version"] = "is required: the version you read (optimistic locking)"
		}
		if err := c.validate(&v); err != nil {
			for k, rule := range mksync.ErrorDetails(err) {
				problems[k] = rule
			}
		}
		if len(problems) > 0 {
			return invalid(problems)
		}
		stored, err := c.find(r.Context(), p.TenantID, pid)
		if err != nil {
			return fmt.Errorf("find %s: %w", c.typ, err)
		}
		_, _, storedCreated, _ := c.meta(&stored)
		*id, *created, *updated = pid, *storedCreated, time.Time{}
		c.keep(&v, &stored)
		err = s.writeRecord(r.Context(), p.TenantID, c.typ, func(st mksync.Store) (string, int64, error) {
			err := c.update(st, r.Context(), p.TenantID, &v)
			return pid, *version, err
		})
		if err != nil {
			return fmt.Errorf("update %s: %w", c.typ, err)
		}
		writeJSON(w, http.StatusOK, c.view(v, s.mappingOf(r.Context(), p.TenantID, c.typ, pid)))
		return nil
	})
	s.handle("DELETE "+base+"/{id}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := c.delete(r.Context(), p.TenantID, id); err != nil {
			return fmt.Errorf("delete %s: %w", c.typ, err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// writeRecord runs write (a create or an update) with the store. When the
// tenant's AutoPush setting is on and a RecordQueue is configured, the write
// and the push job share one transaction: a failure to queue rolls the write
// back, so a record never waits for a push that was lost.
func (s *Server) writeRecord(ctx context.Context, tenantID string, et mksync.EntityType, write func(st mksync.Store) (id string, version int64, err error)) error {
	if s.cfg.RecordQueue == nil || !s.autoPush(ctx, tenantID) {
		_, _, err := write(s.cfg.Store)
		return err
	}
	return s.cfg.Store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		id, version, err := write(tx)
		if err != nil {
			return err
		}
		if err := s.cfg.RecordQueue.EnqueueRecordPush(ctx, tx, tenantID, et, id, version); err != nil {
			return mksync.WrapError(mksync.EINTERNAL, "queue the record's push to Metakocka", err)
		}
		return nil
	})
}

// autoPush reports whether the tenant asked for records to be pushed as
// they are written; a tenant without credentials has nothing to push to.
func (s *Server) autoPush(ctx context.Context, tenantID string) bool {
	c, err := s.cfg.Store.FindCredentials(ctx, tenantID)
	return err == nil && c.Settings.AutoPush
}

// pathID reads a record id from the path. An id that cannot exist (too
// long, control characters, slashes) is simply not found.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if checkID(id) != "" {
		return "", mksync.Errorf(mksync.ENOTFOUND, "not found")
	}
	return id, nil
}

// pageParams reads ?cursor= and ?limit= (1–1000, default 50).
func pageParams(r *http.Request) (mksync.Page, error) {
	q := r.URL.Query()
	var p mksync.Page
	problems := map[string]string{}
	p.After = q.Get("cursor")
	if len(p.After) > 512 {
		problems["cursor"] = "is not a cursor returned by this API"
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > mksync.MaxPageLimit {
			problems["limit"] = fmt.Sprintf("must be an integer from 1 to %d", mksync.MaxPageLimit)
		}
		p.Limit = n
	}
	if len(problems) > 0 {
		return p, invalid(problems)
	}
	return p, nil
}

// listFilter reads the record list parameters: page, ?state= and ?q=.
func listFilter(r *http.Request) (mksync.ListFilter, error) {
	page, err := pageParams(r)
	problems := mksync.ErrorDetails(err)
	if problems == nil {
		problems = map[string]string{}
	}
	q := r.URL.Query()
	f := mksync.ListFilter{Page: page, Search: q.Get("q")}
	if st := q.Get("state"); st != "" {
		f.State = mksync.SyncState(st)
		if !validState(f.State) {
			problems["state"] = "must be one of " + strings.Join(stateNames(), ", ")
		}
	}
	if utf8.RuneCountInString(f.Search) > 200 || !utf8.ValidString(f.Search) {
		problems["q"] = "must be valid text of at most 200 characters"
	}
	if len(problems) > 0 {
		return f, invalid(problems)
	}
	return f, nil
}

// stateNames lists the states a list can keep: every SyncState and
// unsynced.
func stateNames() []string {
	out := make([]string, 0, len(mksync.SyncStates)+1)
	for _, v := range mksync.SyncStates {
		out = append(out, string(v))
	}
	return append(out, string(mksync.StateUnsynced))
}

func validState(s mksync.SyncState) bool {
	if s == mksync.StateUnsynced {
		return true
	}
	for _, v := range mksync.SyncStates {
		if s == v {
			return true
		}
	}
	return false
}

// findProductWithStock reads one product with its stock per warehouse
// (lists leave the warehouses out).
func findProductWithStock(st mksync.Store) func(ctx context.Context, tenantID, id string) (mksync.Product, error) {
	return func(ctx context.Context, tenantID, id string) (mksync.Product, error) {
		p, err := st.FindProductByID(ctx, tenantID, id)
		if err != nil {
			return p, err
		}
		if p.Warehouses, err = st.WarehouseStock(ctx, tenantID, id); err != nil {
			return p, fmt.Errorf("read warehouse stock: %w", err)
		}
		return p, nil
	}
}
