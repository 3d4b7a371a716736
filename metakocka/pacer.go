package metakocka

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// Pacer paces requests per Metakocka company: a token-bucket rate limit, a
// bound on concurrent requests, and search calls of one company one at a time
// (Metakocka queues them anyway; queueing here keeps them from timing out in
// its queue and from holding an in-flight slot while they wait).
//
// One Pacer is meant to serve every Client of a process, so that two Clients
// for the same company share the company's budget. It is safe for concurrent
// use; the zero value is not usable, call NewPacer.
type Pacer struct {
	cfg PacingConfig

	mu        sync.Mutex
	companies map[string]*companyPace
}

type companyPace struct {
	limiter  *rate.Limiter
	inFlight chan struct{} // semaphore of MaxInFlight slots
	search   chan struct{} // semaphore of one slot
}

// NewPacer returns a Pacer applying cfg (zero fields take the PacingConfig
// defaults) to every company.
func NewPacer(cfg PacingConfig) (*Pacer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Pacer{cfg: cfg, companies: map[string]*companyPace{}}, nil
}

func (p *Pacer) company(id string) *companyPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	cp, ok := p.companies[id]
	if !ok {
		limit := rate.Limit(p.cfg.RequestsPerSecond)
		if p.cfg.RequestsPerSecond < 0 {
			limit = rate.Inf
		}
		cp = &companyPace{
			limiter:  rate.NewLimiter(limit, max(p.cfg.Burst, 1)),
			inFlight: make(chan struct{}, p.cfg.MaxInFlight),
			search:   make(chan struct{}, 1),
		}
		p.companies[id] = cp
	}
	return cp
}

// acquire waits until companyID may send one request and returns the function
// that gives the slot back. It returns ctx's error if ctx ends first.
func (p *Pacer) acquire(ctx context.Context, companyID string, search bool) (release func(), err error) {
	cp := p.company(companyID)
	if search {
		select {
		case cp.search <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	releaseSearch := func() {
		if search {
			<-cp.search
		}
	}
	if err := cp.limiter.Wait(ctx); err != nil {
		releaseSearch()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	select {
	case cp.inFlight <- struct{}{}:
	case <-ctx.Done():
		releaseSearch()
		return nil, ctx.Err()
	}
	return func() {
		<-cp.inFlight
		releaseSearch()
	}, nil
}

// CallLimit bounds the requests in flight of one unit of work (a bulk sync
// run) that spreads its calls over many goroutines. Unlike the Pacer's
// per-company bound it counts only the requests on the wire: a goroutine
// that is between calls (writing to its own database, waiting for a retry)
// holds no slot, so the work can keep every slot busy while its
// bookkeeping runs alongside. A nil *CallLimit is no limit.
type CallLimit struct {
	slots chan struct{}
}

// NewCallLimit returns a CallLimit of n requests in flight (n < 1 is 1).
func NewCallLimit(n int) *CallLimit {
	return &CallLimit{slots: make(chan struct{}, max(n, 1))}
}

type callLimitKey struct{}

// WithCallLimit returns a context whose Metakocka requests (through any
// Client) wait for a slot of l before they are sent.
func WithCallLimit(ctx context.Context, l *CallLimit) context.Context {
	return context.WithValue(ctx, callLimitKey{}, l)
}

// acquireCall takes a slot of ctx's CallLimit, if it has one, and returns
// the function that gives it back.
func acquireCall(ctx context.Context) (release func(), err error) {
	l, _ := ctx.Value(callLimitKey{}).(*CallLimit)
	if l == nil {
		return func() {}, nil
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
