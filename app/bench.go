package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/sqlite"
)

// OpenBenchStore opens a fresh, migrated store for a benchmark run (dsn:
// "" or "sqlite" for a temporary file, "sqlite:PATH" for a new file, or a
// postgres:// URL, in a new schema) with a throw-away key, and returns it
// with the kind to print ("sqlite", "postgres") and a cleanup that closes
// and removes it.
func OpenBenchStore(ctx context.Context, dsn string) (mksync.Store, string, func(), error) {
	key, err := keyring.GenerateKey()
	if err != nil {
		return nil, "", nil, fmt.Errorf("bench encryption key: %w", err)
	}
	sealer, err := keyring.New(key)
	if err != nil {
		return nil, "", nil, fmt.Errorf("bench encryption key: %w", err)
	}
	dsn = strings.TrimSpace(dsn)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		schema := "mksync_bench_" + hex.EncodeToString(b)
		db, err := postgres.Open(ctx, dsn, postgres.Options{Sealer: sealer, Schema: schema, MaxConns: 16, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, "", nil, fmt.Errorf("open bench database: %w", err)
		}
		drop := func() {
			_ = db.Close()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if conn, err := pgx.Connect(dctx, dsn); err == nil {
				_, _ = conn.Exec(dctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
				_ = conn.Close(dctx)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			drop()
			return nil, "", nil, fmt.Errorf("migrate bench schema: %w", err)
		}
		return db, "postgres", drop, nil
	}
	var path string
	remove := func() {}
	switch {
	case dsn == "" || dsn == "sqlite":
		dir, err := os.MkdirTemp("", "mksync-bench-")
		if err != nil {
			return nil, "", nil, fmt.Errorf("bench database folder: %w", err)
		}
		path = filepath.Join(dir, "bench.db")
		remove = func() { _ = os.RemoveAll(dir) }
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if _, err := os.Stat(path); err == nil {
			return nil, "", nil, fmt.Errorf("--db %s: the file exists; bench wants a new one", dsn)
		}
	default:
		return nil, "", nil, fmt.Errorf("--db %q: want sqlite, sqlite:PATH or a postgres:// URL", dsn)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Sealer: sealer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		remove()
		return nil, "", nil, fmt.Errorf("open bench database: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		remove()
		return nil, "", nil, fmt.Errorf("migrate bench database: %w", err)
	}
	return db, "sqlite", func() { _ = db.Close(); remove() }, nil
}
