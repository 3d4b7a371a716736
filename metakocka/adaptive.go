package metakocka

import (
	"sync"
	"time"
)

// Sample is what one answered (or failed) request says about its company's
// load, for the adaptive in-flight limit.
type Sample struct {
	// Latency of the attempt.
	Latency time.Duration
	// RateLimited: Metakocka answered 429.
	RateLimited bool
	// RetryAfter is the wait a 429 asked for (0: none given).
	RetryAfter time.Duration
	// Overloaded: a 5xx answer or a timeout, signs of a company at its limit.
	Overloaded bool
}

// The adaptive limit's defaults.
const (
	DefaultAdaptiveInitial   = 2
	DefaultAdaptiveCeiling   = 32
	DefaultAdaptiveTolerance = 1.5
)

// AdaptiveLimit finds how many requests one company takes in flight, by
// additive increase and multiplicative decrease (AIMD, as TCP does): it
// starts low and grows by about one per limit's worth of answers while they
// come back fast (within Tolerance × the latency floor) and without 429 or
// 5xx; it halves on a 429 (and pauses the company for its Retry-After), a
// 5xx or a timeout, and shrinks by a tenth when answers slow down past the
// tolerance (queueing at Metakocka). Decreases happen at most once per
// smoothed latency, so one burst of bad answers counts once.
//
// The latency floor is the least latency seen in the last one to two
// floorWindows, so that a floor from a quiet moment does not stay forever. All times come from the
// caller (now), so it is tested with a fake clock. Safe for concurrent use.
type AdaptiveLimit struct {
	ceiling   float64
	tolerance float64

	mu    sync.Mutex
	limit float64
	floor time.Duration
	// The floor is the least latency of the current and the previous
	// floorWindow: it forgets a quiet moment after one to two windows.
	windowStart        time.Time
	windowMin, prevMin time.Duration
	smoothed           time.Duration
	lastDecrease       time.Time
	rateLimited        int64
}

// NewAdaptiveLimit starts at initial (default 2) requests in flight and
// never goes above ceiling (default 32; the operator's bound) nor below one.
// tolerance (default 3) is how many times the latency floor an answer may
// take before it counts as a sign of queueing.
func NewAdaptiveLimit(initial, ceiling int, tolerance float64) *AdaptiveLimit {
	if ceiling < 1 {
		ceiling = DefaultAdaptiveCeiling
	}
	if initial < 1 {
		initial = DefaultAdaptiveInitial
	}
	if tolerance <= 1 {
		tolerance = DefaultAdaptiveTolerance
	}
	return &AdaptiveLimit{ceiling: float64(ceiling), tolerance: tolerance, limit: float64(min(initial, ceiling))}
}

// Limit is the current in-flight limit (at least 1).
func (a *AdaptiveLimit) Limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}

// LimitState is a snapshot of an AdaptiveLimit, for metrics.
type LimitState struct {
	Limit        int
	LatencyFloor time.Duration
	RateLimited  int64 // 429 answers seen
}

// State returns the current limit, latency floor and 429 count.
func (a *AdaptiveLimit) State() LimitState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return LimitState{Limit: int(a.limit), LatencyFloor: a.floor, RateLimited: a.rateLimited}
}

// Observe adapts the limit to one request's outcome at time now.
func (a *AdaptiveLimit) Observe(now time.Time, s Sample) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case s.RateLimited:
		a.rateLimited++
		a.decrease(now, 0.5)
		return
	case s.Overloaded:
		a.decrease(now, 0.5)
		return
	}
	a.observeFloor(now, s.Latency)
	if a.smoothed == 0 {
		a.smoothed = s.Latency
	} else {
		a.smoothed += (s.Latency - a.smoothed) / 8
	}
	if float64(a.smoothed) > a.tolerance*float64(a.floor) {
		a.decrease(now, 0.9)
		return
	}
	a.limit = min(a.ceiling, a.limit+1/a.limit)
}

// decrease multiplies the limit by factor, unless it decreased within the
// last smoothed latency (one episode of overload counts once).
func (a *AdaptiveLimit) decrease(now time.Time, factor float64) {
	window := max(a.smoothed, 10*time.Millisecond)
	if !a.lastDecrease.IsZero() && now.Sub(a.lastDecrease) < window {
		return
	}
	a.lastDecrease = now
	a.limit = max(1, a.limit*factor)
	a.smoothed = a.floor // judge the new limit by its own answers
}

// floorWindow is how long a latency stays a candidate for the floor.
const floorWindow = 30 * time.Second

// observeFloor keeps the floor: the least latency of the current and the
// previous window.
func (a *AdaptiveLimit) observeFloor(now time.Time, d time.Duration) {
	if a.windowStart.IsZero() || now.Sub(a.windowStart) >= floorWindow {
		a.prevMin, a.windowMin, a.windowStart = a.windowMin, 0, now
	}
	if a.windowMin == 0 || d < a.windowMin {
		a.windowMin = d
	}
	a.floor = a.windowMin
	if a.prevMin > 0 && a.prevMin < a.floor {
		a.floor = a.prevMin
	}
}
