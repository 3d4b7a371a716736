package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/storetest"
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
	got, ok := tt.noted()["tok"]
	require.True(t, ok, "the use in flight is seen")
	require.True(t, got.Equal(used))
	close(release)
	tt.close()
	_, ok = tt.noted()["tok"]
	require.False(t, ok, "once written, the table has it")
}

// A token list whose read of the table began before a use's write
// committed, and whose merge of the noted uses came after the write ended,
// still shows the use: the noted uses are taken before the read (CI saw
// "use must be recorded" under load when they were taken after it).
func TestTokenListSeesUseWrittenDuringTheRead(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "touch.db"), Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	tenant := mksync.Tenant{Name: "touch"}
	require.NoError(t, db.CreateTenant(ctx, &tenant))
	plain, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	tok := mksync.APIToken{Name: "crm", Hash: hash}
	require.NoError(t, db.CreateAPIToken(ctx, tenant.ID, &tok))

	// The writer of uses is held before its transaction until released.
	db.touches.close()
	tt := newTokenTouches()
	db.touches = tt
	writing, release := make(chan struct{}), make(chan struct{})
	go tt.run(func(ctx context.Context, uses map[string]time.Time) error {
		close(writing)
		<-release
		return db.writeTokenUses(ctx, uses)
	}, slog.New(slog.DiscardHandler))

	used := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	_, err = db.AuthenticateAPIToken(ctx, mksync.HashToken(plain.Reveal()), used)
	require.NoError(t, err)
	<-writing
	db.afterTokenRead = func() {
		// The list has read the table (no use yet); now the write commits
		// and ends before the list merges the noted uses.
		close(release)
		for {
			if _, ok := tt.noted()[tok.ID]; !ok {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	list, err := db.ListAPITokens(ctx, tenant.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].LastUsedAt, "use must be recorded")
	require.True(t, list[0].LastUsedAt.Equal(used))
}
