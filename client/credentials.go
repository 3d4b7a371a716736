package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mksync/mksync"
)

// Credentials is the tenant's Metakocka connection as the API shows it:
// never its secrets, only whether they are set.
type Credentials struct {
	CompanyID        string
	MetakockaURL     string
	SecretKeySet     bool
	WebhookID        string
	WebhookSecretSet bool
	// AlertWebhookURL receives this tenant's signed alert notices ("" for
	// none); AlertWebhookSecretSet says whether its signing secret is stored.
	AlertWebhookURL       string
	AlertWebhookSecretSet bool
	Settings              mksync.SyncSettings
	UpdatedAt             time.Time
}

// CredentialsInput sets the tenant's Metakocka connection.
type CredentialsInput struct {
	// CompanyID is Metakocka's company_id; required.
	CompanyID string
	// SecretKey is Metakocka's secret_key; zero keeps the stored one (so
	// settings can change without it). Write-only.
	SecretKey mksync.Secret
	// MetakockaURL is the API base URL; "" means the real Metakocka.
	MetakockaURL string
	// Settings, when not nil, replaces the sync settings (zero fields take
	// their defaults).
	Settings *mksync.SyncSettings
	// WebhookSecret verifies the stock webhook's signature; zero keeps the
	// stored one or makes a new one. Write-only.
	WebhookSecret mksync.Secret
	// AlertWebhookURL receives the tenant's signed alert notices; "" removes
	// it (the PUT replaces the whole connection).
	AlertWebhookURL string
	// AlertWebhookSecret signs those notices (at least 16 bytes); zero keeps
	// the stored one. Write-only.
	AlertWebhookSecret mksync.Secret
}

// settingsWire is mksync.SyncSettings on the wire: the schedule as Go
// duration text ("15m0s").
type settingsWire struct {
	ConflictPolicy   mksync.ConflictPolicy `json:"conflictPolicy"`
	ScheduleInterval string                `json:"scheduleInterval"`
	BatchSize        int                   `json:"batchSize"`
	Concurrency      int                   `json:"concurrency"`
	AutoPush         bool                  `json:"autoPush"`
	DeletePolicy     mksync.DeletePolicy   `json:"deletePolicy,omitempty"`
}

func toWire(s mksync.SyncSettings) settingsWire {
	return settingsWire{ConflictPolicy: s.ConflictPolicy, ScheduleInterval: s.ScheduleInterval.String(),
		BatchSize: s.BatchSize, Concurrency: s.Concurrency, AutoPush: s.AutoPush, DeletePolicy: s.DeletePolicy}
}

func (w settingsWire) domain() (mksync.SyncSettings, error) {
	s := mksync.SyncSettings{ConflictPolicy: w.ConflictPolicy, BatchSize: w.BatchSize, Concurrency: w.Concurrency, AutoPush: w.AutoPush,
		DeletePolicy: w.DeletePolicy}
	if w.ScheduleInterval != "" {
		d, err := time.ParseDuration(w.ScheduleInterval)
		if err != nil {
			return s, fmt.Errorf("settings.scheduleInterval %q: %w", w.ScheduleInterval, err)
		}
		s.ScheduleInterval = d
	}
	return s, nil
}

// UnmarshalJSON reads the API's credentials answer.
func (c *Credentials) UnmarshalJSON(b []byte) error {
	var w struct {
		CompanyID        string       `json:"companyId"`
		MetakockaURL     string       `json:"metakockaUrl"`
		SecretKeySet     bool         `json:"secretKeySet"`
		WebhookID        string       `json:"webhookId"`
		WebhookSecretSet bool         `json:"webhookSecretSet"`
		AlertURL         string       `json:"alertWebhookUrl"`
		AlertSecretSet   bool         `json:"alertWebhookSecretSet"`
		Settings         settingsWire `json:"settings"`
		UpdatedAt        time.Time    `json:"updatedAt"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s, err := w.Settings.domain()
	if err != nil {
		return err
	}
	*c = Credentials{CompanyID: w.CompanyID, MetakockaURL: w.MetakockaURL, SecretKeySet: w.SecretKeySet,
		WebhookID: w.WebhookID, WebhookSecretSet: w.WebhookSecretSet, AlertWebhookURL: w.AlertURL,
		AlertWebhookSecretSet: w.AlertSecretSet, Settings: s, UpdatedAt: w.UpdatedAt}
	return nil
}

// Credentials returns the tenant's Metakocka connection, secrets masked;
// ENOTFOUND when none is set.
func (c *Client) Credentials(ctx context.Context) (Credentials, error) {
	var out Credentials
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/integrations/metakocka/credentials", out: &out})
	return out, err
}

// SetCredentials stores the tenant's Metakocka connection (PUT, so retried
// like any idempotent call) and returns it as stored. EINVALID names every
// bad field.
func (c *Client) SetCredentials(ctx context.Context, in CredentialsInput) (Credentials, error) {
	body := struct {
		CompanyID     string        `json:"companyId"`
		SecretKey     string        `json:"secretKey,omitempty"`
		MetakockaURL  string        `json:"metakockaUrl,omitempty"`
		Settings      *settingsWire `json:"settings,omitempty"`
		WebhookSecret string        `json:"webhookSecret,omitempty"`
		AlertURL      string        `json:"alertWebhookUrl,omitempty"`
		AlertSecret   string        `json:"alertWebhookSecret,omitempty"`
	}{CompanyID: in.CompanyID, SecretKey: in.SecretKey.Reveal(), MetakockaURL: in.MetakockaURL, WebhookSecret: in.WebhookSecret.Reveal(),
		AlertURL: in.AlertWebhookURL, AlertSecret: in.AlertWebhookSecret.Reveal()}
	if in.Settings != nil {
		w := toWire(*in.Settings)
		body.Settings = &w
	}
	var out Credentials
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/api/integrations/metakocka/credentials", body: body, out: &out})
	return out, err
}

// TestCredentials makes one real call to Metakocka with the stored
// credentials: nil when they work, EUPSTREAM (502/503) when Metakocka
// rejects them or cannot be reached, ENOTFOUND when none are set. It
// counts against the sync rate limit.
func (c *Client) TestCredentials(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/api/integrations/metakocka/credentials/test"})
	return err
}
