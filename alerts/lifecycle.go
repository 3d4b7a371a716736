package alerts

import (
	"context"
	"sync"
)

// lifecycle runs a service's background loop: started once, stopped once,
// Stop waiting for the loop to return. The Alerter, Notifier and Pruner
// share it so that each has the same Start and Stop behaviour.
type lifecycle struct {
	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// start runs loop in its own goroutine with a context that ends with ctx
// or at stop. Calling it again is a no-op.
func (l *lifecycle) start(ctx context.Context, loop func(ctx context.Context)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return
	}
	l.started = true
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		loop(ctx)
	}()
}

// stop cancels the loop's context and waits for it to return. It is safe
// to call twice and before start.
func (l *lifecycle) stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}
