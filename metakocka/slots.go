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
type SlotStore interface {
	// TryAcquireSlot takes one of the company's in-flight slots when fewer
	// than limit are held and the company is not paused, and returns its id.
	// A slot is held for at most ttl (a process that dies gives its slots
	// back that way). When none is free it returns "" and how long the
	// company stays paused (0: not paused, just full).
	TryAcquireSlot(ctx context.Context, companyID string, limit int, ttl time.Duration) (slot string, paused time.Duration, err error)
	// ReleaseSlot gives slot back.
	ReleaseSlot(ctx context.Context, companyID, slot string) error
	// RenewSlots keeps the slots held for ttl more (the holder is alive).
	RenewSlots(ctx context.Context, slots []string, ttl time.Duration) error
	// PauseCompany stops new requests to the company for d (Retry-After).
	PauseCompany(ctx context.Context, companyID string, d time.Duration) error
}

// MemorySlots is the SlotStore of one process. The zero value is ready.
type MemorySlots struct {
	mu        sync.Mutex
	companies map[string]*memCompany
}

type memCompany struct {
	held        map[string]time.Time // slot → expiry
	pausedUntil time.Time
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

// TryAcquireSlot implements SlotStore.
func (m *MemorySlots) TryAcquireSlot(_ context.Context, companyID string, limit int, ttl time.Duration) (string, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.company(companyID)
	now := time.Now()
	if c.pausedUntil.After(now) {
		return "", c.pausedUntil.Sub(now), nil
	}
	for s, exp := range c.held {
		if exp.Before(now) {
			delete(c.held, s)
		}
	}
	if len(c.held) >= limit {
		return "", 0, nil
	}
	id := newSlotID()
	c.held[id] = now.Add(ttl)
	return id, 0, nil
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
