package metakocka

import "time"

// SetSlotPolls makes every wait of p's waiters between their tries for a
// slot d, so that a test can tell a waiter woken from one that polled.
func SetSlotPolls(p *Pacer, d time.Duration) {
	p.polls = slotPolls{first: d, most: d, head: d}
}
