package httpapi

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RedisLimiter is a Limiter whose buckets live in Redis, so that every mksync
// instance behind a load balancer draws from the same per-tenant budget. It
// uses the GCRA algorithm of github.com/go-redis/redis_rate (one atomic Lua
// script per request), with the same shape as MemoryLimiter: a burst of
// perMinute requests refilling at perMinute per minute.
//
// Redis keeps the time: the now argument of Allow is ignored, so all
// instances agree even when their clocks drift.
type RedisLimiter struct {
	rl     *redis_rate.Limiter
	prefix string
}

// NewRedisLimiter returns a limiter on the Redis server at url
// (redis://[user:password@]host:port/db). It pings the server so that a wrong
// URL fails at start, not on the first request.
func NewRedisLimiter(ctx context.Context, url string) (*RedisLimiter, *redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("MKSYNC_REDIS_URL: %w", err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, nil, fmt.Errorf("redis ping %s: %w", opts.Addr, err)
	}
	return NewRedisLimiterFromClient(c, "mksync:rl:"), c, nil
}

// NewRedisLimiterFromClient returns a limiter on an existing client; keys are
// stored under prefix.
func NewRedisLimiterFromClient(c redis.UniversalClient, prefix string) *RedisLimiter {
	return &RedisLimiter{rl: redis_rate.NewLimiter(c), prefix: prefix}
}

// Allow implements Limiter. The limit is part of the key, so a changed limit
// starts a new bucket.
func (l *RedisLimiter) Allow(ctx context.Context, key string, perMinute int, _ time.Time) (Decision, error) {
	if perMinute <= 0 {
		return Decision{Allowed: true}, nil
	}
	res, err := l.rl.Allow(ctx, l.prefix+key+"|"+strconv.Itoa(perMinute), redis_rate.PerMinute(perMinute))
	if err != nil {
		return Decision{}, fmt.Errorf("redis rate limit: %w", err)
	}
	d := Decision{
		Allowed:   res.Allowed > 0,
		Limit:     perMinute,
		Remaining: res.Remaining,
		Reset:     max(res.ResetAfter, 0),
	}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}
