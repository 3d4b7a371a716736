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
	// metakockaURLs a tenant may set besides the real API's
	// (MKSYNC_METAKOCKA_URLS).
	metakockaURLs mksync.MetakockaURLs
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

GET /metrics serves Prometheus metrics (docs/metrics.md); alerts are
evaluated in-process and, with MKSYNC_ALERT_WEBHOOK_URL and
MKSYNC_ALERT_WEBHOOK_SECRET, POSTed signed to a webhook (docs/alerts.md).

Environment: MKSYNC_ADDR, MKSYNC_DB, MKSYNC_ADMIN_TOKEN, MKSYNC_SESSION_KEY,
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
	urls, err := mksync.ParseMetakockaURLs(os.Getenv("MKSYNC_METAKOCKA_URLS"))
	if err != nil {
		return fmt.Errorf("serve: MKSYNC_METAKOCKA_URLS: %w", err)
	}
	f.metakockaURLs = urls
	log := newServeLogger(s)

	if !f.noWorkers {
		f.dbFlags.poolConns = f.jobFlags.poolConns()
	}
	st, err := f.open(ctx, s) // migrates unless --no-migrate
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer st.Close()
	if err := ensureAdminToken(ctx, s, st); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", f.addr, err)
	}
	a, err := startApp(ctx, st, f, log, ln)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(s.out, "listening on http://%s\n", ln.Addr())
	if err := a.wait(ctx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// app is a running `mksync serve` on an open store: telemetry, job workers
// (unless --no-workers), the API and the UI behind one HTTP server, and
// GET /metrics. serve and demo both run one.
type app struct {
	syncer *jobSyncer
	tel    *telemetry
	hs     *http.Server
	served chan error
	grace  time.Duration
	// closers undo the start, last first.
	closers []func()
}

// adminJobsPath is where River's job dashboard is served, to the admin
// token only.
const adminJobsPath = "/admin/jobs"

// startApp starts an app on st serving on ln (which it then owns) and
// returns once it serves. MKSYNC_SESSION_KEY, MKSYNC_REDIS_URL (the API's
// rate limits shared through Redis) and the telemetry's variables are read
// from the environment.
func startApp(ctx context.Context, st mksync.Store, f serveFlags, log *slog.Logger, ln net.Listener) (_ *app, err error) {
	a := &app{served: make(chan error, 1), grace: f.shutdownGrace}
	defer func() {
		if err != nil {
			_ = ln.Close()
			a.close()
		}
	}()
	if a.tel, err = newTelemetry(st, log); err != nil {
		return nil, err
	}
	if err := a.tel.start(ctx); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.tel.stop)
	syncer, stopJobs, err := startJobs(ctx, st, f.jobFlags, f.noWorkers, log, a.tel)
	if err != nil {
		return nil, err
	}
	a.syncer = syncer
	a.closers = append(a.closers, stopJobs)

	apiCfg := httpapi.Config{
		Store:         st,
		Syncer:        syncer,
		Canceller:     syncer,
		StockQueue:    syncer.jobs,
		RecordQueue:   syncer,
		Logger:        log,
		RateLimitSync: f.rateLimitSync,
		RateLimitAPI:  f.rateLimitAPI,
		MetakockaURLs: f.metakockaURLs,
	}
	if url := os.Getenv("MKSYNC_REDIS_URL"); url != "" {
		lim, rc, err := httpapi.NewRedisLimiter(ctx, url)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, func() { _ = rc.Close() })
		apiCfg.Limiter = lim
	}
	api, err := httpapi.New(apiCfg)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, api.Close)
	measured, err := a.tel.metrics.HTTPMiddleware(api, api.Patterns()...)
	if err != nil {
		return nil, err
	}
	ui, err := newUI(st, syncer, log, f.metakockaURLs, api.AllowSync)
	if err != nil {
		return nil, err
	}
	dashboard, err := syncer.jobs.Dashboard(ctx, adminJobsPath)
	if err != nil {
		return nil, err
	}
	dashboard = api.RequireAdmin(dashboard)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.tel.handler())
	mux.Handle(adminJobsPath, dashboard)
	mux.Handle(adminJobsPath+"/", dashboard)
	mux.Handle("/", web.Mount(measured, ui))
	a.hs = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    serveMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go func() { a.served <- a.hs.Serve(ln) }()
	return a, nil
}

// wait serves until ctx ends (or the server fails), then shuts down: the
// server (open requests get the shutdown grace), then the jobs, the API's
// limiter and the telemetry.
func (a *app) wait(ctx context.Context) error {
	defer a.close()
	select {
	case err := <-a.served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.grace)
	defer cancel()
	if err := a.hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-a.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// close undoes the start, last first; safe to call twice.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// newUI returns the web UI on st and the API's syncer, its session key from
// MKSYNC_SESSION_KEY; syncLimit is the API's per-tenant sync budget, which
// the UI's sync buttons share.
func newUI(st mksync.Store, syncer httpapi.Syncer, log *slog.Logger, urls mksync.MetakockaURLs,
	syncLimit func(context.Context, string) (bool, time.Duration)) (*web.Handler, error) {
	cfg := web.Config{Store: st, Syncer: syncer, Logger: log, MetakockaURLs: urls, SyncLimit: syncLimit}
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
