// Package alerts watches mksync at work and tells someone when it goes
// wrong: the in-process alert rules (Alerter) that open and resolve alerts
// in the store, the Monitor that the engine and the job layer report to
// (it feeds both the metrics and the rules), the Notifier that POSTs signed
// notices to alert webhooks, the Pruner that applies the error-record
// retention, and the dialer that lets tenant-chosen webhooks reach public
// addresses only.
//
// It builds on observe (logs, metrics and the event types) and the root
// package's types. It must not import the engine, jobs, the stores, the
// Metakocka client or the front doors (httpapi, web): they report to it
// through interfaces of their own, and main wires it in.
package alerts
