// Package client is a typed Go client for mksync's REST API.
//
// Every method takes a context, sends one API request (retrying the
// idempotent ones, see Retry) and returns the domain types of package mksync
// (mksync.Contact, mksync.SyncResult, mksync.SyncRun …). Every non-2xx answer
// becomes an *Error carrying the API's error envelope (code, errorId,
// details) and the HTTP status; mksync.ErrorCode works on it, so callers
// branch on mksync.ENOTFOUND, mksync.EINVALID … exactly as server code does.
//
// A Client is safe for concurrent use. It never logs, and its token appears
// in no error, String or JSON form.
//
// It imports only the standard library and the root package's types: no
// package of the server. Its end-to-end tests (in e2e/) start the real
// server through app/apptest.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/mksync/mksync"
)

// Version is the client's version, sent in its User-Agent.
const Version = "0.1.0"

// Defaults of Config.
const (
	// DefaultTimeout bounds one attempt of a request. It is generous because
	// a single-record sync waits for Metakocka, whose slow calls take tens of
	// seconds (the server itself allows a write 3 minutes).
	DefaultTimeout = 3 * time.Minute
	// DefaultMaxRetries is how often a retryable request is tried again.
	DefaultMaxRetries = 3
	// DefaultInitialInterval is the first back-off wait; it doubles (with
	// jitter) up to DefaultMaxInterval.
	DefaultInitialInterval = 500 * time.Millisecond
	DefaultMaxInterval     = 30 * time.Second
	// DefaultMaxElapsed bounds the waits and attempts of one call; a
	// Retry-After beyond it ends the call with the 429/503 *Error instead.
	DefaultMaxElapsed = 2 * time.Minute
	// DefaultMaxResponseBytes caps a response body read into memory.
	DefaultMaxResponseBytes = 64 << 20
)

// Config configures a Client. Zero fields take the documented defaults.
type Config struct {
	// BaseURL of the deployment, e.g. "https://mksync.example.com";
	// required. A path prefix (a reverse proxy's) is kept.
	BaseURL string
	// Token is a tenant's API token (mks_…) for tenant routes, or the admin
	// token for the admin methods. Sent as "Authorization: Bearer"; never
	// printed (mksync.Secret redacts itself).
	Token mksync.Secret
	// HTTPClient sends the requests; default a client with no overall
	// timeout (Timeout bounds each attempt instead).
	HTTPClient *http.Client
	// Timeout bounds one attempt (connect, send, wait, read); default
	// DefaultTimeout. The context passed to a method bounds the whole call.
	Timeout time.Duration
	// UserAgent is put before the client's own product token, e.g.
	// "acme-crm/2.3"; the header is "<UserAgent> mksync-go-client/<Version>".
	UserAgent string
	// Retry configures retries; see Retry.
	Retry Retry
}

// Retry configures how requests are retried.
//
// GET, PUT and DELETE are idempotent and are retried on 429, 502, 503 and
// 504 answers and on transport failures (connection refused or reset, an
// attempt's timeout), waiting Retry-After when the server sends it and an
// exponential back-off with jitter otherwise. POSTs create records and start
// syncs, so they are never retried blindly: only a 429 is retried (the API's
// rate limiter refuses a request before any handler runs, so nothing
// happened), and only while RetryRateLimitedPOST is on.
//
// A retried PUT whose first attempt was applied answers 409 (its version is
// stale now); a retried DELETE whose first attempt was applied answers 404,
// which the client reports as success, since the record is gone either way.
type Retry struct {
	// MaxRetries is the number of retries after the first attempt; default
	// DefaultMaxRetries, negative disables retries.
	MaxRetries int
	// InitialInterval and MaxInterval bound the exponential back-off;
	// defaults DefaultInitialInterval and DefaultMaxInterval.
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// MaxElapsed bounds one call's attempts and waits; default
	// DefaultMaxElapsed.
	MaxElapsed time.Duration
	// NoRateLimitedPOST turns off the retry of POSTs answered 429.
	NoRateLimitedPOST bool
}

// Client calls one mksync deployment with one token.
type Client struct {
	base      *url.URL
	token     mksync.Secret
	hc        *http.Client
	timeout   time.Duration
	userAgent string
	retry     Retry
}

// New returns a client for cfg. Errors name the bad field.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("client: Config.BaseURL is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: Config.BaseURL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("client: Config.Timeout must not be negative, got %s", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	r := cfg.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = DefaultMaxRetries
	}
	if r.InitialInterval <= 0 {
		r.InitialInterval = DefaultInitialInterval
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = DefaultMaxInterval
	}
	if r.MaxElapsed <= 0 {
		r.MaxElapsed = DefaultMaxElapsed
	}
	ua := "mksync-go-client/" + Version
	if cfg.UserAgent != "" {
		ua = cfg.UserAgent + " " + ua
	}
	return &Client{base: u, token: cfg.Token, hc: cfg.HTTPClient, timeout: cfg.Timeout, userAgent: ua, retry: r}, nil
}

// WithToken returns a client for the same deployment and settings that
// authenticates with token (e.g. a tenant token made with the admin client).
func (c *Client) WithToken(token mksync.Secret) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// BaseURL returns the deployment's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// request is one API call.
type request struct {
	method string
	path   string // escaped path below the base URL, e.g. "/api/contacts/x"
	query  url.Values
	body   any // JSON-encoded when not nil
	// out receives the decoded 2xx body when not nil.
	out any
	// notFoundOK makes a 404 on a retried attempt a success (DELETE).
	notFoundOK bool
}

// response is what do learned beyond the decoded body.
type response struct {
	status int
	header http.Header
}

// do sends req with the retry policy and decodes the answer.
func (c *Client) do(ctx context.Context, req request) (response, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return response{}, fmt.Errorf("%s %s: encode request: %w", req.method, req.path, err)
		}
	}
	idempotent := req.method == http.MethodGet || req.method == http.MethodPut || req.method == http.MethodDelete || req.method == http.MethodHead
	attempt := 0
	op := func() (response, error) {
		attempt++
		resp, err := c.once(ctx, req, body)
		if err == nil {
			return resp, nil
		}
		var apiErr *Error
		if errors.As(err, &apiErr) {
			if req.notFoundOK && attempt > 1 && apiErr.Status == http.StatusNotFound {
				return response{status: http.StatusNoContent, header: apiErr.Header}, nil
			}
			if !c.retryable(req.method, idempotent, apiErr.Status) {
				return resp, backoff.Permanent(err)
			}
			if apiErr.RetryAfter > 0 {
				return resp, &retryAfter{err: err, after: apiErr.RetryAfter}
			}
			return resp, err
		}
		// A transport failure: the request may or may not have arrived.
		if !idempotent || ctx.Err() != nil {
			return resp, backoff.Permanent(err)
		}
		return resp, err
	}
	opts := []backoff.RetryOption{
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     c.retry.InitialInterval,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         c.retry.MaxInterval,
		}),
		backoff.WithMaxElapsedTime(c.retry.MaxElapsed),
		backoff.WithMaxTries(uint(max(c.retry.MaxRetries, 0)) + 1),
	}
	resp, err := backoff.Retry(ctx, op, opts...)
	if err != nil {
		var ra *retryAfter
		if errors.As(err, &ra) {
			err = ra.err
		}
		var apiErr *Error
		if !errors.As(err, &apiErr) {
			err = fmt.Errorf("%s %s: %w", req.method, req.path, err)
		}
		return resp, err
	}
	return resp, nil
}

// retryable reports whether an answer with status may be tried again.
func (c *Client) retryable(method string, idempotent bool, status int) bool {
	if !idempotent {
		return method == http.MethodPost && status == http.StatusTooManyRequests && !c.retry.NoRateLimitedPOST
	}
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter carries the server's Retry-After to backoff.Retry, which finds
// it with errors.As, while keeping the *Error for the caller.
type retryAfter struct {
	err   error
	after time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() error { return r.err }

// As lets backoff.Retry see the wait the server asked for.
func (r *retryAfter) As(target any) bool {
	if t, ok := target.(**backoff.RetryAfterError); ok {
		*t = &backoff.RetryAfterError{Duration: r.after}
		return true
	}
	return false
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, req request, body []byte) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + req.path
	u.RawPath = c.base.EscapedPath() + req.path
	if len(req.query) > 0 {
		u.RawQuery = req.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), rd)
	if err != nil {
		return response{}, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if !c.token.IsZero() {
		hr.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return response{}, fmt.Errorf("send request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxResponseBytes+1))
	if err != nil {
		return response{}, fmt.Errorf("read answer: %w", err)
	}
	if len(raw) > DefaultMaxResponseBytes {
		return response{}, fmt.Errorf("answer larger than %d bytes", DefaultMaxResponseBytes)
	}
	out := response{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, newError(req.method, req.path, resp, raw)
	}
	if req.out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(raw, req.out); err != nil {
			return out, fmt.Errorf("decode %d answer: %w", resp.StatusCode, err)
		}
	}
	return out, nil
}

// path joins escaped path segments: path("api", "contacts", id).
func path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// PageOptions asks for one page of a list.
type PageOptions struct {
	// Cursor is the NextCursor of the previous page; "" for the first.
	Cursor string
	// Limit is the page size, 1–1000; 0 means the server's default (50).
	Limit int
}

func (p PageOptions) values() url.Values {
	q := url.Values{}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// Page is one page of a list. NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// Status is the answer of health checks and actions without a result.
type Status struct {
	Status string `json:"status"`
}

// Healthz checks that the process is up (GET /healthz).
func (c *Client) Healthz(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/healthz"})
	return err
}

// Readyz checks that the deployment can reach its database (GET /readyz);
// a 503 *Error when it cannot.
func (c *Client) Readyz(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/readyz"})
	return err
}

// OpenAPI returns the deployment's OpenAPI 3.1 document as served at
// /api/openapi.json.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var doc json.RawMessage
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/openapi.json", out: &doc})
	return doc, err
}
