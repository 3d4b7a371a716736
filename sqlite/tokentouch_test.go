package sqlite

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A use being written is still seen by readers until its write ended: it
// has left the pending uses but is not in the table yet (a token listed
// then showed no last use at all).
func TestTokenUseSeenWhileWritten(t *testing.T) {
	tt := newTokenTouches()
	used := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	writing, release := make(chan struct{}), make(chan struct{})
	go tt.run(func(context.Context, map[string]time.Time) error {
		close(writing)
		<-release
		return nil
	}, slog.New(slog.DiscardHandler))
	tt.note("tok", used)
	<-writing
	got, ok := tt.latest("tok")
	require.True(t, ok, "the use in flight is seen")
	require.True(t, got.Equal(used))
	close(release)
	tt.close()
	_, ok = tt.latest("tok")
	require.False(t, ok, "once written, the table has it")
}
