package httperr

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// ClientReport is a structured error report from a browser (the web UI's
// client logger, or a CRM front end through POST /api/client-errors): what
// failed, where, with ids for context and no personal data. Both front
// doors accept the same body and keep the same records.
type ClientReport struct {
	Message   string            `json:"message"`
	Operation string            `json:"operation"`
	Code      string            `json:"code"`
	EntityID  string            `json:"entityId"`
	URL       string            `json:"url"`
	Context   map[string]string `json:"context"`
}

// Validate applies the limits of a report. Errors: EINVALID naming every
// field over its limit.
func (c *ClientReport) Validate() error {
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

// Record is the error record (category CLIENT, a new errorId, code
// "client_error" when the report names none) that keeps the report. Context
// values under keys named like secrets are redacted; source, when not
// empty, is kept in the details as "source".
func (c *ClientReport) Record(now time.Time, source string) mksync.ErrorRecord {
	details := map[string]any{}
	if source != "" {
		details["source"] = source
	}
	for k, v := range c.Context {
		if observe.IsSensitiveKey(k) {
			v = observe.Redacted
		}
		details[k] = v
	}
	if c.URL != "" {
		details["url"] = c.URL
	}
	rec := mksync.ErrorRecord{
		ID: NewID(), Category: observe.CatClient, Operation: c.Operation, EntityID: c.EntityID,
		Code: c.Code, Message: c.Message, Details: details, CreatedAt: now.UTC(),
	}
	if rec.Code == "" {
		rec.Code = "client_error"
	}
	return rec
}
