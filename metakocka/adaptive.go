package metakocka

import (
	"math"
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
// come back fast (their moving geometric mean within tolerance × the
// latency floor, plus a margin for their own spread) and without 429 or
// 5xx; it halves on a 429 (and pauses the company for its Retry-After), a
// 5xx or a timeout, and shrinks by a tenth when answers slow down past the
// tolerance (queueing at Metakocka). Decreases happen at most once per
// smoothed latency, so one burst of bad answers counts once.
//
// The latency floor is the least moving geometric mean of the latencies in
// the last one to two floorWindows, so that a floor from a quiet moment does not stay forever. All times come from the
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

	// Latencies are judged in log space: Metakocka's own answer times
	// are heavy-tailed (opr_time_ms from 0 to 47.8 s for the same company
	// at no load), so their mean says little; queueing multiplies every
	// answer's time, which shifts their logarithm. logSmoothed is the
	// moving average of ln(latency); logSpread the mean absolute deviation
	// around it, learnt slowly, so that answers that vary that much by
	// themselves do not read as queueing. logFloorInput is the same
	// average but never reset by a decrease: the floor is its least value,
	// so that a reset does not hold an old floor in the next window.
	logSmoothed, logSpread, logFloorInput float64
	samples                               int64
}

// Moving-average weights of the latency signal (per answer).
const (
	logSmoothWeight = 1.0 / 8
	logSpreadWeight = 1.0 / 512
	// spreadMargin is how many standard deviations of the smoothed
	// latency's own noise it may rise above the floor (on top of the
	// tolerance) before it counts as queueing.
	spreadMargin = 4
)

// NewAdaptiveLimit starts at initial (default 2) requests in flight and
// never goes above ceiling (default 32; the operator's bound) nor below one.
// tolerance (default 1.5) is how many times the latency floor an answer may
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
	a.observeLatency(s.Latency)
	a.observeFloor(now, time.Duration(math.Exp(a.logFloorInput)*float64(time.Second)))
	// The smoothed latency's own noise: the spread (a mean absolute
	// deviation, ×1.25 for a standard deviation) through the moving
	// average's weight. Zero for answers that always take the same time.
	noise := 1.25 * a.logSpread * math.Sqrt(logSmoothWeight/(2-logSmoothWeight))
	if a.logSmoothed-math.Log(seconds(a.floor)) > math.Log(a.tolerance)+spreadMargin*noise {
		a.decrease(now, 0.9)
		return
	}
	a.limit = min(a.ceiling, a.limit+1/a.limit)
}

// observeLatency updates the moving average and spread of ln(latency).
func (a *AdaptiveLimit) observeLatency(d time.Duration) {
	x := math.Log(seconds(d))
	a.samples++
	if a.samples == 1 {
		a.logSmoothed, a.logFloorInput = x, x
	} else {
		// The spread learns as a plain mean at first, then slowly.
		w := max(logSpreadWeight, 1/float64(a.samples))
		a.logSpread += w * (math.Abs(x-a.logSmoothed) - a.logSpread)
		a.logSmoothed += logSmoothWeight * (x - a.logSmoothed)
		a.logFloorInput += logSmoothWeight * (x - a.logFloorInput)
	}
	a.smoothed = time.Duration(math.Exp(a.logSmoothed) * float64(time.Second))
}

// seconds is d in seconds, at least a microsecond (for its logarithm).
func seconds(d time.Duration) float64 { return max(d, time.Microsecond).Seconds() }

// decrease multiplies the limit by factor, unless it decreased within the
// last smoothed latency (one episode of overload counts once).
func (a *AdaptiveLimit) decrease(now time.Time, factor float64) {
	window := max(a.smoothed, 10*time.Millisecond)
	if !a.lastDecrease.IsZero() && now.Sub(a.lastDecrease) < window {
		return
	}
	a.lastDecrease = now
	a.limit = max(1, a.limit*factor)
	if a.floor > 0 {
		a.smoothed = a.floor // judge the new limit by its own answers
		a.logSmoothed = math.Log(seconds(a.floor))
	}
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
