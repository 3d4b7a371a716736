package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // the raw connection that loads benchmark rows

	"github.com/mksync/mksync"
)

func benchTenant(b *testing.B, db mksync.Store) string {
	b.Helper()
	tn := mksync.Tenant{Name: "bench"}
	require.NoError(b, db.CreateTenant(b.Context(), &tn))
	return tn.ID
}

// BenchmarkUpsertContacts10k upserts 10,000 new contacts per op through
// UpsertContacts (batches of 500, one transaction each). Same name and shape
// as the postgres store's benchmark, for the ratio in the issue note.
func BenchmarkUpsertContacts10k(b *testing.B) {
	db := openAt(b, filepath.Join(b.TempDir(), "bench.db"), testSealer(b))
	ctx := b.Context()
	tn := benchTenant(b, db)
	const n = 10_000
	cs := make([]mksync.Contact, n)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range cs {
			cs[j] = mksync.Contact{Name: fmt.Sprintf("Contact %d-%d", i, j), Email: fmt.Sprintf("c%d.%d@example.si", i, j), City: "Ljubljana"}
		}
		require.NoError(b, db.UpsertContacts(ctx, tn, cs))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/contact")
}

// BenchmarkStreamMappings100k streams 100,000 mappings per op through
// AllMappings (chunks of 500 by keyset). The rows are written once with SQL.
func BenchmarkStreamMappings100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	db := openAt(b, path, testSealer(b))
	ctx := b.Context()
	tn := benchTenant(b, db)
	const n = 100_000
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	require.NoError(b, err)
	_, err = raw.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO mappings (tenant_id, entity_type, entity_id, mk_id, count_code, pushed_hash, pulled_hash,
			state, last_error, last_synced_at, updated_at)
		SELECT ?, 'contact', printf('%012d', i), 'mk' || i, 'cc' || i, hex(randomblob(16)), hex(randomblob(16)),
			'synced', '', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z' FROM seq`, n, tn)
	require.NoError(b, err)
	_, err = raw.ExecContext(ctx, "ANALYZE")
	require.NoError(b, err)
	require.NoError(b, raw.Close())
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		for _, err := range db.AllMappings(ctx, tn, mksync.EntityContact) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatalf("streamed %d mappings, want %d", count, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/mapping")
}
