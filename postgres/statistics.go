package postgres

import (
	"context"

	"github.com/mksync/mksync"
)

// statisticsTables are the tables a sync of each entity type fills.
var statisticsTables = map[mksync.EntityType][]string{
	mksync.EntityContact:       {"contacts", "mappings"},
	mksync.EntityProduct:       {"products", "product_stock", "mappings"},
	mksync.EntitySalesDocument: {"sales_documents", "sales_document_lines", "mappings"},
}

// RefreshStatistics runs ANALYZE on the tables a sync of et writes, so that
// the planner keeps choosing the right indexes as they grow even where
// autovacuum is off (as during many bulk loads): without statistics some
// per-record queries read every row of the tenant through an index that
// shares the tenant_id prefix. Bulk sync runs call it after each large
// slice. Cross-tenant (statistics are per table); EINVALID for an unknown
// entity type.
func (d *DB) RefreshStatistics(ctx context.Context, et mksync.EntityType) error {
	tables, ok := statisticsTables[et]
	if !ok {
		return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
	}
	for _, t := range tables {
		if _, err := d.pool.Exec(ctx, "ANALYZE "+t); err != nil {
			return dbErr("analyze "+t, err)
		}
	}
	return nil
}
