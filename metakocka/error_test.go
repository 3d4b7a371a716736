package metakocka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name       string
		r          response
		ok         bool
		code       string
		retryable  bool
		reason     string
		retryAfter time.Duration
	}{
		{name: "ok with opr_code 0", r: response{status: 200, body: []byte(`{"opr_code":"0","mk_id":"1"}`)}, ok: true},
		{name: "ok without opr_code (get_partner)", r: response{status: 200, body: []byte(`{"partner_list_count":"0"}`)}, ok: true},
		{name: "ok with numeric opr_code", r: response{status: 200, body: []byte(`{"opr_code":0}`)}, ok: true},
		{name: "bad input", r: response{status: 200, body: []byte(`{"opr_code":"2","opr_desc":"Unknown document type : x"}`)},
			code: mksync.EINVALID, reason: "opr_error"},
		{name: "business rule", r: response{status: 200, body: []byte(`{"opr_code":"6","opr_desc":"datetime is not valid"}`)},
			code: mksync.EINVALID, reason: "opr_error"},
		{name: "not found", r: response{status: 200, body: []byte(`{"opr_code":"2","opr_desc":"Cannot find sales order with buyer order '5662'"}`)},
			code: mksync.ENOTFOUND, reason: "opr_error"},
		{name: "already exists", r: response{status: 200, body: []byte(`{"opr_code":"2","opr_desc":"Product with count_code X already exists"}`)},
			code: mksync.ECONFLICT, reason: "opr_error"},
		{name: "wrong secret (simulator wording)", r: response{status: 200, body: []byte(`{"opr_code":"1","opr_desc":"Authentication failed : wrong company_id or secret_key"}`)},
			code: mksync.EUNAUTHORIZED, reason: "auth"},
		{name: "wrong secret (other wording)", r: response{status: 200, body: []byte(`{"opr_code":"1","opr_desc":"Secret key is not valid"}`)},
			code: mksync.EUNAUTHORIZED, reason: "auth"},
		{name: "internal exception via error_desc", r: response{status: 200, body: []byte(`{"opr_code":"1","error_desc":"java.lang.InterruptedException: sleep interrupted"}`)},
			code: mksync.EUPSTREAM, retryable: true, reason: "opr_internal"},
		{name: "http 401", r: response{status: 401, body: []byte(`nope`)}, code: mksync.EUNAUTHORIZED, reason: "auth"},
		{name: "http 403", r: response{status: 403}, code: mksync.EUNAUTHORIZED, reason: "auth"},
		{name: "http 429 with seconds", r: response{status: 429, header: http.Header{"Retry-After": {"7"}}},
			code: mksync.ERATELIMITED, retryable: true, reason: "rate_limited", retryAfter: 7 * time.Second},
		{name: "http 429 with date", r: response{status: 429, header: http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}},
			code: mksync.ERATELIMITED, retryable: true, reason: "rate_limited", retryAfter: 90 * time.Second},
		{name: "http 429 with garbage", r: response{status: 429, header: http.Header{"Retry-After": {"soon"}}},
			code: mksync.ERATELIMITED, retryable: true, reason: "rate_limited"},
		{name: "http 500", r: response{status: 500}, code: mksync.EUPSTREAM, retryable: true, reason: "http_500"},
		{name: "http 502", r: response{status: 502}, code: mksync.EUPSTREAM, retryable: true, reason: "http_502"},
		{name: "http 503 with json", r: response{status: 503, body: []byte(`{"opr_code":"1"}`)}, code: mksync.EUPSTREAM, retryable: true, reason: "http_503"},
		{name: "http 504", r: response{status: 504}, code: mksync.EUPSTREAM, retryable: true, reason: "http_504"},
		{name: "http 404", r: response{status: 404}, code: mksync.EINVALID, reason: "http_404"},
		{name: "http 501", r: response{status: 501}, code: mksync.EUPSTREAM, reason: "http_501"},
		{name: "not json", r: response{status: 200, body: []byte(`<html>`)}, code: mksync.EUPSTREAM, reason: "decode"},
		{name: "empty body", r: response{status: 200}, code: mksync.EUPSTREAM, reason: "decode"},
		{name: "typed decode failed", r: response{status: 200, body: []byte(`{"opr_code":"0"}`), decodeErr: errors.New("bad amount")},
			code: mksync.EUPSTREAM, reason: "decode"},
		{name: "transport", r: response{err: errors.New("connection reset by peer")}, code: mksync.EUPSTREAM, retryable: true, reason: "transport"},
		{name: "dial", r: response{err: dialErr}, code: mksync.EUPSTREAM, retryable: true, reason: "transport"},
		{name: "attempt timeout", r: response{err: fmt.Errorf("Post: %w", context.DeadlineExceeded)}, code: mksync.EUPSTREAM, retryable: true, reason: "timeout"},
		{name: "caller cancelled", r: response{err: context.Canceled, parentErr: context.Canceled}, code: mksync.ECANCELED, reason: "canceled"},
		{name: "caller deadline", r: response{parentErr: context.DeadlineExceeded}, code: mksync.EUPSTREAM, retryable: true, reason: "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.method, tt.r.now = "get_partner", now
			e := classify(tt.r)
			if tt.ok {
				require.Nil(t, e)
				return
			}
			require.NotNil(t, e)
			require.Equal(t, tt.code, e.Code())
			require.Equal(t, tt.retryable, e.Retryable)
			require.Equal(t, tt.reason, e.Reason())
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			require.Equal(t, "get_partner", e.Method)
			require.Equal(t, tt.code, mksync.ErrorCode(fmt.Errorf("wrapped: %w", e)), "mksync.ErrorCode must see the code")
			require.NotEmpty(t, mksync.ErrorMessage(e))
		})
	}
}

func TestClassifyKeepsContextAndDialInfo(t *testing.T) {
	t.Parallel()
	e := classify(response{method: "search", err: context.Canceled, parentErr: context.Canceled})
	require.ErrorIs(t, e, context.Canceled)
	e = classify(response{method: "search", err: fmt.Errorf("x: %w", context.DeadlineExceeded)})
	require.ErrorIs(t, e, context.DeadlineExceeded)
	e = classify(response{method: "add_partner", err: &net.OpError{Op: "dial", Err: errors.New("refused")}})
	require.True(t, e.notProcessed())
	e = classify(response{method: "add_partner", status: 503})
	require.False(t, e.notProcessed())
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"3", 3 * time.Second},
		{"999999999999", 24 * time.Hour},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, parseRetryAfter(tt.in, now), tt.in)
	}
}
