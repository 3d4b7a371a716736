package mksync

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The HTTP API maps each to one status in one
// place; the sync engine records them on per-record failures.
const (
	ECONFLICT     = "conflict"     // the write clashes with existing state (duplicate, stale version)
	EINTERNAL     = "internal"     // a bug or an unexpected failure; never the caller's fault
	EINVALID      = "invalid"      // the input is wrong; retrying it unchanged cannot succeed
	ENOTFOUND     = "not_found"    // no such record for this tenant
	EUNAUTHORIZED = "unauthorized" // missing, wrong or revoked credentials
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed to do this
	ERATELIMITED  = "rate_limited" // too many requests; try again later
	EUPSTREAM     = "upstream"     // Metakocka failed or could not be reached
	ECANCELED     = "cancelled"    // the operation was cancelled by its caller
	EUNAVAILABLE  = "unavailable"  // the database (or another service mksync needs) is briefly unreachable; try again
)

// Error is a domain error: a code that callers can branch on, a message safe to
// show to a user, and optional per-field details (validation failures).
//
// It never carries secrets: whoever builds one must not put a credential in
// Message or Details.
type Error struct {
	Code    string
	Message string
	// Details holds machine-readable context, e.g. field name → rule broken.
	Details map[string]string
	// Err is the underlying cause, kept for logs and errors.Is/As; not shown to users.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with code and message whose cause is err.
func WrapError(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other error (whose text may hold
// internals that users must not see).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorDetails returns the details of the first *Error in err's chain, or nil.
func ErrorDetails(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
