package postgres

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/mksync/mksync"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockID is the advisory lock key that serialises Migrate across
// processes on one database (a fleet starting at once migrates exactly once;
// the others wait, then find nothing pending). One key for every schema of
// the database, since the first migration also touches cluster-wide roles.
// Its value is FNV-1a 64 of "mksync migrate", shifted right by one.
const migrationLockID int64 = 0x49a9809e2ba690c1

// advisoryLocker is a goose SessionLocker on a blocking pg_advisory_lock:
// waiters wake as soon as the lock is free (goose's own locker polls every
// five seconds), and the wait ends with ctx.
type advisoryLocker struct{ id int64 }

func (l advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id)
	return err
}

func (l advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.id)
	return err
}

// provider returns a goose provider on the pool and a func to release it.
func (d *DB) provider() (*goose.Provider, func(), error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, errorf("migrations: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(d.pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(advisoryLocker{id: migrationLockID}),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		_ = sqlDB.Close()
		return nil, nil, errorf("migrations: %w", err)
	}
	return p, func() { _ = sqlDB.Close() }, nil
}

// Migrate applies every pending migration, holding a PostgreSQL advisory
// lock so that concurrent callers (a fleet of servers and workers starting
// at once) migrate exactly once. With Options.Schema it first creates that
// schema if missing. Each applied migration is logged (category DATABASE).
func (d *DB) Migrate(ctx context.Context) error {
	if d.schema != "" {
		if _, err := d.pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{d.schema}.Sanitize()); err != nil {
			return dbErr("create schema", err)
		}
	}
	p, release, err := d.provider()
	if err != nil {
		return err
	}
	defer release()
	results, err := p.Up(ctx)
	if err != nil {
		return mksync.WrapError(mksync.EINTERNAL, "postgres: migrate", err)
	}
	for _, r := range results {
		d.logger.LogAttrs(ctx, slog.LevelInfo, "applied migration", slog.String("category", "DATABASE"),
			slog.Int64("version", r.Source.Version), slog.String("file", baseName(r.Source.Path)),
			slog.Duration("duration", r.Duration))
	}
	d.warnWithoutAutovacuum(ctx)
	return nil
}

// warnWithoutAutovacuum logs a warning when the server runs with autovacuum
// off. Tables are then never analyzed, and without statistics the planner
// may answer a per-record lookup by reading all of a tenant's rows, so bulk
// syncs slow down as the tables grow (docs/scaling.md).
func (d *DB) warnWithoutAutovacuum(ctx context.Context) {
	var v string
	if err := d.pool.QueryRow(ctx, "SHOW autovacuum").Scan(&v); err != nil || v != "off" {
		return
	}
	d.logger.LogAttrs(ctx, slog.LevelWarn, "PostgreSQL runs with autovacuum off: run ANALYZE after large imports, or bulk syncs slow down as tables grow",
		slog.String("category", "DATABASE"))
}

// Migration is the state of one migration.
type Migration struct {
	Version int64
	// Name is the file name, e.g. "00001_init.sql".
	Name    string
	Applied bool
	// AppliedAt is zero when not applied.
	AppliedAt time.Time
}

// MigrationStatus lists every known migration, oldest first, with whether
// it is applied. It needs no lock and changes nothing.
func (d *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	p, release, err := d.provider()
	if err != nil {
		return nil, err
	}
	defer release()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, mksync.WrapError(mksync.EINTERNAL, "postgres: migration status", err)
	}
	out := make([]Migration, 0, len(st))
	for _, s := range st {
		m := Migration{Version: s.Source.Version, Name: baseName(s.Source.Path), Applied: s.State == goose.StateApplied}
		if m.Applied {
			m.AppliedAt = s.AppliedAt.UTC()
		}
		out = append(out, m)
	}
	return out, nil
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
