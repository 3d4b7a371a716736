// Package engine is mksync's sync engine: it moves contacts, products and
// sales documents between a tenant's CRM records (an mksync.Store) and its
// Metakocka company (a metakocka.Client), in both directions, one record at
// a time or in resumable bulk runs.
//
// The rules it keeps (docs/mapping.md has the field tables):
//
//   - Idempotent creates. Every record the engine creates in Metakocka carries
//     a count_code derived from the local id (CountCode). Before a create the
//     engine writes an "intent" mapping (count_code, no mk_id); whenever a
//     mapping without mk_id exists, the engine looks the count_code up in
//     Metakocka before creating, and after an ambiguous failure (timeout,
//     5xx, commit-then-fail) it looks it up before trying again. A retry, a
//     crash or a second process therefore never makes a duplicate.
//   - Change detection. A mapping keeps the hash of the canonical JSON of
//     the mapped fields as last pushed (PushedHash) and as last read from
//     Metakocka (PulledHash), and the fields themselves (SyncedView, and
//     SyncedRemoteView when Metakocka's differed). A record whose hash did
//     not change makes no write call on either side.
//   - Merge and conflicts. When both sides changed since the last sync the
//     record is merged field by field against the synced fields (merge.go,
//     fields.go): each side's changes are kept, the merged record goes to
//     Metakocka in one update and to the CRM in one transaction. Only a
//     field both sides changed to different values is a conflict: the
//     tenant's ConflictPolicy decides it (see Conflicts in
//     docs/mapping.md), it is counted in SyncResult.Conflicts and recorded
//     as an error record (category SYNC, code conflict) listing the fields
//     with both values.
//   - Isolation. Every operation names its tenant; the engine reads that
//     tenant's credentials, talks to that tenant's company only, and every
//     store call carries the tenant id. Caches are keyed by tenant.
//   - Bulk. Runs stream records in id order, process them with the tenant's
//     concurrency, account for them in batches of the tenant's batch size and
//     persist progress, result and a checkpoint after each batch, so WorkRun
//     resumes a run where it stopped. A failing record never fails its batch.
//
// The algorithm is written once: push.go syncs a CRM record to Metakocka
// and pull.go a Metakocka record into the CRM, over an entity (entity.go)
// that says how records of one type are read, compared, matched and
// written. contact.go, product.go and document.go are those entities and
// hold only what differs (a document's partner and products synced first,
// a product's one-way stock).
//
// The caches (mapping lookups, Metakocka lookups) are hints only: creates
// always go through the store's mapping and the count_code lookup, and
// mapping writes go through the store's uniqueness checks.
//
// # Lifecycle of a run
//
// A bulk run is created (PrepareRun fills it and the job layer stores it
// with its job; CreateRun stores it directly), worked in slices (WorkRun,
// called by a job until it reports done) and finished by the engine
// (succeeded, partial, failed, or cancelled). The engine has no queue or
// goroutines of its own: River jobs (package jobs) are the one executor.
//
// The Engine implements mksync.Syncer, the contract the REST API, the web
// UI and the jobs depend on. It imports the root, observe and the Metakocka
// client; never a store, jobs or a front door.
package engine
