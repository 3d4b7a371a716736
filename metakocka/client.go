package metakocka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// maxResponseBytes bounds how much of an answer is read (product lists with
// stock of 1000 products are a few MB).
const maxResponseBytes = 64 << 20

// Client calls the Metakocka REST API for one company. It is safe for
// concurrent use. Every method takes a context that bounds the whole call,
// retries included; the per-attempt timeout comes from Config.Timeouts.
type Client struct {
	cfg      Config
	base     string // BaseURL without trailing slash
	secret   mksync.Secret
	pacer    *Pacer
	log      *slog.Logger
	observer Observer
	clock    Clock
}

// New returns a Client for cfg. A configuration error is an *mksync.Error with
// code EINVALID whose message and Details name the bad field.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pacer := cfg.Pacer
	if pacer == nil {
		var err error
		if pacer, err = NewPacer(cfg.Pacing); err != nil {
			return nil, err
		}
	}
	return &Client{
		cfg:      cfg,
		base:     strings.TrimRight(cfg.BaseURL, "/"),
		secret:   cfg.SecretKey,
		pacer:    pacer,
		log:      observe.WithCategory(cfg.Logger, observe.CatMetakocka).With(slog.String("company_id", cfg.CompanyID)),
		observer: cfg.Observer,
		clock:    cfg.Clock,
	}, nil
}

// CompanyID returns the Metakocka company this client acts for.
func (c *Client) CompanyID() string { return c.cfg.CompanyID }

// methodClass selects the attempt timeout and the pacing of a method.
type methodClass int

const (
	classDefault methodClass = iota
	classList
	classSearch
)

// method describes one Metakocka call.
type method struct {
	name    string
	product bool        // lives under /json/
	class   methodClass // timeout and pacing
	// unsafe marks a call that may take effect twice if repeated (a create).
	// It is retried only after failures that prove the request was not
	// processed (HTTP 429, connection refused); other retryable failures are
	// returned so the caller can look the record up before trying again.
	unsafe bool
}

func (c *Client) url(m method) string {
	if m.product {
		return c.base + "/rest/eshop/v1/json/" + m.name
	}
	return c.base + "/rest/eshop/v1/" + m.name
}

func (c *Client) timeout(m method) time.Duration {
	switch m.class {
	case classList:
		return c.cfg.Timeouts.List
	case classSearch:
		return c.cfg.Timeouts.Search
	default:
		return c.cfg.Timeouts.Default
	}
}

// scrub removes the secret key from s.
func (c *Client) scrub(s string) string {
	if c.secret.IsZero() {
		return s
	}
	s = strings.ReplaceAll(s, c.secret.Reveal(), observe.Redacted)
	// The secret may also appear JSON- or URL-escaped in an echoed body.
	if q, err := json.Marshal(c.secret.Reveal()); err == nil {
		s = strings.ReplaceAll(s, strings.Trim(string(q), `"`), observe.Redacted)
	}
	return s
}

// body returns payload (a struct encoding to a JSON object) with secret_key
// and company_id added in front.
func (c *Client) body(payload any) ([]byte, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	p = bytes.TrimSpace(p)
	if len(p) < 2 || p[0] != '{' {
		return nil, errors.New("request is not a JSON object")
	}
	secret, _ := json.Marshal(c.secret.Reveal())
	company, _ := json.Marshal(c.cfg.CompanyID)
	var b bytes.Buffer
	b.Grow(len(p) + len(secret) + len(company) + 32)
	b.WriteString(`{"secret_key":`)
	b.Write(secret)
	b.WriteString(`,"company_id":`)
	b.Write(company)
	if rest := bytes.TrimSpace(p[1:]); len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(p[1:])
	return b.Bytes(), nil
}

// call sends payload to method m, retrying as configured, and decodes the
// answer into out (a pointer, or nil to ignore the body). Every failure is an
// *Error.
func (c *Client) call(ctx context.Context, m method, payload, out any) error {
	body, err := c.body(payload)
	if err != nil {
		return &Error{Method: m.name, code: mksync.EINVALID, reason: "encode",
			Err: safeError(fmt.Errorf("encode request: %w", err), c.scrub)}
	}

	// The backoff schedule: exponential, no built-in jitter (full jitter is
	// applied below), capped per interval.
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     c.cfg.Retry.InitialInterval,
		RandomizationFactor: 0,
		Multiplier:          c.cfg.Retry.Multiplier,
		MaxInterval:         c.cfg.Retry.MaxInterval,
	}
	bo.Reset()
	start := c.clock.Now()

	for attempt := 1; ; attempt++ {
		e := c.attempt(ctx, m, body, out)
		if e == nil {
			return nil
		}
		if !e.Retryable || attempt > c.cfg.Retry.MaxRetries || ctx.Err() != nil ||
			(m.unsafe && !e.notProcessed()) {
			return e
		}
		wait := e.RetryAfter
		if wait == 0 {
			wait = fullJitter(bo.NextBackOff())
		}
		if elapsed := c.clock.Now().Sub(start); elapsed+wait > c.cfg.Retry.MaxElapsed {
			return e
		}
		if dl, ok := ctx.Deadline(); ok && c.clock.Now().Add(wait).After(dl) {
			return e
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "metakocka call failed, retrying",
			slog.String("method", m.name),
			slog.Int("attempt", attempt),
			slog.String("reason", e.Reason()),
			slog.String("error", e.Error()),
			slog.Duration("wait", wait))
		c.observer.OnRetry(m.name, e.Reason(), wait)
		if err := c.clock.Sleep(ctx, wait); err != nil {
			return classify(response{method: m.name, parentErr: err, scrub: c.scrub})
		}
	}
}

// fullJitter returns a random duration in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// notProcessed reports whether the failure proves Metakocka did not act on
// the request, so that even a create may be repeated.
func (e *Error) notProcessed() bool {
	if e.HTTPStatus == http.StatusTooManyRequests {
		return true
	}
	var se *scrubbedError
	return errors.As(e.Err, &se) && se.dialFailed
}

// sampleOf is what an attempt that took dur and ended with e (nil: ok)
// says about the company's load.
func sampleOf(dur time.Duration, e *Error) Sample {
	s := Sample{Latency: dur}
	if e == nil {
		return s
	}
	switch {
	case e.HTTPStatus == http.StatusTooManyRequests:
		s.RateLimited, s.RetryAfter = true, e.RetryAfter
	case e.HTTPStatus >= 500, errors.Is(e.Err, context.DeadlineExceeded):
		s.Overloaded = true
	}
	return s
}

// attempt makes one paced HTTP request.
func (c *Client) attempt(ctx context.Context, m method, body []byte, out any) *Error {
	// The caller's own limit first: waiting for it must not hold one of
	// the company's slots (nor count as pacing).
	releaseCall, err := acquireCall(ctx)
	if err != nil {
		return classify(response{method: m.name, parentErr: err, scrub: c.scrub})
	}
	defer releaseCall()
	waitStart := c.clock.Now()
	release, err := c.pacer.acquire(ctx, c.cfg.CompanyID, m.class == classSearch)
	if po, ok := c.observer.(PacingObserver); ok {
		po.OnPacingWait(m.name, c.clock.Now().Sub(waitStart))
	}
	if err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("waiting for the rate limit: %w", context.DeadlineExceeded)
		}
		return classify(response{method: m.name, parentErr: err, scrub: c.scrub})
	}

	actx, cancel := context.WithTimeout(ctx, c.timeout(m))
	defer cancel()
	started := c.clock.Now()
	r := c.roundTrip(actx, m, body)
	if r.err != nil && ctx.Err() != nil {
		// The caller gave up. (A complete answer that arrived just before
		// is still used: the call may have taken effect.)
		r.parentErr = ctx.Err()
	}
	if r.err == nil && r.parentErr == nil && out != nil && r.status == http.StatusOK {
		r.decodeErr = json.Unmarshal(r.body, out)
	}
	e := classify(r)
	dur := c.clock.Now().Sub(started)
	sample := sampleOf(dur, e)
	release(sample)
	if bo, ok := c.observer.(BudgetObserver); ok {
		st := c.pacer.Limit(c.cfg.CompanyID)
		bo.OnBudget(c.cfg.CompanyID, st.Limit, st.LatencyFloor, sample.RateLimited)
	}
	outcome := "ok"
	if e != nil {
		outcome = e.Code()
	}
	c.observer.OnRequest(m.name, outcome, dur)
	c.log.LogAttrs(ctx, slog.LevelDebug, "metakocka request",
		slog.String("method", m.name),
		slog.String("outcome", outcome),
		slog.Int("status", r.status),
		slog.Duration("duration", dur))
	return e
}

func (c *Client) roundTrip(ctx context.Context, m method, body []byte) response {
	r := response{method: m.name, scrub: c.scrub, now: c.clock.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(m), bytes.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.status, r.header = resp.StatusCode, resp.Header
	r.body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		r.err = fmt.Errorf("read answer: %w", err)
	}
	return r
}

// Ping checks that Metakocka accepts the configured company id and secret key
// with a cheap call (a product_list window of one). An error with code
// EUNAUTHORIZED means the credentials are wrong.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.ProductList(ctx, ProductListRequest{Limit: 1})
	return err
}
