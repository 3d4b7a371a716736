package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mksync/mksync"
)

// The CRM records as the API answers them: the domain record plus its
// mapping to Metakocka, nil while the record has never been synced.
type (
	// Contact is a CRM contact with its mapping.
	Contact struct {
		mksync.Contact
		Mapping *mksync.Mapping `json:"mapping"`
	}
	// Product is a product with its mapping.
	Product struct {
		mksync.Product
		Mapping *mksync.Mapping `json:"mapping"`
	}
	// SalesDocument is an offer, order or invoice with its mapping.
	SalesDocument struct {
		mksync.SalesDocument
		Mapping *mksync.Mapping `json:"mapping"`
	}
)

// ListOptions narrows a list of CRM records (and of mappings).
type ListOptions struct {
	// State keeps records whose mapping is in this state; mksync.StateUnsynced
	// keeps records never synced. "" keeps all.
	State mksync.SyncState
	// Search is a case-insensitive substring of name, code, e-mail or number
	// (for mappings: of the mk_id or count_code).
	Search string
	PageOptions
}

func (o ListOptions) query() url.Values {
	q := o.values()
	if o.State != "" {
		q.Set("state", string(o.State))
	}
	if o.Search != "" {
		q.Set("q", o.Search)
	}
	return q
}

// Record CRUD is the same for the three kinds; these helpers carry it.

func list[T any](ctx context.Context, c *Client, kind string, o ListOptions) (Page[T], error) {
	var out Page[T]
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", kind), query: o.query(), out: &out})
	return out, err
}

func get[T any](ctx context.Context, c *Client, kind, id string) (T, error) {
	var out T
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", kind, id), out: &out})
	return out, err
}

func create[T any](ctx context.Context, c *Client, kind string, in any) (T, error) {
	var out T
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("api", kind), body: in, out: &out})
	return out, err
}

func update[T any](ctx context.Context, c *Client, kind, id string, in any) (T, error) {
	var out T
	_, err := c.do(ctx, request{method: http.MethodPut, path: path("api", kind, id), body: in, out: &out})
	return out, err
}

func remove(ctx context.Context, c *Client, kind, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path("api", kind, id), notFoundOK: true})
	return err
}

// ListContacts returns one page of the tenant's contacts, in id order.
func (c *Client) ListContacts(ctx context.Context, o ListOptions) (Page[Contact], error) {
	return list[Contact](ctx, c, "contacts", o)
}

// Contact returns one contact; ENOTFOUND (404) when the tenant has none
// with that id.
func (c *Client) Contact(ctx context.Context, id string) (Contact, error) {
	return get[Contact](ctx, c, "contacts", id)
}

// CreateContact creates ct; the server sets id, version and times (an id
// set in ct is EINVALID). EINVALID details name every bad field.
func (c *Client) CreateContact(ctx context.Context, ct mksync.Contact) (Contact, error) {
	return create[Contact](ctx, c, "contacts", ct)
}

// UpdateContact replaces the contact ct.ID. ct.Version must be the version
// read (optimistic locking): ECONFLICT (409) when it changed since.
func (c *Client) UpdateContact(ctx context.Context, ct mksync.Contact) (Contact, error) {
	return update[Contact](ctx, c, "contacts", ct.ID, ct)
}

// DeleteContact deletes a contact and its mapping (not its Metakocka
// partner). ECONFLICT when a sales document uses it.
func (c *Client) DeleteContact(ctx context.Context, id string) error {
	return remove(ctx, c, "contacts", id)
}

// ListProducts returns one page of the tenant's products, in id order.
func (c *Client) ListProducts(ctx context.Context, o ListOptions) (Page[Product], error) {
	return list[Product](ctx, c, "products", o)
}

// Product returns one product; ENOTFOUND when the tenant has none.
func (c *Client) Product(ctx context.Context, id string) (Product, error) {
	return get[Product](ctx, c, "products", id)
}

// CreateProduct creates p. Its StockAmount is ignored: stock is read from
// Metakocka only. ECONFLICT when the code is taken.
func (c *Client) CreateProduct(ctx context.Context, p mksync.Product) (Product, error) {
	return create[Product](ctx, c, "products", p)
}

// UpdateProduct replaces the product p.ID (versioned like UpdateContact);
// the stored stock amount is kept.
func (c *Client) UpdateProduct(ctx context.Context, p mksync.Product) (Product, error) {
	return update[Product](ctx, c, "products", p.ID, p)
}

// DeleteProduct deletes a product and its mapping. ECONFLICT when a sales
// document uses it.
func (c *Client) DeleteProduct(ctx context.Context, id string) error {
	return remove(ctx, c, "products", id)
}

// ListSalesDocuments returns one page of the tenant's sales documents.
func (c *Client) ListSalesDocuments(ctx context.Context, o ListOptions) (Page[SalesDocument], error) {
	return list[SalesDocument](ctx, c, "sales-documents", o)
}

// SalesDocument returns one sales document with its lines.
func (c *Client) SalesDocument(ctx context.Context, id string) (SalesDocument, error) {
	return get[SalesDocument](ctx, c, "sales-documents", id)
}

// CreateSalesDocument creates d. Totals are computed by the server from the
// lines; the contact and every line's product must be the tenant's
// (EINVALID otherwise).
func (c *Client) CreateSalesDocument(ctx context.Context, d mksync.SalesDocument) (SalesDocument, error) {
	return create[SalesDocument](ctx, c, "sales-documents", d)
}

// UpdateSalesDocument replaces the document d.ID and its lines (versioned
// like UpdateContact).
func (c *Client) UpdateSalesDocument(ctx context.Context, d mksync.SalesDocument) (SalesDocument, error) {
	return update[SalesDocument](ctx, c, "sales-documents", d.ID, d)
}

// DeleteSalesDocument deletes a sales document and its mapping.
func (c *Client) DeleteSalesDocument(ctx context.Context, id string) error {
	return remove(ctx, c, "sales-documents", id)
}
