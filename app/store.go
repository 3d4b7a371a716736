package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/sqlite"
)

// DBTarget is a parsed database setting (Config.DB): exactly one of Path
// (SQLite) and URL (PostgreSQL) is set.
type DBTarget struct {
	// Path of the SQLite file, or
	Path string
	// URL of the PostgreSQL database.
	URL string
}

// ParseDB reads a --db / MKSYNC_DB value: "sqlite:PATH", a postgres:// or
// postgresql:// URL, or a bare file path (SQLite). "" is DefaultDB.
func ParseDB(dsn string) (DBTarget, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		dsn = DefaultDB
	}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return DBTarget{URL: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	}
	if dsn == "" {
		return DBTarget{}, fmt.Errorf("database: empty SQLite path")
	}
	return DBTarget{Path: dsn}, nil
}

// String names the target without secrets (a URL's password is dropped).
func (t DBTarget) String() string {
	if t.Path != "" {
		return "sqlite:" + t.Path
	}
	return "postgres database"
}

// Kind is "sqlite" or "postgres".
func (t DBTarget) Kind() string {
	if t.Path != "" {
		return "sqlite"
	}
	return "postgres"
}

// Keyring returns the keyring of cfg for t: cfg.EncryptionKey when set;
// for SQLite otherwise the key file beside the database, generated on
// first use (logged once with its path — never the key) on log.
func Keyring(cfg Config, t DBTarget, log *slog.Logger) (*keyring.Keyring, error) {
	kc := keyring.Config{Getenv: func(name string) string {
		switch name {
		case keyring.EnvKey:
			return cfg.EncryptionKey.Reveal()
		case keyring.EnvOldKeys:
			return cfg.EncryptionKeysOld.Reveal()
		}
		return ""
	}}
	if t.Path != "" {
		kc.KeyFile = keyring.KeyFileFor(t.Path)
	}
	kr, generated, err := keyring.Load(kc)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if generated {
		log.Warn("generated a new encryption key file; back it up with the database, without it stored secrets cannot be read",
			"category", observe.CatDatabase, "key_file", kc.KeyFile, "key_id", kr.CurrentID())
	}
	return kr, nil
}

// OpenStore opens the store cfg.DB names, with secrets sealed by cfg's
// keyring. It does not migrate (see Migrate). This is the one place that
// chooses between SQLite and PostgreSQL.
func OpenStore(ctx context.Context, cfg Config, log *slog.Logger) (mksync.Store, error) {
	return OpenStoreSized(ctx, cfg, 0, log)
}

// OpenStoreSized is OpenStore with a PostgreSQL pool of poolConns
// connections when the URL has no pool_max_conns (0: pgxpool's default):
// a process with job workers sizes its pool from them (PoolConns).
func OpenStoreSized(ctx context.Context, cfg Config, poolConns int32, log *slog.Logger) (mksync.Store, error) {
	t, err := ParseDB(cfg.DB)
	if err != nil {
		return nil, err
	}
	if t.Path != "" {
		// The key file lives beside the database: make the folder first.
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o700); err != nil {
			return nil, fmt.Errorf("database folder: %w", err)
		}
	}
	kr, err := Keyring(cfg, t, log)
	if err != nil {
		return nil, err
	}
	return openStoreWith(ctx, t, kr, poolConns, log)
}

// OpenStoreWith opens t with sealer (a keyring of the caller's choosing,
// e.g. during a key rotation).
func OpenStoreWith(ctx context.Context, t DBTarget, sealer mksync.SecretSealer, log *slog.Logger) (mksync.Store, error) {
	return openStoreWith(ctx, t, sealer, 0, log)
}

func openStoreWith(ctx context.Context, t DBTarget, sealer mksync.SecretSealer, poolConns int32, log *slog.Logger) (mksync.Store, error) {
	if t.URL != "" {
		db, err := postgres.Open(ctx, t.URL, postgres.Options{Sealer: sealer, Logger: log, DefaultMaxConns: poolConns})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", t, err)
		}
		return db, nil
	}
	if err := os.MkdirAll(filepath.Dir(t.Path), 0o700); err != nil {
		return nil, fmt.Errorf("database folder: %w", err)
	}
	db, err := sqlite.Open(ctx, t.Path, sqlite.Options{Sealer: sealer, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t, err)
	}
	return db, nil
}

// Migrate brings st's schema up to date: the store's own migrations, then
// the job queue's (serialized across processes).
func Migrate(ctx context.Context, st mksync.Store) error {
	m, ok := st.(interface{ Migrate(context.Context) error })
	if !ok {
		return fmt.Errorf("this store cannot migrate")
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db, err := JobsDatabase(st)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, db, nil); err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	return nil
}

// MigrationRow is one line of `mksync migrate status`, whichever the store.
type MigrationRow struct {
	// Set is whose migration it is: MigrationSetApp (the store's own
	// schema) or MigrationSetRiver (the job queue's tables).
	Set       string
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when unknown (River keeps no time we read)
}

// The migration sets of MigrationRow.Set.
const (
	MigrationSetApp   = "mksync"
	MigrationSetRiver = "river"
)

// MigrationStatus lists st's migrations: the store's own, then River's.
func MigrationStatus(ctx context.Context, st mksync.Store) ([]MigrationRow, error) {
	var rows []MigrationRow
	switch db := st.(type) {
	case *sqlite.DB:
		ms, err := db.MigrationStatus(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			rows = append(rows, MigrationRow{MigrationSetApp, m.Version, m.Name, m.Applied, m.AppliedAt})
		}
	case *postgres.DB:
		ms, err := db.MigrationStatus(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			rows = append(rows, MigrationRow{MigrationSetApp, m.Version, m.Name, m.Applied, m.AppliedAt})
		}
	default:
		return nil, fmt.Errorf("this store has no migration status")
	}
	jdb, err := JobsDatabase(st)
	if err != nil {
		return nil, err
	}
	rms, err := jobs.MigrationStatus(ctx, jdb)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	for _, m := range rms {
		rows = append(rows, MigrationRow{Set: MigrationSetRiver, Version: int64(m.Version), Name: m.Name, Applied: m.Applied})
	}
	return rows, nil
}

// JobsDatabase is the jobs.Database inside st's database.
func JobsDatabase(st mksync.Store) (jobs.Database, error) {
	switch db := st.(type) {
	case *sqlite.DB:
		return jobs.SQLite(db.WriteDB(), sqlite.TxOf), nil
	case *postgres.DB:
		return jobs.Postgres(db.Pool(), postgres.TxOf), nil
	}
	return nil, fmt.Errorf("jobs need a SQLite or PostgreSQL store, not %T", st)
}

// PoolConns is the PostgreSQL pool a process with these job workers gets
// when its URL has no pool_max_conns: a connection per bulk and interactive
// worker, and River's own (LISTEN, a fetch per queue, leadership) and the
// API's beside them. Zero counts are the jobs' defaults. The connection
// that listens for Metakocka slots given back is not the pool's: the
// process opens it beside the pool, one more on the server.
func PoolConns(bulkWorkers, interactiveWorkers int) int32 {
	if bulkWorkers <= 0 {
		bulkWorkers = jobs.DefaultBulkWorkers
	}
	if interactiveWorkers <= 0 {
		interactiveWorkers = jobs.DefaultInteractiveWorkers
	}
	return int32(bulkWorkers+interactiveWorkers) + poolConnsBeside
}

// poolConnsBeside are the connections a process uses beside its job
// workers'.
const poolConnsBeside = 6

// warnSmallPool logs when a PostgreSQL pool is too small for bulkWorkers:
// River keeps a connection for LISTEN and one per queue fetch beside the
// jobs' own store calls.
func warnSmallPool(st mksync.Store, bulkWorkers int, log *slog.Logger) {
	pg, ok := st.(*postgres.DB)
	if !ok {
		return
	}
	if need := int32(bulkWorkers) + poolConnsBeside; pg.Pool().Config().MaxConns < need {
		log.Warn("the PostgreSQL pool is small for the job workers; add pool_max_conns to the database URL",
			"category", "JOBS", "pool_max_conns", pg.Pool().Config().MaxConns, "suggested", need)
	}
}
