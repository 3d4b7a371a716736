package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/storetest"
)

// Lookups that must use an index, not a scan of the tenant's rows: a scan
// per record makes a bulk run quadratic.
func TestQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"), Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))
	for _, tc := range []struct {
		name, query, index string
		args               []any
	}{
		{"mapping by mk_id", findMappingQuery(byMkID), "INDEX mappings_mk_id", []any{"t", "contact", "42"}},
		{"lines of documents", linesQuery(3), "INDEX sales_document_lines_document (tenant_id=? AND document_id=?)", []any{"t", "a", "b", "c"}},
		{"count links: records", countLinksQuery(mksync.EntityContact), "SEARCH r USING COVERING INDEX", []any{"d", "a", "d", "contact", "t"}},
		{"count links: their mappings", countLinksQuery(mksync.EntityContact), "SEARCH m USING INDEX sqlite_autoindex_mappings_1 (tenant_id=? AND entity_type=? AND entity_id=?)", []any{"d", "a", "d", "contact", "t"}},
		{"count tombstones", countTombstonesQuery, "SEARCH tombstones USING COVERING INDEX sqlite_autoindex_tombstones_1 (tenant_id=? AND entity_type=?)", []any{"t", "contact"}},
		{"delete lines", deleteLinesQuery, "INDEX sales_document_lines_document (tenant_id=? AND document_id=?)", []any{"t", "a"}},
		{"contacts by e-mail", contactKeyQuery(mksync.KeyEmail, 2), "INDEX contacts_email_key (tenant_id=? AND email_key=?)", []any{"t", "a@b.si", "c@d.si"}},
		{"contacts by tax number", contactKeyQuery(mksync.KeyTaxNumber, 1), "INDEX contacts_tax_key (tenant_id=? AND <expr>=?)", []any{"t", "123"}},
		{"contacts by registration number", contactKeyQuery(mksync.KeyRegistrationNumber, 1), "INDEX contacts_registration_key (tenant_id=? AND <expr>=?)", []any{"t", "123"}},
		{"products by barcode", productsByBarcodeQuery, "INDEX products_barcode (tenant_id=? AND barcode=?)", []any{"t", "383"}},
		{"documents by number", documentsByNumberQuery, "INDEX sales_documents_number (tenant_id=? AND number=?)", []any{"t", "2025-1", "c", "2025-01-31"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := db.reader().QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
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
			require.Contains(t, strings.Join(plan, "; "), tc.index, plan)
		})
	}
}
