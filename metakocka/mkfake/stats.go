package mkfake

import "sync"

// Outcomes of a request, the keys of Stats' counters.
const (
	OutcomeOK             = "ok"               // answered with opr_code "0"
	OutcomeOprError       = "opr_error"        // answered HTTP 200 with an error opr_code (bad input, business rule, injected)
	OutcomeHTTP5xx        = "http_5xx"         // injected HTTP 500/503
	OutcomeRateLimited    = "rate_limited"     // HTTP 429
	OutcomeHang           = "hang"             // hung until the caller gave up (or HangFor passed)
	OutcomeReset          = "reset"            // connection closed without an answer
	OutcomeCommitThenFail = "commit_then_fail" // carried out, but the caller got 503 or a hang
	OutcomeAuthError      = "auth_error"       // wrong company_id or secret_key
	OutcomeCanceled       = "canceled"         // the caller went away during the simulated latency
	OutcomeBadRequest     = "bad_request"      // not JSON, unknown method, wrong path
)

// Stats counts requests by API method and outcome, overall and per company.
// It is a snapshot: a plain value, safe to keep and JSON-encode.
type Stats struct {
	// Methods maps method → outcome → count, over all companies.
	Methods map[string]map[string]int64 `json:"methods"`
	// Companies maps company_id → method → outcome → count. Requests whose
	// company_id is unknown are counted under "".
	Companies map[string]map[string]map[string]int64 `json:"companies"`
	// Total is the number of requests counted.
	Total int64 `json:"total"`
	// PeakInFlight maps company_id → the most requests of the company the
	// simulator was serving at once (latency included): what a client's
	// concurrency bound looks like from Metakocka's side.
	PeakInFlight map[string]int64 `json:"peakInFlight"`
}

// Calls returns how many requests of method ended with outcome, over all
// companies.
func (st Stats) Calls(method, outcome string) int64 {
	return st.Methods[method][outcome]
}

// statsRecorder accumulates Stats; safe for concurrent use.
type statsRecorder struct {
	mu       sync.Mutex
	st       Stats
	inFlight map[string]int64
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

// enter counts a request of companyID as being served and returns how
// many are (itself included); leave ends it.
func (r *statsRecorder) enter(companyID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[companyID]++
	n := r.inFlight[companyID]
	if n > r.st.PeakInFlight[companyID] {
		r.st.PeakInFlight[companyID] = n
	}
	return int(n)
}

func (r *statsRecorder) leave(companyID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[companyID]--
}

func (r *statsRecorder) record(companyID, method, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.st.Methods[method]
	if m == nil {
		m = map[string]int64{}
		r.st.Methods[method] = m
	}
	m[outcome]++
	cm := r.st.Companies[companyID]
	if cm == nil {
		cm = map[string]map[string]int64{}
		r.st.Companies[companyID] = cm
	}
	mm := cm[method]
	if mm == nil {
		mm = map[string]int64{}
		cm[method] = mm
	}
	mm[outcome]++
	r.st.Total++
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{
		Methods:      make(map[string]map[string]int64, len(r.st.Methods)),
		Companies:    make(map[string]map[string]map[string]int64, len(r.st.Companies)),
		Total:        r.st.Total,
		PeakInFlight: copyCounts(r.st.PeakInFlight),
	}
	for k, v := range r.st.Methods {
		out.Methods[k] = copyCounts(v)
	}
	for c, methods := range r.st.Companies {
		cm := make(map[string]map[string]int64, len(methods))
		for k, v := range methods {
			cm[k] = copyCounts(v)
		}
		out.Companies[c] = cm
	}
	return out
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = Stats{
		Methods:      map[string]map[string]int64{},
		Companies:    map[string]map[string]map[string]int64{},
		PeakInFlight: map[string]int64{},
	}
	// Requests being served stay counted (they will leave); only the peaks
	// start again.
	if r.inFlight == nil {
		r.inFlight = map[string]int64{}
	}
	for c, n := range r.inFlight {
		r.st.PeakInFlight[c] = n
	}
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the request counters (e.g. between benchmark phases).
func (s *Server) ResetStats() { s.stats.reset() }

// WriteMethods are the API methods that change a company's records.
var WriteMethods = []string{"add_partner", "update_partner", "product_add", "product_update", "product_delete",
	"put_document", "update_document", "delete_document"}

// Writes counts the requests of write methods (WriteMethods), whatever
// their outcome: a preview (dry run) must make none.
func (st Stats) Writes() int64 {
	var n int64
	for _, m := range WriteMethods {
		for _, c := range st.Methods[m] {
			n += c
		}
	}
	return n
}
