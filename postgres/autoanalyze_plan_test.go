package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
)

// A bulk load on a database whose autovacuum is off still gets statistics:
// once the store has written enough mappings it analyzes the table itself,
// and the lookup of one mapping by its record goes through the primary key
// instead of reading every mapping of the tenant through
// mappings_state_idx (the plan a never-analyzed table gets, which made a
// run of N records cost N² row reads).
func TestBulkWritesKeepStatisticsFresh(t *testing.T) {
	db, _, schema := pgtest.Store(t, postgres.Options{})
	ctx := t.Context()
	tn := mksync.Tenant{Name: "Stats"}
	require.NoError(t, db.CreateTenant(ctx, &tn))
	const n = 700
	for i := range n {
		c := mksync.Contact{Name: fmt.Sprintf("Contact %d", i), Email: fmt.Sprintf("c%d@example.com", i), Country: "SI"}
		require.NoError(t, db.CreateContact(ctx, tn.ID, &c))
		m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, MetakockaID: fmt.Sprint(1000 + i), State: mksync.StateSynced}
		require.NoError(t, db.UpsertMapping(ctx, tn.ID, &m))
	}
	require.Eventually(t, func() bool {
		var analyzed bool
		err := db.Pool().QueryRow(ctx, `SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
			WHERE schemaname = $1 AND relname = 'mappings'`, schema).Scan(&analyzed)
		return err == nil && analyzed
	}, 30*time.Second, 50*time.Millisecond, "the store analyzed mappings")
	rows, err := db.Pool().Query(ctx, `EXPLAIN SELECT * FROM mappings WHERE tenant_id = $1 AND entity_type = 'contact' AND entity_id = 'x'`, tn.ID)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan = append(plan, line)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, strings.Join(plan, "\n"), "mappings_pkey", strings.Join(plan, "\n"))
}
