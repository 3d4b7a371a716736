package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka"
)

// LocalOptions configure StartLocal.
type LocalOptions struct {
	// Dir holds the SQLite file; required (the caller removes it).
	Dir string
	// Config is the starting configuration; DB and EncryptionKey are set
	// by StartLocal.
	Config Config
	// Engine adjusts the engine's config (retries and timeouts suited to a
	// simulator on loopback, say).
	Engine func(*engine.Config)
	// Logger receives the process's lines; default: discard.
	Logger *slog.Logger
	// NoEngine leaves the engine out of the API and UI (see Options).
	NoEngine bool
}

// StartLocal starts a self-contained mksync in this process: a new,
// migrated SQLite store in o.Dir sealed with a fresh key, the sync engine
// with unlimited Metakocka pacing, and job workers — runs execute as jobs,
// as in `mksync serve`. The in-process validation suite, the demo's tests
// and apptest use it; pair it with the Metakocka simulator (mkfake) for a
// world without an account. Handler adds the API and UI; Close stops it.
func StartLocal(ctx context.Context, o LocalOptions) (*App, error) {
	if o.Dir == "" {
		return nil, mksync.Errorf(mksync.EINVALID, "local app: Dir is required")
	}
	key, err := keyring.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("local app key: %w", err)
	}
	cfg := o.Config
	cfg.DB = "sqlite:" + filepath.Join(o.Dir, "mksync.db")
	cfg.EncryptionKey = mksync.Secret(base64.StdEncoding.EncodeToString(key))
	return Start(ctx, cfg, Options{
		Logger:   o.Logger,
		Pacing:   metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 32},
		Engine:   o.Engine,
		NoEngine: o.NoEngine,
	})
}
