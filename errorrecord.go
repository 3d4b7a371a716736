package mksync

import "time"

// ErrorRecord is a failure kept for people to look up by its errorId: the id
// shown in API error bodies, the UI and per-record sync errors.
type ErrorRecord struct {
	ID        string `json:"errorId"`
	TenantID  string `json:"-"`
	Category  string `json:"category"`  // SYNC, API, METAKOCKA, …
	Operation string `json:"operation"` // e.g. "contacts.sync_to_metakocka"
	EntityID  string `json:"entityId,omitempty"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	// Details is structured context; never a secret, SQL text or a stack trace.
	Details   map[string]any `json:"details,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
}

// ErrorFilter narrows a list of error records.
type ErrorFilter struct {
	Category  string
	Operation string
	EntityID  string
	Since     time.Time
	Until     time.Time
	Page
}

// AlertStatus is open or resolved.
type AlertStatus string

// The alert statuses.
const (
	AlertOpen     AlertStatus = "open"
	AlertResolved AlertStatus = "resolved"
)

// Alert is a condition that needs a person: repeated failures, a rejected
// Metakocka secret, a discarded job. While open it is unique per tenant and key.
type Alert struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// Key identifies the condition, e.g. "consecutive_failures:contact"; an
	// open alert with the same key is updated, not duplicated.
	Key        string      `json:"key"`
	Severity   string      `json:"severity"` // warning | critical
	Message    string      `json:"message"`
	Status     AlertStatus `json:"status"`
	Count      int         `json:"count"` // times the condition was seen while open
	OpenedAt   time.Time   `json:"openedAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
	ResolvedAt *time.Time  `json:"resolvedAt,omitempty"`
}

// Page is keyset pagination: After is the cursor returned by the previous
// page ("" for the first), Limit the page size (0 means the default, 50;
// stores cap it at 1000).
type Page struct {
	After string
	Limit int
}

// DefaultPageLimit and MaxPageLimit bound list sizes.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 1000
)

// EffectiveLimit returns the page size to use.
func (p Page) EffectiveLimit() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}
