package sqlite

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// tokenTouchTimeout bounds one batched write of token use times.
const tokenTouchTimeout = 30 * time.Second

// tokenTouches records API token use (LastUsedAt) off the request path:
// AuthenticateAPIToken only notes the time here, and one goroutine writes
// what is noted, many tokens in one transaction, as soon as the writer is
// free. Signing in and every API call are then reads that never wait on
// the single writer connection (a long sync holding it made them time out
// as 500s). Uses of one token between two writes coalesce into the latest.
// A use noted but not yet written is lost if the process dies, which costs
// at most a "last used" time.
type tokenTouches struct {
	mu      sync.Mutex
	pending map[string]time.Time // token id → latest use
	// writing holds the uses being written: until their transaction
	// commits, a reader finds them neither in pending nor in the table.
	writing map[string]time.Time
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newTokenTouches() *tokenTouches {
	return &tokenTouches{pending: map[string]time.Time{}, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// note records that token id was used at t and wakes the writer.
func (tt *tokenTouches) note(id string, t time.Time) {
	tt.mu.Lock()
	if old, ok := tt.pending[id]; !ok || t.After(old) {
		tt.pending[id] = t
	}
	tt.mu.Unlock()
	select {
	case tt.kick <- struct{}{}:
	default: // a write is already due
	}
}

// noted returns every use not yet known to be written (pending or being
// written), latest per token. A reader takes it BEFORE it reads the table:
// a use missing from it was written before, so the read sees it; taken
// after the read, a write that committed in between would be in neither.
func (tt *tokenTouches) noted() map[string]time.Time {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	out := make(map[string]time.Time, len(tt.pending)+len(tt.writing))
	for id, t := range tt.writing {
		out[id] = t
	}
	for id, t := range tt.pending {
		if w, ok := out[id]; !ok || t.After(w) {
			out[id] = t
		}
	}
	return out
}

// take moves the pending uses to writing and returns them.
func (tt *tokenTouches) take() map[string]time.Time {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.pending) == 0 {
		return nil
	}
	out := tt.pending
	tt.pending = map[string]time.Time{}
	tt.writing = out
	return out
}

// written forgets the uses take returned, once their write ended.
func (tt *tokenTouches) written() {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.writing = nil
}

// run writes noted uses until close; then it writes what is left.
func (tt *tokenTouches) run(write func(ctx context.Context, uses map[string]time.Time) error, log *slog.Logger) {
	defer close(tt.done)
	flush := func() {
		uses := tt.take()
		if uses == nil {
			return
		}
		defer tt.written()
		ctx, cancel := context.WithTimeout(context.Background(), tokenTouchTimeout)
		defer cancel()
		if err := write(ctx, uses); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "record API token use", slog.Int("tokens", len(uses)), slog.String("err", err.Error()))
		}
	}
	for {
		select {
		case <-tt.kick:
			flush()
		case <-tt.stop:
			flush()
			return
		}
	}
}

// close stops run after its last write; safe to call twice.
func (tt *tokenTouches) close() {
	tt.once.Do(func() { close(tt.stop) })
	<-tt.done
}

// writeTokenUses stores uses, never moving a LastUsedAt backwards.
func (s *store) writeTokenUses(ctx context.Context, uses map[string]time.Time) error {
	return s.write(ctx, func(q querier) error {
		for id, at := range uses {
			v := fmtTime(at)
			if _, err := q.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)", v, id, v); err != nil {
				return internal("record token use", err)
			}
		}
		return nil
	})
}
