package metakocka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// SlotStore keeps the requests in flight of every Metakocka company, so
// that the bound holds across all the Pacers that share it: MemorySlots for
// one process; a database for a fleet (the postgres store's DB implements
// it). Methods must be safe for concurrent use.
//
// Waiters are served in arrival order: a request that finds no free slot
// joins the company's queue under its waiter id, and a freed slot goes to
// the earliest waiter still asking, whichever process it is in, so runs
// sharing a company get slots in turn rather than by who polls at the
// right moment. A waiter not seen for WaiterTTL leaves the queue (its
// request was cancelled or its process died).
type SlotStore interface {
	// TryAcquireSlot takes one of the company's in-flight slots for waiter
	// (an id its caller keeps while it waits for this one request) when
	// fewer than limit are held, no earlier waiter is owed them and the
	// company is not paused, and returns the slot's id. A slot is held for
	// at most ttl (a process that dies gives its slots back that way). When
	// none is free it returns "", how many live waiters are ahead of this
	// one (it is queued then, unless waiter is ""), how many slots are held
	// (so ahead+held-limit+1 more must be given back before one is this
	// waiter's) and how long the company stays paused (0: not paused, just
	// full; ahead and held are 0 while it is).
	TryAcquireSlot(ctx context.Context, companyID, waiter string, limit int, ttl time.Duration) (slot string, ahead, held int, paused time.Duration, err error)
	// ReleaseSlot gives slot back.
	ReleaseSlot(ctx context.Context, companyID, slot string) error
	// RenewSlots keeps the slots held for ttl more (the holder is alive).
	RenewSlots(ctx context.Context, slots []string, ttl time.Duration) error
	// PauseCompany stops new requests to the company for d (Retry-After).
	PauseCompany(ctx context.Context, companyID string, d time.Duration) error
}

// SlotNotifier may also be implemented by a SlotStore that processes
// share: it tells a process's waiters when a slot of their company is
// given back in any process, so that a slot freed elsewhere is taken as
// soon as one freed here (the postgres store's DB implements it with
// LISTEN/NOTIFY). Without it, such a slot is found by polling and stays
// idle until then. Methods must be safe for concurrent use and must not
// block.
type SlotNotifier interface {
	// SlotsFreed returns how many slots of the company this process has
	// heard were given back, in any process (a count that only grows), and
	// a channel closed when it hears of the next one. A waiter that is
	// owed a slot only after n more are given back (the waiters ahead
	// take the first) sleeps until the count has grown by n. A slot may
	// be heard of that was not given back (a spurious wake-up: the waiter
	// asks again). The channel is nil while the store cannot hear (its
	// listener is down; it is also closed when that happens): the waiters
	// then poll closely, as for a store without SlotNotifier.
	SlotsFreed(companyID string) (heard uint64, next <-chan struct{})
}

// WaiterTTL is how long a waiter for a slot keeps its place in the queue
// without asking again: ten times the longest wait between a waiter's
// tries (the Pacer's 50 ms), so only a waiter that stopped loses it.
const WaiterTTL = 500 * time.Millisecond

// MemorySlots is the SlotStore of one process. The zero value is ready.
type MemorySlots struct {
	mu        sync.Mutex
	companies map[string]*memCompany
}

type memCompany struct {
	held        map[string]time.Time // slot → expiry
	pausedUntil time.Time
	queue       []memWaiter // in arrival order
}

type memWaiter struct {
	id      string
	expires time.Time
}

var _ SlotStore = (*MemorySlots)(nil)

func (m *MemorySlots) company(id string) *memCompany {
	if m.companies == nil {
		m.companies = map[string]*memCompany{}
	}
	c := m.companies[id]
	if c == nil {
		c = &memCompany{held: map[string]time.Time{}}
		m.companies[id] = c
	}
	return c
}

// position returns waiter's index in the queue, or -1.
func (c *memCompany) position(waiter string) int {
	if waiter == "" {
		return -1
	}
	for i, w := range c.queue {
		if w.id == waiter {
			return i
		}
	}
	return -1
}

// TryAcquireSlot implements SlotStore.
func (m *MemorySlots) TryAcquireSlot(_ context.Context, companyID, waiter string, limit int, ttl time.Duration) (string, int, int, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.company(companyID)
	now := time.Now()
	pos := c.position(waiter)
	if c.pausedUntil.After(now) {
		if pos >= 0 {
			c.queue[pos].expires = c.pausedUntil.Add(WaiterTTL) // sleeps the pause out, keeps its place
		}
		return "", 0, 0, c.pausedUntil.Sub(now), nil
	}
	for s, exp := range c.held {
		if exp.Before(now) {
			delete(c.held, s)
		}
	}
	live := c.queue[:0]
	for _, w := range c.queue {
		if !w.expires.Before(now) {
			live = append(live, w)
		}
	}
	clear(c.queue[len(live):])
	c.queue = live
	pos = c.position(waiter)
	ahead := pos
	if pos < 0 {
		ahead = len(c.queue)
	}
	if ahead < limit-len(c.held) {
		if pos >= 0 {
			c.queue = append(c.queue[:pos], c.queue[pos+1:]...)
		}
		id := newSlotID()
		c.held[id] = now.Add(ttl)
		return id, 0, len(c.held), 0, nil
	}
	switch {
	case pos >= 0:
		c.queue[pos].expires = now.Add(WaiterTTL)
	case waiter != "":
		c.queue = append(c.queue, memWaiter{id: waiter, expires: now.Add(WaiterTTL)})
	}
	return "", ahead, len(c.held), 0, nil
}

// ReleaseSlot implements SlotStore.
func (m *MemorySlots) ReleaseSlot(_ context.Context, companyID, slot string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.company(companyID).held, slot)
	return nil
}

// RenewSlots implements SlotStore.
func (m *MemorySlots) RenewSlots(_ context.Context, slots []string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp := time.Now().Add(ttl)
	for _, c := range m.companies {
		for _, s := range slots {
			if _, ok := c.held[s]; ok {
				c.held[s] = exp
			}
		}
	}
	return nil
}

// PauseCompany implements SlotStore.
func (m *MemorySlots) PauseCompany(_ context.Context, companyID string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.company(companyID)
	c.pausedUntil = later(c.pausedUntil, time.Now().Add(d))
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// newSlotID returns a random slot id.
func newSlotID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
