package mksync

import "context"

// Syncer is the sync engine as everything outside it sees it: the REST
// API, the web UI and the job layer all depend on this one contract, and
// the engine (package engine) implements it directly. Every method is
// scoped to tenantID, returns domain errors (codes above) and is safe for
// concurrent use.
//
// A bulk run has one lifecycle: PrepareRun fills it (the job layer stores
// it with its job in one transaction), WorkRun works it a slice at a time
// until it is final, and the engine finishes it (succeeded, partial,
// failed, or cancelled at a batch boundary).
type Syncer interface {
	// SyncToMetakocka pushes the CRM record id of type et now (create or
	// update, idempotent) and reports the outcome.
	SyncToMetakocka(ctx context.Context, tenantID string, et EntityType, id string) (SyncResult, error)
	// SyncFromMetakocka pulls the Metakocka record metakockaID (its mk_id)
	// of type et into the CRM now, creating or updating the local record.
	SyncFromMetakocka(ctx context.Context, tenantID string, et EntityType, metakockaID string) (SyncResult, error)
	// ListNotInCRM lists the Metakocka records of et that no CRM record is
	// mapped to, a page at a time (the cursor is the engine's, opaque).
	ListNotInCRM(ctx context.Context, tenantID string, et EntityType, p Page) ([]RemoteRecord, string, error)
	// TestConnection makes one cheap authenticated call to Metakocka with
	// the tenant's stored credentials: EUPSTREAM when they are rejected or
	// Metakocka is unreachable, ENOTFOUND when none are stored.
	TestConnection(ctx context.Context, tenantID string) error
	// PrepareRun fills a new run of run.EntityType in run.Direction over ids
	// (CRM ids to Metakocka, mk_ids from it; empty means every record) with
	// what working it needs — status queued, Total and its initial
	// Checkpoint — and stores nothing. Errors: EINVALID for a bad entity
	// type or direction.
	PrepareRun(ctx context.Context, tenantID string, run *SyncRun, ids []string) error
	// WorkRun works on the stored run runID (queued, or running when
	// resumed) from its checkpoint. After each batch it persists progress,
	// result and checkpoint, and asks stop (cheap, safe to call from any
	// goroutine; nil never stops); when stop reports true it returns
	// (false, nil) and leaves the run resumable. It returns (true, nil) once
	// the run is final. An error is a failure of the run as a whole; done
	// then tells whether the run was made final (failed) or stays
	// resumable (Metakocka unreachable, ctx ended).
	WorkRun(ctx context.Context, tenantID, runID string, stop func() bool) (done bool, err error)
	// ApplyStock applies a verified stock webhook payload of the tenant
	// (Metakocka's documented JSON): the stock per warehouse of every product
	// it names, applied directly to a product the CRM has and pulled with a
	// product it does not have yet.
	// Errors: EINVALID for a payload that is not that JSON.
	ApplyStock(ctx context.Context, tenantID string, payload []byte) error
}

// RunStarter queues runs for the job layer to work (see Syncer for their
// lifecycle). The job layer implements it; the API and the UI start every
// bulk run through it.
type RunStarter interface {
	// StartSync stores a queued run of run.EntityType in run.Direction
	// (with run.Trigger) over ids — CRM ids to Metakocka, mk_ids from it,
	// every record when empty — together with its job, and fills run as
	// stored (ID, Status, Total, CreatedAt). Progress and result are read
	// back from the Store's sync runs.
	StartSync(ctx context.Context, tenantID string, run *SyncRun, ids []string) error
}

// Linker is what a person decides about a record's link, beside Syncer:
// link by hand, unlink, and create on purpose (docs/mapping.md, "Linking
// by hand"). The sync engine implements it; the REST API, the web UI and
// the CLI use it, and answer "sync engine not configured" while the
// configured Syncer does not.
type Linker interface {
	// Link maps the CRM record entityID to the Metakocka record ref (its
	// mk_id or count_code) without writing to either; the next sync
	// compares them and follows the tenant's conflict policy. ECONFLICT
	// when the Metakocka record is linked to another CRM record.
	Link(ctx context.Context, tenantID string, et EntityType, entityID, ref string) (Mapping, error)
	// Unlink removes the record's mapping (ENOTFOUND when none).
	Unlink(ctx context.Context, tenantID string, et EntityType, entityID string) error
	// CreateNew creates the CRM record in Metakocka now without matching
	// it (a person's "none of these" for an ambiguous record). ECONFLICT
	// when it is linked to a Metakocka record.
	CreateNew(ctx context.Context, tenantID string, et EntityType, entityID string) (SyncResult, error)
}
