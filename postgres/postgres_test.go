package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
	"github.com/mksync/mksync/storetest"
)

// bundle is what one test gets: a migrated store in a fresh schema.
type bundle struct {
	db     *postgres.DB
	url    string
	schema string
	keys   *keyring.Keyring
}

func setup(t testing.TB) bundle {
	t.Helper()
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	kr, err := keyring.New(key)
	require.NoError(t, err)
	db, url, schema := pgtest.Store(t, postgres.Options{Sealer: kr})
	return bundle{db: db, url: url, schema: schema, keys: kr}
}

// superConn is a direct connection as the configured (super)user, bypassing
// the store, to look at what is really stored.
func (b bundle) superConn(t testing.TB) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(b.url)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = b.schema
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func newTenant(t testing.TB, s mksync.Store, name string) string {
	t.Helper()
	tn := mksync.Tenant{Name: name}
	require.NoError(t, s.CreateTenant(context.Background(), &tn))
	return tn.ID
}

func requireCode(t testing.TB, err error, code string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, mksync.ErrorCode(err), "error: %v", err)
}

// TestRowLevelSecurity proves the second wall: raw SQL without any tenant
// filter, run through the store's tenant transaction, sees and changes only
// that tenant's rows, although the connecting user is a superuser.
func TestRowLevelSecurity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	a, other := newTenant(t, b.db, "A"), newTenant(t, b.db, "B")
	for i := range 3 {
		require.NoError(t, b.db.CreateContact(ctx, a, &mksync.Contact{Name: fmt.Sprintf("a%d", i)}))
	}
	for i := range 5 {
		require.NoError(t, b.db.CreateContact(ctx, other, &mksync.Contact{Name: fmt.Sprintf("b%d", i)}))
	}
	var superCount int
	require.NoError(t, b.superConn(t).QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&superCount))
	require.Equal(t, 8, superCount, "the superuser sees every row: the wall is the role, not missing data")

	err := b.db.InTx(ctx, a, func(s mksync.Store) error {
		tx, ok := postgres.TxOf(s)
		require.True(t, ok)
		var user string
		require.NoError(t, tx.QueryRow(ctx, `SELECT current_user`).Scan(&user))
		require.Equal(t, "mksync_app", user)

		// No WHERE tenant_id anywhere below.
		var n int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&n))
		require.Equal(t, 3, n)
		rows, err := tx.Query(ctx, `SELECT DISTINCT tenant_id FROM contacts`)
		require.NoError(t, err)
		tenants, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Equal(t, []string{a}, tenants)
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&n))
		require.Equal(t, 1, n, "a tenant sees only its own tenants row")

		tag, err := tx.Exec(ctx, `UPDATE contacts SET notes = 'touched'`)
		require.NoError(t, err)
		require.EqualValues(t, 3, tag.RowsAffected())

		// Writing a row for another tenant is refused by WITH CHECK.
		_, err = tx.Exec(ctx, `SAVEPOINT s2`)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `INSERT INTO contacts (id, tenant_id, name, created_at, updated_at, version)
			VALUES ('forged', $1, 'x', now(), now(), 1)`, other)
		require.Error(t, err)
		_, err = tx.Exec(ctx, `ROLLBACK TO SAVEPOINT s2`)
		require.NoError(t, err)
		return nil
	})
	require.NoError(t, err)

	var touched int
	require.NoError(t, b.superConn(t).QueryRow(ctx, `SELECT count(*) FROM contacts WHERE notes = 'touched'`).Scan(&touched))
	require.Equal(t, 3, touched, "the unfiltered UPDATE changed only tenant A's rows")
}

// TestEveryTenantTableHasForcedRLS guards against a new table without the wall.
func TestEveryTenantTableHasForcedRLS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows, err := b.superConn(t).Query(t.Context(), `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
			EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r'
			AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')`, b.schema)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var name string
		var enabled, forced, policy bool
		require.NoError(t, rows.Scan(&name, &enabled, &forced, &policy))
		require.True(t, enabled && forced && policy, "table %s: rls=%v forced=%v policy=%v", name, enabled, forced, policy)
		n++
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, n, 11)
}

// TestMigrateRace runs two Migrate calls on a fresh schema at once: both
// succeed and each migration is applied exactly once.
func TestMigrateRace(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := t.Context()
	dbs := make([]*postgres.DB, 2)
	for i := range dbs {
		db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema, MaxConns: 3})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	before, err := dbs[0].MigrationStatus(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	for _, m := range before {
		require.False(t, m.Applied, m.Name)
	}

	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	after, err := dbs[1].MigrationStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, "00001_init.sql", after[0].Name)
	for _, m := range after {
		require.True(t, m.Applied, m.Name)
	}
	b := bundle{url: url, schema: schema}
	var dup int
	require.NoError(t, b.superConn(t).QueryRow(ctx,
		`SELECT count(*) FROM (SELECT version_id FROM goose_db_version WHERE version_id > 0 GROUP BY version_id HAVING count(*) > 1) d`).Scan(&dup))
	require.Zero(t, dup, "a migration was applied twice")
	require.NoError(t, dbs[0].Migrate(ctx), "migrating again is a no-op")
}

func TestContactsCRUDAndVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn := newTenant(t, b.db, "T")
	c := mksync.Contact{Name: "Ana Novak", Email: "ana@example.si", City: "Ljubljana"}
	require.NoError(t, b.db.CreateContact(ctx, tn, &c))
	require.Len(t, c.ID, 36)
	require.EqualValues(t, 1, c.Version)
	require.Equal(t, time.UTC, c.CreatedAt.Location())

	got, err := b.db.FindContactByID(ctx, tn, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)

	requireCode(t, b.db.CreateContact(ctx, tn, &mksync.Contact{ID: c.ID, Name: "dup"}), mksync.ECONFLICT)
	requireCode(t, b.db.CreateContact(ctx, "no-such-tenant", &mksync.Contact{Name: "x"}), mksync.ENOTFOUND)
	requireCode(t, b.db.CreateContact(ctx, tn, &mksync.Contact{}), mksync.EINVALID)

	require.NoError(t, b.db.UpsertMapping(ctx, tn, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, MetakockaID: "mk1", State: mksync.StateSynced}))
	c.City = "Maribor"
	require.NoError(t, b.db.UpdateContact(ctx, tn, &c))
	require.EqualValues(t, 2, c.Version)
	m, err := b.db.FindMapping(ctx, tn, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StatePending, m.State)

	stale := c
	stale.Version = 1
	requireCode(t, b.db.UpdateContact(ctx, tn, &stale), mksync.ECONFLICT)

	other := newTenant(t, b.db, "O")
	_, err = b.db.FindContactByID(ctx, other, c.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, b.db.UpdateContact(ctx, other, &c), mksync.ENOTFOUND)
	requireCode(t, b.db.DeleteContact(ctx, other, c.ID), mksync.ENOTFOUND)

	require.NoError(t, b.db.DeleteContact(ctx, tn, c.ID))
	_, err = b.db.FindMapping(ctx, tn, mksync.EntityContact, c.ID)
	requireCode(t, err, mksync.ENOTFOUND)
}

func TestUpsertAndStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn, other := newTenant(t, b.db, "T"), newTenant(t, b.db, "O")
	const n = 1234 // more than two chunks
	cs := make([]mksync.Contact, n)
	for i := range cs {
		cs[i] = mksync.Contact{Name: fmt.Sprintf("contact %04d", i)}
	}
	require.NoError(t, b.db.UpsertContacts(ctx, tn, cs))
	for _, c := range cs {
		require.NotEmpty(t, c.ID)
		require.EqualValues(t, 1, c.Version)
	}
	cs[7].Name = "renamed"
	require.NoError(t, b.db.UpsertContacts(ctx, tn, cs[:10]))
	require.EqualValues(t, 2, cs[7].Version)

	var streamed []mksync.Contact
	for c, err := range b.db.AllContacts(ctx, tn) {
		require.NoError(t, err)
		streamed = append(streamed, c)
	}
	require.Len(t, streamed, n)
	for i := 1; i < len(streamed); i++ {
		require.Less(t, streamed[i-1].ID, streamed[i].ID)
	}
	got, err := b.db.FindContactByID(ctx, tn, cs[7].ID)
	require.NoError(t, err)
	require.Equal(t, "renamed", got.Name)

	// Another tenant cannot take over (or see) these ids.
	hijack := []mksync.Contact{{ID: cs[0].ID, Name: "mine now"}}
	requireCode(t, b.db.UpsertContacts(ctx, other, hijack), mksync.ECONFLICT)
	got, err = b.db.FindContactByID(ctx, tn, cs[0].ID)
	require.NoError(t, err)
	require.Equal(t, "contact 0000", got.Name)

	// Validation happens before any write.
	bad := []mksync.Contact{{Name: "fine"}, {Name: ""}}
	requireCode(t, b.db.UpsertContacts(ctx, tn, bad), mksync.EINVALID)

	// Breaking off a stream early is fine.
	for range b.db.AllContacts(ctx, tn) {
		break
	}
}

func TestProductsAndDocuments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn := newTenant(t, b.db, "T")
	p := mksync.Product{Code: "SKU-1", Name: "Widget", Price: decimal.RequireFromString("19.99"), TaxRate: decimal.NewFromInt(22)}
	require.NoError(t, b.db.CreateProduct(ctx, tn, &p))
	requireCode(t, b.db.CreateProduct(ctx, tn, &mksync.Product{Code: "SKU-1", Name: "Again"}), mksync.ECONFLICT)
	byCode, err := b.db.FindProductByCode(ctx, tn, "SKU-1")
	require.NoError(t, err)
	require.True(t, p.Price.Equal(byCode.Price))

	require.NoError(t, b.db.SetProductStock(ctx, tn, p.ID, decimal.RequireFromString("12.5")))
	got, err := b.db.FindProductByID(ctx, tn, p.ID)
	require.NoError(t, err)
	require.Equal(t, "12.5", got.StockAmount.String())
	require.Equal(t, p.Version, got.Version, "stock is not a versioned change")

	c := mksync.Contact{Name: "Buyer"}
	require.NoError(t, b.db.CreateContact(ctx, tn, &c))
	doc := mksync.SalesDocument{Kind: mksync.KindInvoice, Date: mksync.NewDate(2026, 3, 1), ContactID: c.ID,
		TotalGross: decimal.NewFromInt(999999), // ignored
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(3), UnitPrice: decimal.RequireFromString("19.99"),
			DiscountPercent: decimal.NewFromInt(10), TaxRate: decimal.NewFromInt(22)}}}
	require.NoError(t, b.db.CreateSalesDocument(ctx, tn, &doc))
	require.Equal(t, "EUR", doc.Currency)
	require.Equal(t, "53.97", doc.TotalNet.StringFixed(2))
	stored, err := b.db.FindSalesDocumentByID(ctx, tn, doc.ID)
	require.NoError(t, err)
	require.Len(t, stored.Lines, 1)
	require.True(t, doc.TotalGross.Equal(stored.TotalGross))
	require.Equal(t, "2026-03-01", stored.Date.String())

	requireCode(t, b.db.DeleteProduct(ctx, tn, p.ID), mksync.ECONFLICT)
	requireCode(t, b.db.DeleteContact(ctx, tn, c.ID), mksync.ECONFLICT)

	other := newTenant(t, b.db, "O")
	oc := mksync.Contact{Name: "Other's"}
	require.NoError(t, b.db.CreateContact(ctx, other, &oc))
	bad := doc
	bad.ID, bad.ContactID = "", oc.ID
	err = b.db.CreateSalesDocument(ctx, tn, &bad)
	requireCode(t, err, mksync.EINVALID)
	require.Contains(t, mksync.ErrorDetails(err), "contactId")
	requireCode(t, b.db.UpdateSalesDocument(ctx, other, &stored), mksync.ENOTFOUND)

	require.NoError(t, b.db.DeleteSalesDocument(ctx, tn, doc.ID))
	require.NoError(t, b.db.DeleteProduct(ctx, tn, p.ID))
}

func TestCredentialsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn := newTenant(t, b.db, "T")
	const plain = "very-secret-metakocka-key"
	c := mksync.MetakockaCredentials{CompanyID: "1234", SecretKey: plain}
	require.NoError(t, b.db.SetCredentials(ctx, tn, &c))
	require.NotEmpty(t, c.WebhookID)
	require.False(t, c.WebhookSecret.IsZero())
	require.Equal(t, mksync.DefaultMetakockaURL, c.BaseURL)

	var sealed, webhookSealed string
	require.NoError(t, b.superConn(t).QueryRow(ctx, `SELECT secret_key_sealed, webhook_secret_sealed FROM credentials`).Scan(&sealed, &webhookSealed))
	require.NotContains(t, sealed, plain)
	require.True(t, strings.HasPrefix(sealed, "v2:"+b.keys.CurrentID()+":"))

	got, err := b.db.FindCredentials(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, plain, got.SecretKey.Reveal())
	byHook, err := b.db.FindCredentialsByWebhookID(ctx, c.WebhookID)
	require.NoError(t, err)
	require.Equal(t, tn, byHook.TenantID)

	// Rotation: a store with the rotated ring opens old values and re-seals.
	newKey, err := keyring.GenerateKey()
	require.NoError(t, err)
	rotated, err := b.keys.Rotate(newKey)
	require.NoError(t, err)
	db2, err := postgres.Open(ctx, b.url, postgres.Options{Sealer: rotated, Schema: b.schema, MaxConns: 2})
	require.NoError(t, err)
	defer db2.Close()
	n, err := db2.ReencryptSecrets(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, b.superConn(t).QueryRow(ctx, `SELECT secret_key_sealed FROM credentials`).Scan(&sealed))
	require.True(t, strings.HasPrefix(sealed, "v2:"+rotated.CurrentID()+":"))
	got, err = db2.FindCredentials(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, plain, got.SecretKey.Reveal())
	require.Equal(t, c.WebhookSecret.Reveal(), got.WebhookSecret.Reveal())

	// Sealed values are bound to their row and column: one moved to
	// another column (or row) does not open.
	_, err = b.superConn(t).Exec(ctx, `UPDATE credentials SET secret_key_sealed = webhook_secret_sealed`)
	require.NoError(t, err)
	_, err = db2.FindCredentials(ctx, tn)
	require.Equal(t, mksync.EINTERNAL, mksync.ErrorCode(err), "%v", err)
}

func TestTokensAlertsAndCursors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn := newTenant(t, b.db, "T")
	_, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	tok := mksync.APIToken{Name: "ci", Hash: hash}
	require.NoError(t, b.db.CreateAPIToken(ctx, tn, &tok))
	now := time.Now()
	got, err := b.db.AuthenticateAPIToken(ctx, hash, now)
	require.NoError(t, err)
	require.Equal(t, tn, got.TenantID)
	require.NotNil(t, got.LastUsedAt)
	require.NoError(t, b.db.RevokeAPIToken(ctx, tn, tok.ID, now))
	_, err = b.db.AuthenticateAPIToken(ctx, hash, now)
	requireCode(t, err, mksync.EUNAUTHORIZED)

	_, err = b.db.AdminTokenHash(ctx)
	requireCode(t, err, mksync.ENOTFOUND)
	require.NoError(t, b.db.SetAdminTokenHash(ctx, hash))
	h, err := b.db.AdminTokenHash(ctx)
	require.NoError(t, err)
	require.Equal(t, hash, h)

	a := mksync.Alert{Key: "k", Message: "first"}
	opened, err := b.db.OpenAlert(ctx, tn, &a)
	require.NoError(t, err)
	require.True(t, opened)
	a2 := mksync.Alert{Key: "k", Message: "second", Severity: "critical"}
	opened, err = b.db.OpenAlert(ctx, tn, &a2)
	require.NoError(t, err)
	require.False(t, opened)
	require.Equal(t, 2, a2.Count)
	require.Equal(t, a.ID, a2.ID)
	ok, err := b.db.ResolveAlert(ctx, tn, "k", now)
	require.NoError(t, err)
	require.True(t, ok)

	_, err = b.db.GetCursor(ctx, tn, "docs")
	requireCode(t, err, mksync.ENOTFOUND)
	require.NoError(t, b.db.SetCursor(ctx, tn, "docs", "2026-01-01"))
	v, err := b.db.GetCursor(ctx, tn, "docs")
	require.NoError(t, err)
	require.Equal(t, "2026-01-01", v)

	_, _, err = b.db.FindContacts(ctx, tn, mksync.ListFilter{Page: mksync.Page{After: "%%%"}})
	requireCode(t, err, mksync.EINVALID)
}

func TestInTxRollsBackAndSurvivesErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn := newTenant(t, b.db, "T")
	c := mksync.Contact{Name: "kept"}
	require.NoError(t, b.db.CreateContact(ctx, tn, &c))

	err := b.db.InTx(ctx, tn, func(s mksync.Store) error {
		// A conflict inside the transaction leaves it usable (savepoints).
		requireCode(t, s.CreateContact(ctx, tn, &mksync.Contact{ID: c.ID, Name: "dup"}), mksync.ECONFLICT)
		require.NoError(t, s.CreateContact(ctx, tn, &mksync.Contact{Name: "in tx"}))
		return nil
	})
	require.NoError(t, err)

	boom := fmt.Errorf("boom")
	err = b.db.InTx(ctx, tn, func(s mksync.Store) error {
		require.NoError(t, s.CreateContact(ctx, tn, &mksync.Contact{Name: "rolled back"}))
		return boom
	})
	require.ErrorIs(t, err, boom)
	list, _, err := b.db.FindContacts(ctx, tn, mksync.ListFilter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
}

// TestInTxScopeRestored checks that a cross-tenant (admin) call or a call
// naming another tenant inside InTx runs in its own scope and leaves the
// transaction as it was: mksync_app, confined to the InTx tenant.
func TestInTxScopeRestored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	a, other := newTenant(t, b.db, "A"), newTenant(t, b.db, "B")
	oc := mksync.Contact{Name: "b's"}
	require.NoError(t, b.db.CreateContact(ctx, other, &oc))
	err := b.db.InTx(ctx, a, func(s mksync.Store) error {
		tx, _ := postgres.TxOf(s)
		scope := func() (user, tenant string) {
			require.NoError(t, tx.QueryRow(ctx, `SELECT current_user, current_setting('app.tenant_id')`).Scan(&user, &tenant))
			return user, tenant
		}
		list, _, err := s.ListTenants(ctx, mksync.Page{})
		require.NoError(t, err)
		require.Len(t, list, 2)
		u, tn := scope()
		require.Equal(t, "mksync_app", u)
		require.Equal(t, a, tn)

		got, err := s.FindContactByID(ctx, other, oc.ID)
		require.NoError(t, err)
		require.Equal(t, other, got.TenantID)
		_, err = s.FindContactByID(ctx, a, oc.ID)
		requireCode(t, err, mksync.ENOTFOUND)
		u, tn = scope()
		require.Equal(t, "mksync_app", u)
		require.Equal(t, a, tn)
		return nil
	})
	require.NoError(t, err)
}

// The tenant scope is sent as quoted literals with BEGIN (one round trip):
// a tenant id made of quotes, backslashes and SQL is only a value that
// matches no tenant, never SQL, whatever the server's string settings; the
// scope still admits exactly the tenant named.
func TestTenantScopeQuoting(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	tid := newTenant(t, b.db, "Quoting d.o.o.")
	c := mksync.Contact{Name: "Kontakt"}
	require.NoError(t, b.db.CreateContact(ctx, tid, &c))
	for _, id := range []string{`x'`, `x\'); SELECT 1; --`, `\`, `'||current_user||'`, tid + `'`, `E'\\'`} {
		_, err := b.db.FindTenantByID(ctx, id)
		requireCode(t, err, mksync.ENOTFOUND)
		cs, _, err := b.db.FindContacts(ctx, id, mksync.ListFilter{})
		require.NoError(t, err, id)
		require.Empty(t, cs, id)
	}
	_, err := b.db.FindTenantByID(ctx, "a\x00b")
	requireCode(t, err, mksync.EINVALID)
	got, err := b.db.FindContactByID(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, "Kontakt", got.Name)

	// What the literal carries arrives unchanged in the session setting.
	var seen string
	for _, id := range []string{`a'b`, `a\b`, `a\'b`, `''\\`} {
		require.NoError(t, b.db.InTx(ctx, id, func(tx mksync.Store) error {
			ptx, ok := postgres.TxOf(tx)
			require.True(t, ok)
			return ptx.QueryRow(ctx, "SELECT current_setting('app.tenant_id')").Scan(&seen)
		}))
		require.Equal(t, id, seen)
	}
}

// A foreign-key check is planned once per connection and kept. Planned
// while the tables are tiny and without statistics, the check of a new
// document line against products must still use the (tenant_id, id) key,
// not scan the tenant's products through another index starting with
// tenant_id (as it did through products_code_key before migration 4).
func TestLineForeignKeyCheckStaysBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	c := b.superConn(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := c.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	exec(`INSERT INTO tenants VALUES ('T', 't', now(), now())`)
	exec(`INSERT INTO contacts (id, tenant_id, name, created_at, updated_at, version) VALUES ('c0', 'T', 'c', now(), now(), 1)`)
	exec(`INSERT INTO products (id, tenant_id, code, name, created_at, updated_at, version) VALUES ('p0', 'T', 'P0', 'p', now(), now(), 1)`)
	exec(`INSERT INTO sales_documents (id, tenant_id, kind, number, date, contact_id, currency, total_net, total_tax, total_gross, created_at, updated_at, version)
		SELECT 'd' || g, 'T', 'order', '1', '2025-01-01', 'c0', 'EUR', 0, 0, 0, now(), now(), 1 FROM generate_series(0, 100) g`)
	// The first line makes this connection plan its checks on tiny tables.
	exec(`INSERT INTO sales_document_lines (tenant_id, document_id, position, product_id, quantity, unit_price, net_amount) VALUES ('T', 'd0', 0, 'p0', 1, 1, 1)`)
	exec(`INSERT INTO products (id, tenant_id, code, name, created_at, updated_at, version)
		SELECT 'p' || g, 'T', 'P' || g, 'p', now(), now(), 1 FROM generate_series(1, 400) g`)

	read := func() int64 {
		t.Helper()
		exec(`SELECT pg_stat_force_next_flush()`)
		exec(`SELECT 1`) // ends a transaction, so the counters are flushed
		var n int64
		require.NoError(t, c.QueryRow(ctx, `SELECT COALESCE(sum(idx_tup_read), 0) FROM pg_stat_user_indexes
			WHERE schemaname = $1 AND relname = 'products'`, b.schema).Scan(&n))
		return n
	}
	before := read()
	const lines = 100
	for i := 1; i <= lines; i++ {
		exec(`INSERT INTO sales_document_lines (tenant_id, document_id, position, product_id, quantity, unit_price, net_amount)
			VALUES ('T', $1, 0, $2, 1, 1, 1)`, fmt.Sprintf("d%d", i), fmt.Sprintf("p%d", i))
	}
	got := read() - before
	require.LessOrEqual(t, got, int64(3*lines), "products rows read by %d line checks (about one each when the check uses the key)", lines)
}

// Migrate warns when the server runs without autovacuum (tables never get
// statistics), and only then.
func TestMigrateWarnsWithoutAutovacuum(t *testing.T) {
	t.Parallel()
	var buf observe.LogBuffer
	db, url, _ := pgtest.Store(t, postgres.Options{Sealer: storetest.FakeSealer{}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	require.NotNil(t, db)
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(t.Context())
	var setting string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW autovacuum").Scan(&setting))
	warned := strings.Contains(buf.String(), "autovacuum off")
	require.Equal(t, setting == "off", warned, "autovacuum=%s, log:\n%s", setting, buf.String())
}

// RefreshStatistics vacuums and analyzes the tables of the entity type's
// syncs (while autovacuum is off, a table never analyzed has no statistics
// and the versions a bulk run rewrote stay).
func TestRefreshStatistics(t *testing.T) {
	db, _, schema := pgtest.Store(t, postgres.Options{Sealer: storetest.FakeSealer{}})
	ctx := t.Context()
	analyzed := func(table string) bool {
		var n int
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_user_tables
			WHERE schemaname = $1 AND relname = $2 AND last_analyze IS NOT NULL`, schema, table).Scan(&n))
		return n == 1
	}
	vacuumed := func(table string) bool {
		var n int
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_user_tables
			WHERE schemaname = $1 AND relname = $2 AND last_vacuum IS NOT NULL`, schema, table).Scan(&n))
		return n == 1
	}
	require.False(t, analyzed("sales_document_lines"))

	// Rows rewritten (as a pull rewrites them) leave dead versions behind.
	tn := newTenant(t, db, "T")
	c := mksync.Contact{Name: "Buyer"}
	require.NoError(t, db.CreateContact(ctx, tn, &c))
	p := mksync.Product{Code: "SKU-1", Name: "Widget", Price: decimal.NewFromInt(2)}
	require.NoError(t, db.CreateProduct(ctx, tn, &p))
	const n = 50
	for i := range n {
		d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 3, 1), ContactID: c.ID,
			Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(1), UnitPrice: p.Price}}}
		require.NoError(t, db.CreateSalesDocument(ctx, tn, &d))
		d.Notes = fmt.Sprint("changed ", i)
		require.NoError(t, db.UpdateSalesDocument(ctx, tn, &d))
	}

	require.NoError(t, db.RefreshStatistics(ctx, mksync.EntitySalesDocument))
	for _, table := range []string{"sales_documents", "sales_document_lines", "mappings"} {
		require.Eventually(t, func() bool { return analyzed(table) && vacuumed(table) }, 5*time.Second, 50*time.Millisecond, table) // statistics views lag a little
	}
	require.Eventually(t, func() bool {
		var dead int64
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT n_dead_tup FROM pg_stat_user_tables
			WHERE schemaname = $1 AND relname = 'sales_documents'`, schema).Scan(&dead))
		return dead == 0
	}, 5*time.Second, 50*time.Millisecond, "the rewritten documents' old versions are gone")
	require.False(t, analyzed("contacts"), "only the entity's tables")
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(db.RefreshStatistics(ctx, "widgets")))
}

// A document update that changes the head only writes no line again (a
// pull that changes a note, the number Metakocka gave a pushed document);
// a changed line is written.
func TestHeadChangeRewritesNoLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn := newTenant(t, b.db, "T")
	c := mksync.Contact{Name: "Buyer"}
	require.NoError(t, b.db.CreateContact(ctx, tn, &c))
	p := mksync.Product{Code: "SKU-1", Name: "Widget", Price: decimal.NewFromInt(2)}
	require.NoError(t, b.db.CreateProduct(ctx, tn, &p))
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 3, 1), ContactID: c.ID}
	for _, q := range []string{"1", "2", "3"} {
		d.Lines = append(d.Lines, mksync.DocumentLine{ProductID: p.ID, Quantity: decimal.RequireFromString(q), UnitPrice: p.Price})
	}
	require.NoError(t, b.db.CreateSalesDocument(ctx, tn, &d))
	conn := b.superConn(t)
	versions := func() []string { // each line row's version (xmin changes when the row is written)
		rows, err := conn.Query(ctx, `SELECT xmin::text FROM sales_document_lines WHERE document_id = $1 ORDER BY position`, d.ID)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	before := versions()
	require.Len(t, before, 3)

	d.Notes, d.Number = "changed", "MK-7"
	require.NoError(t, b.db.UpdateSalesDocument(ctx, tn, &d))
	require.Equal(t, before, versions(), "a head change writes no line")

	d.Lines[1].Description = "gift wrapped"
	d.Lines[2].Quantity = decimal.NewFromInt(4)
	require.NoError(t, b.db.UpdateSalesDocument(ctx, tn, &d))
	after := versions()
	require.Equal(t, before[0], after[0], "an unchanged line is not written")
	require.NotEqual(t, before[1], after[1], "a changed line is written")
	require.NotEqual(t, before[2], after[2])
	got, err := b.db.FindSalesDocumentByID(ctx, tn, d.ID)
	require.NoError(t, err)
	require.Equal(t, "gift wrapped", got.Lines[1].Description)
	require.Equal(t, "4", got.Lines[2].Quantity.String())
	require.Equal(t, "changed", got.Notes)
}

// A document and its mapping come in one read; a document without a
// mapping comes unmapped; a missing or another tenant's document is
// ENOTFOUND.
func TestFindSalesDocumentMapped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tn, other := newTenant(t, b.db, "T"), newTenant(t, b.db, "O")
	c := mksync.Contact{Name: "Buyer"}
	require.NoError(t, b.db.CreateContact(ctx, tn, &c))
	p := mksync.Product{Code: "SKU-1", Name: "Widget", Price: decimal.NewFromInt(2)}
	require.NoError(t, b.db.CreateProduct(ctx, tn, &p))
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 3, 1), ContactID: c.ID,
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(3), UnitPrice: p.Price}}}
	require.NoError(t, b.db.CreateSalesDocument(ctx, tn, &d))

	_, mapped, got, err := b.db.FindSalesDocumentMapped(ctx, tn, d.ID)
	require.NoError(t, err)
	require.False(t, mapped)
	want, err := b.db.FindSalesDocumentByID(ctx, tn, d.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)

	m := mksync.Mapping{EntityType: mksync.EntitySalesDocument, EntityID: d.ID, MetakockaID: "MK-1", State: mksync.StateSynced, SyncedView: `{"notes":""}`}
	require.NoError(t, b.db.UpsertMapping(ctx, tn, &m))
	gm, mapped, got, err := b.db.FindSalesDocumentMapped(ctx, tn, d.ID)
	require.NoError(t, err)
	require.True(t, mapped)
	wm, err := b.db.FindMapping(ctx, tn, mksync.EntitySalesDocument, d.ID)
	require.NoError(t, err)
	require.Equal(t, wm, gm)
	require.Equal(t, want, got)
	require.Len(t, got.Lines, 1)

	_, _, _, err = b.db.FindSalesDocumentMapped(ctx, other, d.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, _, _, err = b.db.FindSalesDocumentMapped(ctx, tn, "00000000-0000-0000-0000-000000000000")
	requireCode(t, err, mksync.ENOTFOUND)
}
