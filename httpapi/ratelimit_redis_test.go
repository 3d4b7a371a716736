package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/httpapi"
)

// redisURL returns the Redis server for tests, skipping when none is
// configured unless MKSYNC_REQUIRE_REDIS=1 makes that a failure (CI).
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("MKSYNC_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("MKSYNC_REQUIRE_REDIS") == "1" {
			t.Fatal("MKSYNC_REQUIRE_REDIS=1 but MKSYNC_TEST_REDIS_URL is unset")
		}
		t.Skip("Redis tests skipped: set MKSYNC_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run them")
	}
	return u
}

func newRedisLimiter(t *testing.T) *httpapi.RedisLimiter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, c, err := httpapi.NewRedisLimiter(ctx, redisURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return l
}

func randomKey(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "test-" + t.Name() + "-" + hex.EncodeToString(b)
}

// Two instances (two limiters with their own connections) draw from one
// budget: the 11th call of a 10/min key is refused whichever instance gets it.
func TestRedisLimiterSharedAcrossInstances(t *testing.T) {
	a, b := newRedisLimiter(t), newRedisLimiter(t)
	ctx := context.Background()
	key := randomKey(t)
	for i := 0; i < 10; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		d, err := l.Allow(ctx, key, 10, time.Now())
		require.NoError(t, err)
		require.True(t, d.Allowed, "call %d", i+1)
		require.Equal(t, 10, d.Limit)
		require.Equal(t, 9-i, d.Remaining, "call %d", i+1)
	}
	d, err := b.Allow(ctx, key, 10, time.Now())
	require.NoError(t, err)
	require.False(t, d.Allowed, "the 11th call in a minute must be refused")
	require.InDelta(t, 6*time.Second, d.RetryAfter, float64(time.Second), "one request per 6 s at 10/min")
	require.Positive(t, d.Reset)

	other, err := a.Allow(ctx, randomKey(t), 10, time.Now())
	require.NoError(t, err)
	require.True(t, other.Allowed, "another tenant's key is unaffected")
}

// The server answers 429 with the rate-limit headers when the Redis limiter
// refuses, exactly as with the in-process one.
func TestRedisLimiterThroughAPI(t *testing.T) {
	lim := newRedisLimiter(t)
	b := setup(t, setupOpts{cfg: func(c *httpapi.Config) { c.Limiter = lim; c.RateLimitSync = 3 }})
	path := "/api/integrations/metakocka/contacts/sync-to-metakocka"
	body := `{"contactId":"` + b.a.ContactID + `"}`
	for i := 0; i < 3; i++ {
		rec := b.do("POST", path, b.a.Token, body)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		require.Equal(t, strconv.Itoa(2-i), rec.Header().Get("RateLimit-Remaining"))
	}
	rec := b.do("POST", path, b.a.Token, body)
	require.Equal(t, 429, rec.Code)
	require.Equal(t, "rate_limited", envelope(t, rec).Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Equal(t, "3", rec.Header().Get("RateLimit-Limit"))
	require.Equal(t, 200, b.do("POST", path, b.b.Token, `{"contactId":"`+b.b.ContactID+`"}`).Code)
}
