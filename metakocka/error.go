package metakocka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// Error is every failure a Client method returns (except configuration errors
// from New). It says which call failed, how Metakocka answered, whether trying
// the same request again later may succeed, and which mksync error code it maps
// to, so callers branch on Code/Retryable and never on message text.
//
// Error never contains the secret key: messages from the transport and from
// Metakocka are scrubbed before they are stored.
type Error struct {
	// Method is the Metakocka method, e.g. "get_partner".
	Method string
	// HTTPStatus is the HTTP status of the answer; 0 if none arrived.
	HTTPStatus int
	// OprCode and OprDesc are Metakocka's opr_code and opr_desc (or
	// error_desc) when the answer carried them.
	OprCode string
	OprDesc string
	// Retryable reports whether the same request may succeed later: transport
	// failures, timeouts, HTTP 429, 500, 502, 503 and 504, and opr_codes
	// whose opr_desc reports a failure inside Metakocka (an exception). Bad
	// input, rejected credentials and undecodable answers are not retryable.
	Retryable bool
	// RetryAfter is the wait Metakocka asked for (Retry-After header); 0 if
	// none. The job layer uses it to snooze.
	RetryAfter time.Duration
	// Err is the cause (scrubbed transport error, decode error, context error).
	Err error

	code   string // mksync code
	reason string // bounded label for logs and metrics
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("metakocka ")
	b.WriteString(e.Method)
	if e.HTTPStatus != 0 && e.HTTPStatus != http.StatusOK {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.OprCode != "" {
		fmt.Fprintf(&b, ": opr_code %s", e.OprCode)
	}
	if e.OprDesc != "" {
		fmt.Fprintf(&b, ": %s", e.OprDesc)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }

// Code returns the mksync error code: EINVALID for input Metakocka rejected,
// ENOTFOUND when it says the record does not exist, ECONFLICT when it says the
// record already exists, EUNAUTHORIZED for rejected credentials, ERATELIMITED
// for HTTP 429, ECANCELED when the caller's context was cancelled, EUPSTREAM
// for everything else.
func (e *Error) Code() string {
	if e.code == "" {
		return mksync.EUPSTREAM
	}
	return e.code
}

// Reason returns a short, bounded label of the failure ("http_503",
// "timeout", "transport", "opr_error", "auth", "decode", "canceled", …) for
// logs and metric labels.
func (e *Error) Reason() string { return e.reason }

// As lets errors.As(err, **mksync.Error) and thus mksync.ErrorCode and
// mksync.ErrorMessage see a Metakocka error as a domain error.
func (e *Error) As(target any) bool {
	t, ok := target.(**mksync.Error)
	if !ok {
		return false
	}
	*t = &mksync.Error{Code: e.Code(), Message: e.userMessage(), Err: e, RetryAfter: e.RetryAfter}
	return true
}

// userMessage is a message safe to show to a CRM user.
func (e *Error) userMessage() string {
	switch e.Code() {
	case mksync.EINVALID, mksync.ENOTFOUND, mksync.ECONFLICT:
		if e.OprDesc != "" {
			return "Metakocka rejected the request: " + e.OprDesc
		}
		return "Metakocka rejected the request"
	case mksync.EUNAUTHORIZED:
		return "Metakocka rejected the company id or secret key"
	case mksync.ERATELIMITED:
		return "Metakocka is limiting the request rate; try again later"
	case mksync.ECANCELED:
		return "the Metakocka request was cancelled"
	default:
		return "Metakocka failed or could not be reached"
	}
}

// response is what one HTTP attempt produced; classify turns it into an
// *Error or nil.
type response struct {
	method    string
	status    int
	header    http.Header
	body      []byte
	err       error // transport error or attempt-timeout; nil if an answer arrived
	parentErr error // the caller's context error, if it ended
	decodeErr error // decoding the typed answer failed
	scrub     func(string) string
	now       time.Time // for Retry-After dates
}

// envelope is the status part every Metakocka answer may carry.
type envelope struct {
	OprCode   json.RawMessage `json:"opr_code"`
	OprDesc   string          `json:"opr_desc"`
	ErrorDesc string          `json:"error_desc"`
}

// authMarkers are lower-case fragments of opr_desc that mean the company id or
// secret key was rejected. Metakocka's documentation shows no answer for wrong
// credentials; these cover the plausible English and Slovenian wordings
// ("Secret key or company id not valid", "Avtentikacija ni uspela", "access denied") and
// the simulator's answer. A rejected credential is not retryable.
var authMarkers = []string{
	"secret", "company_id", "company id", "companyid", "api key", "apikey",
	"authenticat", "unauthori", "not authori", "access denied", "permission denied",
	"avtentik", "avtoriz", "dostop zavrnjen",
}

// internalMarkers mark an opr_desc that reports a failure inside Metakocka
// rather than a fault of the request (opr_code "1" with a Java exception, an
// interrupted or timed-out job); such an error is retryable.
var internalMarkers = []string{"internal error", "exception", "java.", "interrupted", "timed out", "timeout", "try again", "temporarily"}

var notFoundMarkers = []string{"not found", "cannot find", "can't find", "does not exist", "doesn't exist", "ne obstaja", "ni najden"}

var conflictMarkers = []string{"already exist", "že obstaja", "ze obstaja", "duplicate"}

// classify is the one place that decides what an answer from Metakocka means.
// It returns nil when the call succeeded.
func classify(r response) *Error {
	scrub := r.scrub
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	e := &Error{Method: r.method, HTTPStatus: r.status}
	if r.parentErr != nil {
		e.Err = safeError(r.parentErr, scrub)
		if errors.Is(r.parentErr, context.Canceled) {
			e.code, e.reason = mksync.ECANCELED, "canceled"
		} else {
			e.code, e.reason, e.Retryable = mksync.EUPSTREAM, "deadline", true
		}
		return e
	}
	if r.err != nil {
		e.Err = safeError(r.err, scrub)
		e.code, e.Retryable = mksync.EUPSTREAM, true
		e.reason = "transport"
		var ne net.Error
		if errors.Is(r.err, context.DeadlineExceeded) || (errors.As(r.err, &ne) && ne.Timeout()) {
			e.reason = "timeout"
		}
		return e
	}

	var env envelope
	envErr := json.Unmarshal(r.body, &env)
	e.OprCode = scrub(oprCodeText(env.OprCode))
	e.OprDesc = scrub(strings.TrimSpace(firstNonEmpty(env.OprDesc, env.ErrorDesc)))

	switch {
	case r.status == http.StatusTooManyRequests:
		e.code, e.reason, e.Retryable = mksync.ERATELIMITED, "rate_limited", true
		e.RetryAfter = parseRetryAfter(r.header.Get("Retry-After"), r.now)
		return e
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		e.code, e.reason = mksync.EUNAUTHORIZED, "auth"
		return e
	case r.status == http.StatusInternalServerError || r.status == http.StatusBadGateway ||
		r.status == http.StatusServiceUnavailable || r.status == http.StatusGatewayTimeout:
		e.code, e.reason, e.Retryable = mksync.EUPSTREAM, "http_"+strconv.Itoa(r.status), true
		e.RetryAfter = parseRetryAfter(r.header.Get("Retry-After"), r.now)
		return e
	case r.status >= 300 && r.status < 400:
		// Redirects are never followed (see Config.HTTPClient).
		e.code, e.reason = mksync.EUPSTREAM, "redirect"
		e.Err = fmt.Errorf("answered HTTP %d (a redirect), which is not followed: check the tenant's Metakocka URL", r.status)
		return e
	case r.status != http.StatusOK && r.status != 0:
		// Other 4xx/5xx (400 Bad Request, 404 wrong URL, …) will not change
		// by themselves.
		e.code, e.reason = mksync.EUPSTREAM, "http_"+strconv.Itoa(r.status)
		if r.status >= 400 && r.status < 500 {
			e.code = mksync.EINVALID
		}
		return e
	case envErr != nil:
		e.code, e.reason = mksync.EUPSTREAM, "decode"
		e.Err = safeError(fmt.Errorf("answer is not a JSON object: %w", envErr), scrub)
		return e
	}

	if e.OprCode != "" && e.OprCode != "0" {
		desc := strings.ToLower(e.OprDesc)
		switch {
		case containsAny(desc, authMarkers):
			e.code, e.reason = mksync.EUNAUTHORIZED, "auth"
		case containsAny(desc, internalMarkers):
			e.code, e.reason, e.Retryable = mksync.EUPSTREAM, "opr_internal", true
		case containsAny(desc, notFoundMarkers):
			e.code, e.reason = mksync.ENOTFOUND, "opr_error"
		case containsAny(desc, conflictMarkers):
			e.code, e.reason = mksync.ECONFLICT, "opr_error"
		default:
			e.code, e.reason = mksync.EINVALID, "opr_error"
		}
		return e
	}
	if r.decodeErr != nil {
		e.code, e.reason = mksync.EUPSTREAM, "decode"
		e.Err = safeError(fmt.Errorf("decode answer: %w", r.decodeErr), scrub)
		return e
	}
	return nil
}

// oprCodeText returns opr_code as text whether it came as "2" or 2.
func oprCodeText(raw json.RawMessage) string {
	s, err := scalarText(raw)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// It returns 0 when the header is absent or unusable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(24 * time.Hour / time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// scrubbedError is a cause whose message has had the secret removed. It keeps
// what callers test with errors.Is (context errors) and net.Error's Timeout,
// but not the original error, whose text may hold the secret.
type scrubbedError struct {
	msg        string
	timeout    bool
	dialFailed bool // the connection was never made: the request was not sent
	sentinel   error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Timeout() bool { return e.timeout }
func (e *scrubbedError) Unwrap() error { return e.sentinel }

// safeError returns err with its message scrubbed.
func safeError(err error, scrub func(string) string) error {
	se := &scrubbedError{msg: scrub(err.Error())}
	var ne net.Error
	se.timeout = errors.As(err, &ne) && ne.Timeout()
	var oe *net.OpError
	se.dialFailed = errors.As(err, &oe) && oe.Op == "dial"
	switch {
	case errors.Is(err, context.Canceled):
		se.sentinel = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		se.sentinel = context.DeadlineExceeded
		se.timeout = true
	}
	return se
}
