package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// clientReport is what the UI's client logger (static/app.js) sends: the
// body of the REST API's POST /api/client-errors, so both endpoints keep
// the same records. It carries ids, never personal data.
type clientReport struct {
	Message   string            `json:"message"`
	Operation string            `json:"operation"`
	Code      string            `json:"code"`
	EntityID  string            `json:"entityId"`
	URL       string            `json:"url"`
	Context   map[string]string `json:"context"`
}

// validate applies the API's limits to the report.
func (c *clientReport) validate() error {
	var v mksync.Validator
	v.Required(c.Message, "message")
	v.MaxLen(c.Message, 2000, "message")
	v.Required(c.Operation, "operation")
	v.MaxLen(c.Operation, 100, "operation")
	v.MaxLen(c.Code, 50, "code")
	v.MaxLen(c.EntityID, 128, "entityId")
	v.MaxLen(c.URL, 500, "url")
	v.Check(len(c.Context) <= 20, "context", "must have at most 20 entries")
	for k, val := range c.Context {
		v.Check(utf8.RuneCountInString(k) <= 50 && utf8.RuneCountInString(val) <= 500 && !strings.ContainsRune(k, 0),
			"context."+k, "keys must be at most 50 and values at most 500 characters")
	}
	return v.Err("client error report")
}

// clientError stores a browser error report of the signed-in tenant as an
// error record (category CLIENT). The session cookie authenticates it and
// the X-CSRF-Token header proves it came from a page of this site; reports
// are rate limited per tenant.
func (h *Handler) clientError(w http.ResponseWriter, r *http.Request, s *session) error {
	if !h.reports.Allow(s.TenantID, h.cfg.Now()) {
		return mksync.Errorf(mksync.ERATELIMITED, "too many error reports; try again in a minute")
	}
	var in clientReport
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return mksync.WrapError(mksync.EINVALID, "the report is not valid JSON of the expected shape", err)
	}
	if err := in.validate(); err != nil {
		return err
	}
	details := map[string]any{"source": "web"}
	for k, v := range in.Context {
		if observe.IsSensitiveKey(k) {
			v = observe.Redacted
		}
		details[k] = v
	}
	if in.URL != "" {
		details["url"] = in.URL
	}
	rec := mksync.ErrorRecord{
		ID: newErrorID(), Category: observe.CatClient, Operation: in.Operation, EntityID: in.EntityID,
		Code: in.Code, Message: in.Message, Details: details, CreatedAt: h.cfg.Now().UTC(),
	}
	if rec.Code == "" {
		rec.Code = "client_error"
	}
	if err := h.cfg.Store.CreateErrorRecord(r.Context(), s.TenantID, &rec); err != nil {
		return fmt.Errorf("store client error: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	return json.NewEncoder(w).Encode(struct {
		ErrorID string `json:"errorId"`
	}{rec.ID})
}
