package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// TestFailedMappingWithPushedPayloadSettles: a record whose mapping was
// marked failed after Metakocka accepted its payload (the mapping's save
// lost its database connection, though its commit went through) is not
// stuck failed: the next bulk push finds the payload already pushed and
// settles the mapping synced, with no Metakocka write.
func TestFailedMappingWithPushedPayloadSettles(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := newContact(t, b)
	_, err := b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	m := b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateSynced, m.State)
	m.State, m.LastError = mksync.StateFailed, "01ERRORID"
	require.NoError(t, b.store.UpsertMapping(ctx, b.tenant, &m))
	b.e.cache.dropMapping(b.tenant, mksync.EntityContact, c.ID)
	b.fake.ResetStats()

	run := &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, run, nil))
	require.Equal(t, 0, run.Result.Failed, "%+v", run.Result)
	require.Zero(t, b.fake.Stats().Writes())
	got := b.mapping(t, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.StateSynced, got.State)
	require.Empty(t, got.LastError)
}
