package keyset_test

import (
	"errors"
	"iter"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/keyset"
)

// table is a sorted list of keys read like a keyset query: the keys after
// a key, at most limit of them.
type table struct {
	keys    []string
	queries int
}

func (t *table) fetch(after string, limit int) ([]string, error) {
	t.queries++
	i, _ := slices.BinarySearch(t.keys, after)
	if i < len(t.keys) && t.keys[i] == after {
		i++
	}
	return t.keys[i:min(i+limit, len(t.keys))], nil
}

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(1000 + i)
	}
	return out
}

// streams are the two walks, which yield the same.
var streams = map[string]func(size int, fetch func(string, int) ([]string, error), key func(string) string) iter.Seq2[string, error]{
	"Stream":      keyset.Stream[string],
	"StreamAhead": keyset.StreamAhead[string],
}

func TestStream(t *testing.T) {
	t.Parallel()
	for sname, stream := range streams {
		testStream(t, sname, stream)
	}
}

func testStream(t *testing.T, sname string, stream func(int, func(string, int) ([]string, error), func(string) string) iter.Seq2[string, error]) {
	for _, tc := range []struct {
		name        string
		rows, size  int
		wantQueries int
	}{
		{"empty", 0, 3, 1},
		{"one short chunk", 2, 3, 1},
		{"exact chunks end with an empty one", 6, 3, 3},
		{"chunks and a short one", 7, 3, 3},
	} {
		t.Run(sname+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			tb := &table{keys: keys(tc.rows)}
			var got []string
			for k, err := range stream(tc.size, tb.fetch, func(s string) string { return s }) {
				require.NoError(t, err)
				got = append(got, k)
			}
			require.Len(t, got, tc.rows)
			if tc.rows > 0 {
				require.Equal(t, tb.keys, got, "every key once, in order")
			}
			require.Equal(t, tc.wantQueries, tb.queries)
		})
	}
}

func TestStreamStopsOnErrorAndBreak(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	calls := 0
	var errs []error
	for _, err := range keyset.Stream(2, func(string, int) ([]int, error) {
		calls++
		if calls == 2 {
			return nil, boom
		}
		return []int{1, 2}, nil
	}, func(int) string { return "k" }) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Equal(t, []error{boom}, errs, "the error is yielded once")
	require.Equal(t, 2, calls)

	tb := &table{keys: keys(10)}
	n := 0
	for range keyset.Stream(3, tb.fetch, func(s string) string { return s }) {
		n++
		if n == 4 {
			break
		}
	}
	require.Equal(t, 2, tb.queries, "a consumer that stops early ends the reads")
}

func TestStreamAheadStopsOnErrorAndBreak(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	calls := 0
	var errs []error
	var got []int
	for v, err := range keyset.StreamAhead(2, func(string, int) ([]int, error) {
		calls++
		if calls == 2 {
			return nil, boom
		}
		return []int{1, 2}, nil
	}, func(int) string { return "k" }) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, v)
	}
	require.Equal(t, []error{boom}, errs, "the error is yielded once, after the chunk before it")
	require.Equal(t, []int{1, 2}, got)
	require.Equal(t, 2, calls, "no read after an error")

	tb := &table{keys: keys(30)}
	n := 0
	for range keyset.StreamAhead(3, tb.fetch, func(s string) string { return s }) {
		n++
		if n == 4 {
			break
		}
	}
	require.LessOrEqual(t, tb.queries, 3, "a consumer that stops early ends the reads: at most one chunk ahead")
}

// The next chunk is read while the consumer still works on the current
// one: here the consumer of chunk one waits until chunk two is being read.
func TestStreamAheadReadsWhileTheConsumerWorks(t *testing.T) {
	t.Parallel()
	secondRead := make(chan struct{})
	fetch := func(after string, limit int) ([]string, error) {
		if after == "" {
			return []string{"a", "b"}, nil
		}
		if after == "b" {
			close(secondRead)
			return []string{"c"}, nil
		}
		return nil, nil
	}
	var got []string
	for k, err := range keyset.StreamAhead(2, fetch, func(s string) string { return s }) {
		require.NoError(t, err)
		if k == "a" {
			select {
			case <-secondRead:
			case <-time.After(10 * time.Second):
				t.Fatal("the second chunk was not read while the first was consumed")
			}
		}
		got = append(got, k)
	}
	require.Equal(t, []string{"a", "b", "c"}, got)
}
