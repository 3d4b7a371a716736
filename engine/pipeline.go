package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/mksync/mksync"
)

// item is one record of a bulk run. Either run does the work (on a worker),
// or done holds an outcome the producer decided without any call (an
// unchanged record). pos is the run's checkpoint once this item and all
// before it are committed.
type item struct {
	pos  string
	run  func(ctx context.Context) recordResult
	done *recordResult
	// tag groups items (a document pull's type index): batchDone counts
	// failures per tag, so a pull cursor only advances past a clean type.
	tag int
}

// batchDone is a committed batch: its results, size and checkpoint.
type batchDone struct {
	res  mksync.SyncResult
	n    int
	pos  string
	tags map[int]int // failures per tag
	// plan: a preview's items of the batch (skipped records left out).
	plan []mksync.PlanItem
	last int // tag of the batch's last item
	// final marks the run's last batch.
	final bool
}

// errStop is returned by a commit function to stop a run after the batch
// (a cancelled run).
var errStop = errors.New("run stopped")

// batchState tracks one batch while its items are in flight.
type batchState struct {
	remaining int
	closed    bool
	done      batchDone
	// interrupted: an item's context ended before its outcome was known;
	// the batch (and every later one) is never committed, so the run
	// resumes before it.
	interrupted bool
}

// execute runs the items source yields, conc at a time, and commits them
// in batches of batchSize consecutive items: commit is called for batch k
// only when it and every batch before it are complete, in order, from one
// goroutine. Workers keep going across batch boundaries, so a slow record
// delays only the checkpoint, not the other workers. When commit fails (or
// returns errStop) no further item is started and no further batch is
// committed; items in flight finish. A source error stops the run the same
// way and is returned. An interrupted item (its context ended) keeps its
// batch and all later ones from being committed.
func execute(ctx context.Context, conc, batchSize int, source func(yield func(item) bool) error, commit func(batchDone) error) error {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	p := &pipeline{
		ctx: ctx, pctx: pctx, stop: stop, batchSize: batchSize, commit: commit,
		batches: map[int]*batchState{},
		signal:  make(chan struct{}, 1),
		tokens:  make(chan struct{}, conc+2*batchSize), // bounds how far the producer runs ahead
		work:    make(chan job),
	}
	committerDone := make(chan struct{})
	go p.committer(committerDone)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go p.worker(&wg)
	}
	srcErr := source(p.produce)
	close(p.work)
	wg.Wait()
	p.mu.Lock()
	if b := p.batches[(p.idx-1)/batchSize]; b != nil && p.idx > 0 {
		b.closed = true
		b.done.final = srcErr == nil
	}
	if pctx.Err() == nil {
		p.advance()
	}
	p.mu.Unlock()
	close(p.signal)
	<-committerDone
	if p.commitErr != nil {
		return p.commitErr
	}
	if srcErr != nil {
		return srcErr
	}
	return ctx.Err()
}

// job is an item on its way to a worker, with its batch index.
type job struct {
	bi int
	it item
}

// pipeline is the state of one execute.
type pipeline struct {
	ctx, pctx context.Context // the run's; pctx also ends when a commit fails
	stop      func()          // ends pctx
	batchSize int
	commit    func(batchDone) error

	mu        sync.Mutex
	batches   map[int]*batchState
	next      int // next batch to commit
	queue     []batchDone
	signal    chan struct{}
	commitErr error // written by the committer only

	tokens chan struct{}
	work   chan job
	idx    int // items produced
}

// advance moves complete batches to the commit queue; callers hold mu.
func (p *pipeline) advance() {
	for {
		b, ok := p.batches[p.next]
		if !ok || !b.closed || b.remaining > 0 || b.interrupted {
			return
		}
		p.queue = append(p.queue, b.done)
		delete(p.batches, p.next)
		p.next++
		select {
		case p.signal <- struct{}{}:
		default:
		}
	}
}

// complete accounts for the result r of item it of batch bi.
func (p *pipeline) complete(bi int, it *item, r recordResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.batches[bi]
	b.remaining--
	if r.interrupted {
		b.interrupted = true
		return
	}
	r.addTo(&b.done.res)
	if r.plan != nil && r.plan.Action != mksync.PlanSkip {
		b.done.plan = append(b.done.plan, *r.plan)
	}
	b.done.n++
	if r.out == outFailed {
		if b.done.tags == nil {
			b.done.tags = map[int]int{}
		}
		b.done.tags[it.tag]++
	}
	p.advance()
}

// committer commits queued batches in order until signal is closed.
func (p *pipeline) committer(done chan<- struct{}) {
	defer close(done)
	for {
		_, open := <-p.signal
		p.mu.Lock()
		q := p.queue
		p.queue = nil
		p.mu.Unlock()
		for _, d := range q {
			if p.commitErr != nil {
				break
			}
			if err := p.commit(d); err != nil {
				p.commitErr = err
				p.stop()
			}
		}
		if !open {
			return
		}
	}
}

// worker runs items until work is closed.
func (p *pipeline) worker(wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range p.work {
		r := j.it.run(p.ctx)
		p.complete(j.bi, &j.it, r)
		<-p.tokens
	}
}

// produce is the source's yield: it places it in its batch and hands it
// to a worker (or completes a decided item); false stops the source.
func (p *pipeline) produce(it item) bool {
	select {
	case p.tokens <- struct{}{}:
	case <-p.pctx.Done():
		return false
	}
	bi := p.idx / p.batchSize
	p.mu.Lock()
	b := p.batches[bi]
	if b == nil {
		if prev := p.batches[bi-1]; prev != nil {
			prev.closed = true
		}
		b = &batchState{}
		p.batches[bi] = b
		p.advance()
	}
	b.remaining++
	b.done.pos = it.pos
	b.done.last = it.tag
	p.mu.Unlock()
	p.idx++
	if it.done != nil {
		p.complete(bi, &it, *it.done)
		<-p.tokens
		return p.pctx.Err() == nil
	}
	select {
	case p.work <- job{bi, it}:
		return true
	case <-p.pctx.Done():
		p.complete(bi, &it, recordResult{out: outFailed, interrupted: true})
		<-p.tokens
		return false
	}
}
