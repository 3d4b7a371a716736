package metakocka

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateStore keeps every Metakocka company's request rate, so that the
// requests per second hold across all the Pacers that share it:
// MemoryRates for one process; a database or Redis for a fleet (the
// postgres store's DB and redisbudget.Rates implement it). Methods must be
// safe for concurrent use.
//
// A RateStore hands out reservations, not refusals: every request gets the
// company's next free moment, in the order the reservations arrive from
// whatever process, so waiters never race by polling and the runs that
// share a company take turns request by request.
type RateStore interface {
	// ReserveRequest reserves one request of the company under a rate of
	// perSecond with burst (a generic cell rate algorithm: burst requests
	// may go at once after idling) and returns how long the caller must
	// wait before it sends it (0: now). A reservation is used whether or
	// not the caller sends: one given up costs the company 1/perSecond.
	ReserveRequest(ctx context.Context, companyID string, perSecond float64, burst int) (time.Duration, error)
}

// MemoryRates is the RateStore of one process: a token bucket per company.
// The zero value is ready.
type MemoryRates struct {
	mu        sync.Mutex
	companies map[string]*rate.Limiter
}

var _ RateStore = (*MemoryRates)(nil)

// ReserveRequest implements RateStore.
func (m *MemoryRates) ReserveRequest(_ context.Context, companyID string, perSecond float64, burst int) (time.Duration, error) {
	m.mu.Lock()
	if m.companies == nil {
		m.companies = map[string]*rate.Limiter{}
	}
	l := m.companies[companyID]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
		m.companies[companyID] = l
	}
	m.mu.Unlock()
	if l.Limit() != rate.Limit(perSecond) {
		l.SetLimit(rate.Limit(perSecond))
	}
	if l.Burst() != max(burst, 1) {
		l.SetBurst(max(burst, 1))
	}
	return l.Reserve().Delay(), nil
}

// GCRAInterval returns the emission interval and the burst tolerance of a
// generic cell rate algorithm at perSecond with burst, so that every
// shared RateStore computes a rate the same way: each reservation moves
// the company's theoretical arrival time (tat, at least now) on by
// interval, and the request waits until tat - tolerance.
func GCRAInterval(perSecond float64, burst int) (interval, tolerance time.Duration) {
	interval = time.Duration(float64(time.Second) / perSecond)
	return interval, time.Duration(max(burst, 1)) * interval
}
