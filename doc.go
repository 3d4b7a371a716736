// Package mksync holds the vocabulary of mksync: the records it keeps in sync
// between a CRM and the Metakocka ERP, the interfaces of the services that store
// and move them, and the error codes every layer speaks.
//
// It imports nothing of the project. Storage (sqlite, postgres), the Metakocka
// client (metakocka), the sync engine (engine), the HTTP API (httpapi) and the
// job layer (jobs) import it; only cmd/mksync wires them together.
package mksync
