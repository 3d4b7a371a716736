package postgres

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// slotChannel is the notification channel on which ReleaseSlot announces
// a Metakocka slot given back; the payload is the company's id.
const slotChannel = "metakocka_slot"

// The listener's timings: how long its connection may stay silent before
// it is pinged (a connection that died without a word answers nothing),
// how long connecting or a ping may take, and the backoff between
// attempts to connect again, jittered.
const (
	slotListenCheck     = 30 * time.Second
	slotListenTimeout   = 5 * time.Second
	slotListenFirstWait = 100 * time.Millisecond
	slotListenMostWait  = 10 * time.Second
)

// slotListener wakes this process's waiters for a Metakocka slot when any
// process gives one back (metakocka.SlotNotifier): ReleaseSlot notifies
// slotChannel in the statement that deletes the slot, and one connection
// of this process LISTENs on it. That connection is its own, outside the
// pool, so the pool sized for the job workers keeps every connection it
// had; it is opened at the first wait for a slot and opened again, with
// backoff, when it is lost. While it is down SlotsFreed returns no channel
// and the waiters poll, as they do without a listener.
type slotListener struct {
	connect func(context.Context) (*pgx.Conn, error)
	logger  *slog.Logger
	check   time.Duration // slotListenCheck; tests shorten it

	startOnce sync.Once
	stop      context.CancelFunc // set by the start
	done      chan struct{}      // closed when the listening ended

	mu        sync.Mutex
	live      bool // LISTEN is in effect
	companies map[string]*slotsHeard
}

// slotsHeard are the slots given back of a company this process waited
// for: one per company, kept for the process's life (the count only
// grows; the companies are those of the tenants it serves).
type slotsHeard struct {
	heard uint64
	next  chan struct{} // closed at the next one heard; nil: nobody waits
}

func newSlotListener(connect func(context.Context) (*pgx.Conn, error), logger *slog.Logger) *slotListener {
	return &slotListener{connect: connect, logger: logger, check: slotListenCheck, companies: map[string]*slotsHeard{}}
}

// SlotsFreed returns how many slots of the company this process has heard
// were given back by any process sharing the database, and a channel
// closed when it hears of the next; the channel is nil while it is not
// listening (the first call starts the listener). See
// metakocka.SlotNotifier.
func (d *DB) SlotsFreed(companyID string) (uint64, <-chan struct{}) {
	return d.slots.freed(companyID)
}

// freed implements DB.SlotsFreed.
func (l *slotListener) freed(companyID string) (uint64, <-chan struct{}) {
	l.startOnce.Do(l.start)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.live {
		return 0, nil
	}
	c := l.companies[companyID]
	if c == nil {
		c = &slotsHeard{}
		l.companies[companyID] = c
	}
	if c.next == nil {
		c.next = make(chan struct{})
	}
	return c.heard, c.next
}

func (l *slotListener) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.stop, l.done = cancel, make(chan struct{})
	go l.run(ctx)
}

// close stops the listener and waits for it; it never starts after.
func (l *slotListener) close() {
	l.startOnce.Do(func() {})
	if l.stop != nil {
		l.stop()
		<-l.done
	}
}

// heard counts a slot of the company given back and wakes its waiters.
// A company nobody here waited for is not counted.
func (l *slotListener) heard(companyID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.companies[companyID]; c != nil {
		c.heard++
		if c.next != nil {
			close(c.next)
			c.next = nil
		}
	}
}

// setLive records whether LISTEN is in effect. Going down wakes every
// waiter: a slot given back from now on is not announced to them, and
// they ask again, then poll.
func (l *slotListener) setLive(live bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live = live
	if !live {
		for _, c := range l.companies {
			if c.next != nil {
				close(c.next)
				c.next = nil
			}
		}
	}
}

// run listens until ctx ends, connecting again after a loss.
func (l *slotListener) run(ctx context.Context) {
	defer close(l.done)
	wait := slotListenFirstWait
	for {
		listened, err := l.listen(ctx)
		l.setLive(false)
		if ctx.Err() != nil {
			return
		}
		if listened {
			wait = slotListenFirstWait
			l.logger.LogAttrs(ctx, slog.LevelWarn, "lost the connection that hears of Metakocka slots given back; waiters poll until it is back",
				slog.String("category", "DATABASE"), slog.Any("error", err))
		} else {
			l.logger.LogAttrs(ctx, slog.LevelDebug, "cannot listen for Metakocka slots given back",
				slog.String("category", "DATABASE"), slog.Any("error", err))
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, slotListenMostWait)
	}
}

// listen opens a connection, LISTENs and wakes the waiters of every
// company announced, until the connection is lost (listened tells whether
// LISTEN took effect) or ctx ends. A connection silent for check is
// pinged.
func (l *slotListener) listen(ctx context.Context) (listened bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, slotListenTimeout)
	conn, err := l.connect(cctx)
	cancel()
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), slotListenTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+slotChannel); err != nil {
		return false, err
	}
	l.setLive(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, l.check)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil {
			l.heard(n.Payload)
			continue
		}
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		// Silent for slotListenCheck, or lost: a lost one fails the ping.
		pctx, cancel := context.WithTimeout(ctx, slotListenTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return true, err
		}
	}
}
