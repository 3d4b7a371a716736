package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// StatusClientClosedRequest is the (nginx) status of a request its client
// cancelled: nobody reads the answer, but the log line says what happened.
const StatusClientClosedRequest = 499

// errorStatus maps domain error codes to HTTP status codes. It is the one
// place that does; every handler returns domain errors and lets writeError
// choose the status.
var errorStatus = map[string]int{
	mksync.EINVALID:      http.StatusBadRequest,
	mksync.ENOTFOUND:     http.StatusNotFound,
	mksync.ECONFLICT:     http.StatusConflict,
	mksync.EUNAUTHORIZED: http.StatusUnauthorized,
	mksync.EFORBIDDEN:    http.StatusForbidden,
	mksync.ERATELIMITED:  http.StatusTooManyRequests,
	mksync.EUPSTREAM:     http.StatusBadGateway,
	mksync.ECANCELED:     StatusClientClosedRequest,
	mksync.EUNAVAILABLE:  http.StatusServiceUnavailable,
	mksync.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for err: the status of its domain code,
// 503 for an upstream error that is an *UnavailableError (Metakocka cannot be
// reached or the sync engine is not configured), 413 for a body over the
// limit, 499 for a request whose context was cancelled, and 500 for anything
// else.
func ErrorStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return http.StatusServiceUnavailable
	}
	code := mksync.ErrorCode(err)
	if code == mksync.EINTERNAL && errors.Is(err, context.Canceled) {
		return StatusClientClosedRequest
	}
	if s, ok := errorStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// UnavailableError marks an upstream failure as "not reachable right now"
// (HTTP 503 rather than 502): Metakocka is down or timing out, or no sync
// engine is configured. The sync engine wraps its Metakocka outages in it;
// errors.As finds it anywhere in the chain.
type UnavailableError struct {
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return "service unavailable"
	}
	return e.Err.Error()
}

// Unwrap returns the cause, which should carry the EUPSTREAM code.
func (e *UnavailableError) Unwrap() error { return e.Err }

// errNoSyncer answers sync routes while no engine is wired in.
func errNoSyncer() error {
	return &UnavailableError{Err: mksync.Errorf(mksync.EUPSTREAM, "sync engine not configured")}
}

// newErrorID returns a new error id: a time-ordered UUIDv7, because stores
// list error records newest first by id. uuid.NewV7 fails only when the
// system's random source does; the id is then a random UUIDv4, which still
// names the failure, only out of order.
func newErrorID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// syncerError wraps err of a Syncer call with op. Metakocka refusing the
// tenant's stored credentials (EUNAUTHORIZED or EFORBIDDEN from the engine)
// becomes EUPSTREAM, a 502: the caller's own API token was fine, and a 401
// or 403 would tell its client to fix the wrong credentials. Any
// *UnavailableError in err's chain still makes it a 503.
func syncerError(op string, err error) error {
	if err == nil {
		return nil
	}
	switch mksync.ErrorCode(err) {
	case mksync.EUNAUTHORIZED, mksync.EFORBIDDEN:
		return &mksync.Error{
			Code:    mksync.EUPSTREAM,
			Message: "Metakocka rejected the credentials (company id or secret key); check them in the Metakocka connection settings",
			Details: map[string]string{"upstream": "metakocka", "reason": "credentials_rejected"},
			Err:     fmt.Errorf("%s: %w", op, err),
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	// Error is a message safe to show to a person.
	Error string `json:"error"`
	// Code is one of invalid, not_found, conflict, unauthorized, forbidden,
	// rate_limited, upstream, unavailable (503 with Retry-After: the
	// database is busy or briefly unreachable), internal.
	Code string `json:"code"`
	// ErrorID names this failure; for 5xx and upstream failures it is the id
	// of the stored error record (GET /api/errors/{errorId}).
	ErrorID string `json:"errorId"`
	// Details holds per-field problems of invalid input and other safe context.
	Details map[string]string `json:"details"`
}

// wireCode returns the code written in the envelope. The domain's
// "cancelled" is not one of the API's codes; a cancelled request is reported
// as a conflict (nobody is listening anyway).
func wireCode(err error, status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return mksync.EINVALID
	case StatusClientClosedRequest:
		return mksync.ECONFLICT
	}
	code := mksync.ErrorCode(err)
	if _, ok := errorStatus[code]; !ok || code == mksync.ECANCELED {
		return mksync.EINTERNAL
	}
	return code
}

// writeError answers err with the error envelope. Every 5xx and every
// upstream failure is also stored as an ErrorRecord (category API) under the
// errorId returned, when the request's tenant is known; otherwise the log
// line of the request carries the errorId. The cause of the error goes to the
// log, never to the client: only domain messages and details are shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	code := wireCode(err, status)
	body := ErrorBody{
		Error:   mksync.ErrorMessage(err),
		Code:    code,
		ErrorID: newErrorID(),
		Details: mksync.ErrorDetails(err),
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		body.Error = "request body too large"
		body.Details = map[string]string{"body": "must be at most " + formatBytes(mbe.Limit)}
	case status == StatusClientClosedRequest:
		body.Error = "request cancelled"
	case code == mksync.EINTERNAL:
		body.Error = "internal error"
		body.Details = nil
	}
	if body.Details == nil {
		body.Details = map[string]string{}
	}
	info := requestInfoFrom(r.Context())
	if info != nil {
		info.errorID = body.ErrorID
		info.err = err
	}
	// A database that is briefly unavailable (busy) would only make the
	// error record wait on it too: the log line of the request keeps it.
	if (status >= 500 && code != mksync.EUNAVAILABLE) || code == mksync.EUPSTREAM {
		s.recordError(r, info, body, status)
	}
	if code == mksync.EUNAVAILABLE && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	if status == http.StatusUnauthorized && r.Pattern != StockWebhookPattern {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mksync"`) // the webhook takes no token
	}
	writeJSON(w, status, body)
}

// unavailableRetryAfter is the Retry-After (seconds) of a 503 for a busy or
// briefly unreachable database.
const unavailableRetryAfter = 5

// recordTimeout bounds the write of an error record after its request.
const recordTimeout = 5 * time.Second

// recordError stores the ErrorRecord of a failed request. It runs on a
// context detached from the request's cancellation, so that a client hanging
// up does not lose the record.
func (s *Server) recordError(r *http.Request, info *requestInfo, body ErrorBody, status int) {
	if info == nil || info.tenantID == "" {
		return
	}
	details := map[string]any{
		"method":    r.Method,
		"route":     r.Pattern,
		"status":    status,
		"requestId": info.requestID,
	}
	for k, v := range body.Details {
		details[k] = v
	}
	rec := mksync.ErrorRecord{
		ID:        body.ErrorID,
		Category:  observe.CatAPI,
		Operation: operationName(r),
		EntityID:  r.PathValue("id"),
		Code:      body.Code,
		Message:   body.Error,
		Details:   details,
		CreatedAt: s.cfg.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout)
	defer cancel()
	if err := s.cfg.Store.CreateErrorRecord(ctx, info.tenantID, &rec); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "store error record",
			slog.String("errorId", body.ErrorID), slog.String("tenantId", info.tenantID),
			slog.String("err", err.Error()))
	}
}

// operationName names the API operation for error records, e.g.
// "GET /api/contacts/{id}"; the route pattern, never the raw path.
func operationName(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.Method + " (unmatched)"
}
