package metakocka

import (
	"context"
	"sync"
	"time"
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
	// not the caller sends, unless the caller gives it back (CancelRequest).
	ReserveRequest(ctx context.Context, companyID string, perSecond float64, burst int) (time.Duration, error)
	// CancelRequest gives back one reservation of the company that the
	// caller will not send and whose moment has not come (its context
	// ended while it waited), under the same perSecond and burst: the
	// company's theoretical arrival time moves back by one interval, never
	// before now, so the next reservation goes that much sooner.
	// Reservations already made keep their moments: when some were made
	// after the one given back, the next goes together with the latest of
	// them, two at once where one was due, which a burst of 2 or more
	// (the default is 5) allows anyway.
	CancelRequest(ctx context.Context, companyID string, perSecond float64, burst int) error
}

// MemoryRates is the RateStore of one process: the shared stores' generic
// cell rate algorithm (GCRAInterval), a theoretical arrival time per
// company kept in memory. The zero value is ready.
type MemoryRates struct {
	mu  sync.Mutex
	tat map[string]time.Time
}

var _ RateStore = (*MemoryRates)(nil)

// ReserveRequest implements RateStore.
func (m *MemoryRates) ReserveRequest(_ context.Context, companyID string, perSecond float64, burst int) (time.Duration, error) {
	interval, tolerance := GCRAInterval(perSecond, burst)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tat == nil {
		m.tat = map[string]time.Time{}
	}
	now := time.Now()
	tat := later(m.tat[companyID], now).Add(interval)
	m.tat[companyID] = tat
	return max(0, tat.Add(-tolerance).Sub(now)), nil
}

// CancelRequest implements RateStore.
func (m *MemoryRates) CancelRequest(_ context.Context, companyID string, perSecond float64, burst int) error {
	interval, _ := GCRAInterval(perSecond, burst)
	m.mu.Lock()
	defer m.mu.Unlock()
	if tat, ok := m.tat[companyID]; ok {
		m.tat[companyID] = later(tat.Add(-interval), time.Now())
	}
	return nil
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
