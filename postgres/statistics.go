package postgres

import (
	"context"
	"strings"

	"github.com/mksync/mksync"
)

// statisticsTables are the tables a sync of each entity type fills.
var statisticsTables = map[mksync.EntityType][]string{
	mksync.EntityContact:       {"contacts", "mappings"},
	mksync.EntityProduct:       {"products", "product_stock", "mappings"},
	mksync.EntitySalesDocument: {"sales_documents", "sales_document_lines", "mappings"},
}

// RefreshStatistics vacuums and analyzes the tables a sync of et writes,
// as autovacuum would, for servers where it is off (as during many bulk
// loads). ANALYZE keeps the planner choosing the right indexes as the
// tables grow: without statistics some per-record queries read every row
// of the tenant through an index that shares the tenant_id prefix. VACUUM
// clears the row versions a bulk run leaves behind (every pushed or pulled
// record rewrites its row and mapping): without it a table keeps doubling,
// every later pass reads the dead versions as well, and the first reader of
// each page rewrites it to mark them. Bulk sync runs call it after each
// large slice. A table another VACUUM is working on is skipped. Not in a
// transaction (VACUUM cannot run in one); cross-tenant (statistics are per
// table); EINVALID for an unknown entity type.
func (d *DB) RefreshStatistics(ctx context.Context, et mksync.EntityType) error {
	tables, ok := statisticsTables[et]
	if !ok {
		return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
	}
	if _, err := d.pool.Exec(ctx, "VACUUM (ANALYZE, SKIP_LOCKED) "+strings.Join(tables, ", ")); err != nil {
		return dbErr("vacuum and analyze "+strings.Join(tables, ", "), err)
	}
	return nil
}
