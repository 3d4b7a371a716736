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
	last int         // tag of the batch's last item
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

	var (
		mu        sync.Mutex
		batches   = map[int]*batchState{}
		next      int // next batch to commit
		queue     []batchDone
		signal    = make(chan struct{}, 1)
		commitErr error
	)
	tokens := make(chan struct{}, conc+2*batchSize) // bounds how far the producer runs ahead
	// advance moves complete batches to the commit queue; callers hold mu.
	advance := func() {
		for {
			b, ok := batches[next]
			if !ok || !b.closed || b.remaining > 0 || b.interrupted {
				return
			}
			queue = append(queue, b.done)
			delete(batches, next)
			next++
			select {
			case signal <- struct{}{}:
			default:
			}
		}
	}
	complete := func(bi int, it *item, r recordResult) {
		mu.Lock()
		defer mu.Unlock()
		b := batches[bi]
		b.remaining--
		if r.interrupted {
			b.interrupted = true
			return
		}
		r.addTo(&b.done.res)
		b.done.n++
		if r.out == outFailed {
			if b.done.tags == nil {
				b.done.tags = map[int]int{}
			}
			b.done.tags[it.tag]++
		}
		advance()
	}

	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		for {
			_, open := <-signal
			mu.Lock()
			q := queue
			queue = nil
			mu.Unlock()
			for _, d := range q {
				if commitErr != nil {
					break
				}
				if err := commit(d); err != nil {
					commitErr = err
					stop()
				}
			}
			if !open {
				return
			}
		}
	}()

	type job struct {
		bi int
		it item
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				r := j.it.run(ctx)
				complete(j.bi, &j.it, r)
				<-tokens
			}
		}()
	}

	idx := 0
	srcErr := source(func(it item) bool {
		select {
		case tokens <- struct{}{}:
		case <-pctx.Done():
			return false
		}
		bi := idx / batchSize
		mu.Lock()
		b := batches[bi]
		if b == nil {
			if prev := batches[bi-1]; prev != nil {
				prev.closed = true
			}
			b = &batchState{}
			batches[bi] = b
			advance()
		}
		b.remaining++
		b.done.pos = it.pos
		b.done.last = it.tag
		mu.Unlock()
		idx++
		if it.done != nil {
			complete(bi, &it, *it.done)
			<-tokens
			return pctx.Err() == nil
		}
		select {
		case work <- job{bi, it}:
			return true
		case <-pctx.Done():
			complete(bi, &it, recordResult{out: outFailed, interrupted: true})
			<-tokens
			return false
		}
	})
	close(work)
	wg.Wait()
	mu.Lock()
	if b := batches[(idx-1)/batchSize]; b != nil && idx > 0 {
		b.closed = true
		b.done.final = srcErr == nil
	}
	if pctx.Err() == nil {
		advance()
	}
	mu.Unlock()
	close(signal)
	<-committerDone
	if commitErr != nil {
		return commitErr
	}
	if srcErr != nil {
		return srcErr
	}
	return ctx.Err()
}
