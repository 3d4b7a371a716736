// Package httperr is the error vocabulary both front doors share: the
// REST API (httpapi) and the web UI (web). It holds the one table from
// domain error codes to HTTP status (Status), the JSON error envelope
// {"error","code","errorId","details"} (Body), the errorId generator, the
// marker of "upstream not reachable right now" failures (Unavailable) and
// the browser's error report (ClientReport), so that neither front door
// imports the other.
//
// It imports only the root package and observe (log categories and
// redaction); never httpapi, web, the engine or a store.
package httperr
