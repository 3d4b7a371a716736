// Package mksync holds the vocabulary of mksync: the records it keeps in sync
// between a CRM and the Metakocka ERP, the interfaces of the services that store
// and move them, and the error codes every layer speaks.
//
// It imports nothing of the project (and of the outside world only
// shopspring/decimal for money). Storage (sqlite, postgres), the Metakocka
// client (metakocka), the sync engine (engine, which implements Syncer), the
// HTTP API (httpapi), the UI (web) and the job layer (jobs, which implements
// RunStarter) import it; only app wires them together.
package mksync
