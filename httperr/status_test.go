package httperr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

func TestErrorStatusTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{mksync.Errorf(mksync.EINVALID, "x"), 400},
		{mksync.Errorf(mksync.ENOTFOUND, "x"), 404},
		{mksync.Errorf(mksync.ECONFLICT, "x"), 409},
		{mksync.Errorf(mksync.EUNAUTHORIZED, "x"), 401},
		{mksync.Errorf(mksync.EFORBIDDEN, "x"), 403},
		{mksync.Errorf(mksync.ERATELIMITED, "x"), 429},
		{mksync.Errorf(mksync.EUPSTREAM, "x"), 502},
		{&httperr.Unavailable{Err: mksync.Errorf(mksync.EUPSTREAM, "x")}, 503},
		{fmt.Errorf("wrapped: %w", &httperr.Unavailable{Err: mksync.Errorf(mksync.EUPSTREAM, "x")}), 503},
		{mksync.Errorf(mksync.ECANCELED, "x"), httperr.StatusClientClosedRequest},
		{fmt.Errorf("q: %w", context.Canceled), httperr.StatusClientClosedRequest},
		{mksync.Errorf(mksync.EINTERNAL, "x"), 500},
		{errors.New("plain"), 500},
		{&http.MaxBytesError{Limit: 1}, 413},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, httperr.Status(tt.err), "%v", tt.err)
	}
}

func TestWireCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		want   string
	}{
		{mksync.Errorf(mksync.EINVALID, "x"), 400, mksync.EINVALID},
		{mksync.Errorf(mksync.ECANCELED, "x"), httperr.StatusClientClosedRequest, mksync.ECONFLICT},
		{&http.MaxBytesError{Limit: 1}, 413, mksync.EINVALID},
		{errors.New("plain"), 500, mksync.EINTERNAL},
		{&mksync.Error{Code: "made_up"}, 500, mksync.EINTERNAL},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, httperr.WireCode(tt.err, tt.status), "%v", tt.err)
	}
}

func TestClientReport(t *testing.T) {
	t.Parallel()
	ok := httperr.ClientReport{Message: "boom", Operation: "sync", Context: map[string]string{"runId": "r1", "apiToken": "mks_x"}, URL: "/runs"}
	require.NoError(t, ok.Validate())
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	rec := ok.Record(now, "web")
	require.NotEmpty(t, rec.ID)
	require.Equal(t, "client_error", rec.Code, "a report without a code")
	require.Equal(t, "web", rec.Details["source"])
	require.Equal(t, "r1", rec.Details["runId"])
	require.NotEqual(t, "mks_x", rec.Details["apiToken"], "secret-like keys are redacted")
	require.Equal(t, "/runs", rec.Details["url"])
	require.Equal(t, now.UTC(), rec.CreatedAt)
	_, hasSource := ok.Record(now, "").Details["source"]
	require.False(t, hasSource)

	bad := httperr.ClientReport{Operation: string(make([]byte, 101))}
	err := bad.Validate()
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
	require.Contains(t, mksync.ErrorDetails(err), "message")
	require.Contains(t, mksync.ErrorDetails(err), "operation")
}
