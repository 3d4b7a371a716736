package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// Alert notice events, the "event" field and X-Mksync-Event header.
const (
	EventAlertOpened   = "alert.opened"
	EventAlertResolved = "alert.resolved"
)

// Headers of an alert notice (docs/alerts.md describes the format).
const (
	HeaderEvent     = "X-Mksync-Event"
	HeaderDelivery  = "X-Mksync-Delivery"
	HeaderTimestamp = "X-Mksync-Timestamp"
	HeaderSignature = "X-Mksync-Signature"
)

// NoticeVersion is the version of the notice body format.
const NoticeVersion = 1

// Notice is an alert that opened or resolved, to be sent to webhooks.
type Notice struct {
	Event    string
	TenantID string
	Rule     string
	Alert    mksync.Alert
}

// NoticeBody is the JSON body POSTed to a webhook. Receivers deduplicate
// retried deliveries by ID (the same for every attempt of one notice).
type NoticeBody struct {
	Version  int          `json:"version"`
	ID       string       `json:"id"`
	Event    string       `json:"event"`
	SentAt   time.Time    `json:"sentAt"`
	TenantID string       `json:"tenantId"`
	Rule     string       `json:"rule"`
	Alert    mksync.Alert `json:"alert"`
}

// NotifyTarget is a webhook that receives alert notices, signed with Secret.
type NotifyTarget struct {
	URL    string
	Secret mksync.Secret
}

func (t NotifyTarget) validate() error {
	u, err := url.Parse(t.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("webhook URL must be an absolute http(s) URL")
	case len(t.Secret.Reveal()) < 16:
		return errors.New("webhook secret must be at least 16 bytes")
	}
	return nil
}

// TargetsFunc returns the webhooks of one tenant (none is fine).
type TargetsFunc func(ctx context.Context, tenantID string) ([]NotifyTarget, error)

// StoreTargets returns a TargetsFunc that reads the tenant's alert webhook
// from its stored credentials (AlertWebhookURL and AlertWebhookSecret) at
// each send. It does not cache: notices are few (alerts are deduplicated
// while open), and reading at send time means a changed or removed webhook
// takes effect on the next notice. A tenant without credentials or without
// an alert webhook has no targets.
func StoreTargets(st mksync.CredentialStore) TargetsFunc {
	return func(ctx context.Context, tenantID string) ([]NotifyTarget, error) {
		c, err := st.FindCredentials(ctx, tenantID)
		switch {
		case mksync.ErrorCode(err) == mksync.ENOTFOUND:
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("find credentials: %w", err)
		case c.AlertWebhookURL == "":
			return nil, nil
		}
		t := NotifyTarget{URL: c.AlertWebhookURL, Secret: c.AlertWebhookSecret}
		// Stores validate on write; checking again keeps an unsigned
		// notice from ever leaving, whatever the row holds.
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("tenant alert webhook: %w", err)
		}
		return []NotifyTarget{t}, nil
	}
}

// NotifierConfig configures a Notifier. Zero fields take the defaults.
type NotifierConfig struct {
	// Global receives every tenant's notices when its URL is set.
	Global NotifyTarget
	// TenantTargets adds a tenant's own webhooks; optional.
	TenantTargets TargetsFunc
	// HTTPClient sends notices to the global webhook; default a client with
	// a 10s timeout.
	HTTPClient *http.Client
	// TenantHTTPClient sends notices to the webhooks of TenantTargets;
	// default a client with a 10s timeout that connects to public addresses
	// only (PublicOnlyClient). A tenant chooses its URL: it must not make
	// the server POST to loopback, private or link-local addresses, whether
	// named directly, resolved by DNS or reached by a redirect.
	TenantHTTPClient *http.Client
	// Logger gets a line per failed delivery; default discard.
	Logger *slog.Logger
	// Clock stamps X-Mksync-Timestamp and sentAt; default the real clock.
	Clock Clock
	// Metrics, when set, counts deliveries by outcome.
	Metrics *observe.Metrics
	// MaxTries bounds the attempts of one delivery (default 6);
	// InitialInterval (default 1s, doubling with jitter) up to MaxInterval
	// (default 1m) separates them, within MaxElapsed (default 15m). A 4xx
	// answer other than 408, 425 and 429 is not retried.
	MaxTries        uint
	InitialInterval time.Duration
	MaxInterval     time.Duration
	MaxElapsed      time.Duration
	// QueueSize bounds the notices waiting in each delivery queue (default
	// 64). There is one queue for the global webhook and one per tenant for
	// its own webhooks, each worked by its own goroutine, so a webhook that
	// is slow or never answers delays and fills only its own queue. When a
	// queue is full, a notice for it is dropped, logged and counted
	// (mksync_alert_notifications_total{outcome="dropped"}).
	QueueSize int
}

func (c NotifierConfig) withDefaults() NotifierConfig {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.TenantHTTPClient == nil {
		c.TenantHTTPClient = PublicOnlyClient(10 * time.Second)
	}
	if c.Logger == nil {
		c.Logger = observe.Discard()
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.MaxTries == 0 {
		c.MaxTries = 6
	}
	if c.InitialInterval == 0 {
		c.InitialInterval = time.Second
	}
	if c.MaxInterval == 0 {
		c.MaxInterval = time.Minute
	}
	if c.MaxElapsed == 0 {
		c.MaxElapsed = 15 * time.Minute
	}
	if c.QueueSize == 0 {
		c.QueueSize = 64
	}
	return c
}

// Notifier POSTs alert notices to webhooks, signed and retried, from
// goroutines of its own so that the evaluator never waits for a receiver.
// Notices wait in bounded queues, one for the global webhook and one per
// tenant; each queue is delivered in order by one goroutine that exists
// while the queue holds notices, so one tenant's dead webhook never delays
// another tenant's notices. Safe for concurrent use.
type Notifier struct {
	cfg  NotifierConfig
	log  *slog.Logger
	life lifecycle

	mu      sync.Mutex
	ctx     context.Context // the delivery context once started; nil before
	queues  map[queueKey]*queue
	pending int // notices queued or being delivered, over all queues
	workers sync.WaitGroup
}

// queueKey names a delivery queue: the global webhook's, or one tenant's.
type queueKey struct {
	global bool
	tenant string
}

// queue holds the notices waiting for one queueKey's webhooks.
type queue struct {
	notices []Notice
	working bool // a goroutine delivers this queue
}

// NewNotifier returns a Notifier; call Start to deliver. A set Global
// target with a bad URL or a short secret is an error.
func NewNotifier(cfg NotifierConfig) (*Notifier, error) {
	cfg = cfg.withDefaults()
	if cfg.Global.URL != "" {
		if err := cfg.Global.validate(); err != nil {
			return nil, fmt.Errorf("notifier config: Global: %w", err)
		}
	}
	if cfg.QueueSize < 0 {
		return nil, fmt.Errorf("notifier config: QueueSize must not be negative, got %d", cfg.QueueSize)
	}
	return &Notifier{
		cfg:    cfg,
		log:    observe.WithCategory(cfg.Logger, observe.CatClient),
		queues: map[queueKey]*queue{},
	}, nil
}

// Start delivers queued notices until ctx ends or Stop is called. It
// returns at once; calling it again is a no-op.
func (n *Notifier) Start(ctx context.Context) error {
	n.life.start(ctx, n.run)
	return nil
}

// Stop stops delivering and waits; deliveries in progress are abandoned.
// Safe to call twice and before Start.
func (n *Notifier) Stop() { n.life.stop() }

// run starts a worker for every queue filled before Start, then waits
// until the end and for the workers to return.
func (n *Notifier) run(ctx context.Context) {
	n.mu.Lock()
	n.ctx = ctx
	for k, q := range n.queues {
		n.work(k, q)
	}
	n.mu.Unlock()
	<-ctx.Done()
	n.workers.Wait()
}

// Notify queues a notice for the global webhook and for the tenant's own;
// it never blocks.
func (n *Notifier) Notify(no Notice) {
	if n.cfg.Global.URL != "" {
		n.enqueue(queueKey{global: true}, no)
	}
	if n.cfg.TenantTargets != nil && no.TenantID != "" {
		n.enqueue(queueKey{tenant: no.TenantID}, no)
	}
}

// enqueue adds no to the queue k, or drops it when that queue is full.
func (n *Notifier) enqueue(k queueKey, no Notice) {
	n.mu.Lock()
	q := n.queues[k]
	if q == nil {
		q = &queue{}
		n.queues[k] = q
	}
	if len(q.notices) >= n.cfg.QueueSize {
		n.mu.Unlock()
		n.count(observe.NotificationDropped)
		webhook := "tenant"
		if k.global {
			webhook = "global"
		}
		n.log.LogAttrs(context.Background(), slog.LevelError, "alert notice dropped: queue full",
			slog.String("tenant_id", no.TenantID), slog.String("alert_key", no.Alert.Key), slog.String("event", no.Event),
			slog.String("webhook", webhook), slog.Int("queue_size", n.cfg.QueueSize))
		return
	}
	q.notices = append(q.notices, no)
	n.pending++
	n.work(k, q)
	n.mu.Unlock()
}

// work starts the goroutine of queue k unless it runs or the Notifier has
// not started (or has stopped). n.mu must be held.
func (n *Notifier) work(k queueKey, q *queue) {
	if q.working || n.ctx == nil || n.ctx.Err() != nil || len(q.notices) == 0 {
		return
	}
	q.working = true
	n.workers.Add(1)
	go n.drain(n.ctx, k, q)
}

// drain delivers queue k's notices in order until it is empty (then the
// queue is forgotten and the goroutine ends) or ctx ends.
func (n *Notifier) drain(ctx context.Context, k queueKey, q *queue) {
	defer n.workers.Done()
	for {
		n.mu.Lock()
		if len(q.notices) == 0 || ctx.Err() != nil {
			q.working = false
			if len(q.notices) == 0 {
				delete(n.queues, k)
			}
			n.mu.Unlock()
			return
		}
		no := q.notices[0]
		q.notices[0] = Notice{}
		q.notices = q.notices[1:]
		n.mu.Unlock()

		if k.global {
			n.deliverTo(ctx, no, []target{{n.cfg.Global, n.cfg.HTTPClient}})
		} else {
			n.deliverTo(ctx, no, n.tenantTargets(ctx, no.TenantID))
		}
		n.finished()
	}
}

// Flush waits until every notice queued so far was delivered or given up.
func (n *Notifier) Flush(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		n.mu.Lock()
		p := n.pending
		n.mu.Unlock()
		if p == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (n *Notifier) finished() {
	n.mu.Lock()
	n.pending--
	n.mu.Unlock()
}

func (n *Notifier) count(outcome string) {
	n.cfg.Metrics.AlertNotification(outcome)
}

// target is a webhook with the client that may reach it.
type target struct {
	NotifyTarget
	client *http.Client
}

// tenantTargets returns the tenant's own webhooks, leaving out the global
// one (which has its own queue).
func (n *Notifier) tenantTargets(ctx context.Context, tenantID string) []target {
	ts, err := n.cfg.TenantTargets(ctx, tenantID)
	if err != nil {
		n.log.LogAttrs(ctx, slog.LevelError, "could not look up the tenant's alert webhooks",
			slog.String("tenant_id", tenantID), slog.String("error", err.Error()))
	}
	var out []target
	for _, t := range ts {
		if t.URL != n.cfg.Global.URL {
			out = append(out, target{t, n.cfg.TenantHTTPClient})
		}
	}
	return out
}

// deliverTo sends no to every target at once and waits for all of them,
// so that each target still gets its notices in order.
func (n *Notifier) deliverTo(ctx context.Context, no Notice, targets []target) {
	if len(targets) == 0 {
		return
	}
	id := no.Alert.ID
	if id == "" {
		id = no.TenantID + ":" + no.Alert.Key
	}
	deliveryID := id + ":" + no.Event
	body, err := json.Marshal(NoticeBody{
		Version: NoticeVersion, ID: deliveryID, Event: no.Event, SentAt: n.cfg.Clock.Now().UTC(),
		TenantID: no.TenantID, Rule: no.Rule, Alert: no.Alert,
	})
	if err != nil {
		n.log.LogAttrs(ctx, slog.LevelError, "could not encode alert notice", slog.String("error", err.Error()))
		return
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			if err := n.deliver(ctx, t.client, t.NotifyTarget, no.Event, deliveryID, body); err != nil {
				n.count(observe.NotificationFailed)
				n.log.LogAttrs(ctx, slog.LevelError, "alert notice not delivered",
					slog.String("tenant_id", no.TenantID), slog.String("alert_key", no.Alert.Key),
					slog.String("event", no.Event), slog.String("webhook_host", hostOf(t.URL)), slog.String("error", err.Error()))
				return
			}
			n.count(observe.NotificationSent)
		})
	}
	wg.Wait()
}

// deliver POSTs body to t, retrying transient failures. Each attempt is
// signed with a fresh timestamp.
func (n *Notifier) deliver(ctx context.Context, client *http.Client, t NotifyTarget, event, deliveryID string, body []byte) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = n.cfg.InitialInterval, n.cfg.MaxInterval
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, n.attempt(ctx, client, t, event, deliveryID, body)
	}, backoff.WithBackOff(bo), backoff.WithMaxTries(n.cfg.MaxTries), backoff.WithMaxElapsedTime(n.cfg.MaxElapsed))
	return err
}

func (n *Notifier) attempt(ctx context.Context, client *http.Client, t NotifyTarget, event, deliveryID string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(errors.New("bad webhook URL"))
	}
	ts := n.cfg.Clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mksync-alerts")
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, deliveryID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign([]byte(t.Secret.Reveal()), ts, body))
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may hold a token (chat
		// webhooks put one in the path): keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post notice: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s == http.StatusTooEarly || s >= 500:
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
			return backoff.RetryAfter(min(secs, 300))
		}
		return fmt.Errorf("webhook answered HTTP %d", s)
	default:
		return backoff.Permanent(fmt.Errorf("webhook answered HTTP %d", s))
	}
}

// hostOf returns the host of a webhook URL, the only part that is logged.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host
}

// Sign returns the X-Mksync-Signature value of body sent at timestamp (Unix
// seconds): "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of VerifySignature.
var (
	ErrSignatureMismatch = errors.New("alert notice signature does not match")
	ErrSignatureExpired  = errors.New("alert notice timestamp is outside the allowed window")
)

// VerifySignature checks a received notice: timestamp and signature are
// the X-Mksync-Timestamp and X-Mksync-Signature headers, body the raw
// request body. It returns ErrSignatureExpired when the timestamp is more
// than maxAge away from now (replays), ErrSignatureMismatch when the
// signature is wrong or malformed, nil when the notice is authentic. The
// comparison takes constant time.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, maxAge time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxAge || d < -maxAge {
		return ErrSignatureExpired
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return ErrSignatureMismatch
	}
	return nil
}
