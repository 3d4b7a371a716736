package metakocka_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka"
)

// The adaptive limit, driven by a fake clock: each step is one answer.
func TestAdaptiveLimit(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	fast := metakocka.Sample{Latency: 100 * time.Millisecond}
	slow := metakocka.Sample{Latency: time.Second} // 10× the floor: queueing
	limited := metakocka.Sample{Latency: 50 * time.Millisecond, RateLimited: true, RetryAfter: 2 * time.Second}
	failed := metakocka.Sample{Latency: 30 * time.Second, Overloaded: true}
	type step struct {
		after  time.Duration // since the previous answer
		sample metakocka.Sample
		n      int // how many such answers
	}
	// Growth is about one per limit's worth of fast answers (limit² grows
	// by 2 per answer): 60 fast answers take 2 to 11.
	for _, tc := range []struct {
		name            string
		ceiling         int
		steps           []step
		want            int
		wantRateLimited int64
	}{
		{"starts low", 16, nil, 2, 0},
		{"grows while answers are fast", 16, []step{{10 * time.Millisecond, fast, 20}}, 6, 0},
		{"stops at the operator's ceiling", 6, []step{{10 * time.Millisecond, fast, 500}}, 6, 0},
		{"halves on a 429", 16, []step{{10 * time.Millisecond, fast, 60}, {10 * time.Millisecond, limited, 1}}, 5, 1},
		{"a burst of 429s counts once", 16, []step{{10 * time.Millisecond, fast, 60}, {time.Millisecond, limited, 5}}, 5, 5},
		{"429s a window apart count each", 16, []step{{10 * time.Millisecond, fast, 60}, {time.Second, limited, 2}}, 2, 2},
		{"halves on 5xx and timeouts", 16, []step{{10 * time.Millisecond, fast, 60}, {10 * time.Millisecond, failed, 1}}, 5, 0},
		{"shrinks when latency climbs", 16, []step{{10 * time.Millisecond, fast, 60}, {time.Second, slow, 12}}, 3, 0},
		{"never below one", 16, []step{{time.Second, limited, 20}}, 1, 20},
		{"recovers after backing off", 16, []step{{time.Second, limited, 5}, {10 * time.Millisecond, fast, 40}}, 9, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := metakocka.NewAdaptiveLimit(0, tc.ceiling, 0)
			now := t0
			for _, s := range tc.steps {
				for range s.n {
					now = now.Add(s.after)
					a.Observe(now, s.sample)
				}
			}
			st := a.State()
			require.Equal(t, tc.want, a.Limit(), "state %+v", st)
			require.Equal(t, tc.wantRateLimited, st.RateLimited)
			require.GreaterOrEqual(t, a.Limit(), 1)
			require.LessOrEqual(t, a.Limit(), tc.ceiling)
		})
	}
}

// The latency floor is the least latency of the last one to two windows
// of 30 s: a quiet moment's floor is forgotten.
func TestAdaptiveLimitFloor(t *testing.T) {
	a := metakocka.NewAdaptiveLimit(4, 16, 0)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	observe := func(ms int) {
		now = now.Add(10 * time.Millisecond)
		a.Observe(now, metakocka.Sample{Latency: time.Duration(ms) * time.Millisecond})
	}
	for _, ms := range []int{300, 120, 400, 200} {
		observe(ms)
	}
	require.Equal(t, 120*time.Millisecond, a.State().LatencyFloor)
	for range 3000 { // 30 s of 200 ms answers: the 120 ms is one window old
		observe(200)
	}
	require.Equal(t, 120*time.Millisecond, a.State().LatencyFloor)
	for range 3100 { // another window: forgotten
		observe(200)
	}
	require.Equal(t, 200*time.Millisecond, a.State().LatencyFloor)
}

// MemorySlots bounds a company's slots, gives them back, expires those of
// a holder that never returned them, and honours a pause.
func TestMemorySlots(t *testing.T) {
	ctx := t.Context()
	var m metakocka.MemorySlots
	a, _, err := m.TryAcquireSlot(ctx, "16", 2, time.Minute)
	require.NoError(t, err)
	b, _, err := m.TryAcquireSlot(ctx, "16", 2, 20*time.Millisecond)
	require.NoError(t, err)
	require.NotEmpty(t, a)
	require.NotEmpty(t, b)
	full, paused, err := m.TryAcquireSlot(ctx, "16", 2, time.Minute)
	require.NoError(t, err)
	require.Empty(t, full, "a third slot of two")
	require.Zero(t, paused)
	other, _, err := m.TryAcquireSlot(ctx, "17", 2, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, other, "another company has its own slots")
	time.Sleep(30 * time.Millisecond) // b expires
	c, _, err := m.TryAcquireSlot(ctx, "16", 2, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, c)
	require.NoError(t, m.ReleaseSlot(ctx, "16", a))
	require.NoError(t, m.PauseCompany(ctx, "16", time.Hour))
	none, paused, err := m.TryAcquireSlot(ctx, "16", 2, time.Minute)
	require.NoError(t, err)
	require.Empty(t, none, "paused")
	require.Greater(t, paused, 59*time.Minute)
}
