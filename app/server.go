package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/web"
)

// Server timeouts. Writes are generous: a single-record sync waits for
// Metakocka, whose slow calls take tens of seconds, plus retries.
const (
	ServeReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = 60 * time.Second
	serveWriteTimeout      = 3 * time.Minute
	serveIdleTimeout       = 2 * time.Minute
	serveMaxHeaderBytes    = 64 << 10
)

// AdminJobsPath is where River's job dashboard is served, to the admin
// token only.
const AdminJobsPath = "/admin/jobs"

// Handler builds the REST API and the web UI on the app's engine and jobs,
// with GET /metrics and the job dashboard, behind one handler. The API's
// Redis limiter (Config.RedisURL) and the API itself are closed by Close.
func (a *App) Handler(ctx context.Context) (http.Handler, error) {
	cfg := a.Config
	apiCfg := httpapi.Config{
		Store:         a.Store,
		Syncer:        a.Engine,
		Runs:          a.Jobs,
		Canceller:     a.Jobs,
		StockQueue:    a.Jobs,
		RecordQueue:   a.Jobs,
		Logger:        a.Log,
		RateLimitSync: cfg.RateLimitSync,
		RateLimitAPI:  cfg.RateLimitAPI,
		MetakockaURLs: cfg.MetakockaURLs,
	}
	if a.noEngine {
		apiCfg.Syncer, apiCfg.Runs = nil, nil
	}
	if cfg.RedisURL != "" {
		lim, rc, err := httpapi.NewRedisLimiter(ctx, cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		a.onClose(func() { _ = rc.Close() })
		apiCfg.Limiter = lim
	}
	api, err := httpapi.New(apiCfg)
	if err != nil {
		return nil, err
	}
	a.onClose(api.Close)
	measured, err := a.tel.metrics.HTTPMiddleware(api, api.Patterns()...)
	if err != nil {
		return nil, err
	}
	// The UI's sync buttons share the API's per-tenant sync budget.
	uiCfg := web.Config{Store: a.Store, Syncer: apiCfg.Syncer, Runs: apiCfg.Runs, Logger: a.Log,
		MetakockaURLs: cfg.MetakockaURLs, SyncLimit: api.AllowSync, SecureCookies: cfg.SecureCookies()}
	if k := cfg.SessionKey.Reveal(); k != "" {
		uiCfg.SessionKey = []byte(k) // unset: random per process
	}
	ui, err := web.New(uiCfg)
	if err != nil {
		return nil, err
	}
	dashboard, err := a.Jobs.Dashboard(ctx, AdminJobsPath)
	if err != nil {
		return nil, err
	}
	dashboard = api.RequireAdmin(dashboard)
	mux := http.NewServeMux()
	if err := a.serveMetrics(mux, api); err != nil {
		return nil, err
	}
	mux.Handle(AdminJobsPath, dashboard)
	mux.Handle(AdminJobsPath+"/", dashboard)
	mux.Handle("/", web.Mount(measured, ui))
	return mux, nil
}

// serveMetrics serves GET /metrics on Config.MetricsAddr when set (a
// listener of its own, for a network only Prometheus reaches; closed by
// Close), and otherwise on mux behind Config.MetricsToken or the admin
// token.
func (a *App) serveMetrics(mux *http.ServeMux, api *httpapi.Server) error {
	addr := a.Config.MetricsAddr
	if addr == "" {
		mux.Handle("GET /metrics", api.RequireMetricsToken(a.Config.MetricsToken.Reveal(), a.tel.handler()))
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("MKSYNC_METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mm := http.NewServeMux()
	mm.Handle("GET /metrics", a.tel.handler())
	ms := &http.Server{Handler: mm, ReadHeaderTimeout: ServeReadHeaderTimeout, ReadTimeout: serveReadTimeout,
		WriteTimeout: serveWriteTimeout, IdleTimeout: serveIdleTimeout, MaxHeaderBytes: serveMaxHeaderBytes}
	go func() { _ = ms.Serve(ln) }()
	a.metricsAddr = ln.Addr().String()
	a.onClose(func() { _ = ms.Close() })
	return nil
}

// MetricsAddr is the address GET /metrics is served on when
// Config.MetricsAddr set one (the port chosen when it was :0), "" when
// /metrics is on the API's listener. Valid after Handler.
func (a *App) MetricsAddr() string { return a.metricsAddr }

// HealthHandler answers /healthz (the process runs), /readyz (the
// database answers) and /metrics, for processes without the API.
func (a *App) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.tel.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := a.Store.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Server is h served on a listener with mksync's timeouts.
type Server struct {
	hs     *http.Server
	served chan error
}

// Serve serves h on ln (which it then owns) in the background, with
// requests on a context detached from ctx's cancellation.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	s := &Server{served: make(chan error, 1), hs: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ServeReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    serveMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}}
	go func() { s.served <- s.hs.Serve(ln) }()
	return s
}

// Wait serves until ctx ends (or the server fails), then shuts the server
// down, giving open requests grace.
func (s *Server) Wait(ctx context.Context, grace time.Duration) error {
	select {
	case err := <-s.served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
