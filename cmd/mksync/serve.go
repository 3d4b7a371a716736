package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/observe"
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
Set the same key on every instance behind one address. MKSYNC_PUBLIC_URL
is the address users open; with https:// (a TLS proxy in front) the UI's
cookies are Secure and HSTS is sent.

GET /metrics serves Prometheus metrics (docs/metrics.md): on
MKSYNC_METRICS_ADDR when set (printed as "metrics on …"), otherwise here to
"Authorization: Bearer" MKSYNC_METRICS_TOKEN or the admin token. Alerts are
evaluated in-process and, with MKSYNC_ALERT_WEBHOOK_URL and
MKSYNC_ALERT_WEBHOOK_SECRET, POSTed signed to a webhook (docs/alerts.md).

Environment: MKSYNC_ADDR, MKSYNC_DB, MKSYNC_ADMIN_TOKEN, MKSYNC_SESSION_KEY,
MKSYNC_PUBLIC_URL, MKSYNC_METRICS_ADDR, MKSYNC_METRICS_TOKEN,
MKSYNC_RATE_LIMIT_SYNC and MKSYNC_RATE_LIMIT_API (requests per minute per
tenant; defaults 10 and 1200), MKSYNC_REDIS_URL (share the rate limits of
many instances through Redis), MKSYNC_METRICS_PER_TENANT,
MKSYNC_ALERT_WEBHOOK_URL, MKSYNC_ALERT_WEBHOOK_SECRET,
MKSYNC_ERROR_RETENTION_DAYS (default 30), MKSYNC_METAKOCKA_URLS (origins a
tenant may set as its Metakocka URL besides https://main.metakocka.si,
comma-separated; * allows any), MKSYNC_CACHE_SIZE (entries per sync-engine
cache; default 20000).`,
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

func runServe(ctx context.Context, s streams, f serveFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := f.config()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	f.apply(&cfg)
	log := newServeLogger(s, cfg)
	a, err := app.Start(ctx, cfg, f.options(log))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer a.Close()
	if err := printAdminToken(ctx, s, a); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", cfg.Addr, err)
	}
	h, err := a.Handler(ctx)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	srv := app.Serve(ctx, ln, h, log)
	if m := a.MetricsAddr(); m != "" {
		fmt.Fprintf(s.out, "metrics on http://%s/metrics\n", m)
	}
	fmt.Fprintf(s.out, "listening on http://%s\n", ln.Addr())
	if err := srv.Wait(ctx, f.shutdownGrace); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// apply lets the flags win over the environment.
func (f *serveFlags) apply(cfg *app.Config) {
	if f.addr != "" {
		cfg.Addr = f.addr
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if f.rateLimitSync != 0 {
		cfg.RateLimitSync = f.rateLimitSync
	}
	if f.rateLimitAPI != 0 {
		cfg.RateLimitAPI = f.rateLimitAPI
	}
}

// options are the app.Options of serve's flags.
func (f *serveFlags) options(log *slog.Logger) app.Options {
	o := f.jobFlags.options(log)
	o.NoMigrate = f.noMigrate
	o.Jobs.NoWorkers = f.noWorkers
	return o
}

// newServeLogger is the JSON logger on stderr at MKSYNC_LOG_LEVEL.
func newServeLogger(s streams, cfg app.Config) *slog.Logger {
	return observe.NewLogger(s.err, observe.Options{Level: cfg.LogLevel})
}

// printAdminToken makes sure an admin token exists (app.EnsureAdminToken)
// and prints a generated one once on stdout: only its hash is kept, so it
// cannot be shown again.
func printAdminToken(ctx context.Context, s streams, a *app.App) error {
	plain, err := app.EnsureAdminToken(ctx, a.Config, a.Store)
	if err != nil || plain == "" {
		return err
	}
	fmt.Fprintf(s.out, "admin token (shown once, store it now): %s\n", plain.Reveal())
	return nil
}
