package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// access says who may call a route.
type access int

const (
	public     access = iota // anyone (health, OpenAPI document)
	tenantOnly               // a tenant's API token
	adminOnly                // the admin token
)

// limitClass names the rate-limit bucket a route draws from.
type limitClass string

const (
	classNone   limitClass = "" // never limited (health probes)
	classAPI    limitClass = "api"
	classSync   limitClass = "sync"
	classClient limitClass = "client-errors"
	// classWebhook is drawn per webhook id by the webhook handler itself
	// (the route has no principal to key it by).
	classWebhook limitClass = "webhook"
)

// principal is who is calling: a tenant (through one of its tokens) or the
// admin. Handlers get it as an argument, never from the context.
type principal struct {
	TenantID string
	TokenID  string
	Admin    bool
}

// handlerFunc is a route's handler. It writes its 2xx answer itself and
// returns an error for everything else; the error becomes the envelope.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

// route is one registered pattern and how it is guarded.
type route struct {
	pattern string
	access  access
	class   limitClass
	// bodyLimit caps the request body; 0 means Config.MaxBodyBytes.
	bodyLimit int64
}

type requestInfoKey struct{}

// requestInfo is what the per-request log line reports. The route wrapper
// fills it in as the request goes; it lives in the request's context only so
// that the outermost handler can log what the inner ones learned.
type requestInfo struct {
	requestID string
	tenantID  string
	pattern   string
	errorID   string
	err       error
	// eventID is a verified webhook's X-MetaKocka-Id, for tracing an event
	// from Metakocka's webhook log to ours.
	eventID string
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// statusWriter remembers the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP implements http.Handler: request id, one log line per request,
// panic recovery, and the error envelope for unknown routes and methods.
// Every answer carries Cache-Control: no-store: most hold a tenant's
// personal data (contacts, documents, tokens), which no browser or proxy
// cache may keep.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{requestID: requestID(r)}
	w.Header().Set("X-Request-Id", info.requestID)
	w.Header().Set("Cache-Control", "no-store")
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.recovered(sw, r, v)
		}
		s.logRequest(r, info, sw, time.Since(start))
	}()
	// No route ends in "/" or holds "." segments: an unclean path ("/api//x",
	// "/api/contacts/../admin") is not found, rather than redirected by the mux.
	if p := r.URL.Path; path.Clean(p) != p {
		s.writeError(sw, r, mksync.Errorf(mksync.ENOTFOUND, "no such route"))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// unmatched answers a path no route has (404) or a method the path's
// routes do not take (405), with the envelope instead of the mux's text.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeErrorStatus(w, r, http.StatusMethodNotAllowed, mksync.Errorf(mksync.EINVALID, "method %s is not allowed here", r.Method))
		return
	}
	s.writeError(w, r, mksync.Errorf(mksync.ENOTFOUND, "no such route"))
}

// headerProbe records what the mux's fallback handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// writeErrorStatus answers err's envelope with an explicit status, for the
// few statuses no domain code maps to (405).
func (s *Server) writeErrorStatus(w http.ResponseWriter, r *http.Request, status int, err error) {
	body := httperr.Body{Error: mksync.ErrorMessage(err), Code: mksync.ErrorCode(err), ErrorID: httperr.NewID(), Details: map[string]string{}}
	if info := requestInfoFrom(r.Context()); info != nil {
		info.errorID = body.ErrorID
	}
	writeJSON(w, status, body)
}

// recovered answers a panic with a 500 envelope (when nothing was sent yet)
// and logs its value and stack; neither reaches the client.
func (s *Server) recovered(w *statusWriter, r *http.Request, v any) {
	err := mksync.WrapError(mksync.EINTERNAL, "internal error", fmt.Errorf("panic: %v", v))
	s.log.LogAttrs(r.Context(), slog.LevelError, "panic",
		slog.String("requestId", requestInfoFrom(r.Context()).requestID),
		slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())))
	if w.status != 0 {
		return // too late for an envelope; the client sees a cut answer
	}
	s.writeError(w, r, err)
}

// logRequest writes the one line per request. It never logs headers (the
// Authorization header least of all), bodies or query strings.
func (s *Server) logRequest(r *http.Request, info *requestInfo, w *statusWriter, d time.Duration) {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("requestId", info.requestID),
		slog.String("tenantId", info.tenantID),
		slog.String("method", r.Method),
		slog.String("route", info.pattern),
		slog.Int("status", status),
		slog.Int64("bytes", w.bytes),
		slog.Float64("durationMs", float64(d.Microseconds())/1000),
		slog.String("remoteIp", clientIP(r)),
	}
	if info.errorID != "" {
		attrs = append(attrs, slog.String("errorId", info.errorID))
	}
	if info.eventID != "" {
		attrs = append(attrs, slog.String("webhookEventId", info.eventID))
	}
	if info.err != nil && status >= 500 {
		attrs = append(attrs, slog.String("err", info.err.Error()))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// requestID returns the caller's X-Request-Id when it is a sane token, or a
// new one: ids end up in logs, so arbitrary text is not accepted.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && isToken(id) {
		return id
	}
	return uuid.NewString()
}

func isToken(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// clientIP is the peer address. Proxy headers (X-Forwarded-For) are not
// trusted: anyone could set them to dodge per-IP limits.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// handle registers h for pattern behind authentication, rate limiting and
// the body cap that acc and class call for.
func (s *Server) handle(pattern string, acc access, class limitClass, h handlerFunc) {
	s.handleRoute(route{pattern: pattern, access: acc, class: class}, h)
}

func (s *Server) handleRoute(rt route, h handlerFunc) {
	s.routes = append(s.routes, rt)
	s.mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
		info := requestInfoFrom(r.Context())
		info.pattern = r.Pattern
		defer func() {
			// Recover here too, so that the error record names the route
			// and tenant of the panic.
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				sw, ok := w.(*statusWriter)
				if !ok {
					sw = &statusWriter{ResponseWriter: w}
				}
				s.recovered(sw, r, v)
			}
		}()
		p, err := s.authenticate(r, rt.access)
		info.tenantID = p.TenantID
		if err != nil {
			// Failed authentication draws from the client IP's bucket, so
			// guessing tokens is rate limited too.
			if !s.allow(w, r, classAPI, "ip:"+clientIP(r)) {
				return
			}
			s.writeError(w, r, err)
			return
		}
		if rt.class != classNone && !s.allow(w, r, rt.class, limitKey(p, r)) {
			return
		}
		limit := rt.bodyLimit
		if limit == 0 {
			limit = s.cfg.MaxBodyBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := h(w, r, p); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func limitKey(p principal, r *http.Request) string {
	switch {
	case p.TenantID != "":
		return "tenant:" + p.TenantID
	case p.Admin:
		return "admin"
	}
	return "ip:" + clientIP(r)
}

// allow applies the rate limit of class to key, sets the RateLimit-* headers
// and answers 429 when the bucket is empty. It reports whether the request
// may go on.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, class limitClass, key string) bool {
	perMinute := s.cfg.RateLimitAPI
	switch class {
	case classSync:
		perMinute = s.cfg.RateLimitSync
	case classClient:
		perMinute = s.cfg.RateLimitClientErrors
	case classWebhook:
		perMinute = s.cfg.RateLimitWebhook
	}
	d, err := s.limiter.Allow(r.Context(), string(class)+":"+key, perMinute, s.cfg.Now())
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "rate limiter failed; request let through",
			slog.String("requestId", requestInfoFrom(r.Context()).requestID), slog.String("err", err.Error()))
		return true
	}
	if d.Limit <= 0 {
		return true
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=60", d.Limit))
	if d.Allowed {
		return true
	}
	retry := max(1, ceilSeconds(d.RetryAfter))
	h.Set("Retry-After", strconv.Itoa(retry))
	s.writeError(w, r, &mksync.Error{
		Code:    mksync.ERATELIMITED,
		Message: fmt.Sprintf("rate limit of %d requests per minute exceeded; retry in %d s", d.Limit, retry),
		Details: map[string]string{"limit": strconv.Itoa(d.Limit), "retryAfter": strconv.Itoa(retry)},
	})
	return false
}

// AllowSync takes one request from the tenant's sync budget (the
// RateLimitSync of the sync routes) for a sync started elsewhere — the web
// UI — so that the UI and the API share one budget per tenant. It reports
// whether the sync may go on, and otherwise how long to wait. A failing
// limiter lets the sync through, as it does for the API.
func (s *Server) AllowSync(ctx context.Context, tenantID string) (bool, time.Duration) {
	d, err := s.limiter.Allow(ctx, string(classSync)+":tenant:"+tenantID, s.cfg.RateLimitSync, s.cfg.Now())
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "rate limiter failed; UI sync let through", slog.String("err", err.Error()))
		return true, 0
	}
	if d.Allowed || d.Limit <= 0 {
		return true, 0
	}
	return false, max(time.Second, d.RetryAfter)
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// authenticate checks the bearer token that acc requires.
func (s *Server) authenticate(r *http.Request, acc access) (principal, error) {
	if acc == public {
		return principal{}, nil
	}
	tok, err := bearerToken(r)
	if err != nil {
		return principal{}, err
	}
	ctx := r.Context()
	if acc == adminOnly {
		if s.isAdminToken(r, tok) {
			return principal{Admin: true}, nil
		}
		if _, err := s.cfg.Store.AuthenticateAPIToken(ctx, mksync.HashToken(tok), s.cfg.Now()); err == nil {
			return principal{}, mksync.Errorf(mksync.EFORBIDDEN, "admin routes need the admin token")
		}
		return principal{}, errBadToken()
	}
	if !strings.HasPrefix(tok, mksync.TokenPrefix) {
		if s.isAdminToken(r, tok) {
			return principal{}, errAdminOnTenant()
		}
		return principal{}, errBadToken()
	}
	t, err := s.cfg.Store.AuthenticateAPIToken(ctx, mksync.HashToken(tok), s.cfg.Now())
	switch code := mksync.ErrorCode(err); {
	case err == nil:
		return principal{TenantID: t.TenantID, TokenID: t.ID}, nil
	case code == mksync.EUNAUTHORIZED || code == mksync.ENOTFOUND:
		if s.isAdminToken(r, tok) {
			return principal{}, errAdminOnTenant()
		}
		return principal{}, errBadToken()
	default:
		return principal{}, fmt.Errorf("authenticate token: %w", err)
	}
}

func errAdminOnTenant() error {
	return mksync.Errorf(mksync.EFORBIDDEN, "the admin token cannot read or change tenant data; use a tenant's API token")
}

func errBadToken() error {
	return mksync.Errorf(mksync.EUNAUTHORIZED, "invalid or revoked API token")
}

// isAdminToken compares tok with the stored admin token hash in constant
// time. It reads the hash on every call so that a rotated admin token takes
// effect at once; admin calls are rare.
func (s *Server) isAdminToken(r *http.Request, tok string) bool {
	hash, err := s.cfg.Store.AdminTokenHash(r.Context())
	if err != nil {
		if mksync.ErrorCode(err) != mksync.ENOTFOUND {
			s.log.LogAttrs(r.Context(), slog.LevelError, "read admin token hash", slog.String("err", err.Error()))
		}
		return false
	}
	return mksync.TokenMatches(tok, hash)
}

// bearerToken extracts the token of "Authorization: Bearer mks_…".
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", mksync.Errorf(mksync.EUNAUTHORIZED, "missing Authorization: Bearer token")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", mksync.Errorf(mksync.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\"")
	}
	if len(tok) > 256 {
		return "", errBadToken()
	}
	return tok, nil
}
