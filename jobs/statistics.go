package jobs

import (
	"context"
	"time"

	"github.com/mksync/mksync"
)

// statisticsRefresher is a store whose query plans need fresh table
// statistics as bulk syncs fill it (postgres.DB: with autovacuum off
// nothing else keeps them).
type statisticsRefresher interface {
	RefreshStatistics(ctx context.Context, et mksync.EntityType) error
}

// refreshStatisticsAfter is how many records a slice must have processed
// for its tables' statistics to be refreshed after it.
const refreshStatisticsAfter = 1000

// refreshStatistics refreshes the statistics of the run's tables when the
// slice that began at before processed refreshStatisticsAfter records or
// more, on a store that needs it. Failures are logged: the run is not
// concerned.
func (j *Jobs) refreshStatistics(ctx context.Context, tenantID string, before mksync.SyncRun) {
	sr, ok := j.store.(statisticsRefresher)
	if !ok {
		return
	}
	after, err := j.store.FindSyncRun(ctx, tenantID, before.ID)
	if err != nil || after.Processed-before.Processed < refreshStatisticsAfter {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	start := j.clock.Now()
	if err := sr.RefreshStatistics(rctx, before.EntityType); err != nil {
		j.log.WarnContext(ctx, "cannot refresh table statistics after a sync run slice", "tenant_id", tenantID,
			"run_id", before.ID, "entity_type", before.EntityType, "error", err)
		return
	}
	j.log.InfoContext(ctx, "table statistics refreshed after a sync run slice", "tenant_id", tenantID, "run_id", before.ID,
		"entity_type", before.EntityType, "records", after.Processed-before.Processed, "duration", j.clock.Now().Sub(start))
}
