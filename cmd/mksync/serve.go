package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/web"
)

// serveFlags are the options of `mksync serve`.
type serveFlags struct {
	dbFlags
	jobFlags
	noWorkers     bool
	addr          string
	rateLimitSync int
	rateLimitAPI  int
	shutdownGrace time.Duration
}

// Server timeouts. Writes are generous: a single-record sync waits for
// Metakocka, whose slow calls take tens of seconds, plus retries.
const (
	serveReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = 60 * time.Second
	serveWriteTimeout      = 3 * time.Minute
	serveIdleTimeout       = 2 * time.Minute
	serveMaxHeaderBytes    = 64 << 10
)

func newServeCmd(s streams) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API and the web UI",
		Long: `Run mksync's HTTP API (REST under /api, /healthz, /readyz, /api/openapi.json)
and its web UI (every other path; sign in with a tenant's API token).

It migrates the database on start (unless --no-migrate), prints
"listening on http://ADDR" once it accepts connections, and shuts down
gracefully on SIGINT/SIGTERM. The admin token (for /api/admin) is
MKSYNC_ADMIN_TOKEN when set; otherwise one is generated on the first start
and printed once — only its hash is stored.

MKSYNC_SESSION_KEY (at least 32 characters) signs the UI's session cookies;
without it a random key is used and sign-ins end when the process restarts.
Set the same key on every instance behind one address.

Environment: MKSYNC_ADDR, MKSYNC_DB, MKSYNC_ADMIN_TOKEN, MKSYNC_SESSION_KEY,
MKSYNC_RATE_LIMIT_SYNC and MKSYNC_RATE_LIMIT_API (requests per minute per
tenant; defaults 10 and 1200).`,
		Example: `  mksync serve --addr :8080
  MKSYNC_DB=/var/lib/mksync/mksync.db mksync serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), s, f)
		},
	}
	f.dbFlags.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "", "address to listen on (env MKSYNC_ADDR, default :8080; port 0 picks a free port)")
	fl.IntVar(&f.rateLimitSync, "rate-limit-sync", 0, "sync requests per minute per tenant (env MKSYNC_RATE_LIMIT_SYNC; default 10)")
	fl.IntVar(&f.rateLimitAPI, "rate-limit-api", 0, "other API requests per minute per tenant (env MKSYNC_RATE_LIMIT_API; default 1200)")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 30*time.Second, "how long open requests may finish on shutdown")
	f.jobFlags.register(cmd)
	fl.BoolVar(&f.noWorkers, "no-workers", false, "queue jobs but work none here (leave them to mksync worker processes)")
	return cmd
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// envInt reads a non-negative integer from the environment, naming the
// variable when it is malformed.
func envInt(key string) (int, error) {
	v := os.Getenv(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative integer (requests per minute)", key, v)
	}
	return n, nil
}

func runServe(ctx context.Context, s streams, f serveFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.addr == "" {
		f.addr = envOr("MKSYNC_ADDR", ":8080")
	}
	for key, dst := range map[string]*int{"MKSYNC_RATE_LIMIT_SYNC": &f.rateLimitSync, "MKSYNC_RATE_LIMIT_API": &f.rateLimitAPI} {
		if *dst != 0 {
			continue // the flag wins
		}
		n, err := envInt(key)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		*dst = n
	}
	log := newServeLogger(s)

	st, err := f.open(ctx, s) // migrates unless --no-migrate
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer st.Close()
	if err := ensureAdminToken(ctx, s, st); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	syncer, stopJobs, err := startJobs(ctx, st, f.jobFlags, f.noWorkers, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer stopJobs()

	api, err := httpapi.New(httpapi.Config{
		Store:         st,
		Syncer:        syncer,
		Logger:        log,
		RateLimitSync: f.rateLimitSync,
		RateLimitAPI:  f.rateLimitAPI,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer api.Close()
	ui, err := newUI(st, syncer, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", f.addr, err)
	}
	hs := &http.Server{
		Handler:           web.Mount(api, ui),
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    serveMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(s.out, "listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newUI returns the web UI on st and the API's syncer, its session key from
// MKSYNC_SESSION_KEY.
func newUI(st mksync.Store, syncer httpapi.Syncer, log *slog.Logger) (*web.Handler, error) {
	cfg := web.Config{Store: st, Syncer: syncer, Logger: log}
	if k := os.Getenv("MKSYNC_SESSION_KEY"); k != "" {
		if len(k) < 32 {
			return nil, errors.New("MKSYNC_SESSION_KEY must be at least 32 characters")
		}
		cfg.SessionKey = []byte(k)
	}
	return web.New(cfg)
}

// newServeLogger is the JSON logger on stderr at MKSYNC_LOG_LEVEL.
func newServeLogger(s streams) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(envOr("MKSYNC_LOG_LEVEL", "info"))); err != nil {
		level = slog.LevelInfo
	}
	return observe.NewLogger(s.err, observe.Options{Level: level})
}

// ensureAdminToken stores the hash of MKSYNC_ADMIN_TOKEN when set, or, when
// no admin token exists yet, generates one and prints it once on stdout:
// only its hash is kept, so it cannot be shown again.
func ensureAdminToken(ctx context.Context, s streams, st mksync.Store) error {
	if tok := os.Getenv("MKSYNC_ADMIN_TOKEN"); tok != "" {
		if len(tok) < 16 {
			return errors.New("MKSYNC_ADMIN_TOKEN must be at least 16 characters")
		}
		if err := st.SetAdminTokenHash(ctx, mksync.HashToken(tok)); err != nil {
			return fmt.Errorf("set admin token: %w", err)
		}
		return nil
	}
	_, err := st.AdminTokenHash(ctx)
	switch {
	case err == nil:
		return nil
	case mksync.ErrorCode(err) != mksync.ENOTFOUND:
		return fmt.Errorf("read admin token: %w", err)
	}
	plain, hash, err := mksync.NewTokenSecret()
	if err != nil {
		return err
	}
	if err := st.SetAdminTokenHash(ctx, hash); err != nil {
		return fmt.Errorf("set admin token: %w", err)
	}
	fmt.Fprintf(s.out, "admin token (shown once, store it now): %s\n", plain.Reveal())
	return nil
}
