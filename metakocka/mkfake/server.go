package mkfake

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure New. The zero value is usable.
type Options struct {
	// Seed makes fault injection and generated data reproducible; 0 means 1.
	Seed int64
	// Logger receives one debug line per request and warnings; nil discards.
	// Secrets are never logged.
	Logger *slog.Logger
	// Clock gives the time stamped on records (last_change) and the default
	// document date; nil means time.Now. Latency and hangs use real time.
	Clock func() time.Time
	// Location is the time zone of dates written in answers
	// ("2024-09-12+02:00"); nil means Europe/Ljubljana, or UTC when the
	// time zone database is missing.
	Location *time.Location
	// MaxBodyBytes caps a request body; 0 means 32 MiB.
	MaxBodyBytes int64
	// Lenient accepts, for documents, what the docs do not show: bare
	// "YYYY-MM-DD" dates and last_change_from/last_change_to on every
	// document type (see "Strictness" in the package doc). Off by default:
	// the simulator refuses them, as the docs-as-spec rule asks; it is kept
	// only to compare with the old behaviour.
	Lenient bool
	// Strict overrides Lenient: a test that states it runs against the
	// documented behaviour only (the golden corpus) cannot be made lenient by
	// a default elsewhere. Every strict rule is on by default (see
	// "Strictness").
	Strict bool
}

// Server simulates the Metakocka REST API for any number of companies. It
// is an http.Handler; all its methods are safe for concurrent use.
type Server struct {
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	maxBody int64
	seed    int64
	// lenient: documents' dates and search (Options.Lenient).
	lenient bool
	mux     *http.ServeMux

	mu        sync.RWMutex
	companies map[string]*company

	rngMu sync.Mutex
	rng   *rand.Rand

	stats *statsRecorder

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a Server with no companies; add them with AddCompany.
func New(opts Options) *Server {
	s := &Server{
		log:       opts.Logger,
		now:       opts.Clock,
		loc:       opts.Location,
		maxBody:   opts.MaxBodyBytes,
		seed:      opts.Seed,
		lenient:   opts.Lenient && !opts.Strict,
		companies: map[string]*company{},
		stats:     newStatsRecorder(),
		closed:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		if loc, err := time.LoadLocation("Europe/Ljubljana"); err == nil {
			s.loc = loc
		} else {
			s.loc = time.UTC
		}
	}
	if s.maxBody <= 0 {
		s.maxBody = 32 << 20
	}
	if s.seed == 0 {
		s.seed = 1
	}
	s.rng = rand.New(rand.NewPCG(uint64(s.seed), 0x6d6b66616b65))
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /rest/eshop/v1/json/{method}", func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, r.PathValue("method"), true)
	})
	s.mux.HandleFunc("POST /rest/eshop/v1/{method}", func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, r.PathValue("method"), false)
	})
	s.mux.HandleFunc("GET /_fake/stats", s.serveStats)
	s.mux.HandleFunc("GET /_fake/companies/{company}/{kind}", s.serveRecords)
	s.mux.HandleFunc("GET /_fake/companies/{company}/faults", s.serveGetFaults)
	s.mux.HandleFunc("PUT /_fake/companies/{company}/faults", s.servePutFaults)
	return s
}

// AddCompany registers a company (Metakocka's company_id) with its API
// secret_key. Adding an existing company changes only its secret; its data
// stays.
func (s *Server) AddCompany(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.companies[id]; ok {
		c.secret = secret
		return
	}
	s.companies[id] = newCompany(id, secret)
}

// company returns the company with that id, or nil.
func (s *Server) company(id string) *company {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.companies[id]
}

// Close releases requests that are hanging because of an injected fault so
// that an http.Server can shut down quickly. The Server keeps answering
// other requests. Safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// ServeHTTP serves the Metakocka API under /rest/eshop/v1/ and the
// simulator's own introspection endpoints under /_fake/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// oprError is an answer with an error opr_code: HTTP 200 and
// {"opr_code": code, "opr_desc": desc}.
type oprError struct {
	code string
	desc string
}

func (e *oprError) Error() string { return "opr_code " + e.code + ": " + e.desc }

// Error opr_codes used by the simulator (see the package documentation).
const (
	codeGeneral  = "1" // authentication failure, injected errors
	codeInvalid  = "2" // the request is malformed or names unknown things
	codeBusiness = "6" // a business rule refused the request, or the record is missing
)

// invalidf is an opr_code "2" error: the request itself is wrong.
func invalidf(format string, args ...any) error {
	return &oprError{code: codeInvalid, desc: fmt.Sprintf(format, args...)}
}

// refusedf is an opr_code "6" error: a business rule or a missing record.
func refusedf(format string, args ...any) error {
	return &oprError{code: codeBusiness, desc: fmt.Sprintf(format, args...)}
}

// handler carries out one API method for an authenticated company and
// returns the answer's fields (without opr_code and opr_time_ms).
type handler func(s *Server, c *company, req obj) (obj, error)

// methods are the API methods the simulator knows; product methods are
// the ones documented under /rest/eshop/v1/json/.
var methods = map[string]struct {
	h       handler
	product bool
}{
	"get_partner":                    {h: (*Server).getPartner},
	"add_partner":                    {h: (*Server).addPartner},
	"update_partner":                 {h: (*Server).updatePartner},
	"product_list":                   {h: (*Server).productList, product: true},
	"product_add":                    {h: (*Server).productAdd, product: true},
	"product_update":                 {h: (*Server).productUpdate, product: true},
	"product_delete":                 {h: (*Server).productDelete, product: true},
	"warehouse_list":                 {h: (*Server).warehouseList, product: true},
	"warehouse_stock":                {h: (*Server).warehouseStock, product: true},
	"put_document":                   {h: (*Server).putDocument},
	"get_document":                   {h: (*Server).getDocument},
	"update_document":                {h: (*Server).updateDocument},
	"delete_document":                {h: (*Server).deleteDocument},
	"change_document_status":         {h: (*Server).changeDocumentStatus},
	"search":                         {h: (*Server).search},
	"search_query_advance_discovery": {h: (*Server).searchDiscovery},
}

// authDesc is the opr_desc of an answer to a wrong company_id/secret_key.
const authDesc = "Authentication failed : wrong company_id or secret_key"

// serveAPI answers one API request: decode, faults, authentication, method.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method string, jsonPath bool) {
	start := time.Now()
	m, known := methods[method]
	if !known || (m.product && !jsonPath) {
		s.stats.record("", method, OutcomeBadRequest)
		desc := "Unknown method : " + method
		if known {
			desc += " (product methods are served under /rest/eshop/v1/json/)"
		}
		writeJSON(w, http.StatusNotFound, obj{"opr_code": codeInvalid, "opr_desc": desc, "opr_time_ms": "0"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		s.stats.record("", method, OutcomeBadRequest)
		writeJSON(w, http.StatusRequestEntityTooLarge, obj{"opr_code": codeInvalid, "opr_desc": "Request body too large or unreadable", "opr_time_ms": "0"})
		return
	}
	var req obj
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil || req == nil {
		s.stats.record("", method, OutcomeBadRequest)
		writeJSON(w, http.StatusOK, obj{"opr_code": codeInvalid, "opr_desc": "Invalid JSON request", "opr_time_ms": elapsedMS(start)})
		return
	}
	companyID := field(req, "company_id")
	c := s.company(companyID)
	if c == nil {
		s.stats.record("", method, OutcomeAuthError)
		writeJSON(w, http.StatusOK, obj{"opr_code": codeGeneral, "opr_desc": authDesc, "opr_time_ms": elapsedMS(start)})
		return
	}
	inFlight := s.stats.enter(companyID)
	defer s.stats.leave(companyID)
	ctx := r.Context()

	if method == "search" {
		// Metakocka serves one search of a company at a time; others queue.
		select {
		case c.searchSem <- struct{}{}:
			defer func() { <-c.searchSem }()
		case <-ctx.Done():
			s.stats.record(companyID, method, OutcomeCanceled)
			return
		}
	}

	kind, delay, f := s.pickFault(c, method, inFlight)
	if delay > 0 && !s.sleep(ctx, delay) {
		s.stats.record(companyID, method, OutcomeCanceled)
		return
	}

	switch kind {
	case FaultRateLimit:
		s.stats.record(companyID, method, OutcomeRateLimited)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(f)))
		writeJSON(w, http.StatusTooManyRequests, obj{"opr_code": codeGeneral, "opr_desc": "Too many requests"})
		return
	case FaultHTTP500:
		s.stats.record(companyID, method, OutcomeHTTP5xx)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	case FaultHTTP503:
		s.stats.record(companyID, method, OutcomeHTTP5xx)
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	case FaultHang:
		s.stats.record(companyID, method, OutcomeHang)
		s.hang(ctx, w, f)
		return
	case FaultReset:
		s.stats.record(companyID, method, OutcomeReset)
		resetConn(w)
		return
	case FaultOprError:
		s.stats.record(companyID, method, OutcomeOprError)
		writeJSON(w, http.StatusOK, obj{"opr_code": codeGeneral, "opr_desc": "Internal error while processing request (injected by mkfake)", "opr_time_ms": elapsedMS(start)})
		return
	}

	if subtle.ConstantTimeCompare([]byte(field(req, "secret_key")), []byte(c.secretKey())) != 1 {
		s.stats.record(companyID, method, OutcomeAuthError)
		writeJSON(w, http.StatusOK, obj{"opr_code": codeGeneral, "opr_desc": authDesc, "opr_time_ms": elapsedMS(start)})
		return
	}

	resp, err := m.h(s, c, req)
	var oe *oprError
	switch {
	case errors.As(err, &oe):
		resp = obj{"opr_code": oe.code, "opr_desc": oe.desc}
	case err != nil:
		s.log.Error("mkfake: method failed", "method", method, "company_id", companyID, "error", err)
		resp = obj{"opr_code": codeGeneral, "opr_desc": "Internal error : " + err.Error()}
	default:
		resp["opr_code"] = "0"
	}
	resp["opr_time_ms"] = elapsedMS(start)

	switch kind {
	case FaultCommitThenFail:
		s.stats.record(companyID, method, OutcomeCommitThenFail)
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	case FaultCommitThenHang:
		s.stats.record(companyID, method, OutcomeCommitThenFail)
		s.hang(ctx, w, f)
		return
	}
	outcome := OutcomeOK
	if resp["opr_code"] != "0" {
		outcome = OutcomeOprError
	}
	s.stats.record(companyID, method, outcome)
	s.log.Debug("mkfake: request", "method", method, "company_id", companyID, "opr_code", resp["opr_code"])
	writeJSON(w, http.StatusOK, resp)
}

// sleep waits d, or less when ctx ends (then it returns false).
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hang blocks until the caller gives up, HangFor passes or the Server is
// closed; if anyone is still listening it then answers HTTP 504.
func (s *Server) hang(ctx context.Context, w http.ResponseWriter, f Faults) {
	d := f.HangFor
	if d <= 0 {
		d = time.Minute
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	case <-s.closed:
	}
	http.Error(w, "Gateway Timeout", http.StatusGatewayTimeout)
}

// resetConn closes the connection without an answer: a TCP reset where the
// connection can be hijacked, otherwise an aborted response.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if ok {
		conn, _, err := hj.Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func retryAfterSeconds(f Faults) int {
	secs := int(math.Ceil(f.RetryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	if f.RetryAfter <= 0 && f.RateLimitRPS > 0 && f.RateLimitRPS < 1 {
		secs = int(math.Ceil(1 / f.RateLimitRPS))
	}
	return secs
}

func elapsedMS(start time.Time) string {
	return strconv.FormatInt(time.Since(start).Milliseconds(), 10)
}

// writeJSON writes v as the answer, without HTML escaping (Metakocka's
// texts hold HTML).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encoding answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// serveStats answers GET /_fake/stats.
func (s *Server) serveStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// serveRecords answers GET /_fake/companies/{company}/{partners|products|documents}.
func (s *Server) serveRecords(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("company")
	if s.company(id) == nil {
		writeJSON(w, http.StatusNotFound, obj{"error": "unknown company " + id})
		return
	}
	switch r.PathValue("kind") {
	case "partners":
		writeJSON(w, http.StatusOK, s.Partners(id))
	case "products":
		writeJSON(w, http.StatusOK, s.Products(id))
	case "documents":
		writeJSON(w, http.StatusOK, s.Documents(id))
	default:
		writeJSON(w, http.StatusNotFound, obj{"error": "unknown record kind " + r.PathValue("kind")})
	}
}

// faultsJSON is the wire form of Faults for /_fake/companies/{id}/faults:
// durations as Go duration strings ("50ms").
type faultsJSON struct {
	Latency            string  `json:"latency,omitempty"`
	Jitter             string  `json:"jitter,omitempty"`
	LatencyProfile     string  `json:"latency_profile,omitempty"`
	Capacity           int     `json:"capacity,omitempty"`
	RateLimitRPS       float64 `json:"rate_limit_rps,omitempty"`
	RateLimitRate      float64 `json:"rate_limit_rate,omitempty"`
	RetryAfter         string  `json:"retry_after,omitempty"`
	ErrorRate          float64 `json:"error_rate,omitempty"`
	HangRate           float64 `json:"hang_rate,omitempty"`
	HangFor            string  `json:"hang_for,omitempty"`
	ResetRate          float64 `json:"reset_rate,omitempty"`
	OprErrorRate       float64 `json:"opr_error_rate,omitempty"`
	CommitThenFailRate float64 `json:"commit_then_fail_rate,omitempty"`
}

func (s *Server) serveGetFaults(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("company")
	if s.company(id) == nil {
		writeJSON(w, http.StatusNotFound, obj{"error": "unknown company " + id})
		return
	}
	f := s.Faults(id)
	durStr := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	writeJSON(w, http.StatusOK, faultsJSON{
		Latency: durStr(f.Latency), Jitter: durStr(f.Jitter), LatencyProfile: f.LatencyProfile, Capacity: f.Capacity, RateLimitRPS: f.RateLimitRPS,
		RateLimitRate: f.RateLimitRate, RetryAfter: durStr(f.RetryAfter), ErrorRate: f.ErrorRate,
		HangRate: f.HangRate, HangFor: durStr(f.HangFor), ResetRate: f.ResetRate,
		OprErrorRate: f.OprErrorRate, CommitThenFailRate: f.CommitThenFailRate,
	})
}

// servePutFaults answers PUT /_fake/companies/{company}/faults, replacing
// the company's random faults (see faultsJSON).
func (s *Server) servePutFaults(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("company")
	if s.company(id) == nil {
		writeJSON(w, http.StatusNotFound, obj{"error": "unknown company " + id})
		return
	}
	var in faultsJSON
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, obj{"error": "decoding faults: " + err.Error()})
		return
	}
	var f Faults
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{{"latency", in.Latency, &f.Latency}, {"jitter", in.Jitter, &f.Jitter}, {"retry_after", in.RetryAfter, &f.RetryAfter}, {"hang_for", in.HangFor, &f.HangFor}} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, obj{"error": fmt.Sprintf("%s: %v", d.name, err)})
			return
		}
		*d.out = v
	}
	f.RateLimitRPS, f.RateLimitRate, f.ErrorRate = in.RateLimitRPS, in.RateLimitRate, in.ErrorRate
	f.HangRate, f.ResetRate, f.OprErrorRate, f.CommitThenFailRate = in.HangRate, in.ResetRate, in.OprErrorRate, in.CommitThenFailRate
	f.LatencyProfile, f.Capacity = in.LatencyProfile, in.Capacity
	if f.LatencyProfile != "" && f.LatencyProfile != LatencyProfileMetakocka {
		writeJSON(w, http.StatusBadRequest, obj{"error": fmt.Sprintf("latency_profile: unknown profile %q (known: %q)", f.LatencyProfile, LatencyProfileMetakocka)})
		return
	}
	if f.Capacity < 0 {
		writeJSON(w, http.StatusBadRequest, obj{"error": "capacity: must not be negative"})
		return
	}
	s.SetFaults(id, f)
	w.WriteHeader(http.StatusNoContent)
}

// formatDate writes a date the way Metakocka does: "2015-05-08+02:00".
func (s *Server) formatDate(t time.Time) string {
	return t.In(s.loc).Format("2006-01-02Z07:00")
}

// normDate re-writes a date given in any accepted form as Metakocka writes
// it; values that are not dates are kept as given.
func (s *Server) normDate(v string) string {
	if v == "" {
		return ""
	}
	t, err := parseTime(v, s.loc)
	if err != nil {
		return v
	}
	// Keep the calendar day as given, written with Metakocka's zone offset.
	y, m, d := t.Date()
	return s.formatDate(time.Date(y, m, d, 0, 0, 0, 0, s.loc))
}

// lower is strings.ToLower, short for index keys.
func lower(v string) string { return strings.ToLower(strings.TrimSpace(v)) }
