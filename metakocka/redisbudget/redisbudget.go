// Package redisbudget keeps the Metakocka request rate of a fleet in
// Redis (metakocka.RateStore), for deployments that run Redis beside
// PostgreSQL and would rather not send every request's reservation to the
// database.
//
// It is a generic cell rate algorithm, as go-redis/redis_rate's, but one
// that reserves instead of refusing: redis_rate answers "not now, try in
// d", which leaves waiters of many processes racing each other by polling;
// a reservation gives every request the company's next free moment in the
// order the reservations arrive, so the runs that share a company take
// turns.
package redisbudget

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mksync/mksync/metakocka"
)

// reserve moves the company's theoretical arrival time (KEYS[1], in
// microseconds of Redis's own clock) on by ARGV[1] microseconds and
// returns how many microseconds the request waits (ARGV[2]: the burst
// tolerance). The key expires once the company has been idle past its
// burst. Integers are written with %d: Lua's default number format would
// round microseconds since the epoch.
var reserve = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
return wait
`)

// giveBack moves the company's theoretical arrival time (KEYS[1]) back by
// ARGV[1] microseconds, never before now, when it is ahead (a reservation
// given back; metakocka.RateStore.CancelRequest). The expiry is set as
// reserve sets it.
var giveBack = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat <= now then return 0 end
tat = tat - tonumber(ARGV[1])
if tat < now then tat = now end
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return 1
`)

// Rates is a metakocka.RateStore in Redis. Safe for concurrent use.
type Rates struct {
	client redis.UniversalClient
	prefix string
}

var _ metakocka.RateStore = (*Rates)(nil)

// New returns Rates on client, its keys under prefix (one key per company:
// prefix + company id).
func New(client redis.UniversalClient, prefix string) *Rates {
	return &Rates{client: client, prefix: prefix}
}

// ReserveRequest implements metakocka.RateStore.
func (r *Rates) ReserveRequest(ctx context.Context, companyID string, perSecond float64, burst int) (time.Duration, error) {
	interval, tolerance := metakocka.GCRAInterval(perSecond, burst)
	us, err := reserve.Run(ctx, r.client, []string{r.prefix + companyID},
		interval.Microseconds(), tolerance.Microseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis reserve metakocka request: %w", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// CancelRequest implements metakocka.RateStore.
func (r *Rates) CancelRequest(ctx context.Context, companyID string, perSecond float64, burst int) error {
	interval, _ := metakocka.GCRAInterval(perSecond, burst)
	if err := giveBack.Run(ctx, r.client, []string{r.prefix + companyID}, interval.Microseconds()).Err(); err != nil {
		return fmt.Errorf("redis give back metakocka request: %w", err)
	}
	return nil
}
