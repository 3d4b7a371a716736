package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mksync/mksync"
)

// background runs queued runs in this process (StartSync). It is the simple
// starter until runs are durable jobs: a run it could not finish (stop,
// crash) stays running at its checkpoint, and Start resumes such runs.
type background struct {
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	running bool
	wg      sync.WaitGroup
	slots   chan struct{}
}

func (b *background) init(n int) {
	b.slots = make(chan struct{}, n)
}

// Start starts the background runner and resumes the unfinished runs of
// every tenant (queued or running: interrupted by a stop or a crash). It
// returns once started; ctx bounds only the start. Calling Start on a
// started Engine does nothing.
func (e *Engine) Start(ctx context.Context) error {
	b := &e.bg
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return nil
	}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.running = true
	b.mu.Unlock()
	return e.resumeRuns(ctx)
}

// Stop cancels the runs in flight (each stays resumable at its last
// checkpoint) and waits for them to return. Safe to call twice and before
// Start.
func (e *Engine) Stop() {
	b := &e.bg
	b.mu.Lock()
	if b.running {
		b.cancel()
		b.running = false
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// StartSync stores a queued run (see CreateRun) and executes it in the
// background; progress and result are read back from the store's sync
// runs. Errors: EINTERNAL when the engine is not started.
func (e *Engine) StartSync(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	if err := checkEntity(run.EntityType); err != nil {
		return err
	}
	if run.Direction != mksync.ToMetakocka && run.Direction != mksync.FromMetakocka {
		return mksync.Errorf(mksync.EINVALID, "unknown direction %q", run.Direction)
	}
	e.bg.mu.Lock()
	running := e.bg.running
	e.bg.mu.Unlock()
	if !running {
		return mksync.Errorf(mksync.EINTERNAL, "the sync engine is not started")
	}
	if err := e.CreateRun(ctx, tenantID, run, ids); err != nil {
		return err
	}
	return e.launch(tenantID, run.ID)
}

// launch executes the run in a goroutine, at most MaxBackgroundRuns at once.
func (e *Engine) launch(tenantID, runID string) error {
	b := &e.bg
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return mksync.Errorf(mksync.EINTERNAL, "the sync engine is stopping")
	}
	ctx := b.ctx
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		select {
		case b.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-b.slots }()
		if _, err := e.RunSync(ctx, tenantID, runID); err != nil && ctx.Err() == nil {
			e.log.LogAttrs(ctx, slog.LevelError, "background sync run ended with an error",
				slog.String("tenant_id", tenantID), slog.String("run_id", runID), slog.String("error", err.Error()))
		}
	}()
	return nil
}

// resumeRuns launches every tenant's queued or running runs (housekeeping:
// it reads across tenants, as the scheduler does).
func (e *Engine) resumeRuns(ctx context.Context) error {
	var after string
	for {
		ts, next, err := e.store.ListTenants(ctx, mksync.Page{After: after, Limit: mksync.MaxPageLimit})
		if err != nil {
			return fmt.Errorf("list tenants to resume runs: %w", err)
		}
		for _, t := range ts {
			for _, st := range []mksync.RunStatus{mksync.RunRunning, mksync.RunQueued} {
				var ra string
				for {
					runs, rnext, err := e.store.FindSyncRuns(ctx, t.ID, mksync.SyncRunFilter{Status: st, Page: mksync.Page{After: ra, Limit: mksync.MaxPageLimit}})
					if err != nil {
						return fmt.Errorf("find unfinished runs of tenant %s: %w", t.ID, err)
					}
					for _, r := range runs {
						if err := e.launch(t.ID, r.ID); err != nil {
							return err
						}
					}
					if rnext == "" {
						break
					}
					ra = rnext
				}
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}
