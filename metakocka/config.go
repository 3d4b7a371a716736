package metakocka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/mksync/mksync"
)

// DefaultBaseURL is Metakocka's production endpoint.
const DefaultBaseURL = "https://main.metakocka.si"

// Config configures a Client. Zero fields take the documented defaults.
type Config struct {
	// BaseURL is scheme://host[:port] of Metakocka; default DefaultBaseURL.
	// Calls go to BaseURL/rest/eshop/v1/<method> (products under /json/).
	BaseURL string
	// CompanyID is the Metakocka company_id. Required.
	CompanyID string
	// SecretKey is the company's secret_key. Required. It is sent only in
	// request bodies and never appears in errors or logs.
	SecretKey mksync.Secret
	// HTTPClient sends the requests; default a client on NewTransport (no
	// proxy from the environment). Its Timeout should be 0: the per-method
	// Timeouts bound each attempt. Its CheckRedirect is replaced: the client
	// never follows a redirect (Metakocka's API sends none, and following
	// one would carry the secret key to an address nobody allowed).
	HTTPClient *http.Client
	// UserAgent is sent with every request; default "mksync-metakocka".
	UserAgent string
	// Retry configures retries of failed attempts.
	Retry RetryConfig
	// Pacing configures the per-company rate limit and concurrency, used when
	// Pacer is nil.
	Pacing PacingConfig
	// Pacer shares pacing between all Clients of one process; pass the same
	// Pacer to every Client. Nil creates a private Pacer from Pacing.
	Pacer *Pacer
	// Timeouts bound each attempt, by method class.
	Timeouts Timeouts
	// Logger receives one line per retry (category METAKOCKA) and a debug
	// line per request; default a logger that discards.
	Logger *slog.Logger
	// Observer is told about every request and retry (metrics); default no-op.
	Observer Observer
	// Clock provides time and waits for retries; default the real clock.
	// Tests inject one so that backoff does not really sleep.
	Clock Clock
}

// NewTransport returns the transport Metakocka requests should use: that of
// http.DefaultTransport but taking no proxy from the environment
// (HTTPS_PROXY would dial on the client's behalf, to addresses the tenant
// URL allow-list never saw), keeping maxIdlePerHost idle connections per
// host (0: http.DefaultTransport's). An operator who needs a proxy sets
// Proxy on it and passes it in Config.HTTPClient.
func NewTransport(maxIdlePerHost int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	if maxIdlePerHost > 0 {
		t.MaxIdleConnsPerHost = maxIdlePerHost
	}
	return t
}

// refuseRedirect is the client's CheckRedirect: the 3xx answer itself is
// returned (and classified as an upstream error), nothing is sent to the
// address it names.
func refuseRedirect(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}

// RetryConfig configures exponential backoff with full jitter: before retry n
// the client waits a random duration in [0, min(MaxInterval,
// InitialInterval*Multiplier^(n-1))], or exactly the server's Retry-After
// when it sent one.
type RetryConfig struct {
	// MaxRetries is the number of retries after the first attempt; default 3.
	// Set Disabled to make no retries.
	MaxRetries int
	// Disabled turns retries off (MaxRetries 0 means "default").
	Disabled bool
	// InitialInterval is the first backoff interval; default 1s.
	InitialInterval time.Duration
	// Multiplier grows the interval per retry; default 2.
	Multiplier float64
	// MaxInterval caps one backoff interval; default 30s.
	MaxInterval time.Duration
	// MaxElapsed caps the total time spent on one call including waits;
	// default 2m. A retry whose wait would pass it is not made.
	MaxElapsed time.Duration
}

// PacingConfig limits how hard one Metakocka company is driven.
type PacingConfig struct {
	// RequestsPerSecond is the sustained request rate per company; default 5.
	// Negative means unlimited.
	RequestsPerSecond float64
	// Burst is how many requests may start at once after idling; default 5.
	Burst int
	// MaxInFlight is the maximum of concurrent requests per company; default
	// 4, or DefaultAdaptiveCeiling when Adaptive.
	MaxInFlight int
	// Adaptive finds each company's in-flight limit (AdaptiveLimit) instead
	// of fixing it at MaxInFlight, which then is the operator's ceiling.
	Adaptive bool
	// Slots keeps the requests in flight; share one SlotStore between
	// processes (a database) to bound a company's requests across a fleet.
	// Nil: this Pacer's own MemorySlots.
	Slots SlotStore
	// Rates keeps the requests per second; share one RateStore between
	// processes (a database or Redis) to bound a company's rate across a
	// fleet. Nil: this Pacer's own MemoryRates.
	Rates RateStore
}

// Timeouts bound one attempt of a call, by method class. Metakocka answers
// are slow (documented opr_time_ms up to 47.8 s), so the defaults are generous.
type Timeouts struct {
	// Default applies to single-record calls; default 60s.
	Default time.Duration
	// List applies to product_list; default 120s.
	List time.Duration
	// Search applies to search; default 120s.
	Search time.Duration
}

// Clock is time as the retry logic sees it.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Observer is told about requests and retries; the metrics package implements
// it. Methods must be safe for concurrent use and must not block.
type Observer interface {
	// OnRequest is called after every HTTP attempt with the method, the
	// outcome ("ok" or the mksync error code) and the attempt's duration.
	OnRequest(method, outcome string, d time.Duration)
	// OnRetry is called before each retry wait with a bounded reason label
	// (see Error.Reason).
	OnRetry(method, reason string, wait time.Duration)
}

// PacingObserver may also be implemented by an Observer: it is then told,
// before every HTTP attempt, how long the attempt waited for the Pacer (rate
// limit, in-flight bound, one search at a time). Same rules as Observer.
type PacingObserver interface {
	OnPacingWait(method string, wait time.Duration)
}

// BudgetObserver may also be implemented by an Observer: after every HTTP
// attempt it is told the company's in-flight limit (adaptive or fixed), its
// latency floor (0 when fixed) and whether the attempt was answered 429.
// Same rules as Observer.
type BudgetObserver interface {
	OnBudget(companyID string, limit int, floor time.Duration, rateLimited bool)
}

type nopObserver struct{}

func (nopObserver) OnRequest(string, string, time.Duration) {}
func (nopObserver) OnRetry(string, string, time.Duration)   {}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	return sleep(ctx, d)
}

// ShortSleeps is a Clock on real time whose sleeps last at most Max: tests
// and benchmarks that go through retries (backoff and Retry-After
// included) without waiting for them, so that their figures measure the
// engine rather than the backoff.
type ShortSleeps struct{ Max time.Duration }

func (ShortSleeps) Now() time.Time { return time.Now() }

func (c ShortSleeps) Sleep(ctx context.Context, d time.Duration) error {
	return sleep(ctx, min(d, c.Max))
}

// sleep waits for d or until ctx ends (then ctx.Err()).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.UserAgent == "" {
		c.UserAgent = "mksync-metakocka"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: NewTransport(0)}
	}
	// A copy, so that the caller's client keeps its own redirect policy.
	hc := *c.HTTPClient
	hc.CheckRedirect = refuseRedirect
	c.HTTPClient = &hc
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	c.Retry = c.Retry.withDefaults()
	c.Pacing = c.Pacing.withDefaults()
	c.Timeouts = c.Timeouts.withDefaults()
	return c
}

func (r RetryConfig) withDefaults() RetryConfig {
	if r.MaxRetries == 0 {
		r.MaxRetries = 3
	}
	if r.Disabled {
		r.MaxRetries = 0
	}
	if r.InitialInterval == 0 {
		r.InitialInterval = time.Second
	}
	if r.Multiplier == 0 {
		r.Multiplier = 2
	}
	if r.MaxInterval == 0 {
		r.MaxInterval = 30 * time.Second
	}
	if r.MaxElapsed == 0 {
		r.MaxElapsed = 2 * time.Minute
	}
	return r
}

func (p PacingConfig) withDefaults() PacingConfig {
	if p.RequestsPerSecond == 0 {
		p.RequestsPerSecond = 5
	}
	if p.Burst == 0 {
		p.Burst = 5
	}
	if p.MaxInFlight == 0 {
		p.MaxInFlight = 4
		if p.Adaptive {
			p.MaxInFlight = DefaultAdaptiveCeiling
		}
	}
	if p.Slots == nil {
		p.Slots = &MemorySlots{}
	}
	if p.Rates == nil {
		p.Rates = &MemoryRates{}
	}
	return p
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Default == 0 {
		t.Default = 60 * time.Second
	}
	if t.List == 0 {
		t.List = 120 * time.Second
	}
	if t.Search == 0 {
		t.Search = 120 * time.Second
	}
	return t
}

// validate reports the first bad field of a defaulted Config by name.
func (c Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fieldError("BaseURL", "must be an absolute http(s) URL")
	case u.RawQuery != "" || u.Fragment != "":
		return fieldError("BaseURL", "must not have a query or fragment")
	case u.User != nil:
		return fieldError("BaseURL", "must not contain credentials")
	case c.CompanyID == "":
		return fieldError("CompanyID", "is required")
	case c.SecretKey.IsZero():
		return fieldError("SecretKey", "is required")
	}
	if err := c.Retry.validate(); err != nil {
		return err
	}
	if err := c.Pacing.validate(); err != nil {
		return err
	}
	return c.Timeouts.validate()
}

func (r RetryConfig) validate() error {
	switch {
	case r.MaxRetries < 0:
		return fieldError("Retry.MaxRetries", "must not be negative")
	case r.InitialInterval < 0:
		return fieldError("Retry.InitialInterval", "must not be negative")
	case r.Multiplier < 1:
		return fieldError("Retry.Multiplier", "must be at least 1")
	case r.MaxInterval < r.InitialInterval:
		return fieldError("Retry.MaxInterval", "must not be less than Retry.InitialInterval")
	case r.MaxElapsed < 0:
		return fieldError("Retry.MaxElapsed", "must not be negative")
	}
	return nil
}

func (p PacingConfig) validate() error {
	switch {
	case p.Burst < 0:
		return fieldError("Pacing.Burst", "must not be negative")
	case p.MaxInFlight < 0:
		return fieldError("Pacing.MaxInFlight", "must not be negative")
	}
	return nil
}

func (t Timeouts) validate() error {
	switch {
	case t.Default < 0:
		return fieldError("Timeouts.Default", "must not be negative")
	case t.List < 0:
		return fieldError("Timeouts.List", "must not be negative")
	case t.Search < 0:
		return fieldError("Timeouts.Search", "must not be negative")
	}
	return nil
}

// errInvalidConfig is the cause of every configuration error.
var errInvalidConfig = errors.New("invalid metakocka config")

func fieldError(field, rule string) error {
	return &mksync.Error{
		Code:    mksync.EINVALID,
		Message: fmt.Sprintf("metakocka config: %s %s", field, rule),
		Details: map[string]string{field: rule},
		Err:     errInvalidConfig,
	}
}
