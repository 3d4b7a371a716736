package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// Error is a non-2xx answer of the API: its error envelope
// {"error","code","errorId","details"} and the HTTP status.
//
// Find it with errors.As. It unwraps to an *mksync.Error with the same code,
// message and details, so mksync.ErrorCode(err), mksync.ErrorMessage(err)
// and mksync.ErrorDetails(err) work on any error a method returns.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the envelope's code: one of mksync.EINVALID, ENOTFOUND,
	// ECONFLICT, EUNAUTHORIZED, EFORBIDDEN, ERATELIMITED, EUPSTREAM,
	// EINTERNAL. An answer without an envelope (a proxy's error page) gets
	// the code its status implies.
	Code string
	// Message is safe to show to a person.
	Message string
	// ErrorID names this failure; for 5xx and upstream failures the server
	// stored an error record under it (Client.ErrorRecord).
	ErrorID string
	// Details holds per-field problems of invalid input and other context.
	Details map[string]string
	// RetryAfter is the wait the server asked for (429, 503), 0 when none.
	RetryAfter time.Duration
	// RateLimit is what the RateLimit-* headers said, zero when absent.
	RateLimit RateLimit
	// RequestID is the server's X-Request-Id, for its logs.
	RequestID string
	// Method and Path name the request (the path without query string).
	Method, Path string
	// Header holds the answer's headers.
	Header http.Header
}

// RateLimit is the state of the caller's rate-limit bucket as the API's
// RateLimit-* headers report it.
type RateLimit struct {
	// Limit is the requests allowed per minute.
	Limit int
	// Remaining is the requests left now.
	Remaining int
	// Reset is the time until the bucket is full again.
	Reset time.Duration
}

// Error implements error: "METHOD PATH: STATUS code: message (errorId …)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d %s: %s", e.Status, e.Code, e.Message)
	if e.ErrorID != "" {
		fmt.Fprintf(&b, " (errorId %s)", e.ErrorID)
	}
	return b.String()
}

// Unwrap returns the domain form of the error, so that mksync.ErrorCode and
// errors.As(err, **mksync.Error) see the code.
func (e *Error) Unwrap() error {
	return &mksync.Error{Code: e.Code, Message: e.Message, Details: e.Details}
}

// envelope is the API's error body.
type envelope struct {
	Error   string            `json:"error"`
	Code    string            `json:"code"`
	ErrorID string            `json:"errorId"`
	Details map[string]string `json:"details"`
}

// newError builds the *Error of a non-2xx answer whose body is raw.
func newError(method, p string, resp *http.Response, raw []byte) *Error {
	e := &Error{
		Status:    resp.StatusCode,
		Method:    method,
		Path:      p,
		Header:    resp.Header,
		RequestID: resp.Header.Get("X-Request-Id"),
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err == nil && env.Code != "" {
		e.Code, e.Message, e.ErrorID, e.Details = env.Code, env.Error, env.ErrorID, env.Details
	} else {
		e.Code = codeOfStatus(resp.StatusCode)
		e.Message = http.StatusText(resp.StatusCode)
		if e.Message == "" {
			e.Message = "HTTP " + strconv.Itoa(resp.StatusCode)
		}
	}
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	e.RateLimit = parseRateLimit(resp.Header)
	return e
}

// codeOfStatus is the domain code an answer without envelope implies.
func codeOfStatus(status int) string {
	switch {
	case status == http.StatusBadRequest, status == http.StatusRequestEntityTooLarge,
		status == http.StatusMethodNotAllowed, status == http.StatusUnsupportedMediaType:
		return mksync.EINVALID
	case status == http.StatusUnauthorized:
		return mksync.EUNAUTHORIZED
	case status == http.StatusForbidden:
		return mksync.EFORBIDDEN
	case status == http.StatusNotFound:
		return mksync.ENOTFOUND
	case status == http.StatusConflict:
		return mksync.ECONFLICT
	case status == http.StatusTooManyRequests:
		return mksync.ERATELIMITED
	case status == http.StatusBadGateway, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return mksync.EUPSTREAM
	}
	return mksync.EINTERNAL
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func parseRateLimit(h http.Header) RateLimit {
	atoi := func(name string) int {
		n, _ := strconv.Atoi(h.Get(name))
		return n
	}
	return RateLimit{
		Limit:     atoi("RateLimit-Limit"),
		Remaining: atoi("RateLimit-Remaining"),
		Reset:     time.Duration(atoi("RateLimit-Reset")) * time.Second,
	}
}
