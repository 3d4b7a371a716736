package mksync

import (
	"context"
	"strings"
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
	// Kind is a deleted sales document's kind ("" for other records, and
	// for documents deleted before it was kept): the deletion policy
	// deletes orders only, the one type Metakocka documents a delete for.
	Kind DocumentKind `json:"-"`
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

// ContactKey names a strong key a contact is matched by (docs/mapping.md,
// "Matching before creating").
type ContactKey string

// The contact keys. Tax and registration numbers compare without spaces,
// dots and dashes and in upper case; e-mails in lower case.
const (
	KeyTaxNumber          ContactKey = "tax_number"
	KeyRegistrationNumber ContactKey = "registration_number"
	KeyEmail              ContactKey = "email"
)

// MaxKeyMatches bounds the contacts one FindContactsByKey call returns:
// more than one is already ambiguous.
const MaxKeyMatches = 10

// ContactMatcher finds contacts by a strong key, through an index.
type ContactMatcher interface {
	// FindContactsByKey returns the tenant's contacts (at most
	// MaxKeyMatches, in id order) whose key k, normalised, equals one of
	// values (normalised by the caller: NormKey). EINVALID for an unknown
	// key or more than 4 values.
	FindContactsByKey(ctx context.Context, tenantID string, k ContactKey, values []string) ([]Contact, error)
}

// NormKey normalises a value of key k the way the stores compare it.
func NormKey(k ContactKey, v string) string {
	if k == KeyEmail {
		return strings.ToLower(strings.TrimSpace(v))
	}
	return strings.ToUpper(strings.NewReplacer(" ", "", ".", "", "-", "").Replace(v))
}

// CheckContactKey validates the arguments of a FindContactsByKey call.
func CheckContactKey(k ContactKey, values []string) error {
	switch k {
	case KeyTaxNumber, KeyRegistrationNumber, KeyEmail:
	default:
		return Errorf(EINVALID, "unknown contact key %q", k)
	}
	if len(values) == 0 || len(values) > 4 {
		return Errorf(EINVALID, "1 to 4 values per contact key lookup, got %d", len(values))
	}
	return nil
}

// RecordMatcher finds products and sales documents by a strong key,
// through an index (docs/mapping.md, "Matching before creating"): what a
// pulled Metakocka record that is not mapped yet is linked to.
type RecordMatcher interface {
	// FindProductsByBarcode returns the tenant's products (at most
	// MaxKeyMatches, in id order) whose barcode is barcode, compared
	// exactly; none for "".
	FindProductsByBarcode(ctx context.Context, tenantID, barcode string) ([]Product, error)
	// FindSalesDocumentIDsByNumber returns the ids (at most MaxKeyMatches,
	// in id order) of the tenant's sales documents with this number,
	// contact and date; none for an empty number.
	FindSalesDocumentIDsByNumber(ctx context.Context, tenantID, number, contactID string, date Date) ([]string, error)
}
