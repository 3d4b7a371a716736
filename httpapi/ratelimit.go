package httpapi

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// Limiter decides whether one more request of a key (a tenant or a client IP,
// per route class) may pass. The in-process MemoryLimiter is the default; a
// limiter shared by many instances (Redis) implements the same interface, so
// handlers never change.
//
// Implementations must be safe for concurrent use. An error means the
// limiter itself failed; the server then lets the request pass (it prefers
// serving to refusing) and logs the failure.
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute int, now time.Time) (Decision, error)
}

// Decision is the outcome of one Limiter.Allow call and what the rate-limit
// headers report.
type Decision struct {
	Allowed bool
	// Limit is the number of requests allowed per window (a minute).
	Limit int
	// Remaining is how many more requests would pass right now.
	Remaining int
	// Reset is the time until the bucket is full again.
	Reset time.Duration
	// RetryAfter is, when not allowed, the time until one request may pass.
	RetryAfter time.Duration
}

// MemoryLimiter is a Limiter of token buckets (golang.org/x/time/rate), one
// per key, in a bounded cache: a key unused for longer than a refill window is
// evicted, which loses nothing since its bucket would be full again by then.
// Each bucket holds perMinute tokens and refills at perMinute per minute.
type MemoryLimiter struct {
	buckets *otter.Cache[string, *rate.Limiter]
}

// NewMemoryLimiter returns a limiter that keeps at most maxKeys buckets
// (default 100,000 when maxKeys ≤ 0). Call Close to stop its cache's
// background work.
func NewMemoryLimiter(maxKeys int) (*MemoryLimiter, error) {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	c, err := otter.New(&otter.Options[string, *rate.Limiter]{
		MaximumSize:      maxKeys,
		ExpiryCalculator: otter.ExpiryAccessing[string, *rate.Limiter](2 * time.Minute),
	})
	if err != nil {
		return nil, err
	}
	return &MemoryLimiter{buckets: c}, nil
}

// Allow implements Limiter. The limit is part of the key, so a changed limit
// starts a new bucket.
func (m *MemoryLimiter) Allow(_ context.Context, key string, perMinute int, now time.Time) (Decision, error) {
	if perMinute <= 0 {
		return Decision{Allowed: true, Limit: 0, Remaining: 0}, nil
	}
	every := rate.Limit(float64(perMinute) / 60)
	lim, _ := m.buckets.ComputeIfAbsent(key+"|"+strconv.Itoa(perMinute), func() (*rate.Limiter, bool) {
		return rate.NewLimiter(every, perMinute), false
	})
	d := Decision{Limit: perMinute}
	d.Allowed = lim.AllowN(now, 1)
	tokens := lim.TokensAt(now)
	if !d.Allowed {
		d.RetryAfter = time.Duration((1 - tokens) / float64(every) * float64(time.Second))
	}
	d.Remaining = max(0, int(math.Floor(tokens)))
	missing := float64(perMinute) - max(tokens, 0)
	d.Reset = time.Duration(missing / float64(every) * float64(time.Second))
	return d, nil
}

// Close stops the cache's background goroutines.
func (m *MemoryLimiter) Close() { m.buckets.StopAllGoroutines() }
