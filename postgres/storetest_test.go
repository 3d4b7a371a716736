package postgres_test

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/storetest"
)

// TestConformance runs the shared storage suite, each case in its own schema.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mksync.Store { return setup(t).db })
}

// TestSecretsSealedInDatabase dumps every row of every table of the schema
// and looks for the plaintext secret.
func TestSecretsSealedInDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	storetest.CheckSecretsSealed(t, b.db, func() []byte {
		ctx := t.Context()
		conn := b.superConn(t)
		rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1`, b.schema)
		require.NoError(t, err)
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		var dump bytes.Buffer
		for _, table := range tables {
			var text *string
			q := `SELECT string_agg(t::text, E'\n') FROM ` + pgx.Identifier{table}.Sanitize() + ` t`
			require.NoError(t, conn.QueryRow(ctx, q).Scan(&text))
			if text != nil {
				dump.WriteString(*text)
				dump.WriteByte('\n')
			}
		}
		return dump.Bytes()
	})
}
