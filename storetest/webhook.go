package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func testWebhookEvents(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "webhooks")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	long := t0.Add(-24 * time.Hour)

	require.NoError(t, s.RecordWebhookEvent(ctx, tid, "evt-1", t0, long))
	requireCode(t, s.RecordWebhookEvent(ctx, tid, "evt-1", t0.Add(time.Minute), long), mksync.ECONFLICT, "a replay")
	require.NoError(t, s.RecordWebhookEvent(ctx, tid, "evt-2", t0.Add(time.Minute), long))
	require.NoError(t, s.RecordWebhookEvent(ctx, tid, "EVT-1", t0.Add(time.Minute), long), "ids are case-sensitive")

	requireCode(t, s.RecordWebhookEvent(ctx, tid, "", t0, long), mksync.EINVALID)
	requireCode(t, s.RecordWebhookEvent(ctx, tid, strings.Repeat("x", mksync.MaxWebhookEventIDLen+1), t0, long), mksync.EINVALID)
	require.NoError(t, s.RecordWebhookEvent(ctx, tid, strings.Repeat("x", mksync.MaxWebhookEventIDLen), t0, long))
	requireCode(t, s.RecordWebhookEvent(ctx, "0190f3c4-0000-7000-8000-00000000ffff", "evt-1", t0, long), mksync.ENOTFOUND)

	// Retention: events accepted before forgetBefore are forgotten, later
	// ones kept.
	t1 := t0.Add(2 * time.Hour)
	require.NoError(t, s.RecordWebhookEvent(ctx, tid, "evt-3", t1, t0.Add(30*time.Second)))
	require.NoError(t, s.RecordWebhookEvent(ctx, tid, "evt-1", t1, t0.Add(30*time.Second)), "evt-1 (t0) was forgotten")
	requireCode(t, s.RecordWebhookEvent(ctx, tid, "evt-2", t1, t0.Add(30*time.Second)), mksync.ECONFLICT, "evt-2 (t0+1m) is kept")
	requireCode(t, s.RecordWebhookEvent(ctx, tid, "evt-3", t1, t0.Add(30*time.Second)), mksync.ECONFLICT)

	// Inside InTx: a rolled-back event is not remembered, and a replay
	// leaves the transaction usable.
	boom := errors.New("queueing failed")
	err := s.InTx(ctx, tid, func(tx mksync.Store) error {
		require.NoError(t, tx.RecordWebhookEvent(ctx, tid, "evt-4", t1, long))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, s.InTx(ctx, tid, func(tx mksync.Store) error {
		requireCode(t, tx.RecordWebhookEvent(ctx, tid, "evt-3", t1, long), mksync.ECONFLICT)
		return tx.RecordWebhookEvent(ctx, tid, "evt-4", t1, long)
	}))
	requireCode(t, s.RecordWebhookEvent(ctx, tid, "evt-4", t1, long), mksync.ECONFLICT, "committed with its transaction")
}
