package mksync

import "time"

// EntityType names a kind of record that mksync syncs.
type EntityType string

// The entity types.
const (
	EntityContact       EntityType = "contact"
	EntityProduct       EntityType = "product"
	EntitySalesDocument EntityType = "sales_document"
)

// EntityTypes lists every EntityType.
var EntityTypes = []EntityType{EntityContact, EntityProduct, EntitySalesDocument}

// SyncState is where a record stands with Metakocka.
type SyncState string

// The sync states.
const (
	StateSynced   SyncState = "synced"   // both sides hold the same payload
	StatePending  SyncState = "pending"  // changed locally, not pushed yet
	StateConflict SyncState = "conflict" // both sides changed; see the conflict record
	StateFailed   SyncState = "failed"   // the last attempt failed; see the error record
	// StateAmbiguous: two or more Metakocka records match the record by a
	// strong key (docs/mapping.md, "Matching"); it is neither linked nor
	// created until a person links it (LastError names the error record
	// that lists the candidates).
	StateAmbiguous SyncState = "ambiguous"
	// StateDeletedInMetakocka: the mapped Metakocka record is gone; a push
	// does not create it again. Re-link it, or unlink and sync to create a
	// new one on purpose.
	StateDeletedInMetakocka SyncState = "deleted_in_metakocka"
)

// SyncStates lists every SyncState.
var SyncStates = []SyncState{StateSynced, StatePending, StateConflict, StateFailed, StateAmbiguous, StateDeletedInMetakocka}

// Mapping links a CRM record to its Metakocka record. Per tenant and entity
// type it is unique in both directions: one local id ⇄ one mk_id.
type Mapping struct {
	TenantID   string     `json:"-"`
	EntityType EntityType `json:"entityType"`
	EntityID   string     `json:"entityId"`
	// MetakockaID is Metakocka's mk_id.
	MetakockaID string `json:"metakockaId"`
	// CountCode is Metakocka's count_code; mksync derives it from the local id
	// for records it creates, which makes creates idempotent.
	CountCode string `json:"countCode"`
	// PushedHash and PulledHash are hashes of the last payload sent to and read
	// from Metakocka; an unchanged payload makes no write call.
	PushedHash string `json:"-"`
	PulledHash string `json:"-"`
	// SyncedView is the record's synced fields as of the last sync: the
	// JSON object (field → value) of the CRM's view then, whose hash is
	// PushedHash. It is the base of the three-way merge that keeps both
	// sides' changes when they changed different fields. Empty for a
	// mapping saved before mksync kept it (or never synced): such a record
	// is compared by hash alone until its next sync.
	SyncedView string `json:"-"`
	// SyncedRemoteView is Metakocka's view at the last sync (hash
	// PulledHash) when it differs from SyncedView (Metakocka kept a field
	// an update sent empty); empty when both sides held SyncedView.
	SyncedRemoteView string    `json:"-"`
	State            SyncState `json:"state"`
	// LastError is the errorId of the last failure, when State is failed.
	LastError    string    `json:"lastError,omitempty"`
	LastSyncedAt time.Time `json:"lastSyncedAt"`
	UpdatedAt    time.Time `json:"-"`
}

// RemoteRecord is a Metakocka record as listed before it is mapped to a CRM
// record: enough for a person to recognise it and to import it by its mk_id.
// The sync engine returns it for "records in Metakocka not yet in the CRM".
type RemoteRecord struct {
	EntityType  EntityType `json:"entityType"`
	MetakockaID string     `json:"metakockaId"`
	CountCode   string     `json:"countCode"`
	// Title is a human label: the partner's name, the product's code and
	// name, or the document's number.
	Title string `json:"title"`
}
