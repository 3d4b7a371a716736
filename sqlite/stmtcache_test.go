package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/storetest"
)

// cachedQueries returns the SQL texts conn keeps prepared.
func cachedQueries(t *testing.T, conn *sql.Conn) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	require.NoError(t, conn.Raw(func(dc any) error {
		cc, ok := dc.(*cachingConn)
		require.True(t, ok, "driver connection is %T", dc)
		for q := range cc.stmts {
			out[q] = true
		}
		return nil
	}))
	return out
}

func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stmts.db"), Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.wdb.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	_, err = conn.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
	require.NoError(t, err)
	const ins = "INSERT INTO t (id, v) VALUES (?, ?)"
	for i := 1; i <= 5; i++ {
		_, err := conn.ExecContext(ctx, ins, i, fmt.Sprint("v", i))
		require.NoError(t, err)
	}
	require.True(t, cachedQueries(t, conn)[ins], "a statement run again is kept prepared")

	t.Run("a statement's bindings do not leak into its next run", func(t *testing.T) {
		const get = "SELECT v FROM t WHERE id = ?"
		for i := 1; i <= 5; i++ {
			var v string
			require.NoError(t, conn.QueryRowContext(ctx, get, i).Scan(&v))
			require.Equal(t, fmt.Sprint("v", i), v)
		}
		require.ErrorIs(t, conn.QueryRowContext(ctx, get, 99).Scan(new(string)), sql.ErrNoRows)
	})

	t.Run("the same query nested while its rows are open", func(t *testing.T) {
		const all = "SELECT id FROM t ORDER BY id"
		outer, err := conn.QueryContext(ctx, all)
		require.NoError(t, err)
		defer outer.Close()
		var seen []int
		for i := 0; i < 10 && outer.Next(); i++ { // bounded: a reset would restart the rows
			var id int
			require.NoError(t, outer.Scan(&id))
			seen = append(seen, id)
			// The inner run cannot reuse the statement the outer rows
			// still step through; it must not disturb them either.
			inner, err := conn.QueryContext(ctx, all)
			require.NoError(t, err)
			defer inner.Close()
			n := 0
			for inner.Next() {
				n++
			}
			require.NoError(t, inner.Close())
			require.Equal(t, 5, n)
		}
		require.NoError(t, outer.Err())
		require.NoError(t, outer.Close())
		require.Equal(t, []int{1, 2, 3, 4, 5}, seen)
	})

	t.Run("a second run of a statement whose rows are open", func(t *testing.T) {
		const sel = "SELECT id FROM t WHERE id >= ? ORDER BY id"
		rows, err := conn.QueryContext(ctx, sel, 1)
		require.NoError(t, err)
		defer rows.Close()
		require.True(t, rows.Next())
		// The cached statement is busy: this run prepares its own.
		inner, err := conn.QueryContext(ctx, sel, 4)
		require.NoError(t, err)
		defer inner.Close()
		var got []int
		for inner.Next() {
			var id int
			require.NoError(t, inner.Scan(&id))
			got = append(got, id)
		}
		require.NoError(t, inner.Close())
		require.Equal(t, []int{4, 5}, got)
		n := 1
		for rows.Next() {
			n++
		}
		require.NoError(t, rows.Close())
		require.Equal(t, 5, n, "the outer rows were not reset by the inner query")
	})

	t.Run("bad SQL is an error and is not cached", func(t *testing.T) {
		const bad = "SELEC nonsense"
		_, err := conn.ExecContext(ctx, bad)
		require.Error(t, err)
		require.False(t, cachedQueries(t, conn)[bad])
	})

	t.Run("past the bound, statements run unprepared", func(t *testing.T) {
		for i := range maxCachedStmts + 10 {
			var n int
			require.NoError(t, conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n))
			require.Equal(t, i, n)
		}
		require.Len(t, cachedQueries(t, conn), maxCachedStmts)
	})
}
