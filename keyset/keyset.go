// Package keyset walks a store table in keyset order, one chunk per query,
// for both stores (sqlite and postgres): the iteration is dialect-neutral,
// the query stays the store's. It imports only the standard library and
// must not import a store, a driver or the root package.
package keyset

import "iter"

// Stream yields every item that fetch returns, chunk by chunk. Each chunk
// holds at most size items and starts after the key of the previous
// chunk's last item ("" for the first); a chunk shorter than size is the
// last. An error from fetch is yielded once and ends the stream. Nothing
// is held between chunks, so a slow consumer never blocks writers.
func Stream[T any](size int, fetch func(after string, limit int) ([]T, error), key func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		after := ""
		for {
			items, err := fetch(after, size)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if len(items) < size {
				return
			}
			after = key(items[len(items)-1])
		}
	}
}

// StreamAhead is Stream with the next chunk read while the consumer works
// through the current one (in another goroutine, so fetch must be safe to
// call from one): a pass over a large table overlaps the store's reads
// with the consumer's work instead of taking turns. At most one chunk is
// read ahead. When the consumer stops early, StreamAhead returns once a
// fetch under way has ended, and no chunk is fetched after it.
func StreamAhead[T any](size int, fetch func(after string, limit int) ([]T, error), key func(T) string) iter.Seq2[T, error] {
	type chunk struct {
		items []T
		err   error
	}
	return func(yield func(T, error) bool) {
		next := make(chan chunk)
		stop := make(chan struct{})
		done := make(chan struct{})
		defer func() {
			close(stop)
			<-done
		}()
		go func() {
			defer close(done)
			defer close(next)
			after := ""
			for {
				items, err := fetch(after, size)
				select {
				case next <- chunk{items, err}:
				case <-stop:
					return
				}
				if err != nil || len(items) < size {
					return
				}
				after = key(items[len(items)-1])
			}
		}()
		for c := range next {
			if c.err != nil {
				var zero T
				yield(zero, c.err)
				return
			}
			for _, it := range c.items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}
