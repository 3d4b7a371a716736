package postgres

import (
	"context"
	"sync"
	"time"
)

// The store keeps the statistics of the tables bulk syncs fill fresh by
// itself, as autovacuum would, so that mksync does not depend on autovacuum
// (often off during bulk loads). A table that has never been analyzed has
// no statistics at all: the planner then takes tenant_id and entity_type
// for selective and answers a mapping lookup by primary key through
// mappings_state_idx, reading every mapping of the tenant — a run of N
// records costs N² row reads. One ANALYZE fixes the plans; later ones keep
// them as the tables grow.
//
// Each process counts the rows it writes per table and analyzes a table in
// the background once analyzeFirst rows were written, then whenever it has
// written as many again as at its last ANALYZE (doubling: about 8 runs for
// 100,000 rows, each a sample of at most 30,000 rows).

// analyzeFirst is how many written rows trigger a table's first ANALYZE in
// a process.
const analyzeFirst = 500

// analyzeTimeout bounds one background ANALYZE.
const analyzeTimeout = 2 * time.Minute

// autoAnalyze counts written rows per table and runs the ANALYZEs. Shared
// by a DB and the copies InTx makes of it; safe for concurrent use.
type autoAnalyze struct {
	mu     sync.Mutex
	tables map[string]*tableWrites
	wg     sync.WaitGroup
	// run analyzes one table (the DB's pool; tests may count calls).
	run func(ctx context.Context, table string) error
	// stop ends the ANALYZEs under way when the DB closes.
	ctx  context.Context
	stop context.CancelFunc
}

type tableWrites struct {
	written, atLast int64 // rows written in all, and when the last ANALYZE started
	running         bool
}

func newAutoAnalyze(run func(ctx context.Context, table string) error) *autoAnalyze {
	ctx, stop := context.WithCancel(context.Background())
	return &autoAnalyze{tables: map[string]*tableWrites{}, run: run, ctx: ctx, stop: stop}
}

// wrote counts n rows written to table and starts its ANALYZE when due.
// Nil-safe (a DB made without Open).
func (a *autoAnalyze) wrote(table string, n int) {
	if a == nil || n <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tables[table]
	if t == nil {
		t = &tableWrites{}
		a.tables[table] = t
	}
	t.written += int64(n)
	due := t.written-t.atLast >= max(analyzeFirst, t.atLast)
	if !due || t.running || a.ctx.Err() != nil {
		return
	}
	t.running, t.atLast = true, t.written
	a.wg.Go(func() {
		ctx, cancel := context.WithTimeout(a.ctx, analyzeTimeout)
		defer cancel()
		_ = a.run(ctx, table) // a failure leaves the old statistics; the next threshold tries again
		a.mu.Lock()
		t.running = false
		a.mu.Unlock()
	})
}

// close stops the ANALYZEs under way and waits for them.
func (a *autoAnalyze) close() {
	if a == nil {
		return
	}
	a.stop()
	a.wg.Wait()
}
