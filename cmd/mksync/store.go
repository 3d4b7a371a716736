package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/observe"
)

// cliLogger is the JSON logger of CLI commands, on stderr.
func cliLogger(s streams) *slog.Logger {
	return observe.NewLogger(s.err, observe.Options{})
}

// dbFlags are the database options every store-using command shares.
type dbFlags struct {
	db        string
	noMigrate bool
}

// register adds --db and --no-migrate to cmd and its subcommands.
func (f *dbFlags) register(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.db, "db", "", "database: sqlite:PATH, a file path or a postgres:// URL (env MKSYNC_DB; default "+app.DefaultDB+")")
	fl.BoolVar(&f.noMigrate, "no-migrate", false, "do not migrate the database before the command")
}

// config is the process's configuration (the environment, read once by
// app.LoadEnv) with --db applied: the flag wins over MKSYNC_DB.
func (f *dbFlags) config() (app.Config, error) {
	cfg, err := app.LoadEnv()
	if err != nil {
		return cfg, err
	}
	if f.db != "" {
		cfg.DB = f.db
	}
	return cfg, nil
}

// open opens the store and, unless --no-migrate, migrates it. The caller
// closes it.
func (f *dbFlags) open(ctx context.Context, s streams) (mksync.Store, error) {
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	st, err := app.OpenStore(ctx, cfg, cliLogger(s))
	if err != nil {
		return nil, err
	}
	if !f.noMigrate {
		if err := app.Migrate(ctx, st); err != nil {
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
