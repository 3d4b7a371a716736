// Package postgres implements mksync.Store on PostgreSQL with pgx.
//
// # Tenancy: two walls
//
// Every query names its tenant in a WHERE clause. Behind that, every tenant
// table has row-level security enabled and forced, with a policy that admits
// only rows whose tenant_id equals current_setting('app.tenant_id'). The
// connecting user is typically the schema owner or a superuser (CI connects
// as postgres), and superusers bypass row-level security, so the store never
// queries as that user: each tenant transaction starts with
//
//	SELECT set_config('role', 'mksync_app', true), set_config('app.tenant_id', $1, true)
//
// (SET LOCAL ROLE and SET LOCAL app.tenant_id), which end with the
// transaction. mksync_app is a NOLOGIN role created by the first migration
// and bound by the policies. The methods store.go documents as cross-tenant
// (ListTenants, CreateTenant, DeleteTenant, AuthenticateAPIToken,
// FindCredentialsByWebhookID, ReencryptSecrets, PruneErrorRecords and the
// admin token) run as mksync_admin instead, a second NOLOGIN role that
// holds grants and permissive policies on only the tables those methods
// touch. FindTenantByID runs as mksync_app with app.tenant_id set to the
// tenant it reads.
//
// The wall catches a query that forgot its tenant filter; it is not a
// sandbox for hostile SQL in the process (the session user may RESET ROLE).
//
// The migration makes the connecting user a member of both roles, so the
// user needs no special attribute beyond being able to create them once
// (CREATEROLE, or a superuser running the first migration).
//
// # Transactions
//
// Outside InTx every method runs in its own short transaction. Inside InTx,
// each method runs in a savepoint of the tenant transaction, so that a
// failed statement (say a unique violation reported as ECONFLICT) leaves the
// transaction usable, as it is on SQLite.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mksync/mksync"
)

// The roles the store switches to; created by migration 00001.
const (
	appRole   = "mksync_app"
	adminRole = "mksync_admin"
)

// chunkSize is how many rows All* iterators read per query and bulk upserts
// write per transaction.
const chunkSize = 500

// Options configure a DB.
type Options struct {
	// Sealer encrypts Metakocka secrets at rest (a keyring.Keyring).
	// Required by the credential methods, which fail with EINTERNAL without it.
	Sealer mksync.SecretSealer
	// Logger receives DATABASE logs (migrations); nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Schema, when set, is the only schema on the search_path of every
	// connection, and Migrate creates it if missing. Tests use a fresh schema
	// each; production leaves it empty (the URL's or server's search_path).
	Schema string
	// MaxConns caps the pool; 0 keeps the URL's pool_max_conns or pgxpool's
	// default (max(4, CPUs)).
	MaxConns int32
	// DefaultMaxConns is the pool size when MaxConns is 0 and the URL has
	// no pool_max_conns: a process that knows how many connections it uses
	// (job workers) sizes its own pool instead of pgxpool's default; 0
	// keeps pgxpool's.
	DefaultMaxConns int32
}

// DB is a mksync.Store on PostgreSQL. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	sealer mksync.SecretSealer
	logger *slog.Logger
	now    func() time.Time
	schema string
	// analyze keeps the statistics of the tables bulk syncs fill
	// (autoanalyze.go).
	analyze *autoAnalyze
	// slots hears of the Metakocka slots given back by any process
	// (slotnotify.go).
	slots *slotListener

	// tx and txTenant are set on the Store that InTx passes to its callback.
	tx       pgx.Tx
	txTenant string
}

var _ mksync.Store = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or DSN) and checks
// that it answers. It does not migrate: call Migrate (the server does on
// start unless told not to; `mksync migrate up` does on demand).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors may echo the URL, password included: keep them out.
		return nil, mksync.Errorf(mksync.EINVALID, "postgres: cannot parse the database URL")
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case opts.DefaultMaxConns > 0 && !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = opts.DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, mksync.WrapError(mksync.EINTERNAL, "postgres: create pool", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, mksync.WrapError(mksync.EINTERNAL, "postgres: connect", err)
	}
	d := &DB{pool: pool, sealer: opts.Sealer, logger: opts.Logger, now: opts.Now, schema: opts.Schema}
	d.analyze = newAutoAnalyze(func(ctx context.Context, table string) error {
		_, err := pool.Exec(ctx, "ANALYZE "+table)
		return err
	})
	if d.logger == nil {
		d.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.slots = newSlotListener(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	}, d.logger)
	return d, nil
}

// Pool returns the connection pool, for components that share the database
// (River's riverpgxv5 driver). Queries on it bypass the tenant roles: use it
// only for tables that are not tenant data.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Close closes the pool and the connection that listens for Metakocka
// slots given back. On the Store passed to an InTx callback it does
// nothing.
func (d *DB) Close() error {
	if d.tx == nil {
		d.analyze.close()
		d.slots.close()
		d.pool.Close()
	}
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return mksync.WrapError(mksync.EINTERNAL, "postgres: ping", err)
	}
	return nil
}

// TxOf returns the pgx transaction of a Store passed to an InTx callback,
// so that work which must commit with the store's writes (a River job
// insert) can join it. The transaction runs as mksync_app with app.tenant_id
// set. ok is false for any other Store.
func TxOf(s mksync.Store) (tx pgx.Tx, ok bool) {
	d, isDB := s.(*DB)
	if !isDB || d.tx == nil {
		return nil, false
	}
	return d.tx, true
}

// InTx runs fn in one transaction as tenantID; see mksync.Store. Called on a
// Store that is already inside InTx, it runs fn in a savepoint.
func (d *DB) InTx(ctx context.Context, tenantID string, fn func(tx mksync.Store) error) error {
	return d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		return fn(&DB{pool: d.pool, sealer: d.sealer, logger: d.logger, now: d.now, schema: d.schema, analyze: d.analyze, slots: d.slots, tx: tx, txTenant: tenantID})
	})
}

// tenantTx runs fn in a transaction (or, inside InTx, a savepoint) as
// mksync_app with app.tenant_id = tenantID.
func (d *DB) tenantTx(ctx context.Context, tenantID string, fn func(pgx.Tx) error) error {
	return d.runTx(ctx, appRole, tenantID, fn)
}

// adminTx runs fn as mksync_admin, for the documented cross-tenant methods.
func (d *DB) adminTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return d.runTx(ctx, adminRole, "", fn)
}

func (d *DB) runTx(ctx context.Context, role, tenantID string, fn func(pgx.Tx) error) error {
	const setScope = `SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true)`
	if d.tx != nil {
		sp, err := d.tx.Begin(ctx)
		if err != nil {
			return dbErr("begin savepoint", err)
		}
		defer sp.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
		switched := role != appRole || tenantID != d.txTenant
		if switched {
			if _, err := sp.Exec(ctx, setScope, role, tenantID); err != nil {
				return dbErr("set transaction scope", err)
			}
		}
		if err := fn(sp); err != nil {
			return err
		}
		if switched {
			if _, err := sp.Exec(ctx, setScope, appRole, d.txTenant); err != nil {
				return dbErr("restore transaction scope", err)
			}
		}
		return dbErr("release savepoint", sp.Commit(ctx))
	}
	// BEGIN and the scope in one round trip: a simple-protocol query of two
	// statements (pgx runs BeginQuery without arguments), with the values
	// as quoted literals.
	if strings.ContainsRune(tenantID, 0) {
		return mksync.Errorf(mksync.EINVALID, "invalid tenant id")
	}
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: "BEGIN; SELECT set_config('role', " + quoteLiteral(role) +
		", true), set_config('app.tenant_id', " + quoteLiteral(tenantID) + ", true)"})
	if err != nil {
		return dbErr("begin", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	return dbErr("commit", tx.Commit(ctx))
}

// quoteLiteral quotes s as an SQL string literal in the escape-string form
// (E, then the quoted text with every backslash and quote doubled), which
// means the same whatever the server's standard_conforming_strings. s must
// hold no NUL byte (no PostgreSQL text can).
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `''`)
	return "E'" + s + "'"
}

// nowUTC returns the clock's time as stored: UTC, microseconds.
func (d *DB) nowUTC() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// utc normalises a time read from or written to the database.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// utcPtr normalises an optional time.
func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := utc(*t)
	return &u
}

// PostgreSQL error codes the store translates.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgInsufficientPriv    = "42501"
)

// dbErr translates a database error into a domain error: typed, from the
// driver's SQLSTATE, never from the message text. Domain errors pass
// through; nil stays nil.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *mksync.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.WrapError(mksync.ENOTFOUND, "not found", err)
	}
	if errors.Is(err, context.Canceled) {
		return mksync.WrapError(mksync.ECANCELED, op+": cancelled", err)
	}
	if connectionLost(err) {
		return mksync.WrapError(mksync.EUNAVAILABLE, "postgres: "+op+": the database connection was lost", err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return mksync.WrapError(mksync.ECONFLICT, "already exists", err)
		case pgForeignKeyViolation:
			return mksync.WrapError(mksync.ECONFLICT, "refers to or is referred to by another record", err)
		case pgCheckViolation:
			return mksync.WrapError(mksync.EINVALID, "violates a constraint", err)
		}
	}
	return mksync.WrapError(mksync.EINTERNAL, "postgres: "+op, err)
}

// connectionLost reports whether err says the connection to the server
// broke or could not be made (server restarted, backend terminated,
// network gone): the statement may be retried on a new connection, which
// the pool opens. SQLSTATE class 08 (connection exception), 57P01–57P03
// (admin or crash shutdown, cannot connect now), connect and network
// errors, and errors pgconn knows happened before anything was sent.
func connectionLost(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's deadline (a net.Error too), not the connection
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err)
}

// pgCode returns the SQLSTATE and constraint of err, if it is a PgError.
func pgCode(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

// tenantMissing translates the foreign key violation of a write to a tenant
// that does not exist into ENOTFOUND, and other errors as dbErr does.
func tenantMissing(op string, err error) error {
	if code, constraint := pgCode(err); code == pgForeignKeyViolation && len(constraint) > 10 && constraint[len(constraint)-10:] == "_tenant_fk" {
		return mksync.WrapError(mksync.ENOTFOUND, "tenant not found", err)
	}
	return dbErr(op, err)
}

// upsertErr translates errors of INSERT … ON CONFLICT DO UPDATE by id: when
// the conflicting row belongs to another tenant, row-level security refuses
// the update (insufficient_privilege), which is ECONFLICT for the caller —
// the id is taken — without saying by whom.
func upsertErr(op string, err error) error {
	if code, _ := pgCode(err); code == pgInsufficientPriv {
		return mksync.WrapError(mksync.ECONFLICT, "an id in the batch is already in use", err)
	}
	return tenantMissing(op, err)
}

// notFound returns an ENOTFOUND error naming what was not found.
func notFound(what, id string) error {
	return mksync.Errorf(mksync.ENOTFOUND, "%s %s not found", what, id)
}

// collectRows runs q and scans every row with scan.
func collectRows[T any](ctx context.Context, tx pgx.Tx, scan func(pgx.Rows) (T, error), q string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// errorf formats an internal error with context.
func errorf(format string, args ...any) error {
	return mksync.WrapError(mksync.EINTERNAL, "postgres", fmt.Errorf(format, args...))
}

// WriteParallelism tells the engine how many group commits of one sync run
// may write at once (engine.ParallelWriter): a quarter of the pool, from 1
// to 4, so that a run's record writes go on several connections and leave
// the rest of the pool to its reads and to other runs.
func (d *DB) WriteParallelism() int {
	return min(4, max(1, int(d.pool.Config().MaxConns)/4))
}
