package mksync

import (
	"context"
	"time"
)

// Tombstone remembers a CRM record deleted on purpose while it was mapped
// to a Metakocka record, so that a later pull does not bring the record
// back (docs/mapping.md, "Deletes that stay deleted"). The store keeps one
// for every mapped record it deletes; removing the tombstone (unlink) lets
// the next pull create the record again on purpose.
type Tombstone struct {
	TenantID    string     `json:"-"`
	EntityType  EntityType `json:"entityType"`
	EntityID    string     `json:"entityId"`
	MetakockaID string     `json:"metakockaId"`
	CountCode   string     `json:"countCode"`
	DeletedAt   time.Time  `json:"deletedAt"`
}

// TombstoneStore keeps tombstones. Deleting a mapped contact, product or
// sales document writes one (same transaction), keyed by its mk_id.
type TombstoneStore interface {
	// FindTombstone returns the tombstone of the Metakocka record mkID;
	// ENOTFOUND when none.
	FindTombstone(ctx context.Context, tenantID string, et EntityType, mkID string) (Tombstone, error)
	// FindTombstones lists tombstones of et in mk_id order; the cursor is
	// the last mk_id of the page.
	FindTombstones(ctx context.Context, tenantID string, et EntityType, p Page) ([]Tombstone, string, error)
	// DeleteTombstone forgets the tombstone of mkID; ENOTFOUND when none.
	DeleteTombstone(ctx context.Context, tenantID string, et EntityType, mkID string) error
}
