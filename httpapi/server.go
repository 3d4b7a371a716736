// Package httpapi is mksync's REST API: CRUD of the CRM's contacts, products
// and sales documents, the Metakocka sync routes, sync runs, error records,
// alerts, credentials, tenant administration and the OpenAPI document.
//
// Every route answers JSON; every non-2xx answer is the error envelope
// {"error","code","errorId","details"} (httperr.Body), whose status comes from
// the domain error code (httperr.Status). Tenant routes authenticate with
// "Authorization: Bearer mks_…", admin routes with the admin token, and every
// authenticated tenant (or, before authentication, client IP) has its own
// rate limits.
//
// It sees the sync engine as mksync.Syncer and the job queue through small
// interfaces of its own (RunStarter, RunCanceller, StockQueue, RecordQueue);
// it must not import the engine, jobs, a store or the web UI (the error
// envelope it shares with the UI is in httperr).
package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
	"github.com/mksync/mksync/observe"
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Store keeps everything; required.
	Store mksync.Store
	// Syncer runs syncs against Metakocka (the sync engine). Nil until the
	// engine is wired: sync routes then answer 503 with code upstream.
	Syncer mksync.Syncer
	// Runs queues bulk and "sync all" runs (the job layer). Nil: those
	// routes answer 503 with code upstream.
	Runs mksync.RunStarter
	// Canceller cancels sync runs for POST /api/sync-runs/{id}/cancel (the
	// job layer, which also drops the run's queued work). Nil: the route
	// marks the run cancelled in the Store itself, and the engine stops the
	// run between batches when it finds it so.
	Canceller RunCanceller
	// StockQueue queues verified stock webhooks. Nil: the webhook answers
	// 503 (Metakocka retries) after checking the signature.
	StockQueue StockQueue
	// RecordQueue queues the push of a record written through the API when
	// the tenant's AutoPush setting is on, in the same transaction as the
	// write (a crash can lose neither). Nil: records are only written.
	RecordQueue RecordQueue
	// Logger receives one line per request (category API) and server
	// failures; default: discard.
	Logger *slog.Logger
	// Now is the clock for rate limits, token use and records; default time.Now.
	Now func() time.Time
	// RateLimitSync is the requests per minute each tenant may make to sync
	// routes; default 10.
	RateLimitSync int
	// RateLimitAPI is the requests per minute each tenant (or client IP,
	// before authentication) may make to every other route; default 1200.
	RateLimitAPI int
	// RateLimitClientErrors is the browser error reports per minute a tenant
	// may send to POST /api/client-errors; default 60.
	RateLimitClientErrors int
	// RateLimitWebhook is the requests per minute each stock webhook id may
	// receive; default 600 (Metakocka sends one event per product whose
	// stock it recalculates, so a large goods receipt comes as a burst).
	RateLimitWebhook int
	// WebhookReplayWindow is how long an accepted webhook event id and the
	// hash of its signed body are remembered, and refused when either comes
	// again; default 10 minutes. Metakocka signs only the body, which holds
	// neither a time nor an id, so the window is a trade-off: long enough
	// for Metakocka's retries (two, a minute apart), short enough that a
	// genuine event repeating a recent one (a product's stock back where it
	// was) is not refused for long.
	WebhookReplayWindow time.Duration
	// AdminAttemptsPerMinute bounds the wrong tokens a client IP may try
	// on admin pages (RequireAdmin) before it gets 429; default 10 (as the
	// web UI's sign-in form). Counted in this process, not in Limiter.
	AdminAttemptsPerMinute int
	// Limiter keeps the rate-limit buckets; default an in-process
	// MemoryLimiter of at most 100,000 keys (closed by Server.Close).
	Limiter Limiter
	// MaxBodyBytes caps request bodies (413 beyond); default 1 MiB.
	MaxBodyBytes int64
	// MaxClientErrorBytes caps a browser error report; default 16 KiB.
	MaxClientErrorBytes int64
	// MaxBulkIDs caps the ids of one bulk request; default 10,000.
	MaxBulkIDs int
	// MetakockaURLs are the Metakocka base URLs a tenant may set besides
	// the real API's (PUT credentials answers 400 for another).
	MetakockaURLs mksync.MetakockaURLs
}

// Defaults of Config.
const (
	DefaultRateLimitSync          = 10
	DefaultRateLimitAPI           = 1200
	DefaultRateLimitClientErrors  = 60
	DefaultRateLimitWebhook       = 600
	DefaultWebhookReplayWindow    = 10 * time.Minute
	DefaultMaxBodyBytes           = 1 << 20
	DefaultMaxClientErrorBytes    = 16 << 10
	DefaultMaxBulkIDs             = 10_000
	DefaultAdminAttemptsPerMinute = 10
)

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = observe.Discard()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RateLimitSync == 0 {
		c.RateLimitSync = DefaultRateLimitSync
	}
	if c.RateLimitAPI == 0 {
		c.RateLimitAPI = DefaultRateLimitAPI
	}
	if c.RateLimitClientErrors == 0 {
		c.RateLimitClientErrors = DefaultRateLimitClientErrors
	}
	if c.RateLimitWebhook == 0 {
		c.RateLimitWebhook = DefaultRateLimitWebhook
	}
	if c.WebhookReplayWindow == 0 {
		c.WebhookReplayWindow = DefaultWebhookReplayWindow
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxClientErrorBytes == 0 {
		c.MaxClientErrorBytes = DefaultMaxClientErrorBytes
	}
	if c.MaxBulkIDs == 0 {
		c.MaxBulkIDs = DefaultMaxBulkIDs
	}
	if c.AdminAttemptsPerMinute == 0 {
		c.AdminAttemptsPerMinute = DefaultAdminAttemptsPerMinute
	}
}

func (c *Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("httpapi: Config.Store is required")
	case c.RateLimitSync < 0:
		return fmt.Errorf("httpapi: Config.RateLimitSync must not be negative, got %d", c.RateLimitSync)
	case c.RateLimitAPI < 0:
		return fmt.Errorf("httpapi: Config.RateLimitAPI must not be negative, got %d", c.RateLimitAPI)
	case c.RateLimitClientErrors < 0:
		return fmt.Errorf("httpapi: Config.RateLimitClientErrors must not be negative, got %d", c.RateLimitClientErrors)
	case c.RateLimitWebhook < 0:
		return fmt.Errorf("httpapi: Config.RateLimitWebhook must not be negative, got %d", c.RateLimitWebhook)
	case c.WebhookReplayWindow < 0:
		return fmt.Errorf("httpapi: Config.WebhookReplayWindow must not be negative, got %s", c.WebhookReplayWindow)
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("httpapi: Config.MaxBodyBytes must not be negative, got %d", c.MaxBodyBytes)
	case c.MaxClientErrorBytes < 0:
		return fmt.Errorf("httpapi: Config.MaxClientErrorBytes must not be negative, got %d", c.MaxClientErrorBytes)
	case c.MaxBulkIDs < 0:
		return fmt.Errorf("httpapi: Config.MaxBulkIDs must not be negative, got %d", c.MaxBulkIDs)
	case c.AdminAttemptsPerMinute < 0:
		return fmt.Errorf("httpapi: Config.AdminAttemptsPerMinute must not be negative, got %d", c.AdminAttemptsPerMinute)
	}
	return nil
}

// Server is the REST API as an http.Handler. It is safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	limiter  Limiter
	ownLimit *MemoryLimiter // closed by Close when the server made it
	routes   []route
	openapi  []byte
	// adminFails counts wrong tokens on admin pages per client IP.
	adminFails *httperr.AttemptLimiter
}

// New returns the API server for cfg.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg,
		log: observe.WithCategory(cfg.Logger, observe.CatAPI),
		mux: http.NewServeMux(),

		adminFails: httperr.NewAttemptLimiter(cfg.AdminAttemptsPerMinute),
	}
	s.limiter = cfg.Limiter
	if s.limiter == nil {
		ml, err := NewMemoryLimiter(0)
		if err != nil {
			return nil, fmt.Errorf("httpapi: rate limiter: %w", err)
		}
		s.limiter, s.ownLimit = ml, ml
	}
	s.registerRoutes()
	doc, err := s.buildOpenAPI()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("httpapi: openapi document: %w", err)
	}
	s.openapi = doc
	return s, nil
}

// Close releases the server's background resources (the in-process rate
// limiter's cache). It does not close the Store. It is safe to call twice.
func (s *Server) Close() {
	if s.ownLimit != nil {
		s.ownLimit.Close()
	}
}

// Patterns returns every registered route pattern ("GET /api/contacts"), in
// registration order; the OpenAPI coverage test walks them.
func (s *Server) Patterns() []string {
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.pattern
	}
	return out
}

// OpenAPI returns the OpenAPI 3.1 document served at /api/openapi.json.
func (s *Server) OpenAPI() []byte { return append([]byte(nil), s.openapi...) }
