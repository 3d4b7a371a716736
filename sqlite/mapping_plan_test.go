package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/storetest"
)

// Lookups of a mapping by mk_id use the unique index, not a scan of the
// tenant's mappings.
func TestMappingByMkIDUsesIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"), Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))
	rows, err := db.reader().QueryContext(ctx, "EXPLAIN QUERY PLAN "+findMappingQuery(byMkID), "t", "contact", "42")
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, strings.Join(plan, "; "), "INDEX mappings_mk_id", plan)
}
