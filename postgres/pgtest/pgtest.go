// Package pgtest gives tests a PostgreSQL to run against: the server named by
// MKSYNC_TEST_POSTGRES_URL, with a fresh schema per test.
//
// Without the variable, tests skip with a message saying how to run them,
// unless MKSYNC_REQUIRE_POSTGRES=1 (set by .ci/run), which turns the skip
// into a failure: CI never passes by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync/postgres"
)

// The environment variables this package reads.
const (
	// EnvURL names the test server, e.g.
	// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	EnvURL = "MKSYNC_TEST_POSTGRES_URL"
	// EnvRequire, set to 1, makes a missing EnvURL a test failure.
	EnvRequire = "MKSYNC_REQUIRE_POSTGRES"
)

// URL returns the test server URL, or skips t (fails it when EnvRequire=1)
// when EnvURL is unset.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url != "" {
		return url
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s=1 but %s is not set: PostgreSQL tests must run", EnvRequire, EnvURL)
	}
	t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", EnvURL)
	return ""
}

// Schema creates a schema with a random name on the server at url and drops
// it (with everything in it) when the test ends. Pass the name as the
// store's search_path (postgres.Options.Schema).
func Schema(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "mksync_test_" + hex.EncodeToString(b)
	exec(t, url, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { exec(t, url, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE") })
	return name
}

func exec(t testing.TB, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// Store returns a migrated postgres store in a fresh schema, closed when the
// test ends. opts.Schema is set; give opts.Sealer for credential work (a
// keyring.Keyring, or storetest.FakeSealer). The schema name is
// returned for tests that look at the database directly.
func Store(t testing.TB, opts postgres.Options) (db *postgres.DB, url, schema string) {
	t.Helper()
	url = URL(t)
	opts.Schema = Schema(t, url)
	if opts.MaxConns == 0 {
		opts.MaxConns = 4
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return db, url, opts.Schema
}
