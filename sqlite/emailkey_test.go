package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/storetest"
)

// TestMigrationFillsUnicodeEmailKeys: contacts written before the e-mail
// key column existed are found by their e-mail in any case once migrated,
// a non-ASCII address (which SQL's lower() would leave half upper) too.
func TestMigrationFillsUnicodeEmailKeys(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "keys.db"), Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	defer db.Close()
	p, err := db.migrations()
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 10)
	require.NoError(t, err)
	_, err = db.wdb.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('t1', 'T', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')`)
	require.NoError(t, err)
	for _, c := range [][2]string{{"c1", "ŽAN@ČEBELA.SI"}, {"c2", "Ana@Firma.SI"}, {"c3", ""}} {
		_, err = db.wdb.ExecContext(ctx, `INSERT INTO contacts (id, tenant_id, name, business_entity, tax_id, registration_number,
			email, phone, mobile, street, post_number, city, province, country, notes, search_text, created_at, updated_at, version)
			VALUES (?, 't1', ?, 1, '', '', ?, '', '', '', '', '', '', 'SI', '', '', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z', 1)`,
			c[0], c[0], c[1])
		require.NoError(t, err)
	}
	require.NoError(t, db.Migrate(ctx))
	for email, want := range map[string][]string{"žan@čebela.si": {"c1"}, "ana@firma.si": {"c2"}} {
		cs, err := db.FindContactsByKey(ctx, "t1", mksync.KeyEmail, []string{mksync.NormKey(mksync.KeyEmail, email)})
		require.NoError(t, err)
		got := []string{}
		for _, c := range cs {
			got = append(got, c.ID)
		}
		require.Equal(t, want, got, email)
	}
}
