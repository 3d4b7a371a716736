package postgres_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// BenchmarkUpsertContacts10k upserts 10,000 new contacts per op through
// UpsertContacts (batches of 500, one transaction each). Same name and shape
// as the sqlite store's benchmark, for the ratio in the issue note.
func BenchmarkUpsertContacts10k(b *testing.B) {
	bb := setup(b)
	ctx := b.Context()
	tn := newTenant(b, bb.db, "bench")
	const n = 10_000
	cs := make([]mksync.Contact, n)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range cs {
			cs[j] = mksync.Contact{Name: fmt.Sprintf("Contact %d-%d", i, j), Email: fmt.Sprintf("c%d.%d@example.si", i, j), City: "Ljubljana"}
		}
		require.NoError(b, bb.db.UpsertContacts(ctx, tn, cs))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/contact")
}

// BenchmarkStreamMappings100k streams 100,000 mappings per op through
// AllMappings (chunks of 500 by keyset). The rows are written once with SQL.
func BenchmarkStreamMappings100k(b *testing.B) {
	bb := setup(b)
	ctx := b.Context()
	tn := newTenant(b, bb.db, "bench")
	const n = 100_000
	_, err := bb.superConn(b).Exec(ctx, `INSERT INTO mappings (tenant_id, entity_type, entity_id, mk_id, count_code,
			pushed_hash, pulled_hash, state, last_error, last_synced_at, updated_at)
		SELECT $1, 'contact', lpad(i::text, 12, '0'), 'mk' || i, 'cc' || i, md5(i::text), md5(i::text), 'synced', '', now(), now()
		FROM generate_series(1, $2::int) AS i`, tn, n)
	require.NoError(b, err)
	// As after any bulk load (autovacuum would do it a little later).
	_, err = bb.superConn(b).Exec(ctx, `ANALYZE mappings`)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		for _, err := range bb.db.AllMappings(ctx, tn, mksync.EntityContact) {
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
