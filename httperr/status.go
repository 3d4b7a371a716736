package httperr

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/mksync/mksync"
)

// StatusClientClosedRequest is the (nginx) status of a request its client
// cancelled: nobody reads the answer, but the log line says what happened.
const StatusClientClosedRequest = 499

// statusOf maps domain error codes to HTTP status codes. It is the one
// place that does; handlers return domain errors and let the front door
// choose the status through Status.
var statusOf = map[string]int{
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

// Status returns the HTTP status for err: the status of its domain code,
// 503 for an upstream error that is an *Unavailable (Metakocka cannot be
// reached or the sync engine is not configured), 413 for a body over the
// limit, 499 for a request whose context was cancelled, and 500 for
// anything else.
func Status(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	var ue *Unavailable
	if errors.As(err, &ue) {
		return http.StatusServiceUnavailable
	}
	code := mksync.ErrorCode(err)
	if code == mksync.EINTERNAL && errors.Is(err, context.Canceled) {
		return StatusClientClosedRequest
	}
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// WireCode returns the code written in the envelope of err answered with
// status. The domain's "cancelled" is not one of the API's codes; a
// cancelled request is reported as a conflict (nobody is listening anyway),
// and a body over the limit as invalid.
func WireCode(err error, status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return mksync.EINVALID
	case StatusClientClosedRequest:
		return mksync.ECONFLICT
	}
	code := mksync.ErrorCode(err)
	if _, ok := statusOf[code]; !ok || code == mksync.ECANCELED {
		return mksync.EINTERNAL
	}
	return code
}

// Unavailable marks an upstream failure as "not reachable right now"
// (HTTP 503 rather than 502): Metakocka is down or timing out, or no sync
// engine is configured. errors.As finds it anywhere in the chain.
type Unavailable struct {
	Err error
}

// Error implements error.
func (e *Unavailable) Error() string {
	if e.Err == nil {
		return "service unavailable"
	}
	return e.Err.Error()
}

// Unwrap returns the cause, which should carry the EUPSTREAM code.
func (e *Unavailable) Unwrap() error { return e.Err }

// NoSyncer is the failure of sync actions on a server where no sync
// engine (or no job queue to run syncs) is wired in: a 503 with code
// upstream.
func NoSyncer() error {
	return &Unavailable{Err: mksync.Errorf(mksync.EUPSTREAM, "the sync engine is not configured on this server")}
}

// Body is the JSON body of every non-2xx answer of the REST API, and what
// the UI shows of a failure.
type Body struct {
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

// NewID returns a new error id: a time-ordered UUIDv7, because stores list
// error records newest first by id. uuid.NewV7 fails only when the system's
// random source does; the id is then a random UUIDv4, which still names the
// failure, only out of order.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
