package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/sqlite"
)

// defaultDB is the database used when neither --db nor MKSYNC_DB names one.
const defaultDB = "sqlite:./mksync-data/mksync.db"

// dbTarget is a parsed database setting.
type dbTarget struct {
	// path of the SQLite file, or
	path string
	// url of the PostgreSQL database.
	url string
}

// parseDB reads a --db / MKSYNC_DB value: "sqlite:PATH", a postgres:// or
// postgresql:// URL, or a bare file path (SQLite). "" is defaultDB.
func parseDB(dsn string) (dbTarget, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		dsn = defaultDB
	}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return dbTarget{url: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	}
	if dsn == "" {
		return dbTarget{}, fmt.Errorf("database: empty SQLite path")
	}
	return dbTarget{path: dsn}, nil
}

// String names the target without secrets (a URL's password is dropped).
func (t dbTarget) String() string {
	if t.path != "" {
		return "sqlite:" + t.path
	}
	return "postgres database"
}

// cliLogger is the JSON logger of CLI commands, on stderr.
func cliLogger(s streams) *slog.Logger {
	return observe.NewLogger(s.err, observe.Options{})
}

// loadSealer returns the keyring for t: MKSYNC_ENCRYPTION_KEY when set; for
// SQLite otherwise the key file beside the database, generated on first use
// (and said so, once, with its path — never the key).
func loadSealer(s streams, t dbTarget) (*keyring.Keyring, error) {
	cfg := keyring.Config{}
	if t.path != "" {
		cfg.KeyFile = keyring.KeyFileFor(t.path)
	}
	kr, generated, err := keyring.Load(cfg)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if generated {
		cliLogger(s).Warn("generated a new encryption key file; back it up with the database, without it stored secrets cannot be read",
			"category", observe.CatDatabase, "key_file", cfg.KeyFile, "key_id", kr.CurrentID())
	}
	return kr, nil
}

// openStore opens the store that dsn names (see parseDB), with secrets
// sealed by the configured keyring. It does not migrate; the returned store
// has a Migrate method.
func openStore(ctx context.Context, s streams, dsn string) (mksync.Store, error) {
	return openStoreSized(ctx, s, dsn, 0)
}

// openStoreSized is openStore with the PostgreSQL pool sized poolConns
// when the URL has no pool_max_conns (0: pgxpool's default).
func openStoreSized(ctx context.Context, s streams, dsn string, poolConns int32) (mksync.Store, error) {
	t, err := parseDB(dsn)
	if err != nil {
		return nil, err
	}
	if t.path != "" {
		// The key file lives beside the database: make the folder first.
		if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
			return nil, fmt.Errorf("database folder: %w", err)
		}
	}
	kr, err := loadSealer(s, t)
	if err != nil {
		return nil, err
	}
	return openStoreWith(ctx, s, t, kr, poolConns)
}

// openStoreWith opens t with sealer, a PostgreSQL pool sized poolConns
// when the URL does not say (0: pgxpool's default).
func openStoreWith(ctx context.Context, s streams, t dbTarget, sealer mksync.SecretSealer, poolConns int32) (mksync.Store, error) {
	log := cliLogger(s)
	if t.url != "" {
		db, err := postgres.Open(ctx, t.url, postgres.Options{Sealer: sealer, Logger: log, DefaultMaxConns: poolConns})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", t, err)
		}
		return db, nil
	}
	if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
		return nil, fmt.Errorf("database folder: %w", err)
	}
	db, err := sqlite.Open(ctx, t.path, sqlite.Options{Sealer: sealer, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t, err)
	}
	return db, nil
}

// migrateStore brings st's schema up to date.
func migrateStore(ctx context.Context, st mksync.Store) error {
	m, ok := st.(interface{ Migrate(context.Context) error })
	if !ok {
		return fmt.Errorf("this store cannot migrate")
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return migrateJobs(ctx, st)
}

// migrationRow is one line of `mksync migrate status`, whichever the store.
type migrationRow struct {
	// Set is whose migration it is: "mksync" (the store's own schema) or
	// "river" (the job queue's tables).
	Set       string
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when unknown (River keeps no time we read)
}

// The migration sets of migrationRow.Set.
const (
	migrationSetApp   = "mksync"
	migrationSetRiver = "river"
)

// migrationStatus lists st's migrations: the store's own, then River's.
func migrationStatus(ctx context.Context, st mksync.Store) ([]migrationRow, error) {
	var rows []migrationRow
	switch db := st.(type) {
	case *sqlite.DB:
		ms, err := db.MigrationStatus(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			rows = append(rows, migrationRow{migrationSetApp, m.Version, m.Name, m.Applied, m.AppliedAt})
		}
	case *postgres.DB:
		ms, err := db.MigrationStatus(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			rows = append(rows, migrationRow{migrationSetApp, m.Version, m.Name, m.Applied, m.AppliedAt})
		}
	default:
		return nil, fmt.Errorf("this store has no migration status")
	}
	jdb, err := jobsDatabase(st)
	if err != nil {
		return nil, err
	}
	rms, err := jobs.MigrationStatus(ctx, jdb)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	for _, m := range rms {
		rows = append(rows, migrationRow{Set: migrationSetRiver, Version: int64(m.Version), Name: m.Name, Applied: m.Applied})
	}
	return rows, nil
}

// dbFlags are the database options every store-using command shares.
type dbFlags struct {
	db        string
	noMigrate bool
	// poolConns sizes a PostgreSQL pool whose URL has no pool_max_conns
	// (set by commands that run job workers; 0: pgxpool's default).
	poolConns int32
}

// register adds --db and --no-migrate to cmd and its subcommands.
func (f *dbFlags) register(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.db, "db", "", "database: sqlite:PATH, a file path or a postgres:// URL (env MKSYNC_DB; default "+defaultDB+")")
	fl.BoolVar(&f.noMigrate, "no-migrate", false, "do not migrate the database before the command")
}

// dsn is --db, else MKSYNC_DB, else "" (the default).
func (f *dbFlags) dsn() string {
	if f.db != "" {
		return f.db
	}
	return os.Getenv("MKSYNC_DB")
}

// open opens the store and, unless --no-migrate, migrates it. The caller
// closes it.
func (f *dbFlags) open(ctx context.Context, s streams) (mksync.Store, error) {
	st, err := openStoreSized(ctx, s, f.dsn(), f.poolConns)
	if err != nil {
		return nil, err
	}
	if !f.noMigrate {
		if err := migrateStore(ctx, st); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return st, nil
}

// withStore runs fn with an open (and migrated) store and closes it.
func (f *dbFlags) withStore(ctx context.Context, s streams, fn func(st mksync.Store) error) error {
	st, err := f.open(ctx, s)
	if err != nil {
		return err
	}
	err = fn(st)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close database: %w", cerr)
	}
	return err
}

// fmtTimeOrDash prints a time for tables, "-" when unset.
func fmtTimeOrDash(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
