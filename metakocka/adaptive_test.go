package metakocka_test

import (
	"math/rand/v2"
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
		// 24 answers at 10× the floor: each shift of the (log) average past the
		// tolerance costs a tenth; the spread it adds widens the margin, so
		// that one slow answer alone is not queueing.
		{"shrinks when latency climbs", 16, []step{{10 * time.Millisecond, fast, 60}, {time.Second, slow, 24}}, 7, 0},
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

// The latency floor is the least smoothed latency of the last one to two
// windows of 30 s: a quiet moment's floor is forgotten.
func TestAdaptiveLimitFloor(t *testing.T) {
	a := metakocka.NewAdaptiveLimit(4, 16, 0)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	observe := func(ms int) {
		now = now.Add(10 * time.Millisecond)
		a.Observe(now, metakocka.Sample{Latency: time.Duration(ms) * time.Millisecond})
	}
	for range 20 {
		observe(120)
	}
	require.Equal(t, 120*time.Millisecond, a.State().LatencyFloor.Round(time.Millisecond))
	for range 3000 { // 30 s of 200 ms answers: the 120 ms is one window old
		observe(200)
	}
	require.Equal(t, 120*time.Millisecond, a.State().LatencyFloor.Round(time.Millisecond))
	for range 3100 { // another window: forgotten
		observe(200)
	}
	require.Equal(t, 200*time.Millisecond, a.State().LatencyFloor.Round(time.Millisecond))
}

// Answers whose own times vary as Metakocka's documented ones do (from
// 0 to 47.8 s, drawn at random, whatever the load) are not queueing: with
// latency independent of the requests in flight the limit grows to the
// ceiling. Judged on the raw latency against its least value, the same
// answers held it at 1–2 (304 answers in 10 simulated minutes instead of
// several thousand). Each answer's latency is 20 ms plus a documented
// opr_time_ms value.
func TestAdaptiveLimitHeavyTailIsNotQueueing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := metakocka.NewAdaptiveLimit(0, 32, 0)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	now := t0
	// ends[i] is when the i-th request in flight answers; started[i] when
	// it was sent.
	var ends, started []time.Time
	answers := 0
	for now.Before(t0.Add(10 * time.Minute)) {
		for len(ends) < a.Limit() {
			ends = append(ends, now.Add(20*time.Millisecond+time.Duration(documentedOprTimes[rng.IntN(len(documentedOprTimes))])*time.Millisecond))
			started = append(started, now)
		}
		next := 0
		for i := range ends {
			if ends[i].Before(ends[next]) {
				next = i
			}
		}
		now = ends[next]
		a.Observe(now, metakocka.Sample{Latency: now.Sub(started[next])})
		answers++
		ends = append(ends[:next], ends[next+1:]...)
		started = append(started[:next], started[next+1:]...)
	}
	t.Logf("%d answers in 10 simulated minutes, limit %d", answers, a.Limit())
	require.GreaterOrEqual(t, a.Limit(), 24, "state %+v", a.State())
	require.Greater(t, answers, 3000)
}

// documentedOprTimes are the opr_time_ms values of the answers in
// Metakocka's API documentation (as the simulator's "metakocka" latency
// profile).
var documentedOprTimes = []int{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 6, 8, 8, 12, 12, 16, 19, 21, 23, 29, 30, 31, 33, 33, 33, 33, 33,
	33, 33, 35, 35, 38, 38, 47, 48, 48, 52, 57, 57, 58, 58, 62, 66, 66, 66, 84, 86, 94, 108, 109, 121,
	135, 144, 145, 146, 152, 181, 185, 189, 189, 189, 189, 191, 223, 232, 232, 247, 348, 412, 416, 419,
	419, 441, 523, 585, 675, 741, 742, 742, 1081, 1803, 1803, 1803, 1853, 1853, 1910, 2380, 4312, 4982,
	8304, 8304, 11435, 11721, 11762, 11762, 12026, 12026, 12026, 12026, 12026, 13047, 13474, 17559,
	27302, 38071, 47788,
}

// MemorySlots bounds a company's slots, gives them back, expires those of
// a holder that never returned them, and honours a pause.
func TestMemorySlots(t *testing.T) {
	ctx := t.Context()
	var m metakocka.MemorySlots
	a, _, _, _, err := m.TryAcquireSlot(ctx, "16", "", 2, time.Minute)
	require.NoError(t, err)
	b, _, _, _, err := m.TryAcquireSlot(ctx, "16", "", 2, 20*time.Millisecond)
	require.NoError(t, err)
	require.NotEmpty(t, a)
	require.NotEmpty(t, b)
	full, _, _, paused, err := m.TryAcquireSlot(ctx, "16", "", 2, time.Minute)
	require.NoError(t, err)
	require.Empty(t, full, "a third slot of two")
	require.Zero(t, paused)
	other, _, _, _, err := m.TryAcquireSlot(ctx, "17", "", 2, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, other, "another company has its own slots")
	time.Sleep(30 * time.Millisecond) // b expires
	c, _, _, _, err := m.TryAcquireSlot(ctx, "16", "", 2, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, c)
	require.NoError(t, m.ReleaseSlot(ctx, "16", a))
	require.NoError(t, m.PauseCompany(ctx, "16", time.Hour))
	none, _, _, paused, err := m.TryAcquireSlot(ctx, "16", "", 2, time.Minute)
	require.NoError(t, err)
	require.Empty(t, none, "paused")
	require.Greater(t, paused, 59*time.Minute)
}
