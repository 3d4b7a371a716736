package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mksync/mksync"
)

// Group commit of a bulk run's mapping writes.
//
// A record of a bulk push writes its mapping twice (the intent before the
// create, the result after it), each on its own a transaction of a few
// rows. The commit, not the rows, is what such a write costs: WAL frames
// and locks on SQLite, a WAL flush on PostgreSQL. A run's workers therefore
// hand their writes to one committer that gathers them for a short window
// and commits them together. Each writer still waits until its own mapping
// is durable, so the order of a record's steps and everything that depends
// on it (a create only after its intent is stored; the record's lock held
// until its mapping is) stay as they are. The wait costs no Metakocka
// throughput: a run has more workers than request slots (see
// runner.execute), and a worker waits for its commit without a slot.
//
// A document written from Metakocka (a pull, or the number Metakocka gave
// a pushed one) goes the same way with its mapping: its transaction is a
// unit of the group (inGroup), so a bulk run's record writes share commits
// too. When a group fails, each write is tried alone, so a unit may run
// twice; units start from their inputs each time and change the caller's
// record only once committed.
const (
	// groupWindow is how long the committer gathers writes after the first.
	groupWindow = 5 * time.Millisecond
	// groupMax ends a window early.
	groupMax = 128
)

// mappingGroup is the committer of one run.
type mappingGroup struct {
	s    *session
	ctx  context.Context
	reqs chan *mappingReq
	wg   sync.WaitGroup
}

// ParallelWriter is a store whose transactions write in parallel (a
// server database, unlike SQLite's one writer): a run's group commit then
// runs WriteParallelism committers, each gathering its own groups, so that
// the records' writes are not put in a line on one connection.
type ParallelWriter interface {
	WriteParallelism() int
}

// mappingReq is one write of a group: a mapping (m), or a unit of work
// that writes a record and its mapping (unit; see inGroup).
type mappingReq struct {
	m    mksync.Mapping
	unit func(tx mksync.Store, save func(*mksync.Mapping) error) error
	// saved are the mappings unit saved in its last run.
	saved []mksync.Mapping
	err   error
	done  chan struct{}
}

// startMappingGroup starts the committer for the writes of a run; ctx is
// the run's, and ends the writes with it. Call stop once no worker writes.
func (s *session) startMappingGroup(ctx context.Context) *mappingGroup {
	g := &mappingGroup{s: s, ctx: ctx, reqs: make(chan *mappingReq)}
	n := 1
	if pw, ok := s.e.store.(ParallelWriter); ok {
		n = max(1, pw.WriteParallelism())
	}
	for range n {
		g.wg.Go(g.loop)
	}
	return g
}

// save writes m as one write of the next group and returns once it is
// committed (or failed), like the store's UpsertMapping.
func (g *mappingGroup) save(ctx context.Context, m *mksync.Mapping) error {
	r := &mappingReq{m: *m, done: make(chan struct{})}
	if err := g.send(ctx, r); err != nil {
		return err
	}
	if r.err == nil {
		*m = r.m
	}
	return r.err
}

// run commits unit as one write of the next group and returns the
// mappings it saved once they are committed. unit may run twice (in the
// group, then alone when the group failed): it must start from its inputs
// each time and publish what it wrote only after run returns.
func (g *mappingGroup) run(ctx context.Context, unit func(tx mksync.Store, save func(*mksync.Mapping) error) error) ([]mksync.Mapping, error) {
	r := &mappingReq{unit: unit, done: make(chan struct{})}
	if err := g.send(ctx, r); err != nil {
		return nil, err
	}
	return r.saved, r.err
}

// send queues r and waits until its group is committed or failed.
func (g *mappingGroup) send(ctx context.Context, r *mappingReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case g.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-r.done
	return nil
}

// stop ends the committer after the writes it holds.
func (g *mappingGroup) stop() {
	close(g.reqs)
	g.wg.Wait()
}

func (g *mappingGroup) loop() {
	for first := range g.reqs {
		batch := []*mappingReq{first}
		window := time.NewTimer(groupWindow)
	gather:
		for len(batch) < groupMax {
			select {
			case r, ok := <-g.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			case <-window.C:
				break gather
			}
		}
		window.Stop()
		g.commit(batch)
	}
}

// commit writes a group in one transaction. When that fails (one write
// refused: the record was deleted or changed meanwhile, the mk_id is mapped
// to another record) each write is tried alone, so that only the refused
// ones fail.
func (g *mappingGroup) commit(batch []*mappingReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	st, tenant := g.s.e.store, g.s.tenantID
	if len(batch) > 1 {
		written := make([]mksync.Mapping, len(batch))
		err := st.InTx(g.ctx, tenant, func(tx mksync.Store) error {
			for i, r := range batch {
				if err := r.write(g.ctx, tx, tenant, &written[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for i, r := range batch {
				if r.unit == nil {
					r.m = written[i]
				}
			}
			return
		}
	}
	for _, r := range batch {
		if r.unit == nil {
			r.err = st.UpsertMapping(g.ctx, tenant, &r.m)
			continue
		}
		var unused mksync.Mapping
		r.err = st.InTx(g.ctx, tenant, func(tx mksync.Store) error { return r.write(g.ctx, tx, tenant, &unused) })
	}
}

// write runs r in tx: its unit (recording what it saves), or the upsert of
// its mapping into *w (r.m stays as asked until the group commits).
func (r *mappingReq) write(ctx context.Context, tx mksync.Store, tenant string, w *mksync.Mapping) error {
	if r.unit == nil {
		*w = r.m
		return tx.UpsertMapping(ctx, tenant, w)
	}
	r.saved = r.saved[:0]
	return r.unit(tx, func(m *mksync.Mapping) error {
		if err := tx.UpsertMapping(ctx, tenant, m); err != nil {
			return fmt.Errorf("save %s mapping %s: %w", m.EntityType, m.EntityID, err)
		}
		r.saved = append(r.saved, *m)
		return nil
	})
}
