// Package validate holds mksync's end-to-end validation: one set of checks
// (create → push → mapping, update, unchanged resync, pull, bulk runs,
// faults, bad input, conflicts under every policy, tenant isolation,
// matching before creating, deletes that stay deleted, rate limits, a
// contact's addresses updated by mk_id) and the two drivers they run
// through:
//
//   - InProcess: a store, engine and Metakocka client built in this process,
//     against the Metakocka simulator with injected faults or a real
//     Metakocka account;
//   - Remote: a running deployment, driven over its REST API with the Go
//     client, as a CRM would call it.
//
// A check asks its driver for what it needs (a simulator for faults, direct
// access to the store and to Metakocka, the REST API, a second tenant); when
// the driver cannot give it, the check is reported as skipped with the
// reason, never as passed.
//
// The checks (checks.go) see mksync only through the Driver and Tenant
// interfaces; only the drivers import the engine, stores, simulator or
// client. The package must not import cmd/mksync, httpapi or web, and
// nothing but commands and tests may import it.
package validate
