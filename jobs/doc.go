// Package jobs runs mksync's background work as durable jobs on River
// (github.com/riverqueue/river), in the store's own database: the embedded
// SQLite file for one machine, PostgreSQL for a fleet of `mksync serve` and
// `mksync worker` processes sharing one queue.
//
// # What runs as a job
//
//   - A sync run (kind mksync_sync_run, queue bulk): a bulk or "sync all"
//     run of one entity type in one direction, persisted as a
//     mksync.SyncRun. StartSync creates the run and its job in one
//     transaction. The job is unique per tenant, entity type, direction and
//     scope (all records, or one set of ids) while it is pending, queued,
//     running, scheduled or retryable — completed jobs do not count — so a
//     double click or a burst of webhooks collapses into one run.
//   - A record sync (kind mksync_sync_record, queue interactive): one record
//     pushed or pulled, e.g. the auto-push of a record written through the
//     API, inserted in the record's own transaction (EnqueueRecord).
//   - A stock webhook (kind mksync_stock, queue interactive): a verified
//     Metakocka stock notification, applied after the fast 200 answer.
//   - The schedule tick (kind mksync_schedule_tick, queue schedule): a River
//     periodic job, registered on every instance (River's elected leader
//     enqueues it), that starts the incremental runs of every tenant whose
//     SyncSettings.ScheduleInterval has elapsed, except tenants whose first
//     connect is still being guided (mksync.FirstConnectPending).
//
// # Fairness and crash safety
//
// Queues keep kinds of work apart: a 100,000-record import in bulk never
// delays a button press in interactive. Within bulk, a sync run job works
// for at most Config.BulkSlice, stopping between two batches, and then
// snoozes itself for zero seconds: it goes to the back of the bulk queue
// behind every other tenant's waiting run, and any process of the fleet may
// pick up its next slice. Progress lives in the run's checkpoint (written by
// the engine after each batch). A slice holds the run's lease
// (mksync.RunLeaseStore) and renews it by heartbeats from its own goroutine,
// so a slow Metakocka call never lets another slice start the same run.
// When a process dies its leases stop being renewed; about Config.RunLease
// later any process with workers breaks the expired lease (fencing the old
// holder) and puts the run's job back in the queue, and the run continues
// from the last checkpoint — seconds, not River's stuck-job rescue
// (Config.RescueStuckJobsAfter), which remains the last resort. The engine's
// idempotent creates make the redone part of a batch harmless.
//
// # Errors
//
// A job whose whole work fails permanently (Metakocka rejects the tenant's
// credentials: EUNAUTHORIZED; or the tenant, run or credentials are gone)
// is cancelled (river.JobCancel), its run marked failed, and the failure
// kept as an error record (category JOBS) and an open alert (raised by
// Config.Monitor's rules when one is set). Metakocka rate
// limiting (ERATELIMITED) snoozes the job until the Retry-After Metakocka
// gave (mksync.ErrorRetryAfter). Anything else is returned to River, which retries with backoff.
//
// # SQLite
//
// River uses the store's one writer connection (sqlite.DB.WriteDB), with
// WAL and the store's busy timeout, so that a job insert joins the store's
// transaction. While a transaction is open on that connection nothing else
// can use it, so inside one only the …Tx calls run (EnqueueRecord and
// StartSync choose them themselves). On SQLite one process runs workers.
//
// # Imports
//
// jobs holds the queue and its workers only. It sees the sync engine
// through the root's mksync.Syncer (Config.Runner) and must not import the
// engine, the Metakocka client, the stores or a front door (httpapi, web):
// the wiring (package app) hands it the store's database.
package jobs
