package sqlite

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Version   int64
	Name      string // file name, e.g. "00001_init.sql"
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

func (db *DB) migrations() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.wdb, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration (embedded SQL, goose versions
// shared with the postgres store), each in its own transaction on the writer
// connection. Several processes may migrate the same file at once (the server
// and a CLI command started together): goose has no lock for SQLite, so an
// exclusive lock on a sibling file serialises them, and the later one finds
// nothing pending.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrations()
	if err != nil {
		return err
	}
	unlock, err := db.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", db.path, err)
	}
	for _, r := range results {
		db.log.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", path.Base(r.Source.Path), "duration", r.Duration)
		if strings.HasSuffix(r.Source.Path, "_match_keys.sql") {
			if err := db.fillEmailKeys(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillEmailKeys sets contacts.email_key of the rows written before the
// column existed to the key Go computes (the migration's SQL lower() folds
// ASCII only, so a non-ASCII address needs this): one pass right after the
// migration that added the column.
func (db *DB) fillEmailKeys(ctx context.Context) error {
	rows, err := db.wdb.QueryContext(ctx, "SELECT rowid, email, email_key FROM contacts WHERE email <> ''")
	if err != nil {
		return fmt.Errorf("sqlite: fill e-mail keys: %w", err)
	}
	type fix struct {
		rowid int64
		key   string
	}
	var fixes []fix
	for rows.Next() {
		var f fix
		var email, key string
		if err := rows.Scan(&f.rowid, &email, &key); err != nil {
			_ = rows.Close()
			return fmt.Errorf("sqlite: fill e-mail keys: %w", err)
		}
		if f.key = emailKey(email); f.key != key {
			fixes = append(fixes, f)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: fill e-mail keys: %w", err)
	}
	for _, f := range fixes {
		if _, err := db.wdb.ExecContext(ctx, "UPDATE contacts SET email_key = ? WHERE rowid = ?", f.key, f.rowid); err != nil {
			return fmt.Errorf("sqlite: fill e-mail key: %w", err)
		}
	}
	return nil
}

// lockMigrations holds an exclusive advisory lock on "<path>-migrate.lock"
// until the returned function is called. An in-memory database is private to
// its process and needs none.
func (db *DB) lockMigrations(ctx context.Context) (func(), error) {
	if db.path == ":memory:" || strings.HasPrefix(db.path, "file:") {
		return func() {}, nil
	}
	l := flock.New(db.path + "-migrate.lock")
	ok, err := l.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s for migration: %w", db.path, err)
	}
	if !ok {
		return nil, fmt.Errorf("sqlite: lock %s for migration: %w", db.path, ctx.Err())
	}
	return func() { _ = l.Unlock() }, nil
}

// MigrationStatus lists every known migration with its state.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := db.migrations()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration status of %s: %w", db.path, err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationState{
			Version:   m.Source.Version,
			Name:      path.Base(m.Source.Path),
			Applied:   m.State == goose.StateApplied,
			AppliedAt: m.AppliedAt,
		})
	}
	return out, nil
}
