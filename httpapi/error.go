package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
	"github.com/mksync/mksync/observe"
)

// syncerError wraps err of a Syncer call with op. Metakocka refusing the
// tenant's stored credentials (EUNAUTHORIZED or EFORBIDDEN from the engine)
// becomes EUPSTREAM, a 502: the caller's own API token was fine, and a 401
// or 403 would tell its client to fix the wrong credentials. Any
// *httperr.Unavailable in err's chain still makes it a 503.
func syncerError(op string, err error) error {
	if err == nil {
		return nil
	}
	switch mksync.ErrorCode(err) {
	case mksync.EUNAUTHORIZED, mksync.EFORBIDDEN:
		return &mksync.Error{
			Code:    mksync.EUPSTREAM,
			Message: "Metakocka rejected the credentials (company id or secret key); check them in the Metakocka connection settings",
			Details: map[string]string{"upstream": "metakocka", "reason": "credentials_rejected"},
			Err:     fmt.Errorf("%s: %w", op, err),
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// writeError answers err with the error envelope. Every 5xx and every
// upstream failure is also stored as an ErrorRecord (category API) under the
// errorId returned, when the request's tenant is known; otherwise the log
// line of the request carries the errorId. The cause of the error goes to the
// log, never to the client: only domain messages and details are shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := httperr.Status(err)
	code := httperr.WireCode(err, status)
	body := httperr.Body{
		Error:   mksync.ErrorMessage(err),
		Code:    code,
		ErrorID: httperr.NewID(),
		Details: mksync.ErrorDetails(err),
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		body.Error = "request body too large"
		body.Details = map[string]string{"body": "must be at most " + formatBytes(mbe.Limit)}
	case status == httperr.StatusClientClosedRequest:
		body.Error = "request cancelled"
	case code == mksync.EINTERNAL:
		body.Error = "internal error"
		body.Details = nil
	}
	if body.Details == nil {
		body.Details = map[string]string{}
	}
	info := requestInfoFrom(r.Context())
	if info != nil {
		info.errorID = body.ErrorID
		info.err = err
	}
	// A database that is briefly unavailable (busy) would only make the
	// error record wait on it too: the log line of the request keeps it.
	if (status >= 500 && code != mksync.EUNAVAILABLE) || code == mksync.EUPSTREAM {
		s.recordError(r, info, body, status)
	}
	if code == mksync.EUNAVAILABLE && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	if status == http.StatusUnauthorized && r.Pattern != StockWebhookPattern {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mksync"`) // the webhook takes no token
	}
	writeJSON(w, status, body)
}

// unavailableRetryAfter is the Retry-After (seconds) of a 503 for a busy or
// briefly unreachable database.
const unavailableRetryAfter = 5

// recordTimeout bounds the write of an error record after its request.
const recordTimeout = 5 * time.Second

// recordError stores the ErrorRecord of a failed request. It runs on a
// context detached from the request's cancellation, so that a client hanging
// up does not lose the record.
func (s *Server) recordError(r *http.Request, info *requestInfo, body httperr.Body, status int) {
	if info == nil || info.tenantID == "" {
		return
	}
	details := map[string]any{
		"method":    r.Method,
		"route":     r.Pattern,
		"status":    status,
		"requestId": info.requestID,
	}
	for k, v := range body.Details {
		details[k] = v
	}
	rec := mksync.ErrorRecord{
		ID:        body.ErrorID,
		Category:  observe.CatAPI,
		Operation: operationName(r),
		EntityID:  r.PathValue("id"),
		Code:      body.Code,
		Message:   body.Error,
		Details:   details,
		CreatedAt: s.cfg.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout)
	defer cancel()
	if err := s.cfg.Store.CreateErrorRecord(ctx, info.tenantID, &rec); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "store error record",
			slog.String("errorId", body.ErrorID), slog.String("tenantId", info.tenantID),
			slog.String("err", err.Error()))
	}
}

// operationName names the API operation for error records, e.g.
// "GET /api/contacts/{id}"; the route pattern, never the raw path.
func operationName(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.Method + " (unmatched)"
}

// errNoSyncer answers sync routes while no engine is wired in.
func errNoSyncer() error {
	return &httperr.Unavailable{Err: mksync.Errorf(mksync.EUPSTREAM, "sync engine not configured")}
}
