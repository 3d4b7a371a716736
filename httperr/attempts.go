package httperr

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AttemptLimiter is an in-process token bucket per key (a client IP, a
// tenant) of perMinute attempts, refilled over a minute: sign-in forms and
// admin pages use it for attempts that must be limited per process even
// without a shared Limiter. Unlike Limiter it can tell how long a key must
// wait without spending an attempt (Wait), so that a blocked client is
// refused before its token is checked. It is bounded: when full it starts
// over, which at worst forgives some callers. Safe for concurrent use;
// perMinute ≤ 0 never limits.
type AttemptLimiter struct {
	mu      sync.Mutex
	perMin  int
	buckets map[string]*rate.Limiter
	max     int
}

// NewAttemptLimiter returns a limiter of perMinute attempts per key.
func NewAttemptLimiter(perMinute int) *AttemptLimiter {
	return &AttemptLimiter{perMin: perMinute, buckets: map[string]*rate.Limiter{}, max: 10_000}
}

// Allow spends one attempt of key at now and reports whether there was one.
func (l *AttemptLimiter) Allow(key string, now time.Time) bool {
	if l.perMin <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			clear(l.buckets)
		}
		b = rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)
		l.buckets[key] = b
	}
	return b.AllowN(now, 1)
}

// Wait returns how long key must wait at now before its next attempt; 0
// when it may try now. It spends nothing.
func (l *AttemptLimiter) Wait(key string, now time.Time) time.Duration {
	if l.perMin <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(b.Limit()) * float64(time.Second))
}
