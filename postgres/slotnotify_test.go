package postgres

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The listener keeps its connection across the pings of a quiet one (a
// wait for a notification that timed out leaves the connection usable),
// still hears every slot given back, counts them per company, and stops
// at close.
func TestSlotListenerSurvivesQuietChecks(t *testing.T) {
	url := os.Getenv("MKSYNC_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("MKSYNC_REQUIRE_POSTGRES") == "1" {
			t.Fatal("MKSYNC_REQUIRE_POSTGRES=1 but MKSYNC_TEST_POSTGRES_URL is unset")
		}
		t.Skip("PostgreSQL tests skipped: set MKSYNC_TEST_POSTGRES_URL to run them")
	}
	var connects atomic.Int64
	l := newSlotListener(func(ctx context.Context) (*pgx.Conn, error) {
		connects.Add(1)
		return pgx.Connect(ctx, url)
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.check = 20 * time.Millisecond
	t.Cleanup(l.close)
	company := "listener-" + t.Name() + time.Now().Format("150405.000000000")
	require.Eventually(t, func() bool {
		_, next := l.freed(company)
		return next != nil
	}, 10*time.Second, 5*time.Millisecond, "listening")
	time.Sleep(200 * time.Millisecond) // several quiet checks

	sender, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close(context.Background()) })
	for i := range uint64(3) {
		heard, next := l.freed(company)
		require.Equal(t, i, heard)
		require.NotNil(t, next)
		_, err := sender.Exec(t.Context(), `SELECT pg_notify($1, $2)`, slotChannel, company)
		require.NoError(t, err)
		select {
		case <-next:
		case <-time.After(5 * time.Second):
			t.Fatal("the slot given back was not heard")
		}
	}
	require.EqualValues(t, 1, connects.Load(), "one connection all along")

	l.close()
	heard, next := l.freed(company)
	require.Nil(t, next, "not listening after close")
	require.EqualValues(t, 0, heard)
}
