package metakocka_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
)

const (
	testCompany = "16"
	testSecret  = "s3cr3t-8899-do-not-leak"
)

// fakeClock records retry waits instead of sleeping.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func() // called on each Sleep, e.g. to cancel the context
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	f := c.onSleep
	c.mu.Unlock()
	if f != nil {
		f()
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// reply is one scripted answer.
type reply struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

var okPartners = reply{status: 200, body: `{"partner_list_count":"1","partner_list":[{"mk_id":"1","customer":"Janez"}]}`}

// scripted serves replies in order (the last one repeats) and records
// requests.
type scripted struct {
	mu      sync.Mutex
	replies []reply
	calls   int
	reqs    []recorded
}

type recorded struct {
	path   string
	method string
	header http.Header
	body   map[string]any
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	s.mu.Lock()
	rep := s.replies[min(s.calls, len(s.replies)-1)]
	s.calls++
	s.reqs = append(s.reqs, recorded{path: r.URL.Path, method: r.Method, header: r.Header.Clone(), body: body})
	s.mu.Unlock()
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (s *scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

type bundle struct {
	srv    *httptest.Server
	client *metakocka.Client
	clock  *fakeClock
	logs   *observe.LogBuffer
	obs    *countingObserver
}

type countingObserver struct {
	requests, retries atomic.Int64
	mu                sync.Mutex
	reasons           []string
}

func (o *countingObserver) OnRequest(string, string, time.Duration) { o.requests.Add(1) }
func (o *countingObserver) OnRetry(_ string, reason string, _ time.Duration) {
	o.retries.Add(1)
	o.mu.Lock()
	o.reasons = append(o.reasons, reason)
	o.mu.Unlock()
}

// setup starts h on httptest and returns a client for it with a fake clock,
// unlimited pacing and a captured debug log.
func setup(t *testing.T, h http.Handler, mod func(*metakocka.Config)) bundle {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b := bundle{srv: srv, clock: newFakeClock(), logs: &observe.LogBuffer{}, obs: &countingObserver{}}
	cfg := metakocka.Config{
		BaseURL:    srv.URL,
		CompanyID:  testCompany,
		SecretKey:  mksync.Secret(testSecret),
		HTTPClient: srv.Client(),
		UserAgent:  "mksync-test/1",
		Logger:     observe.NewLogger(b.logs, observe.Options{Level: slog.LevelDebug}),
		Observer:   b.obs,
		Clock:      b.clock,
		Pacing:     metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 16},
		Timeouts:   metakocka.Timeouts{Default: 2 * time.Second, List: 2 * time.Second, Search: 2 * time.Second},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := metakocka.New(cfg)
	require.NoError(t, err)
	b.client = c
	return b
}

func TestRequestShape(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: `{"opr_code":"0","mk_id":"9","count_code":"P1"}`}}}
	b := setup(t, h, nil)
	ctx := context.Background()

	_, err := b.client.ProductAdd(ctx, metakocka.Product{CountCode: "P1", Code: "c", Name: "n", Unit: "kos",
		Weight: metakocka.MustDecimal("6,3"), Sales: metakocka.NewBool(true)})
	require.NoError(t, err)
	_, err = b.client.GetPartner(ctx, metakocka.PartnerQuery{PartnerName: "janez"})
	require.NoError(t, err)

	require.Len(t, h.reqs, 2)
	p := h.reqs[0]
	require.Equal(t, http.MethodPost, p.method)
	require.Equal(t, "/rest/eshop/v1/json/product_add", p.path)
	require.Equal(t, "mksync-test/1", p.header.Get("User-Agent"))
	require.Equal(t, "application/json", p.header.Get("Content-Type"))
	require.Equal(t, testSecret, p.body["secret_key"])
	require.Equal(t, testCompany, p.body["company_id"])
	require.Equal(t, "6.3", p.body["weight"])
	require.Equal(t, "true", p.body["sales"])
	require.NotContains(t, p.body, "height", "unset fields are not sent")

	g := h.reqs[1]
	require.Equal(t, "/rest/eshop/v1/get_partner", g.path)
	require.Equal(t, "janez", g.body["partner_name"])
	require.Equal(t, testSecret, g.body["secret_key"])
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := okPartners
	tests := []struct {
		name      string
		replies   []reply
		calls     int
		code      string // "" = success
		retryable bool
		sleeps    []time.Duration // exact waits, when known
	}{
		{name: "fails twice then succeeds", replies: []reply{{status: 503}, {status: 500}, ok}, calls: 3},
		{name: "502 and 504 are retried", replies: []reply{{status: 502}, {status: 504}, ok}, calls: 3},
		{name: "gives up after MaxRetries", replies: []reply{{status: 500}}, calls: 4, code: mksync.EUPSTREAM, retryable: true},
		{name: "bad input is not retried", replies: []reply{{status: 200, body: `{"opr_code":"2","opr_desc":"Paramether 'x' has invalid value"}`}},
			calls: 1, code: mksync.EINVALID},
		{name: "wrong secret is not retried", replies: []reply{{status: 200, body: `{"opr_code":"1","opr_desc":"Authentication failed : wrong company_id or secret_key"}`}},
			calls: 1, code: mksync.EUNAUTHORIZED},
		{name: "undecodable answer is not retried", replies: []reply{{status: 200, body: `{"partner_list":[{"mk_id":{}}]}`}},
			calls: 1, code: mksync.EUPSTREAM},
		{name: "html error page is not retried", replies: []reply{{status: 200, body: `<html>oops</html>`}}, calls: 1, code: mksync.EUPSTREAM},
		{name: "404 is not retried", replies: []reply{{status: 404}}, calls: 1, code: mksync.EINVALID},
		{name: "Retry-After seconds honoured", replies: []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}, ok},
			calls: 2, sleeps: []time.Duration{7 * time.Second}},
		{name: "Retry-After on 503 honoured", replies: []reply{{status: 503, header: map[string]string{"Retry-After": "2"}}, ok},
			calls: 2, sleeps: []time.Duration{2 * time.Second}},
		{name: "rate limited until the end", replies: []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}},
			calls: 4, code: mksync.ERATELIMITED, retryable: true, sleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "Retry-After beyond MaxElapsed stops", replies: []reply{{status: 429, header: map[string]string{"Retry-After": "3600"}}},
			calls: 1, code: mksync.ERATELIMITED, retryable: true, sleeps: []time.Duration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: tt.replies}
			b := setup(t, h, nil)
			got, err := b.client.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: "1"})
			require.Equal(t, tt.calls, h.Calls())
			require.Equal(t, int64(tt.calls), b.obs.requests.Load())
			require.Equal(t, int64(tt.calls-1), b.obs.retries.Load())
			if tt.code == "" {
				require.NoError(t, err)
				require.Equal(t, "Janez", got[0].Customer)
			} else {
				var me *metakocka.Error
				require.ErrorAs(t, err, &me)
				require.Equal(t, tt.code, me.Code())
				require.Equal(t, tt.code, mksync.ErrorCode(err))
				require.Equal(t, tt.retryable, me.Retryable)
				require.Equal(t, "get_partner", me.Method)
			}
			if tt.sleeps != nil {
				require.Equal(t, tt.sleeps, append([]time.Duration{}, b.clock.Sleeps()...))
			}
			// Every retry is logged with method, attempt, reason and wait.
			require.Equal(t, tt.calls-1, strings.Count(b.logs.String(), `"msg":"metakocka call failed, retrying"`))
			if tt.calls > 1 {
				require.Contains(t, b.logs.String(), `"category":"METAKOCKA"`)
				require.Contains(t, b.logs.String(), `"attempt":1`)
				require.Contains(t, b.logs.String(), `"method":"get_partner"`)
				require.Contains(t, b.logs.String(), `"wait":`)
			}
		})
	}
}

func TestBackoffIsExponentialWithFullJitter(t *testing.T) {
	t.Parallel()
	for range 20 {
		h := &scripted{replies: []reply{{status: 500}}}
		b := setup(t, h, func(c *metakocka.Config) {
			c.Retry = metakocka.RetryConfig{MaxRetries: 5, InitialInterval: time.Second, Multiplier: 2, MaxInterval: 3 * time.Second, MaxElapsed: time.Hour}
		})
		_, err := b.client.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: "1"})
		require.Error(t, err)
		caps := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
		sleeps := b.clock.Sleeps()
		require.Len(t, sleeps, len(caps))
		for i, s := range sleeps {
			require.GreaterOrEqual(t, s, time.Duration(0))
			require.LessOrEqual(t, s, caps[i], "wait %d", i)
		}
	}
}

func TestRetryDisabled(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 503}}}
	b := setup(t, h, func(c *metakocka.Config) { c.Retry.Disabled = true })
	_, err := b.client.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: "1"})
	require.Error(t, err)
	require.Equal(t, 1, h.Calls())
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 503}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := setup(t, h, nil)
	b.clock.onSleep = cancel // the caller gives up during the first wait
	_, err := b.client.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: "1"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, mksync.ECANCELED, mksync.ErrorCode(err))
	require.Equal(t, 1, h.Calls())

	// Already cancelled: nothing is sent.
	_, err = b.client.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: "1"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, h.Calls())
}

func TestContextCancelDuringRequest(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okPartners.body, delay: 5 * time.Second}}}
	b := setup(t, h, func(c *metakocka.Config) { c.Timeouts.Default = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: "1"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 3*time.Second)
	require.Equal(t, 1, h.Calls())
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okPartners.body, delay: 10 * time.Second}, okPartners}}
	b := setup(t, h, func(c *metakocka.Config) { c.Timeouts.Default = 300 * time.Millisecond })
	got, err := b.client.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: "1"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.GreaterOrEqual(t, h.Calls(), 2)
	require.Equal(t, "timeout", b.obs.reasons[0])
}

func TestCreatesAreRepeatedOnlyWhenNotProcessed(t *testing.T) {
	t.Parallel()
	created := reply{status: 200, body: `{"mk_id":"228000046627","mk_contact_id":"228000046630"}`}
	tests := []struct {
		name    string
		replies []reply
		calls   int
		wantErr bool
	}{
		{"503 may have been processed: returned, not repeated", []reply{{status: 503}, created}, 1, true},
		{"timeout-like 504: not repeated", []reply{{status: 504}, created}, 1, true},
		{"429 was not processed: repeated", []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, created}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: tt.replies}
			b := setup(t, h, nil)
			res, err := b.client.AddPartner(context.Background(), metakocka.Partner{Customer: "Test"})
			require.Equal(t, tt.calls, h.Calls())
			if tt.wantErr {
				var me *metakocka.Error
				require.ErrorAs(t, err, &me)
				require.True(t, me.Retryable, "the caller may retry after a lookup")
				return
			}
			require.NoError(t, err)
			require.Equal(t, "228000046627", res.MkID)
		})
	}
}

func TestConnectionRefusedCreateIsRepeated(t *testing.T) {
	t.Parallel()
	// A closed port: every attempt fails to dial, so even a create is retried.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	clock := newFakeClock()
	c, err := metakocka.New(metakocka.Config{BaseURL: url, CompanyID: testCompany, SecretKey: testSecret, Clock: clock,
		Pacing: metakocka.PacingConfig{RequestsPerSecond: -1}})
	require.NoError(t, err)
	_, err = c.AddPartner(context.Background(), metakocka.Partner{Customer: "x"})
	require.Error(t, err)
	require.Len(t, clock.Sleeps(), 3)
	require.Equal(t, mksync.EUPSTREAM, mksync.ErrorCode(err))
}

// leakyTransport fails with an error whose text holds the whole request,
// as a careless proxy or transport might.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	return nil, fmt.Errorf("transport failed for %s with body %s", r.URL, b)
}

func TestSecretNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		// Metakocka echoing the request in opr_desc.
		desc, _ := json.Marshal("bad request: " + string(b))
		fmt.Fprintf(w, `{"opr_code":"2","opr_desc":%s}`, desc)
	})
	fiveHundred := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(500)
		_, _ = w.Write(b)
	})
	tests := []struct {
		name string
		h    http.Handler
		rt   http.RoundTripper
	}{
		{"transport error holding URL and body", http.NotFoundHandler(), leakyTransport{}},
		{"opr_desc echoing the body", echo, nil},
		{"5xx echoing the body", fiveHundred, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.h, func(c *metakocka.Config) {
				if tt.rt != nil {
					c.HTTPClient = &http.Client{Transport: tt.rt}
				}
			})
			_, err := b.client.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerName: "x"})
			require.Error(t, err)
			var me *metakocka.Error
			require.ErrorAs(t, err, &me)
			for _, s := range []string{
				err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err), fmt.Sprintf("%#v", *me),
				mksync.ErrorMessage(err), me.OprDesc, b.logs.String(),
			} {
				require.NotContains(t, s, testSecret)
			}
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				require.NotContains(t, u.Error(), testSecret)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	valid := func() metakocka.Config {
		return metakocka.Config{CompanyID: "16", SecretKey: "k"}
	}
	tests := []struct {
		field string
		mod   func(*metakocka.Config)
	}{
		{"CompanyID", func(c *metakocka.Config) { c.CompanyID = "" }},
		{"SecretKey", func(c *metakocka.Config) { c.SecretKey = "" }},
		{"BaseURL", func(c *metakocka.Config) { c.BaseURL = "main.metakocka.si" }},
		{"BaseURL", func(c *metakocka.Config) { c.BaseURL = "ftp://x" }},
		{"BaseURL", func(c *metakocka.Config) { c.BaseURL = "https://u:p@x" }},
		{"Retry.MaxRetries", func(c *metakocka.Config) { c.Retry.MaxRetries = -1 }},
		{"Retry.Multiplier", func(c *metakocka.Config) { c.Retry.Multiplier = 0.5 }},
		{"Retry.MaxInterval", func(c *metakocka.Config) { c.Retry.InitialInterval = time.Minute }},
		{"Pacing.MaxInFlight", func(c *metakocka.Config) { c.Pacing.MaxInFlight = -1 }},
		{"Timeouts.Search", func(c *metakocka.Config) { c.Timeouts.Search = -time.Second }},
	}
	for _, tt := range tests {
		cfg := valid()
		tt.mod(&cfg)
		_, err := metakocka.New(cfg)
		require.Error(t, err, tt.field)
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
		require.Contains(t, err.Error(), tt.field)
		require.Contains(t, mksync.ErrorDetails(err), tt.field)
		require.NotContains(t, err.Error(), "k\"")
	}
	c, err := metakocka.New(valid())
	require.NoError(t, err)
	require.Equal(t, "16", c.CompanyID())
}

func TestInputRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{okPartners}}
	b := setup(t, h, nil)
	ctx := context.Background()
	c := b.client
	errs := []error{
		func() error { _, err := c.GetPartner(ctx, metakocka.PartnerQuery{}); return err }(),
		func() error { _, err := c.AddPartner(ctx, metakocka.Partner{}); return err }(),
		func() error { _, err := c.UpdatePartner(ctx, metakocka.Partner{Customer: "x"}); return err }(),
		func() error { _, err := c.ProductList(ctx, metakocka.ProductListRequest{Limit: 1001}); return err }(),
		func() error { _, err := c.ProductAdd(ctx, metakocka.Product{Name: "x"}); return err }(),
		func() error { _, err := c.ProductUpdate(ctx, metakocka.Product{Name: "x"}); return err }(),
		func() error { _, err := c.ProductDelete(ctx, metakocka.ProductKey{}); return err }(),
		func() error { _, err := c.PutDocument(ctx, metakocka.Document{}); return err }(),
		func() error {
			_, err := c.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder})
			return err
		}(),
		c.UpdateDocument(ctx, metakocka.DocumentUpdate{DocType: metakocka.DocSalesOrder}),
		c.DeleteDocument(ctx, metakocka.DocSalesOrder, ""),
		func() error { _, err := c.Search(ctx, metakocka.SearchRequest{}); return err }(),
		func() error {
			_, err := c.Search(ctx, metakocka.SearchRequest{DocType: metakocka.DocSalesOrder, Limit: 101})
			return err
		}(),
	}
	for i, err := range errs {
		require.Error(t, err, i)
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err), i)
	}
	require.Zero(t, h.Calls())
}

// concurrency tracks the maximum of simultaneous requests, per path. Requests
// to waitPath hold until waitFor of them are in flight together (or 5s pass),
// so that "the limit is reached" does not depend on scheduling luck; others
// take delay.
type concurrency struct {
	mu       sync.Mutex
	cur, max map[string]int
	total    int
	maxTotal int
	delay    time.Duration
	body     string

	waitPath string
	waitFor  int
	reached  chan struct{}
	once     sync.Once
}

func (c *concurrency) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	c.mu.Lock()
	if c.cur == nil {
		c.cur, c.max = map[string]int{}, map[string]int{}
		c.reached = make(chan struct{})
	}
	c.cur[p]++
	c.total++
	c.max[p] = max(c.max[p], c.cur[p])
	c.maxTotal = max(c.maxTotal, c.total)
	if p == c.waitPath && c.cur[p] >= c.waitFor {
		c.once.Do(func() { close(c.reached) })
	}
	reached := c.reached
	c.mu.Unlock()
	if p == c.waitPath {
		select {
		case <-reached:
		case <-time.After(5 * time.Second):
		}
	}
	time.Sleep(c.delay)
	c.mu.Lock()
	c.cur[p]--
	c.total--
	c.mu.Unlock()
	_, _ = io.WriteString(w, c.body)
}

func TestMaxInFlightIsNeverExceeded(t *testing.T) {
	t.Parallel()
	h := &concurrency{delay: 5 * time.Millisecond, body: okPartners.body, waitPath: "/rest/eshop/v1/get_partner", waitFor: 3}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 3})
	require.NoError(t, err)
	// Two clients of the same company share the budget through the Pacer.
	var clients []*metakocka.Client
	for range 2 {
		c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
			HTTPClient: srv.Client(), Pacer: pacer})
		require.NoError(t, err)
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			_, err := clients[i%2].GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: strconv.Itoa(i)})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	require.LessOrEqual(t, h.maxTotal, 3)
	require.Equal(t, 3, h.maxTotal, "the limit should be reached with 24 concurrent calls")
}

// A CallLimit bounds the requests of the goroutines sharing its context,
// below the company's bound, and only while they are on the wire.
func TestCallLimitBoundsRequestsInFlight(t *testing.T) {
	t.Parallel()
	h := &concurrency{delay: 5 * time.Millisecond, body: okPartners.body, waitPath: "/rest/eshop/v1/get_partner", waitFor: 2}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}})
	require.NoError(t, err)
	ctx := metakocka.WithCallLimit(context.Background(), metakocka.NewCallLimit(2))
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			_, err := c.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: strconv.Itoa(i)})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, 2, h.maxTotal, "12 goroutines under a limit of 2 have exactly 2 requests in flight at most")

	// A context without the limit is not held by it.
	h2 := &concurrency{body: okPartners.body, waitPath: "/rest/eshop/v1/get_partner", waitFor: 4}
	srv2 := httptest.NewServer(h2)
	t.Cleanup(srv2.Close)
	c2, err := metakocka.New(metakocka.Config{BaseURL: srv2.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv2.Client(), Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}})
	require.NoError(t, err)
	for i := range 4 {
		wg.Go(func() {
			_, err := c2.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: strconv.Itoa(i)})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, 4, h2.maxTotal)
}

// A caller waiting for a slot of its CallLimit gives up with its context.
func TestCallLimitWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	h := &concurrency{delay: 300 * time.Millisecond, body: okPartners.body}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}})
	require.NoError(t, err)
	limit := metakocka.NewCallLimit(1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, _ = c.GetPartner(metakocka.WithCallLimit(context.Background(), limit), metakocka.PartnerQuery{PartnerID: "1"})
	}()
	<-started
	require.Eventually(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.total == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(metakocka.WithCallLimit(context.Background(), limit), 20*time.Millisecond)
	defer cancel()
	_, err = c.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: "2"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Equal(t, 1, h.maxTotal, "the second call never reached the server")
}

func TestPacingIsPerCompany(t *testing.T) {
	t.Parallel()
	h := &concurrency{body: okPartners.body, waitPath: "/rest/eshop/v1/get_partner", waitFor: 2}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	pacer, err := metakocka.NewPacer(metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 1})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 4 {
		c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: strconv.Itoa(i), SecretKey: testSecret,
			HTTPClient: srv.Client(), Pacer: pacer})
		require.NoError(t, err)
		wg.Go(func() {
			for range 3 {
				_, err := c.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: "1"})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.Greater(t, h.maxTotal, 1, "different companies must not wait for each other")
}

func TestSearchIsSerializedPerCompany(t *testing.T) {
	t.Parallel()
	h := &concurrency{delay: 15 * time.Millisecond, body: `{"opr_code":"0","result_all_records":"0","result_count":"0","result":[]}`,
		waitPath: "/rest/eshop/v1/get_document", waitFor: 2}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: testCompany, SecretKey: testSecret,
		HTTPClient: srv.Client(), Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := c.Search(context.Background(), metakocka.SearchRequest{DocType: metakocka.DocSalesOrder})
			assert.NoError(t, err)
		})
		wg.Go(func() {
			_, err := c.GetDocument(context.Background(), metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: "1"})
			// The stub answers a search body to get_document: no document.
			assert.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
		})
	}
	wg.Wait()
	require.Equal(t, 1, h.max["/rest/eshop/v1/search"])
	require.Greater(t, h.max["/rest/eshop/v1/get_document"], 1, "other calls still run concurrently")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{okPartners}}
	b := setup(t, h, func(c *metakocka.Config) {
		c.Pacing = metakocka.PacingConfig{RequestsPerSecond: 50, Burst: 1, MaxInFlight: 4}
	})
	start := time.Now()
	for range 6 {
		_, err := b.client.GetPartner(context.Background(), metakocka.PartnerQuery{PartnerID: "1"})
		require.NoError(t, err)
	}
	// Five waits of 20ms at 50/s with a burst of one.
	require.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)
}

// productServer serves product_list windows over n products.
func productServer(n int, calls *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Offset metakocka.Int `json:"offset"`
			Limit  metakocka.Int `json:"limit"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var list []map[string]string
		for i := int(req.Offset.Value); i < min(n, int(req.Offset.Value+req.Limit.Value)); i++ {
			list = append(list, map[string]string{"mk_id": strconv.Itoa(i), "count_code": fmt.Sprintf("P%d", i), "amount": "1,5"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"opr_code": "0", "offset": req.Offset, "limit": req.Limit,
			"product_list_count": strconv.Itoa(len(list)), "product_list": list})
	})
}

func TestProductsIterator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, limit, calls int
	}{
		{0, 0, 1},
		{999, 0, 1},
		{1000, 0, 2},
		{2500, 0, 3},
		{25, 10, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d by %d", tt.n, tt.limit), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			b := setup(t, productServer(tt.n, &calls), nil)
			seen := map[string]bool{}
			for p, err := range b.client.Products(context.Background(), metakocka.ProductListRequest{Limit: tt.limit}) {
				require.NoError(t, err)
				require.False(t, seen[p.MkID], "duplicate %s", p.MkID)
				seen[p.MkID] = true
				require.Equal(t, "1.5", p.Amount.String())
			}
			require.Len(t, seen, tt.n)
			require.Equal(t, int64(tt.calls), calls.Load())
		})
	}

	t.Run("stops fetching when the consumer stops", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		b := setup(t, productServer(5000, &calls), nil)
		i := 0
		for _, err := range b.client.Products(context.Background(), metakocka.ProductListRequest{}) {
			require.NoError(t, err)
			if i++; i == 1500 {
				break
			}
		}
		require.Equal(t, int64(2), calls.Load())
	})

	t.Run("yields the error once", func(t *testing.T) {
		t.Parallel()
		h := &scripted{replies: []reply{{status: 200, body: `{"opr_code":"2","opr_desc":"bad"}`}}}
		b := setup(t, h, nil)
		var errs int
		for _, err := range b.client.Products(context.Background(), metakocka.ProductListRequest{}) {
			require.Error(t, err)
			errs++
		}
		require.Equal(t, 1, errs)
	})
}

func TestSearchAllWindows(t *testing.T) {
	t.Parallel()
	const total = 250
	var bodies []map[string]any
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, req)
		mu.Unlock()
		off, _ := strconv.Atoi(req["offset"].(string))
		lim, _ := strconv.Atoi(req["limit"].(string))
		var res []map[string]string
		for i := off; i < min(total, off+lim); i++ {
			res = append(res, map[string]string{"mk_id": strconv.Itoa(i), "doc_type": "sales_order", "sum_all": "1,25"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"opr_code": "0", "result_all_records": strconv.Itoa(total),
			"result_count": strconv.Itoa(len(res)), "offset": req["offset"], "limit": req["limit"], "result": res})
	})
	b := setup(t, h, nil)
	from := time.Date(2019, 12, 17, 14, 28, 54, 0, time.FixedZone("CEST", 2*3600))
	var n int
	for d, err := range b.client.SearchAll(context.Background(), metakocka.SearchRequest{
		DocType: metakocka.DocSalesOrder, FullDocuments: true, LastChangeFrom: from,
		QueryAdvance: []metakocka.QueryParam{{Type: "profit_center", Value: "LJ"}},
	}) {
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(n), d.MkID)
		require.Equal(t, "1.25", d.SumAll.String())
		n++
	}
	require.Equal(t, total, n)
	require.Len(t, bodies, 3, "250 records in windows of 100, stopping at result_all_records")
	require.Equal(t, "doc", bodies[0]["result_type"])
	require.Equal(t, "sales_order", bodies[0]["doc_type"])
	require.Equal(t, []any{
		map[string]any{"type": "profit_center", "value": "LJ"},
		map[string]any{"type": "last_change_from", "value": "2019-12-17T14:28:54+02:00"},
	}, bodies[2]["query_advance"])
	require.Equal(t, "200", bodies[2]["offset"])
}

// ShortSleeps caps every sleep at Max and still ends with its context.
func TestShortSleeps(t *testing.T) {
	t.Parallel()
	c := metakocka.ShortSleeps{Max: 5 * time.Millisecond}
	start := time.Now()
	require.NoError(t, c.Sleep(context.Background(), time.Hour))
	require.Less(t, time.Since(start), time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.Sleep(ctx, time.Millisecond), context.Canceled)
}

// An allowed Metakocka URL that answers with a redirect must not carry the
// tenant's secret key and company id to the address it names: the client
// follows no redirect (307 and 308 would repeat the POST body), even on a
// caller's http.Client that would.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			var elsewhere atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				elsewhere.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				_, _ = w.Write([]byte(`{"opr_code":"0"}`))
			}))
			t.Cleanup(other.Close)
			redirecting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, status)
			})
			b := setup(t, redirecting, func(c *metakocka.Config) {
				c.HTTPClient = &http.Client{} // follows redirects on its own
			})
			err := b.client.Ping(context.Background())
			var mkErr *metakocka.Error
			require.ErrorAs(t, err, &mkErr)
			require.Equal(t, mksync.EUPSTREAM, mksync.ErrorCode(err))
			require.False(t, mkErr.Retryable, "a redirect will not go away by itself")
			require.ErrorContains(t, err, "redirect")
			require.Zero(t, elsewhere.Load(), "the other server received the secret key")
		})
	}
}

// The default transport takes no proxy from the environment: a proxy would
// dial for the client, to addresses the tenant URL allow-list never saw.
func TestTransportIgnoresEnvironmentProxy(t *testing.T) {
	t.Parallel()
	tr := metakocka.NewTransport(8)
	require.Nil(t, tr.Proxy)
	require.Equal(t, 8, tr.MaxIdleConnsPerHost)
}
