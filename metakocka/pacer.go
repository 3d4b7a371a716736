package metakocka

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Pacer paces requests per Metakocka company: a rate limit kept in a
// RateStore (shared by a fleet when it is a database or Redis), a
// bound on concurrent requests — fixed, or found by an AdaptiveLimit — kept
// in a SlotStore (shared by a fleet when it is a database), and search calls
// of one company one at a time (Metakocka queues them anyway; queueing here
// keeps them from timing out in its queue and from holding an in-flight
// slot while they wait).
//
// One Pacer is meant to serve every Client of a process, so that two Clients
// for the same company share the company's budget. It is safe for concurrent
// use; the zero value is not usable, call NewPacer.
type Pacer struct {
	cfg PacingConfig

	mu        sync.Mutex
	companies map[string]*companyPace
	// held are the slots this Pacer holds now (slot → company), renewed
	// by a goroutine that runs while there are any.
	held map[string]string
	// stopRenew, when not nil, ends the running renewals (closed once none
	// is held).
	stopRenew chan struct{}
}

type companyPace struct {
	adaptive *AdaptiveLimit // nil: fixed at MaxInFlight
	search   chan struct{}  // semaphore of one slot

	// freed is closed (and replaced) when this process gives a slot of
	// the company back, waking its waiters at once; slots freed by other
	// processes are seen by polling.
	freedMu sync.Mutex
	freed   chan struct{}
}

// freedSignal returns the channel closed at the next slot given back.
func (cp *companyPace) freedSignal() <-chan struct{} {
	cp.freedMu.Lock()
	defer cp.freedMu.Unlock()
	return cp.freed
}

// signalFreed wakes the waiters of the company.
func (cp *companyPace) signalFreed() {
	cp.freedMu.Lock()
	defer cp.freedMu.Unlock()
	close(cp.freed)
	cp.freed = make(chan struct{})
}

// A held slot lives slotTTL unless renewed; the Pacer renews the slots it
// holds every slotRenew, so a slot of a process that died is free again
// within slotTTL, however long its request would have run.
const (
	slotTTL   = 15 * time.Second
	slotRenew = 5 * time.Second
)

// headPoll is the longest wait between the tries of a waiter among the
// next limit in its company's queue: a slot given back in another process
// wakes no one here, and the slots owed to these waiters stay idle until
// they ask.
const headPoll = 5 * time.Millisecond

// NewPacer returns a Pacer applying cfg (zero fields take the PacingConfig
// defaults) to every company.
func NewPacer(cfg PacingConfig) (*Pacer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Pacer{cfg: cfg, companies: map[string]*companyPace{}, held: map[string]string{}}, nil
}

func (p *Pacer) company(id string) *companyPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	cp, ok := p.companies[id]
	if !ok {
		cp = &companyPace{
			search: make(chan struct{}, 1),
			freed:  make(chan struct{}),
		}
		if p.cfg.Adaptive {
			cp.adaptive = NewAdaptiveLimit(0, p.cfg.MaxInFlight, 0)
		}
		p.companies[id] = cp
	}
	return cp
}

// Limit returns the company's current in-flight limit and what the
// adaptive limit learned (zero latency floor and 429 count when fixed).
func (p *Pacer) Limit(companyID string) LimitState {
	cp := p.company(companyID)
	if cp.adaptive == nil {
		return LimitState{Limit: p.cfg.MaxInFlight}
	}
	return cp.adaptive.State()
}

// acquire waits until companyID may send one request and returns the
// function that gives the slot back with what the request taught. It
// returns ctx's error if ctx ends first.
func (p *Pacer) acquire(ctx context.Context, companyID string, search bool) (release func(Sample), err error) {
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
	if err := p.waitRate(ctx, companyID); err != nil {
		releaseSearch()
		return nil, err
	}
	slot, err := p.takeSlot(ctx, companyID, cp)
	if err != nil {
		releaseSearch()
		return nil, err
	}
	p.hold(slot, companyID)
	return func(s Sample) {
		p.unhold(slot)
		// Give the slot back even when the request's context ended.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = p.cfg.Slots.ReleaseSlot(rctx, companyID, slot) // else it expires after slotTTL
		if cp.adaptive != nil && s.RateLimited && s.RetryAfter > 0 {
			// Adaptive pacing honours Retry-After for the whole company
			// (fixed pacing leaves it to the retrying caller).
			_ = p.cfg.Slots.PauseCompany(rctx, companyID, s.RetryAfter)
		}
		if cp.adaptive != nil {
			cp.adaptive.Observe(time.Now(), s)
		}
		cp.signalFreed()
		releaseSearch()
	}, nil
}

// waitRate reserves the company's next request in the RateStore and
// sleeps until it is due (no wait when the rate is unlimited).
func (p *Pacer) waitRate(ctx context.Context, companyID string) error {
	if p.cfg.RequestsPerSecond < 0 {
		return nil
	}
	d, err := p.cfg.Rates.ReserveRequest(ctx, companyID, p.cfg.RequestsPerSecond, p.cfg.Burst)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("metakocka rate: %w", err)
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// hold records a slot this Pacer holds and starts the renewals if they do
// not run.
func (p *Pacer) hold(slot, companyID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held[slot] = companyID
	if p.stopRenew == nil {
		p.stopRenew = make(chan struct{})
		go p.renewSlots(p.stopRenew)
	}
}

// unhold forgets a slot given back, and ends the renewals when it was the
// last.
func (p *Pacer) unhold(slot string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.held, slot)
	if len(p.held) == 0 && p.stopRenew != nil {
		close(p.stopRenew)
		p.stopRenew = nil
	}
}

// renewSlots renews the held slots every slotRenew until stop is closed.
func (p *Pacer) renewSlots(stop <-chan struct{}) {
	t := time.NewTicker(slotRenew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		slots := make([]string, 0, len(p.held))
		for s := range p.held {
			slots = append(slots, s)
		}
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), slotRenew)
		_ = p.cfg.Slots.RenewSlots(ctx, slots, slotTTL) // a failure lets them expire: the bound holds, capacity shrinks
		cancel()
	}
}

// takeSlot waits for one of the company's in-flight slots: woken at once
// when this process gives one back, else polling the SlotStore (from 1 ms,
// doubling to 50 ms, jittered; at most headPoll while the waiter is among
// the next limit in the company's queue, so a slot freed in another
// process is taken soon), or sleeping out a pause. The store serves
// waiters in arrival order (SlotStore), under one waiter id per request.
func (p *Pacer) takeSlot(ctx context.Context, companyID string, cp *companyPace) (string, error) {
	wait := time.Millisecond
	waiter := newSlotID()
	for {
		limit := p.cfg.MaxInFlight
		if cp.adaptive != nil {
			limit = cp.adaptive.Limit()
		}
		freed := cp.freedSignal()
		slot, ahead, paused, err := p.cfg.Slots.TryAcquireSlot(ctx, companyID, waiter, limit, slotTTL)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("metakocka budget: %w", err)
		}
		if slot != "" {
			return slot, nil
		}
		d := paused
		if d <= 0 {
			d = wait/2 + rand.N(wait/2+1)
			wait = min(2*wait, 50*time.Millisecond)
			if ahead < limit {
				d = min(d, headPoll/2+rand.N(headPoll/2+1))
			}
		}
		if paused > 0 {
			freed = nil // a pause is waited out whatever is given back
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-freed:
			t.Stop()
		case <-t.C:
		}
	}
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
