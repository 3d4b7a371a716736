package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// clientError stores a browser error report of the signed-in tenant as an
// error record (category CLIENT). The session cookie authenticates it and
// the X-CSRF-Token header proves it came from a page of this site; reports
// are rate limited per tenant.
func (h *Handler) clientError(w http.ResponseWriter, r *http.Request, s *session) error {
	if !h.reports.Allow(s.TenantID, h.cfg.Now()) {
		return mksync.Errorf(mksync.ERATELIMITED, "too many error reports; try again in a minute")
	}
	var in httperr.ClientReport
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return mksync.WrapError(mksync.EINVALID, "the report is not valid JSON of the expected shape", err)
	}
	if err := in.Validate(); err != nil {
		return err
	}
	rec := in.Record(h.cfg.Now(), "web")
	if err := h.cfg.Store.CreateErrorRecord(r.Context(), s.TenantID, &rec); err != nil {
		return fmt.Errorf("store client error: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	return json.NewEncoder(w).Encode(struct {
		ErrorID string `json:"errorId"`
	}{rec.ID})
}
