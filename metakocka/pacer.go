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
	cfg   PacingConfig
	polls slotPolls

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
	// processes wake them through the SlotStore when it is a listening
	// SlotNotifier, else are found by polling.
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

// slotPolls are the waits between a waiter's tries for a slot when
// nothing wakes it, jittered. When its store's SlotNotifier listens, every
// wait is most (WaiterTTL is ten times that): the notifier wakes it, and
// the polls keep its place in the queue and find what no one announces.
// Otherwise from first, doubling to most; at most head while the waiter is
// among the next limit in its company's queue, so that the slots given back
// in another process, owed to these waiters, stay idle no longer than that.
type slotPolls struct{ first, most, head time.Duration }

func defaultSlotPolls() slotPolls {
	return slotPolls{first: time.Millisecond, most: 50 * time.Millisecond, head: 5 * time.Millisecond}
}

// NewPacer returns a Pacer applying cfg (zero fields take the PacingConfig
// defaults) to every company.
func NewPacer(cfg PacingConfig) (*Pacer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Pacer{cfg: cfg, polls: defaultSlotPolls(), companies: map[string]*companyPace{}, held: map[string]string{}}, nil
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
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
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
// sleeps until it is due (no wait when the rate is unlimited). A request
// whose context ends first gives its reservation back, so that a
// cancelled run does not cost the company the moments it had reserved.
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
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		_ = p.cfg.Rates.CancelRequest(cctx, companyID, p.cfg.RequestsPerSecond, p.cfg.Burst) // else it is spent unused
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// storeTimeout bounds the store calls that outlive their request's
// context: giving a slot or a reservation back, and the answer to a
// request for a slot made as the context ended.
const storeTimeout = 10 * time.Second

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

// takeSlot waits for one of the company's in-flight slots, asking the
// SlotStore again when a slot of the company is given back: in any process
// when the store is a SlotNotifier that is listening, once as many were
// given back as the waiters ahead take first; else whenever this process
// gives one back. It also asks on a timer (slotPolls), which finds the
// slots given back where nothing tells (in another process without a
// SlotNotifier; a slot of a dead holder that expired) and keeps its place
// in the queue. A pause is slept out. The store serves waiters in arrival order (SlotStore), under
// one waiter id per request.
func (p *Pacer) takeSlot(ctx context.Context, companyID string, cp *companyPace) (string, error) {
	notifier, _ := p.cfg.Slots.(SlotNotifier)
	wait := p.polls.first
	waiter := newSlotID()
	for {
		limit := p.cfg.MaxInFlight
		if cp.adaptive != nil {
			limit = cp.adaptive.Limit()
		}
		// What wakes the waiter is taken before it asks, so that a slot
		// given back once the store has answered wakes it.
		w := slotWake{freed: cp.freedSignal(), notifier: notifier, companyID: companyID}
		if notifier != nil {
			var next <-chan struct{}
			if w.heard, next = notifier.SlotsFreed(companyID); next != nil {
				w.freed = next // it tells of this process's slots too
			} else {
				w.notifier = nil // not listening now: poll
			}
		}
		slot, ahead, held, paused, err := p.trySlot(ctx, companyID, waiter, limit)
		if err != nil {
			return "", err
		}
		if slot != "" {
			return slot, nil
		}
		d := paused
		switch {
		case paused > 0:
			w.freed, w.notifier = nil, nil // a pause is waited out whatever is given back
		case w.notifier != nil:
			// The waiters ahead take the first slots given back; polling
			// is the safety net.
			w.need = uint64(max(1, ahead+held-limit+1))
			d = jitter(p.polls.most)
		default:
			d = jitter(wait)
			wait = min(2*wait, p.polls.most)
			if ahead < limit {
				d = min(d, jitter(p.polls.head))
			}
		}
		if err := w.sleep(ctx, d); err != nil {
			return "", err
		}
	}
}

// slotWake is what wakes a waiter for a slot before its next poll: freed
// closed; with a notifier, once it has heard of need slots given back
// since heard (or stopped listening).
type slotWake struct {
	freed     <-chan struct{}
	notifier  SlotNotifier
	companyID string
	heard     uint64
	need      uint64
}

// sleep waits d or until the waiter is woken; it returns ctx's error if
// ctx ends first.
func (w slotWake) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		case <-w.freed:
		}
		if w.notifier == nil {
			return nil
		}
		heard, next := w.notifier.SlotsFreed(w.companyID)
		if next == nil || heard-w.heard >= w.need {
			return nil
		}
		w.freed = next
	}
}

// trySlot asks the store for a slot once. The question outlives ctx: a
// slot taken as ctx ends, its answer lost, would stay held until slotTTL,
// so the answer is awaited (within storeTimeout) and a slot taken then is
// given back.
func (p *Pacer) trySlot(ctx context.Context, companyID, waiter string, limit int) (slot string, ahead, held int, paused time.Duration, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, 0, 0, err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	slot, ahead, held, paused, err = p.cfg.Slots.TryAcquireSlot(sctx, companyID, waiter, limit, slotTTL)
	if ctx.Err() != nil {
		if slot != "" {
			_ = p.cfg.Slots.ReleaseSlot(sctx, companyID, slot) // else it expires after slotTTL
		}
		return "", 0, 0, 0, ctx.Err()
	}
	if err != nil {
		return "", 0, 0, 0, fmt.Errorf("metakocka budget: %w", err)
	}
	return slot, ahead, held, paused, nil
}

// jitter returns a random duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
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
