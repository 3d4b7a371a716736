package mksync

import (
	"errors"
	"fmt"
	"time"
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
	// RetryAfter is how long an upstream (Metakocka's Retry-After header)
	// asked callers to wait before trying again; 0 when it said nothing.
	// The job layer snoozes rate-limited jobs for it (see ErrorRetryAfter).
	RetryAfter time.Duration
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

// ErrorRetryAfter returns the first positive RetryAfter of an *Error
// anywhere in err's chain (also behind other domain errors that wrap it, and
// in errors that convert themselves with an As method, as Metakocka's do),
// or 0 when none asks for a wait.
func ErrorRetryAfter(err error) time.Duration {
	for _, e := range chain(err) {
		var d *Error
		switch v := e.(type) {
		case *Error:
			d = v
		case interface{ As(any) bool }:
			if !v.As(&d) {
				d = nil
			}
		}
		if d != nil && d.RetryAfter > 0 {
			return d.RetryAfter
		}
	}
	return 0
}

// chain lists err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	stack := []error{err}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			ws := u.Unwrap()
			for i := len(ws) - 1; i >= 0; i-- {
				stack = append(stack, ws[i])
			}
		}
	}
	return out
}
