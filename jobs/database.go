package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"riverqueue.com/riverui/uiendpoints"

	"github.com/mksync/mksync"
)

// Database is where River keeps its jobs: the store's own database, so that
// a job insert can join the store's transaction. Make one with SQLite or
// Postgres.
type Database interface {
	// newClient makes the River client on this database.
	newClient(cfg *river.Config) (client, error)
	// migrate brings River's tables up to date.
	migrate(ctx context.Context, log *slog.Logger) error
	// countJobs counts the jobs of each kind and state.
	countJobs(ctx context.Context) ([]jobCount, error)
	// migrationStatus lists River's migrations and whether each is applied.
	migrationStatus(ctx context.Context) ([]MigrationState, error)
	// requeueRunning makes the running job id available again (its
	// process died); false when it was not running.
	requeueRunning(ctx context.Context, id int64) (bool, error)
}

// jobCount is the number of jobs of one kind in one River state.
type jobCount struct {
	kind, state string
	n           int
}

// countJobsQuery counts River's jobs (the same SQL on both databases).
const countJobsQuery = `SELECT kind, CAST(state AS TEXT), count(*) FROM river_job GROUP BY kind, state`

func (d sqliteDatabase) countJobs(ctx context.Context) ([]jobCount, error) {
	rows, err := d.db.QueryContext(ctx, countJobsQuery)
	if err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	defer rows.Close()
	var out []jobCount
	for rows.Next() {
		var c jobCount
		if err := rows.Scan(&c.kind, &c.state, &c.n); err != nil {
			return nil, fmt.Errorf("jobs: count jobs: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	return out, nil
}

func (d postgresDatabase) countJobs(ctx context.Context) ([]jobCount, error) {
	rows, err := d.pool.Query(ctx, countJobsQuery)
	if err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (jobCount, error) {
		var c jobCount
		var n int64
		err := r.Scan(&c.kind, &c.state, &n)
		c.n = int(n)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	return out, nil
}

// SQLite is the Database of a SQLite store: db is the store's one writer
// connection (sqlite.DB.WriteDB) and txOf returns the transaction of a Store
// inside InTx (sqlite.TxOf).
func SQLite(db *sql.DB, txOf func(mksync.Store) (*sql.Tx, bool)) Database {
	return sqliteDatabase{db: db, txOf: txOf}
}

// Postgres is the Database of a PostgreSQL store: pool is the store's pool
// (postgres.DB.Pool) and txOf returns the transaction of a Store inside
// InTx (postgres.TxOf). Jobs inserted in a store transaction run as the
// store's tenant role, which Migrate grants what River's inserts need.
func Postgres(pool *pgxpool.Pool, txOf func(mksync.Store) (pgx.Tx, bool)) Database {
	return postgresDatabase{pool: pool, txOf: txOf}
}

type sqliteDatabase struct {
	db   *sql.DB
	txOf func(mksync.Store) (*sql.Tx, bool)
}

func (d sqliteDatabase) newClient(cfg *river.Config) (client, error) {
	return newRiverClient(riversqlite.New(d.db), d.txOf, cfg)
}

// migrate runs River's migrations in one IMMEDIATE transaction on the
// writer connection: a second process migrating at once waits on SQLite's
// lock (busy timeout), then finds nothing to do.
func (d sqliteDatabase) migrate(ctx context.Context, log *slog.Logger) error {
	m, err := rivermigrate.New(riversqlite.New(d.db), &rivermigrate.Config{Logger: riverLogger(log)})
	if err != nil {
		return fmt.Errorf("jobs: river migrator: %w", err)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// One transaction is what serialises two processes migrating one file;
	// River's SQLite migrations (no enum types) batch into one fine.
	//lint:ignore SA1019 MigrateTx is deprecated for PostgreSQL's enum migrations only
	res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate river tables: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: migrate: commit: %w", err)
	}
	logMigrations(ctx, log, res)
	return nil
}

type postgresDatabase struct {
	pool *pgxpool.Pool
	txOf func(mksync.Store) (pgx.Tx, bool)
}

func (d postgresDatabase) newClient(cfg *river.Config) (client, error) {
	return newRiverClient(riverpgxv5.New(d.pool), d.txOf, cfg)
}

// riverMigrationLockID is the advisory lock key that serialises River's
// migrations across a fleet starting at once on a fresh database (without
// it the second migrator fails on tables the first is creating). FNV-1a 64
// of "mksync river migrate", shifted right by one.
const riverMigrationLockID int64 = 0x213f965c6fd8c334

// tenantRole is the role the postgres store's tenant transactions run as
// (created by the store's first migration).
const tenantRole = "mksync_app"

// migrate runs River's migrations while holding a session advisory lock on
// a connection of its own (River's PostgreSQL migrations each need their own
// transaction: one adds an enum value that the next uses), then grants the
// store's tenant role what River's job inserts and cancels need, so that
// they can join a tenant transaction. The pool needs two connections.
func (d postgresDatabase) migrate(ctx context.Context, log *slog.Logger) error {
	m, err := rivermigrate.New(riverpgxv5.New(d.pool), &rivermigrate.Config{Logger: riverLogger(log)})
	if err != nil {
		return fmt.Errorf("jobs: river migrator: %w", err)
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", riverMigrationLockID); err != nil {
		return fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrationLockID); err != nil {
			// A lock we cannot release dies with its connection.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate river tables: %w", err)
	}
	var hasRole bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", tenantRole).Scan(&hasRole); err != nil {
		return fmt.Errorf("jobs: migrate: find role %s: %w", tenantRole, err)
	}
	if hasRole {
		role := pgx.Identifier{tenantRole}.Sanitize()
		for _, q := range []string{
			"GRANT SELECT, INSERT, UPDATE ON river_job TO " + role,
			"GRANT USAGE, SELECT ON SEQUENCE river_job_id_seq TO " + role,
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("jobs: migrate: %s: %w", q, err)
			}
		}
	}
	logMigrations(ctx, log, res)
	return nil
}

func logMigrations(ctx context.Context, log *slog.Logger, res *rivermigrate.MigrateResult) {
	for _, v := range res.Versions {
		log.InfoContext(ctx, "applied river migration", "version", v.Version, "name", v.Name, "duration", v.Duration)
	}
}

// Migrate brings River's tables in db up to date. It is safe to run from
// many processes at once (PostgreSQL: an advisory lock; SQLite: the write
// lock) and after the store's own migrations (on PostgreSQL it grants the
// store's tenant role access to River's job table).
func Migrate(ctx context.Context, db Database, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return db.migrate(ctx, jobsLogger(log))
}

// client is the part of a River client that Jobs uses, whatever the
// driver's transaction type.
type client interface {
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopped() <-chan struct{}
	// insert inserts in st's transaction when st is a Store inside InTx,
	// else on its own.
	insert(ctx context.Context, st mksync.Store, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// list lists jobs, in st's transaction when st is inside InTx.
	list(ctx context.Context, st mksync.Store, params *river.JobListParams) ([]*rivertype.JobRow, error)
	// cancel cancels a job, in st's transaction when st is inside InTx.
	cancel(ctx context.Context, st mksync.Store, id int64) error
	get(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// uiEndpoints are River's dashboard API on this client.
	uiEndpoints() uiendpoints.Bundle
}

type riverClient[TTx any] struct {
	c    *river.Client[TTx]
	txOf func(mksync.Store) (TTx, bool)
}

func newRiverClient[TTx any](driver riverdriver.Driver[TTx], txOf func(mksync.Store) (TTx, bool), cfg *river.Config) (client, error) {
	c, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return &riverClient[TTx]{c: c, txOf: txOf}, nil
}

func (r *riverClient[TTx]) start(ctx context.Context) error { return r.c.Start(ctx) }
func (r *riverClient[TTx]) stop(ctx context.Context) error  { return r.c.Stop(ctx) }
func (r *riverClient[TTx]) stopped() <-chan struct{}        { return r.c.Stopped() }

func (r *riverClient[TTx]) insert(ctx context.Context, st mksync.Store, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if tx, ok := r.tx(st); ok {
		return r.c.InsertTx(ctx, tx, args, opts)
	}
	return r.c.Insert(ctx, args, opts)
}

func (r *riverClient[TTx]) list(ctx context.Context, st mksync.Store, params *river.JobListParams) ([]*rivertype.JobRow, error) {
	var (
		res *river.JobListResult
		err error
	)
	if tx, ok := r.tx(st); ok {
		res, err = r.c.JobListTx(ctx, tx, params)
	} else {
		res, err = r.c.JobList(ctx, params)
	}
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

func (r *riverClient[TTx]) cancel(ctx context.Context, st mksync.Store, id int64) error {
	var err error
	if tx, ok := r.tx(st); ok {
		_, err = r.c.JobCancelTx(ctx, tx, id)
	} else {
		_, err = r.c.JobCancel(ctx, id)
	}
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil
	}
	return err
}

func (r *riverClient[TTx]) get(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return r.c.JobGet(ctx, id)
}

func (r *riverClient[TTx]) tx(st mksync.Store) (TTx, bool) {
	if st == nil || r.txOf == nil {
		var zero TTx
		return zero, false
	}
	return r.txOf(st)
}

// MigrationState is one of River's migrations and whether the database has
// it.
type MigrationState struct {
	Version int
	Name    string
	Applied bool
}

// MigrationStatus lists River's migrations (those this build knows, and
// any newer one the database has), ordered by version, with whether each
// is applied in db. It changes nothing; a database River never migrated
// has every migration pending.
func MigrationStatus(ctx context.Context, db Database) ([]MigrationState, error) {
	return db.migrationStatus(ctx)
}

func (d sqliteDatabase) migrationStatus(ctx context.Context) ([]MigrationState, error) {
	return migrationStatus(ctx, riversqlite.New(d.db))
}

func (d postgresDatabase) migrationStatus(ctx context.Context) ([]MigrationState, error) {
	return migrationStatus(ctx, riverpgxv5.New(d.pool))
}

// migrationStatus compares the migrations River bundles with those
// recorded in the database driver reaches.
func migrationStatus[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) ([]MigrationState, error) {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("jobs: river migrator: %w", err)
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: river migrations applied: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range existing {
		applied[v.Version] = true
	}
	var out []MigrationState
	for _, v := range m.AllVersions() {
		out = append(out, MigrationState{Version: v.Version, Name: v.Name, Applied: applied[v.Version]})
		delete(applied, v.Version)
	}
	// A version the database has but this build does not know (a newer
	// River migrated it).
	for _, v := range existing {
		if applied[v.Version] {
			out = append(out, MigrationState{Version: v.Version, Name: v.Name, Applied: true})
		}
	}
	slices.SortFunc(out, func(a, b MigrationState) int { return cmp.Compare(a.Version, b.Version) })
	return out, nil
}
