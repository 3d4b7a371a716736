package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/client"
)

// scripted answers the statuses in order (the last one repeats) and counts
// the attempts. It tests the transport policy only; the API's semantics are
// tested against the real server.
func scripted(t *testing.T, retryAfter string, statuses ...int) (*client.Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer mks_test", r.Header.Get("Authorization"))
		assert.Equal(t, "crm/1 mksync-go-client/"+client.Version, r.Header.Get("User-Agent"))
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		if retryAfter != "" && st >= 400 {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		switch {
		case st == http.StatusBadGateway:
			_, _ = w.Write([]byte("<html>bad gateway</html>")) // a proxy's page, no envelope
		case st >= 400:
			_, _ = w.Write([]byte(`{"error":"nope","code":"` + codeFor(st) + `","errorId":"e1","details":{}}`))
		case st == http.StatusNoContent:
		default:
			_, _ = w.Write([]byte(`{"items":[],"nextCursor":""}`))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{BaseURL: srv.URL, Token: "mks_test", UserAgent: "crm/1",
		Retry: client.Retry{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}})
	require.NoError(t, err)
	return c, &n
}

func codeFor(status int) string {
	switch status {
	case 429:
		return mksync.ERATELIMITED
	case 404:
		return mksync.ENOTFOUND
	case 503, 504:
		return mksync.EUPSTREAM
	}
	return mksync.EINTERNAL
}

func TestIdempotentCallsRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	c, n := scripted(t, "", 503, 502, 200)
	_, err := c.ListContacts(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 3, n.Load())

	c, n = scripted(t, "", 504)
	_, err = c.ListProducts(ctx, client.ListOptions{})
	var e *client.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 504, e.Status)
	require.EqualValues(t, 1+client.DefaultMaxRetries, n.Load(), "gives up after MaxRetries")

	c, _ = scripted(t, "", 502)
	_, err = c.SyncRun(ctx, "r")
	require.ErrorAs(t, err, &e)
	require.Equal(t, mksync.EUPSTREAM, e.Code, "a proxy's page without envelope gets the code of its status")
	require.Equal(t, "Bad Gateway", e.Message)

	// A DELETE whose earlier attempt went through finds nothing: success.
	c, n = scripted(t, "", 503, 404)
	require.NoError(t, c.DeleteContact(ctx, "x"))
	require.EqualValues(t, 2, n.Load())

	// 500 is not retried: the server failed, and saying so again won't help.
	c, n = scripted(t, "", 500, 200)
	_, err = c.ListContacts(ctx, client.ListOptions{})
	require.ErrorAs(t, err, &e)
	require.EqualValues(t, 1, n.Load())
}

func TestPOSTRetriesOnlyRateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	c, n := scripted(t, "", 503, 200)
	_, err := c.SyncToMetakocka(ctx, mksync.EntityContact, "x")
	var e *client.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 503, e.Status)
	require.EqualValues(t, 1, n.Load(), "a POST that may have been applied is not repeated")

	c, n = scripted(t, "1", 429, 200)
	start := time.Now()
	_, err = c.SyncToMetakocka(ctx, mksync.EntityContact, "x")
	require.NoError(t, err)
	require.EqualValues(t, 2, n.Load())
	require.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After is honoured")

	c, n = scripted(t, "1", 429, 200)
	c2, err := client.New(client.Config{BaseURL: c.BaseURL(), Token: "mks_test", UserAgent: "crm/1", Retry: client.Retry{NoRateLimitedPOST: true}})
	require.NoError(t, err)
	_, err = c2.SyncToMetakocka(ctx, mksync.EntityContact, "x")
	require.ErrorAs(t, err, &e)
	require.Equal(t, time.Second, e.RetryAfter)
	require.EqualValues(t, 1, n.Load())
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	c, n := scripted(t, "30", 503)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.ListContacts(ctx, client.ListOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualValues(t, 1, n.Load())
}
