package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
	"github.com/mksync/mksync/observe"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a Handler. Zero fields take the documented defaults.
type Config struct {
	// Store keeps everything; required.
	Store mksync.Store
	// Syncer runs syncs (the sync engine, as for the REST API). Nil: the
	// pages work, and sync actions answer "sync engine not configured".
	Syncer mksync.Syncer
	// Runs queues bulk runs (the job layer, as for the REST API). Nil: the
	// bulk sync buttons answer "sync engine not configured".
	Runs mksync.RunStarter
	// Logger receives failures of the UI (category UI); default: discard.
	// Tokens and cookies are never logged.
	Logger *slog.Logger
	// Now is the clock of sessions and records; default time.Now.
	Now func() time.Time
	// SessionKey signs session cookies and CSRF tokens; at least 32 bytes.
	// Default: a random key per Handler, so sessions end when the process
	// restarts. Give every instance behind one address the same key.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts; default 12 hours.
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure and sends Strict-Transport-Security
	// even on plain HTTP requests (a TLS proxy in front: `mksync serve` sets
	// it when MKSYNC_PUBLIC_URL starts with https://); both always are
	// under TLS.
	SecureCookies bool
	// PageSize is the rows of a list page; default 25.
	PageSize int
	// PollInterval is how often a running sync's progress is refreshed;
	// default 1 s.
	PollInterval time.Duration
	// LoginAttemptsPerMinute bounds sign-in attempts per client IP;
	// default 10.
	LoginAttemptsPerMinute int
	// ClientErrorsPerMinute bounds the browser error reports a tenant may
	// send; default 60 (as the REST API's).
	ClientErrorsPerMinute int
	// WebhookPath is the prefix of the stock webhook receiver's path: the
	// settings page shows WebhookPath + webhook id + "/stock" as the URL to
	// give Metakocka; default "/webhooks/metakocka/" (the REST API's
	// POST /webhooks/metakocka/{webhookId}/stock).
	WebhookPath string
	// SyncLimit, when set, is asked before every sync the UI starts (a
	// record's sync, a bulk run, an import, a connection test), which is
	// refused with 429 when it says no; retryAfter is how long to wait.
	// Give it the REST API's (httpapi.Server.AllowSync) so that the UI and
	// the API share one sync budget per tenant. Nil: no limit.
	SyncLimit func(ctx context.Context, tenantID string) (ok bool, retryAfter time.Duration)
	// MetakockaURLs are the Metakocka base URLs a tenant may set on the
	// settings page besides the real API's (as the REST API's).
	MetakockaURLs mksync.MetakockaURLs
}

// Defaults of Config.
const (
	DefaultSessionTTL             = 12 * time.Hour
	DefaultPageSize               = 25
	DefaultPollInterval           = time.Second
	DefaultLoginAttemptsPerMinute = 10
	DefaultClientErrorsPerMinute  = 60
	DefaultWebhookPath            = "/webhooks/metakocka/"
)

func (c *Config) setDefaults() error {
	if c.Logger == nil {
		c.Logger = observe.Discard()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SessionKey == nil {
		c.SessionKey = make([]byte, 32)
		if _, err := rand.Read(c.SessionKey); err != nil {
			return fmt.Errorf("web: generate session key: %w", err)
		}
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.LoginAttemptsPerMinute == 0 {
		c.LoginAttemptsPerMinute = DefaultLoginAttemptsPerMinute
	}
	if c.ClientErrorsPerMinute == 0 {
		c.ClientErrorsPerMinute = DefaultClientErrorsPerMinute
	}
	if c.WebhookPath == "" {
		c.WebhookPath = DefaultWebhookPath
	}
	return nil
}

func (c *Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("web: Config.Store is required")
	case len(c.SessionKey) < 32:
		return fmt.Errorf("web: Config.SessionKey must be at least 32 bytes, got %d", len(c.SessionKey))
	case c.SessionTTL < time.Minute:
		return fmt.Errorf("web: Config.SessionTTL must be at least 1m, got %s", c.SessionTTL)
	case c.PageSize < 1 || c.PageSize > mksync.MaxPageLimit:
		return fmt.Errorf("web: Config.PageSize must be between 1 and %d, got %d", mksync.MaxPageLimit, c.PageSize)
	case c.PollInterval < 100*time.Millisecond:
		return fmt.Errorf("web: Config.PollInterval must be at least 100ms, got %s", c.PollInterval)
	case c.LoginAttemptsPerMinute < 0:
		return fmt.Errorf("web: Config.LoginAttemptsPerMinute must not be negative, got %d", c.LoginAttemptsPerMinute)
	case c.ClientErrorsPerMinute < 0:
		return fmt.Errorf("web: Config.ClientErrorsPerMinute must not be negative, got %d", c.ClientErrorsPerMinute)
	}
	return nil
}

// Handler is the web UI as an http.Handler. It answers every path it gets
// (unknown ones with the not-found page), so mount it for the paths that
// are not the API's; Mount does that. It is safe for concurrent use.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	sess    *sessions
	tmpl    *templates
	logins  *httperr.AttemptLimiter
	reports *httperr.AttemptLimiter
	handler http.Handler
}

// categoryUI is the category of the UI's log lines and error records.
const categoryUI = "UI"

// New returns the UI for cfg.
func New(cfg Config) (*Handler, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tm, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &Handler{
		cfg:     cfg,
		log:     observe.WithCategory(cfg.Logger, categoryUI),
		sess:    &sessions{key: cfg.SessionKey, ttl: cfg.SessionTTL},
		tmpl:    tm,
		logins:  httperr.NewAttemptLimiter(cfg.LoginAttemptsPerMinute),
		reports: httperr.NewAttemptLimiter(cfg.ClientErrorsPerMinute),
	}
	mux := http.NewServeMux()
	if err := h.routes(mux); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.crossOriginDenied))
	h.handler = securityHeaders(cop.Handler(mux), h.secure)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

// Mount returns the handler that serves the REST API's paths (/api/…,
// /healthz, /readyz) with api and every other path with ui. It does not
// clean paths, so the API keeps answering unclean ones itself.
func Mount(api, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsAPIPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// IsAPIPath reports whether p belongs to the REST API rather than the UI:
// /api/…, Metakocka's webhooks under /webhooks/, and the health checks.
func IsAPIPath(p string) bool {
	return p == "/api" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhooks/") ||
		p == "/healthz" || p == "/readyz"
}

// securityHeaders sets the headers of every UI answer: a strict Content
// Security Policy (scripts and styles from this origin only; htmx runs
// without eval), no framing, no sniffing, no referrer across origins, and,
// when secure says the site is served over HTTPS, Strict-Transport-Security
// (a year), so browsers stop trying plain HTTP.
func securityHeaders(next http.Handler, secure func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if secure(r) {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// static serves the embedded assets with a short cache (they change with
// the binary; the file names are not content-hashed).
func staticHandler() (http.Handler, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}), nil
}
