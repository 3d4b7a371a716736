package client

import (
	"context"
	"net/http"
	"time"

	"github.com/mksync/mksync"
)

// ErrorListOptions narrows a list of error records; zero fields keep all.
type ErrorListOptions struct {
	// Category is SYNC, API, METAKOCKA, CLIENT …
	Category  string
	Operation string
	EntityID  string
	// Since and Until bound the records' creation time.
	Since, Until time.Time
	PageOptions
}

// ErrorRecords returns one page of the tenant's error records, newest first.
func (c *Client) ErrorRecords(ctx context.Context, o ErrorListOptions) (Page[mksync.ErrorRecord], error) {
	q := o.values()
	for k, v := range map[string]string{"category": o.Category, "operation": o.Operation, "entityId": o.EntityID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339))
	}
	if !o.Until.IsZero() {
		q.Set("until", o.Until.UTC().Format(time.RFC3339))
	}
	var out Page[mksync.ErrorRecord]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/errors", query: q, out: &out})
	return out, err
}

// ErrorRecord returns the error record of an errorId, e.g. the one of an *Error
// or of a mksync.RecordError. ENOTFOUND when the tenant has none.
func (c *Client) ErrorRecord(ctx context.Context, errorID string) (mksync.ErrorRecord, error) {
	var out mksync.ErrorRecord
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", "errors", errorID), out: &out})
	return out, err
}

// Alerts returns one page of the tenant's alerts, newest first; status ""
// lists open and resolved ones.
func (c *Client) Alerts(ctx context.Context, status mksync.AlertStatus, o PageOptions) (Page[mksync.Alert], error) {
	q := o.values()
	if status != "" {
		q.Set("status", string(status))
	}
	var out Page[mksync.Alert]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/alerts", query: q, out: &out})
	return out, err
}

// ClientErrorReport is a structured error report from a browser or another
// client of the CRM, stored as an error record of category CLIENT. Keep
// personal data out of it; Context values under sensitive-looking keys
// ("token", "password" …) are redacted by the server.
type ClientErrorReport struct {
	Message   string            `json:"message"`            // required, ≤ 2000
	Operation string            `json:"operation"`          // required, ≤ 100
	Code      string            `json:"code,omitempty"`     // ≤ 50
	EntityID  string            `json:"entityId,omitempty"` // ≤ 128
	URL       string            `json:"url,omitempty"`      // ≤ 500
	Context   map[string]string `json:"context,omitempty"`  // ≤ 20 entries
}

// ReportClientError stores r and returns its errorId. The route has its own
// rate limit (60 a minute by default) and a 16 KiB body cap.
func (c *Client) ReportClientError(ctx context.Context, r ClientErrorReport) (string, error) {
	var out struct {
		ErrorID string `json:"errorId"`
	}
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/api/client-errors", body: r, out: &out})
	return out.ErrorID, err
}
