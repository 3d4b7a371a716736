package alerts_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
)

func TestPrunerDeletesOldRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	db, tenantID := newStore(t, clk)
	now := clk.Now()
	for _, age := range []time.Duration{0, 24 * time.Hour, 6*24*time.Hour + 23*time.Hour, 7*24*time.Hour + time.Minute, 90 * 24 * time.Hour} {
		require.NoError(t, db.CreateErrorRecord(ctx, tenantID, &mksync.ErrorRecord{
			Category: observe.CatSync, Operation: "contacts.sync_to_metakocka", Code: mksync.EUPSTREAM, Message: "x",
			CreatedAt: now.Add(-age),
		}))
	}
	m, reg := observetest.NewMetrics(t, observe.MetricsOptions{})
	p, err := alerts.NewPruner(alerts.RetentionConfig{Store: db, Days: 7, Clock: clk, Metrics: m})
	require.NoError(t, err)
	n, err := p.Prune(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the records older than 7 days")
	left, _, err := db.FindErrorRecords(ctx, tenantID, mksync.ErrorFilter{})
	require.NoError(t, err)
	require.Len(t, left, 3)
	require.Equal(t, 2.0, observetest.Value(t, reg, "mksync_error_records_pruned_total", nil))

	// A day later, the 6d23h record is due too.
	clk.Advance(24 * time.Hour)
	n, err = p.Prune(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestPrunerStartStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	db, tenantID := newStore(t, clk)
	require.NoError(t, db.CreateErrorRecord(ctx, tenantID, &mksync.ErrorRecord{
		Category: observe.CatSync, Operation: "op", Code: mksync.EUPSTREAM, Message: "x", CreatedAt: clk.Now().Add(-31 * 24 * time.Hour)}))
	logs := &observe.LogBuffer{}
	p, err := alerts.NewPruner(alerts.RetentionConfig{Store: db, Clock: clk, Logger: observe.NewLogger(logs, observe.Options{})})
	require.NoError(t, err)
	p.Stop() // before Start: no-op
	require.NoError(t, p.Start(ctx))
	require.NoError(t, p.Start(ctx)) // no-op
	require.Eventually(t, func() bool {
		left, _, err := db.FindErrorRecords(ctx, tenantID, mksync.ErrorFilter{})
		return err == nil && len(left) == 0
	}, 10*time.Second, 10*time.Millisecond, "the first prune runs at Start with the default 30 days")
	p.Stop()
	p.Stop()
	require.Contains(t, logs.String(), `"msg":"error records pruned"`)
	require.Contains(t, logs.String(), `"category":"DATABASE"`)
}

func TestPrunerConfig(t *testing.T) {
	t.Parallel()
	_, err := alerts.NewPruner(alerts.RetentionConfig{})
	require.ErrorContains(t, err, "Store")
	clk := newFakeClock()
	db, _ := newStore(t, clk)
	_, err = alerts.NewPruner(alerts.RetentionConfig{Store: db, Days: -1})
	require.ErrorContains(t, err, "Days")
}
