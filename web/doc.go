// Package web is mksync's browser UI: server-rendered HTML pages, enhanced
// with htmx (vendored under static/, embedded in the binary), from which a
// tenant's people connect Metakocka, see what is in sync, run syncs and read
// failures by their errorId.
//
// The UI talks to the Store and the sync engine in process, through the same
// domain interfaces as the REST API (mksync.Syncer, mksync.RunStarter); it
// never calls the API over HTTP, and it does not import httpapi: the error
// vocabulary both share is in httperr. It
// serves every path it is given, so mount it beside the API (which keeps
// /api/…, /healthz and /readyz): see Handler.
//
// Security model:
//   - Sign-in takes an API token of the tenant. The session is an
//     HMAC-signed, HttpOnly, SameSite=Strict cookie (Secure under TLS) that
//     holds the token's SHA-256 hash — the form stores keep, never the token
//     itself — and its expiry. Every request re-checks the hash with
//     TokenStore.AuthenticateAPIToken, so revoking the token ends its
//     sessions at once.
//   - Every state-changing request needs the session's CSRF token (a hidden
//     form field, or the X-CSRF-Token header that htmx and the client logger
//     send), and passes http.CrossOriginProtection, which rejects
//     cross-origin browser requests whatever they carry.
//   - Records are read with the session's tenant id only; another tenant's
//     id in a URL is the not-found page.
package web
