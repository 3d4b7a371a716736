package mkfake

import (
	"time"

	"golang.org/x/time/rate"
)

// Faults describe the misbehaviour a company's requests meet, chosen at
// random per request (seeded by Options.Seed). The zero value is a perfect
// server. Rates are probabilities in [0, 1]; each request gets at most one
// fault, tried in the order of the fields below after the token bucket.
type Faults struct {
	// Latency is added to every request (before it is answered), and
	// Jitter adds a uniform random [0, Jitter) on top. Both respect the
	// request's context.
	Latency time.Duration `json:"latency"`
	Jitter  time.Duration `json:"jitter"`
	// LatencyProfile adds a latency drawn from a distribution:
	// LatencyProfileMetakocka ("metakocka") is that of the documented
	// opr_time_ms values, heavy tail included.
	LatencyProfile string `json:"latency_profile"`

	// Capacity, when positive, is how many requests of the company are
	// served at full speed at once: above it every request's latency grows
	// in proportion to the requests in flight (2× at twice the capacity),
	// and above twice the capacity requests get HTTP 429 with Retry-After.
	Capacity int `json:"capacity"`

	// RateLimitRPS, when positive, is a token bucket of that many requests
	// per second (burst: max(1, RPS)); a request over it gets HTTP 429 with
	// a Retry-After header.
	RateLimitRPS float64 `json:"rate_limit_rps"`

	// RateLimitRate is the probability of an HTTP 429 with
	// "Retry-After: RetryAfter" (whole seconds, at least 1).
	RateLimitRate float64       `json:"rate_limit_rate"`
	RetryAfter    time.Duration `json:"retry_after"`

	// ErrorRate is the probability of an HTTP 500 or 503 (half each).
	ErrorRate float64 `json:"error_rate"`

	// HangRate is the probability that a request hangs for HangFor
	// (default 60s) or until its context ends, whichever is first, and then
	// gets HTTP 504. Set HangFor above the client's timeout.
	HangRate float64       `json:"hang_rate"`
	HangFor  time.Duration `json:"hang_for"`

	// ResetRate is the probability that the connection is closed (TCP reset
	// where possible) without an answer.
	ResetRate float64 `json:"reset_rate"`

	// OprErrorRate is the probability of an HTTP 200 answer with an error
	// opr_code ("1", "Internal error ...") and nothing done.
	OprErrorRate float64 `json:"opr_error_rate"`

	// CommitThenFailRate is the probability that the request is carried out
	// (a write is stored) but the caller gets HTTP 503 or, half the time, a
	// hang as with HangRate: the ambiguous outcome a client must survive
	// without making duplicates.
	CommitThenFailRate float64 `json:"commit_then_fail_rate"`
}

// FaultKind names one deterministic fault for FailNext.
type FaultKind string

// The fault kinds FailNext can inject.
const (
	// FaultHTTP500 answers HTTP 500 without doing anything.
	FaultHTTP500 FaultKind = "http_500"
	// FaultHTTP503 answers HTTP 503 without doing anything.
	FaultHTTP503 FaultKind = "http_503"
	// FaultRateLimit answers HTTP 429 with Retry-After (Faults.RetryAfter,
	// at least 1 second).
	FaultRateLimit FaultKind = "rate_limit"
	// FaultHang hangs until the request's context ends or HangFor passes,
	// then answers HTTP 504.
	FaultHang FaultKind = "hang"
	// FaultReset closes the connection without an answer.
	FaultReset FaultKind = "reset"
	// FaultCommitThenFail carries the request out, then answers HTTP 503.
	FaultCommitThenFail FaultKind = "commit_then_fail"
	// FaultCommitThenHang carries the request out, then hangs as FaultHang.
	FaultCommitThenHang FaultKind = "commit_then_hang"
	// FaultOprError answers HTTP 200 with opr_code "1" without doing anything.
	FaultOprError FaultKind = "opr_error"
)

// pendingFault is a FailNext entry: the next n matching requests fail.
type pendingFault struct {
	method string // "" matches every method
	n      int
	kind   FaultKind
}

// faultState is a company's fault configuration; guarded by company.faultMu.
type faultState struct {
	faults  Faults
	limiter *rate.Limiter
	pending []pendingFault
}

// SetFaults replaces the random faults of a company's requests; it may be
// called while requests are served. Unknown companies are ignored.
func (s *Server) SetFaults(companyID string, f Faults) {
	c := s.company(companyID)
	if c == nil {
		return
	}
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	c.fault.faults = f
	c.fault.limiter = nil
	if f.RateLimitRPS > 0 {
		burst := int(f.RateLimitRPS)
		if burst < 1 {
			burst = 1
		}
		c.fault.limiter = rate.NewLimiter(rate.Limit(f.RateLimitRPS), burst)
	}
}

// Faults returns the company's current random faults.
func (s *Server) Faults(companyID string) Faults {
	c := s.company(companyID)
	if c == nil {
		return Faults{}
	}
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	return c.fault.faults
}

// FailNext makes the next n requests of the company (any method) fail with
// kind, before any random fault is considered. Calls queue up in order.
func (s *Server) FailNext(companyID string, n int, kind FaultKind) {
	s.FailNextMethod(companyID, "", n, kind)
}

// FailNextMethod is FailNext restricted to requests of one API method (e.g.
// "product_add"); requests of other methods pass untouched.
func (s *Server) FailNextMethod(companyID, method string, n int, kind FaultKind) {
	c := s.company(companyID)
	if c == nil || n <= 0 {
		return
	}
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	c.fault.pending = append(c.fault.pending, pendingFault{method: method, n: n, kind: kind})
}

// ClearFaults removes the company's random faults and pending FailNext
// entries.
func (s *Server) ClearFaults(companyID string) {
	s.SetFaults(companyID, Faults{})
	c := s.company(companyID)
	if c == nil {
		return
	}
	c.faultMu.Lock()
	c.fault.pending = nil
	c.faultMu.Unlock()
}

// pickFault decides the fault of one request of method: a pending FailNext
// entry first, then the token bucket, then the random rates. It also returns
// the delay to add and the fault settings that shape the answer.
func (s *Server) pickFault(c *company, method string, inFlight int) (FaultKind, time.Duration, Faults) {
	c.faultMu.Lock()
	f := c.fault.faults
	var kind FaultKind
	for i := range c.fault.pending {
		p := &c.fault.pending[i]
		if p.method != "" && p.method != method {
			continue
		}
		kind = p.kind
		p.n--
		if p.n == 0 {
			c.fault.pending = append(c.fault.pending[:i], c.fault.pending[i+1:]...)
		}
		break
	}
	if kind == "" && c.fault.limiter != nil && !c.fault.limiter.Allow() {
		kind = FaultRateLimit
	}
	c.faultMu.Unlock()

	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	delay := f.Latency + s.profileLatency(f.LatencyProfile)
	if f.Jitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(f.Jitter)))
	}
	if kind != "" {
		return kind, delay, f
	}
	if kind, delay = capacityFault(f.Capacity, inFlight, delay); kind != "" {
		return kind, delay, f
	}
	chance := func(p float64) bool { return p > 0 && s.rng.Float64() < p }
	switch {
	case chance(f.RateLimitRate):
		kind = FaultRateLimit
	case chance(f.ErrorRate):
		kind = FaultHTTP500
		if s.rng.IntN(2) == 1 {
			kind = FaultHTTP503
		}
	case chance(f.HangRate):
		kind = FaultHang
	case chance(f.ResetRate):
		kind = FaultReset
	case chance(f.OprErrorRate):
		kind = FaultOprError
	case chance(f.CommitThenFailRate):
		kind = FaultCommitThenFail
		if s.rng.IntN(2) == 1 {
			kind = FaultCommitThenHang
		}
	}
	return kind, delay, f
}
