package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mksync/mksync"
)

// liveRuns counts the records of the runs this engine is executing, one
// at a time as their outcomes are known, for LiveProgress. Safe for
// concurrent use; the zero value is ready.
type liveRuns struct {
	mu   sync.Mutex
	runs map[string]*liveRun // by tenantID + "/" + runID
}

// liveRun is the counter of one executing run.
type liveRun struct {
	processed atomic.Int64
	total     atomic.Int64
	since     time.Time
	base      int
}

func (l *liveRuns) start(tenantID string, run mksync.SyncRun, now time.Time) (*liveRun, func()) {
	lr := &liveRun{since: now, base: run.Processed}
	lr.processed.Store(int64(run.Processed))
	lr.total.Store(int64(run.Total))
	key := tenantID + "/" + run.ID
	l.mu.Lock()
	if l.runs == nil {
		l.runs = map[string]*liveRun{}
	}
	l.runs[key] = lr
	l.mu.Unlock()
	return lr, func() {
		l.mu.Lock()
		if l.runs[key] == lr {
			delete(l.runs, key)
		}
		l.mu.Unlock()
	}
}

// setTotal records the run's total once known; never below what is done.
func (lr *liveRun) setTotal(n int) { lr.total.Store(int64(n)) }

// LiveProgress reports how far the run runID of the tenant has got while
// this engine executes it, record by record; ok is false when it does not
// execute it now (queued, final, or executing in another process). The
// run's stored Processed is the committed part of the same count.
func (e *Engine) LiveProgress(tenantID, runID string) (p mksync.LiveProgress, ok bool) {
	e.live.mu.Lock()
	lr := e.live.runs[tenantID+"/"+runID]
	e.live.mu.Unlock()
	if lr == nil {
		return p, false
	}
	p = mksync.LiveProgress{Processed: int(lr.processed.Load()), Total: int(lr.total.Load()), Since: lr.since, ProcessedAtSince: lr.base}
	p.Total = max(p.Total, p.Processed)
	return p, true
}

// counted wraps the items of source so that lr counts each record whose
// outcome is known: after its work, or as it is yielded when the producer
// decided it (an unchanged record).
func counted(source func(yield func(item) bool) error, lr *liveRun) func(yield func(item) bool) error {
	return func(yield func(item) bool) error {
		return source(func(it item) bool {
			if run := it.run; run != nil {
				it.run = func(ctx context.Context) recordResult {
					r := run(ctx)
					if !r.interrupted {
						lr.processed.Add(1)
					}
					return r
				}
			} else {
				lr.processed.Add(1)
			}
			return yield(it)
		})
	}
}
