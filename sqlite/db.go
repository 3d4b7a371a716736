// Package sqlite is the embedded store of mksync: an implementation of
// mksync.Store on one SQLite file, through the pure-Go modernc.org/sqlite
// driver (no cgo).
//
// The file runs in WAL mode with foreign keys on and a busy timeout, so
// several processes (the server and a CLI command) can use it at once: each
// *DB writes through exactly one connection (transactions begin IMMEDIATE,
// so writers queue on the busy timeout instead of failing on lock upgrade)
// and reads through a pool of read-only connections that run beside the
// writer. Open does not migrate; call Migrate.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mksync/mksync"
)

// Options configure Open.
type Options struct {
	// Sealer encrypts Metakocka secrets at rest. Required.
	Sealer mksync.SecretSealer
	// Logger receives DATABASE lines; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// BusyTimeout is how long a statement waits for another writer's lock;
	// default 10 s.
	BusyTimeout time.Duration
	// MaxReaders is the size of the read pool; default 4.
	MaxReaders int
}

// DB is a mksync.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	*store
	path string
	wdb  *sql.DB // exactly one connection: every write goes through it
	rdb  *sql.DB // read-only pool
	// touches writes API token use times off the request path.
	touches *tokenTouches
	// afterTokenRead, when set (tests only), runs between the token list's
	// read of the table and its merge of the noted uses.
	afterTokenRead func()
}

var _ mksync.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path. It does not
// migrate: call Migrate before use. A new file is created 0600 (it holds
// every tenant's records; SQLite gives its -wal and -shm files the same
// mode), whatever the umask and whether or not its folder existed; an
// existing file keeps its mode.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.Sealer == nil {
		return nil, errors.New("sqlite: Options.Sealer is required")
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q (empty, or contains '?' or '#')", path)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.MaxReaders <= 0 {
		opts.MaxReaders = 4
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", opts.BusyTimeout.Milliseconds())

	drv := &sqlite.Driver{}
	wdb := sql.OpenDB(cachingConnector{dsn: path + "?_txlock=immediate&_pragma=journal_mode(WAL)&" + common, drv: drv})
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb := sql.OpenDB(cachingConnector{dsn: path + "?_pragma=query_only(1)&" + common, drv: drv})
	rdb.SetMaxOpenConns(opts.MaxReaders)
	rdb.SetMaxIdleConns(opts.MaxReaders)

	db := &DB{path: path, wdb: wdb, rdb: rdb, touches: newTokenTouches()}
	db.store = &store{db: db, sealer: opts.Sealer, log: opts.Logger.With("category", "DATABASE"), now: opts.Now}
	go db.touches.run(db.store.writeTokenUses, db.store.log)
	return db, nil
}

// createPrivate creates the database file at path with mode 0600 unless it
// exists (or path is not a plain file name). SQLite would create it 0644
// less the umask.
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	// OpenFile's mode is reduced by the umask: set it exactly.
	if err := errors.Join(f.Chmod(0o600), f.Close()); err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// store implements mksync.Store either on the DB's pools or, inside InTx, on
// one transaction (every call, reads included, then runs on that tx: the
// writer connection is the tx's own).
type store struct {
	db     *DB
	sealer mksync.SecretSealer
	log    *slog.Logger
	now    func() time.Time
	tx     *sql.Tx // nil outside InTx
}

// reader returns where reads go.
func (s *store) reader() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.db.rdb
}

// write runs fn atomically: in its own IMMEDIATE transaction on the writer
// connection, or, inside InTx, in a savepoint of the open transaction, so
// that a failed call never leaves half of itself behind.
func (s *store) write(ctx context.Context, fn func(q querier) error) error {
	if s.tx != nil {
		if _, err := s.tx.ExecContext(ctx, "SAVEPOINT mksync_call"); err != nil {
			return internal("savepoint", err)
		}
		if err := fn(s.tx); err != nil {
			if _, rerr := s.tx.ExecContext(ctx, "ROLLBACK TO mksync_call"); rerr != nil {
				return errors.Join(err, internal("rollback to savepoint", rerr))
			}
			_, _ = s.tx.ExecContext(ctx, "RELEASE mksync_call")
			return err
		}
		if _, err := s.tx.ExecContext(ctx, "RELEASE mksync_call"); err != nil {
			return internal("release savepoint", err)
		}
		return nil
	}
	tx, err := s.db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return internal("begin transaction", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal("commit", err)
	}
	return nil
}

// InTx runs fn in one transaction on the writer connection; fn's error (or
// panic) rolls everything back. Inside a transaction, InTx nests as a
// savepoint.
func (s *store) InTx(ctx context.Context, tenantID string, fn func(tx mksync.Store) error) error {
	if s.tx != nil {
		return s.write(ctx, func(querier) error { return fn(s) })
	}
	tx, err := s.db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return internal("begin transaction", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	inner := *s
	inner.tx = tx
	if err := fn(&inner); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal("commit", err)
	}
	committed = true
	return nil
}

// Ping checks that the file can be read and written.
func (s *store) Ping(ctx context.Context) error {
	if s.tx != nil {
		return s.tx.QueryRowContext(ctx, "SELECT 1").Scan(new(int))
	}
	if err := s.db.rdb.PingContext(ctx); err != nil {
		return internal("ping", err)
	}
	if err := s.db.wdb.PingContext(ctx); err != nil {
		return internal("ping", err)
	}
	return nil
}

// Close writes the token uses still pending and closes both pools. Inside
// InTx it is an error.
func (s *store) Close() error {
	if s.tx != nil {
		return errors.New("sqlite: Close called inside InTx")
	}
	s.db.touches.close()
	return errors.Join(s.db.rdb.Close(), s.db.wdb.Close())
}

// newID returns a new UUIDv7: ids sort by creation time, which makes keyset
// pagination by id list records in creation order.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", internal("new id", err)
	}
	return id.String(), nil
}

// ensureID fills *id when empty.
func ensureID(id *string) error {
	if *id != "" {
		return nil
	}
	v, err := newID()
	*id = v
	return err
}

// internal wraps an unexpected failure as EINTERNAL with context, except
// that a database still locked by another writer after the busy timeout is
// EUNAVAILABLE (503 with Retry-After: try again), not a failure of mksync.
func internal(op string, err error) error {
	if isBusy(err) {
		return mksync.WrapError(mksync.EUNAVAILABLE, "the database is busy; try again shortly", err)
	}
	return mksync.WrapError(mksync.EINTERNAL, "database: "+op, err)
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isBusy reports SQLITE_BUSY and SQLITE_LOCKED, extended codes included.
func isBusy(err error) bool {
	c := sqliteCode(err) & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// translate maps a driver error of op to a domain error: unique violations
// to ECONFLICT (with conflict as the message), foreign key violations to
// fkCode (ENOTFOUND for a missing tenant, ECONFLICT for a record in use…),
// anything else to EINTERNAL.
func translate(op string, err error, conflict string, fkCode, fkMessage string) error {
	switch {
	case err == nil:
		return nil
	case mksync.ErrorCode(err) != mksync.EINTERNAL:
		return err
	case isUnique(err):
		return mksync.WrapError(mksync.ECONFLICT, conflict, err)
	case isForeignKey(err) && fkCode != "":
		return mksync.WrapError(fkCode, fkMessage, err)
	}
	return internal(op, err)
}

// notFound is the ENOTFOUND error for a missing record.
func notFound(what, id string) error {
	return mksync.Errorf(mksync.ENOTFOUND, "%s %s not found", what, id)
}

// requireTenant returns ENOTFOUND unless the tenant exists.
func requireTenant(ctx context.Context, q querier, tenantID string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM tenants WHERE id = ?", tenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("tenant", tenantID)
	}
	if err != nil {
		return internal("find tenant", err)
	}
	return nil
}

// rowsAffected returns how many rows a statement changed.
func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, internal("rows affected", err)
	}
	return n, nil
}
