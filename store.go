package mksync

import (
	"context"
	"iter"
	"slices"
	"time"
)

// The storage contract. Every method that touches tenant data takes the
// tenant id and filters by it: a record of another tenant is ENOTFOUND, never
// returned, changed or deleted. Methods that read across tenants say so in
// their names and doc (they serve authentication and housekeeping only).
//
// Errors: ENOTFOUND for a missing record, ECONFLICT for a uniqueness or
// version clash, EINVALID for a record that fails Validate (nothing is
// written), anything else wrapped as EINTERNAL.
//
// Common rules, checked by storetest:
//   - Create* fills ID (a UUIDv7 when empty), TenantID, CreatedAt, UpdatedAt
//     and Version (1) on the value passed in; an ID already used (by any
//     tenant) is ECONFLICT; an unknown tenant is ENOTFOUND.
//   - Update* fills UpdatedAt and the new Version on the value passed in.
//   - Times come back in UTC, truncated to the microsecond.
//   - Lists are keyset-paginated in id order (UUIDv7 ids sort by creation);
//     sync runs, error records and alerts list newest first. The returned
//     cursor is opaque and "" on the last page; a malformed cursor is EINVALID.
//   - Deleting a record deletes its mapping (a mapping with an mk_id
//     becomes a Tombstone). Deleting a contact or product
//     that a sales document uses is ECONFLICT.

// ListFilter narrows a list of CRM records.
type ListFilter struct {
	// State keeps only records whose mapping has this state; "unsynced" is
	// expressed as StateUnsynced.
	State SyncState
	// Search matches a case-insensitive (Unicode) substring of name, code,
	// email or number (mappings: mk_id or count_code).
	Search string
	Page
}

// StateUnsynced selects records that have no mapping yet.
const StateUnsynced SyncState = "unsynced"

// TenantStore keeps tenants.
type TenantStore interface {
	CreateTenant(ctx context.Context, t *Tenant) error
	FindTenantByID(ctx context.Context, id string) (Tenant, error)
	// ListTenants lists all tenants: admin and scheduler use only.
	ListTenants(ctx context.Context, p Page) ([]Tenant, string, error)
	DeleteTenant(ctx context.Context, id string) error
}

// TokenStore keeps API tokens (hashed) and the admin token hash.
type TokenStore interface {
	CreateAPIToken(ctx context.Context, tenantID string, t *APIToken) error
	// AuthenticateAPIToken finds the unrevoked token with this hash, across
	// tenants (the token is what names the tenant), and records its use in
	// LastUsedAt (stores may skip the write when it was recorded less than a
	// minute ago). Unknown or revoked: EUNAUTHORIZED.
	AuthenticateAPIToken(ctx context.Context, hash []byte, now time.Time) (APIToken, error)
	ListAPITokens(ctx context.Context, tenantID string) ([]APIToken, error)
	RevokeAPIToken(ctx context.Context, tenantID, tokenID string, now time.Time) error
	// EndSessions ends every web session signed in with the token, now and
	// on every instance: it increments the token's SessionGeneration, which
	// a session must match. The token itself stays valid. ENOTFOUND when the
	// tenant has no such token.
	EndSessions(ctx context.Context, tenantID, tokenID string) error
	// AdminTokenHash returns the stored admin token hash, ENOTFOUND when none.
	AdminTokenHash(ctx context.Context) ([]byte, error)
	SetAdminTokenHash(ctx context.Context, hash []byte) error
}

// CredentialStore keeps each tenant's Metakocka connection, secrets encrypted.
type CredentialStore interface {
	// SetCredentials validates and stores c (replacing any earlier ones).
	// An empty BaseURL becomes DefaultMetakockaURL and Settings get their
	// defaults. An empty WebhookID or WebhookSecret keeps the stored one, or
	// gets a new random one when none is stored; c is updated with what was
	// stored. A WebhookID used by another tenant is ECONFLICT.
	SetCredentials(ctx context.Context, tenantID string, c *MetakockaCredentials) error
	FindCredentials(ctx context.Context, tenantID string) (MetakockaCredentials, error)
	// FindCredentialsByWebhookID resolves a stock webhook path to its tenant,
	// across tenants (the webhook id is what names the tenant).
	FindCredentialsByWebhookID(ctx context.Context, webhookID string) (MetakockaCredentials, error)
	// ReencryptSecrets re-seals every stored secret with the current key:
	// used by key rotation, across tenants. It returns how many were rewritten.
	ReencryptSecrets(ctx context.Context) (int, error)
}

// ContactStore keeps CRM contacts.
type ContactStore interface {
	CreateContact(ctx context.Context, tenantID string, c *Contact) error
	FindContactByID(ctx context.Context, tenantID, id string) (Contact, error)
	FindContacts(ctx context.Context, tenantID string, f ListFilter) ([]Contact, string, error)
	// UpdateContact writes c when c.Version is the stored version (else
	// ECONFLICT) and increments it. A synced mapping becomes pending.
	UpdateContact(ctx context.Context, tenantID string, c *Contact) error
	DeleteContact(ctx context.Context, tenantID, id string) error
	// SetContactPartnerIDs sets only the contact's PartnerIDs (the mk_ids of
	// its partner's addresses and contact person, which the sync engine
	// learns from Metakocka): no version bump, no pending mapping. Update
	// and upserts keep the stored ones. ENOTFOUND for an unknown contact.
	SetContactPartnerIDs(ctx context.Context, tenantID, id string, ids PartnerIDs) error
	// AllContacts streams every contact in id order without holding them all.
	AllContacts(ctx context.Context, tenantID string) iter.Seq2[Contact, error]
	// UpsertContacts creates or replaces (by id) many contacts in one
	// transaction per batch; empty ids are filled in cs. Every contact is
	// validated before anything is written (EINVALID). An id that belongs to
	// another tenant is ECONFLICT. Replacing bumps the version and turns a
	// synced mapping pending, like UpdateContact.
	UpsertContacts(ctx context.Context, tenantID string, cs []Contact) error
}

// ProductStore keeps the catalogue.
type ProductStore interface {
	CreateProduct(ctx context.Context, tenantID string, p *Product) error
	FindProductByID(ctx context.Context, tenantID, id string) (Product, error)
	FindProductByCode(ctx context.Context, tenantID, code string) (Product, error)
	FindProducts(ctx context.Context, tenantID string, f ListFilter) ([]Product, string, error)
	// UpdateProduct is versioned like UpdateContact. It and replacing upserts
	// keep the stored StockAmount (SetProductStock owns it; p gets it back).
	UpdateProduct(ctx context.Context, tenantID string, p *Product) error
	// SetProductStock updates only the stock amount (read from Metakocka); it
	// does not mark the product pending, since stock is never pushed.
	SetProductStock(ctx context.Context, tenantID, id string, amount Decimal) error
	// SetWarehouseStock replaces the product's stock per warehouse (read
	// from Metakocka) with stock, one entry per warehouse id (a repeated id
	// is EINVALID); like SetProductStock it never marks the product pending.
	// ENOTFOUND when the tenant has no such product.
	SetWarehouseStock(ctx context.Context, tenantID, id string, stock []WarehouseStock) error
	// WarehouseStock returns the product's stock per warehouse in warehouse
	// id order (empty when none is known). ENOTFOUND when the tenant has no
	// such product.
	WarehouseStock(ctx context.Context, tenantID, id string) ([]WarehouseStock, error)
	DeleteProduct(ctx context.Context, tenantID, id string) error
	AllProducts(ctx context.Context, tenantID string) iter.Seq2[Product, error]
	UpsertProducts(ctx context.Context, tenantID string, ps []Product) error
}

// SalesDocumentStore keeps offers, orders and invoices with their lines.
type SalesDocumentStore interface {
	// CreateSalesDocument computes totals, checks that the contact and every
	// line's product exist for this tenant (EINVALID otherwise) and writes the
	// document and its lines in one transaction.
	CreateSalesDocument(ctx context.Context, tenantID string, d *SalesDocument) error
	FindSalesDocumentByID(ctx context.Context, tenantID, id string) (SalesDocument, error)
	FindSalesDocuments(ctx context.Context, tenantID string, f ListFilter) ([]SalesDocument, string, error)
	UpdateSalesDocument(ctx context.Context, tenantID string, d *SalesDocument) error
	DeleteSalesDocument(ctx context.Context, tenantID, id string) error
	AllSalesDocuments(ctx context.Context, tenantID string) iter.Seq2[SalesDocument, error]
}

// MappingStore keeps the links between CRM records and Metakocka records.
type MappingStore interface {
	// UpsertMapping creates or replaces the mapping of (entity type, entity
	// id). ECONFLICT when the mk_id is already mapped to another local record
	// (an empty mk_id is never a clash); ENOTFOUND when the entity does not
	// exist for this tenant; EINVALID for an unknown entity type or state.
	UpsertMapping(ctx context.Context, tenantID string, m *Mapping) error
	FindMapping(ctx context.Context, tenantID string, et EntityType, entityID string) (Mapping, error)
	FindMappingByMetakockaID(ctx context.Context, tenantID string, et EntityType, mkID string) (Mapping, error)
	FindMappings(ctx context.Context, tenantID string, et EntityType, f ListFilter) ([]Mapping, string, error)
	// FindMappingsOf returns the mappings of the records entityIDs in one
	// query (a page of a list), keyed by entity id; records without one are
	// absent. At most MaxMappingsOf ids (EINVALID beyond).
	FindMappingsOf(ctx context.Context, tenantID string, et EntityType, entityIDs []string) (map[string]Mapping, error)
	DeleteMapping(ctx context.Context, tenantID string, et EntityType, entityID string) error
	AllMappings(ctx context.Context, tenantID string, et EntityType) iter.Seq2[Mapping, error]
	// AllMappingStates is AllMappings without the synced views
	// (SyncedView and SyncedRemoteView empty): what a pass deciding which
	// records changed since their last sync needs (a bulk push's), at a
	// fraction of the bytes read.
	AllMappingStates(ctx context.Context, tenantID string, et EntityType) iter.Seq2[Mapping, error]
	// CountMappingsByState returns, per state, how many records of et are in
	// it; records without a mapping count as StateUnsynced. Every state of
	// SyncStates and StateUnsynced is a key, zero when none.
	CountMappingsByState(ctx context.Context, tenantID string, et EntityType) (map[SyncState]int, error)
	// CountLinks returns how the records of et stand with their Metakocka
	// records, for a person deciding what to do next (see LinkCounts).
	CountLinks(ctx context.Context, tenantID string, et EntityType) (LinkCounts, error)
}

// LinkCounts is how a tenant's records of one type stand with Metakocka:
// what the dashboard and the first-connect page show.
type LinkCounts struct {
	// Linked records are mapped to a Metakocka record (an mk_id), whatever
	// their sync state, except those deleted in Metakocka.
	Linked int `json:"linked"`
	// ToCreate records have no mapping: the next push matches or creates
	// them.
	ToCreate int `json:"toCreate"`
	// Ambiguous records matched several Metakocka records (StateAmbiguous).
	Ambiguous int `json:"ambiguous"`
	// DeletedInMetakocka records were linked to a Metakocka record that is
	// gone (StateDeletedInMetakocka).
	DeletedInMetakocka int `json:"deletedInMetakocka"`
	// Tombstones are records deleted in the CRM while linked (Tombstone).
	Tombstones int `json:"tombstones"`
}

// MaxMappingsOf bounds the ids of one FindMappingsOf call: a list page.
const MaxMappingsOf = MaxPageLimit

// CheckMappingsOf validates the arguments of a FindMappingsOf call, so that
// every store refuses the same calls with the same errors.
func CheckMappingsOf(et EntityType, entityIDs []string) error {
	if !slices.Contains(EntityTypes, et) {
		return Errorf(EINVALID, "unknown entity type %q", et)
	}
	if len(entityIDs) > MaxMappingsOf {
		return Errorf(EINVALID, "at most %d ids per mapping lookup, got %d", MaxMappingsOf, len(entityIDs))
	}
	return nil
}

// SyncStateStore keeps small per-tenant sync positions (e.g. the last
// last_change seen by an incremental document pull).
type SyncStateStore interface {
	// GetCursor returns the value set for key; ENOTFOUND when never set.
	GetCursor(ctx context.Context, tenantID, key string) (string, error)
	SetCursor(ctx context.Context, tenantID, key, value string) error
}

// SyncRunStore keeps sync runs and their progress.
type SyncRunStore interface {
	CreateSyncRun(ctx context.Context, tenantID string, r *SyncRun) error
	FindSyncRun(ctx context.Context, tenantID, id string) (SyncRun, error)
	FindSyncRuns(ctx context.Context, tenantID string, f SyncRunFilter) ([]SyncRun, string, error)
	// UpdateSyncRun writes status, progress, result, checkpoint and times.
	UpdateSyncRun(ctx context.Context, tenantID string, r *SyncRun) error
}

// SyncRunFilter narrows a list of sync runs.
type SyncRunFilter struct {
	EntityType EntityType
	Direction  Direction
	Status     RunStatus
	Page
}

// ErrorRecordStore keeps error records and alerts.
type ErrorRecordStore interface {
	CreateErrorRecord(ctx context.Context, tenantID string, e *ErrorRecord) error
	FindErrorRecord(ctx context.Context, tenantID, errorID string) (ErrorRecord, error)
	FindErrorRecords(ctx context.Context, tenantID string, f ErrorFilter) ([]ErrorRecord, string, error)
	// PruneErrorRecords deletes records older than before, across tenants
	// (retention housekeeping), and returns how many it deleted.
	PruneErrorRecords(ctx context.Context, before time.Time) (int, error)

	// OpenAlert opens the alert a.Key for the tenant (Count 1), or, when one
	// with that key is already open, bumps its count and sets its message and
	// severity. It fills a with the alert as stored and reports whether it
	// was newly opened.
	OpenAlert(ctx context.Context, tenantID string, a *Alert) (opened bool, err error)
	// ResolveAlert resolves the open alert with key, if any; it reports whether
	// one was resolved.
	ResolveAlert(ctx context.Context, tenantID, key string, now time.Time) (bool, error)
	// FindAlerts lists alerts with status, or all when status is "".
	FindAlerts(ctx context.Context, tenantID string, status AlertStatus, p Page) ([]Alert, string, error)
}

// WebhookEventStore remembers the webhook events each tenant has accepted,
// so that a replayed event can be refused.
type WebhookEventStore interface {
	// RecordWebhookEvent remembers that the tenant accepted the event with
	// the sender's unique id eventID (Metakocka's X-MetaKocka-Id) at the time
	// at, and forgets the tenant's events accepted before forgetBefore, which
	// keeps what is stored bounded by the caller's retention window. Errors:
	// ECONFLICT when eventID is already remembered for the tenant (a replay;
	// the same id of another tenant is no clash), EINVALID for an empty id or
	// one longer than MaxWebhookEventIDLen bytes, ENOTFOUND for an unknown
	// tenant. Inside InTx it joins the transaction, so that remembering an
	// event and queueing its work commit or roll back together.
	RecordWebhookEvent(ctx context.Context, tenantID, eventID string, at, forgetBefore time.Time) error
}

// MaxWebhookEventIDLen is the longest webhook event id a store keeps.
const MaxWebhookEventIDLen = 200

// CheckWebhookEventID validates the event id of a RecordWebhookEvent call,
// so that every store refuses the same ids with the same error.
func CheckWebhookEventID(eventID string) error {
	if eventID == "" || len(eventID) > MaxWebhookEventIDLen {
		return Errorf(EINVALID, "invalid webhook event: id must be 1 to %d bytes", MaxWebhookEventIDLen)
	}
	return nil
}

// Store is everything mksync keeps. The sqlite and postgres packages each
// implement it and pass the same conformance suite (storetest).
type Store interface {
	TenantStore
	TokenStore
	CredentialStore
	ContactStore
	ContactMatcher
	RecordMatcher
	ProductStore
	SalesDocumentStore
	MappingStore
	TombstoneStore
	SyncStateStore
	SyncRunStore
	PlanStore
	RunLeaseStore
	ErrorRecordStore
	WebhookEventStore
	// InTx runs fn in one transaction scoped to tenantID; the Store passed to
	// fn writes inside it (use only that one in fn: on SQLite a call on the
	// outer store would wait for the transaction's own connection). fn's error
	// rolls everything back.
	InTx(ctx context.Context, tenantID string, fn func(tx Store) error) error
	// Ping checks the database is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// SecretSealer encrypts secrets for storage. Sealed values carry the id of
// the key that sealed them, so keys can be rotated. A value is sealed bound
// to where it is stored (SecretBinding: the tenant and the column), so that
// one copied to another row or column does not open there.
type SecretSealer interface {
	// Seal encrypts plaintext bound to binding, which is authenticated but
	// not stored: Open must be given the same.
	Seal(plaintext []byte, binding string) (string, error)
	// Open decrypts sealed, checking its binding. Values sealed before
	// bindings existed open with any binding until ReencryptSecrets (or a
	// write of the same secret) seals them again, bound.
	Open(sealed, binding string) ([]byte, error)
}

// SecretBinding is the binding of a secret stored in column of tenantID's
// row: "credentials/<tenant id>/<column>".
func SecretBinding(tenantID, column string) string {
	return "credentials/" + tenantID + "/" + column
}
