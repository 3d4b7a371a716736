package mkfake

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCapacityFault(t *testing.T) {
	for _, tc := range []struct {
		capacity, inFlight int
		kind               FaultKind
		delay              time.Duration
	}{
		{0, 50, "", 100 * time.Millisecond},  // no capacity set
		{12, 1, "", 100 * time.Millisecond},  // idle
		{12, 12, "", 100 * time.Millisecond}, // at capacity: full speed
		{12, 18, "", 150 * time.Millisecond}, // in proportion
		{12, 24, "", 200 * time.Millisecond}, // the last one served
		{12, 25, FaultRateLimit, 0},          // refused
		{1, 3, FaultRateLimit, 0},
	} {
		kind, delay := capacityFault(tc.capacity, tc.inFlight, 100*time.Millisecond)
		require.Equal(t, tc.kind, kind, "%+v", tc)
		require.Equal(t, tc.delay, delay, "%+v", tc)
	}
}

// The metakocka profile draws the documented opr_time_ms values: a median
// near 120 ms and a tail past 10 s.
func TestLatencyProfile(t *testing.T) {
	s := &Server{rng: rand.New(rand.NewPCG(1, 1))}
	require.Zero(t, s.profileLatency(""))
	var draws []time.Duration
	for range 4000 {
		draws = append(draws, s.profileLatency(LatencyProfileMetakocka))
	}
	slices.Sort(draws)
	median := draws[len(draws)/2]
	require.Greater(t, median, 60*time.Millisecond)
	require.Less(t, median, 250*time.Millisecond)
	require.Greater(t, draws[len(draws)*95/100], 10*time.Second, "p95 in the heavy tail")
	require.LessOrEqual(t, draws[len(draws)-1], 47788*time.Millisecond)
}
