package mksync

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// Tenant is one CRM account, connected to one Metakocka company.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Validate checks the tenant's fields.
func (t *Tenant) Validate() error {
	var v Validator
	v.Required(t.Name, "name")
	v.MaxLen(t.Name, 200, "name")
	return v.Err("tenant")
}

// ConflictPolicy decides which side wins when both changed since the last sync.
type ConflictPolicy string

// The conflict policies; NewestWins is the default.
const (
	NewestWins    ConflictPolicy = "newest_wins"
	CRMWins       ConflictPolicy = "crm_wins"
	MetakockaWins ConflictPolicy = "metakocka_wins"
)

// DeletePolicy says what deleting a synced record in the CRM does to its
// Metakocka record (docs/mapping.md, "Deletes that stay deleted").
type DeletePolicy string

// The deletion policies.
const (
	// DeleteKeep leaves Metakocka as it is (the default).
	DeleteKeep DeletePolicy = "keep"
	// DeleteInMetakocka deletes a deleted product (product_delete) or
	// sales order (delete_document) in Metakocka too, on the next bulk
	// push of its entity; Metakocka refuses a product while a document
	// uses it. Contacts, offers and invoices are kept (Metakocka documents
	// no delete for them).
	DeleteInMetakocka DeletePolicy = "delete_in_metakocka"
)

// SyncSettings are a tenant's knobs for how its syncs run.
type SyncSettings struct {
	// ConflictPolicy; default newest_wins.
	ConflictPolicy ConflictPolicy `json:"conflictPolicy"`
	// ScheduleInterval between scheduled syncs; 0 (default) turns schedules off.
	ScheduleInterval time.Duration `json:"scheduleInterval"`
	// BatchSize of bulk syncs; default 50, at most 500.
	BatchSize int `json:"batchSize"`
	// Concurrency is the most Metakocka requests a bulk run has in flight
	// at once (its workers read and write the local store between calls
	// without holding one); default 4, at most 32.
	Concurrency int `json:"concurrency"`
	// AutoPush enqueues a push whenever a record is written through the API.
	AutoPush bool `json:"autoPush"`
	// Pricelist is the count_code of the Metakocka price list that holds
	// the products' prices (a company may keep several, e.g. "PC_MAIN");
	// empty: the server's default list ("MPC" unless configured).
	Pricelist string `json:"pricelist"`
	// PricelistSource says where Pricelist came from: "chosen" by the
	// tenant, "discovered" by the engine from the price list the company's
	// products carry, "undecided" when the products carry several and none
	// is clearly the default (Pricelist stays empty and prices are not
	// synced until the tenant chooses), "" when nothing was decided yet.
	PricelistSource PricelistSource `json:"pricelistSource"`
	// DeletePolicy; default keep.
	DeletePolicy DeletePolicy `json:"deletePolicy"`
}

// PricelistSource is where a tenant's price list came from.
type PricelistSource string

// The price list sources (SyncSettings.PricelistSource).
const (
	PricelistChosen     PricelistSource = "chosen"
	PricelistDiscovered PricelistSource = "discovered"
	PricelistUndecided  PricelistSource = "undecided"
)

// ChoosePricelist returns s with the price list a person entered (in the
// API or the UI) in place of old's: the same list keeps old's source (a
// discovered list saved unchanged stays discovered), another one is
// chosen, and an empty one is decided again by the engine at the next
// sync of products.
func (s SyncSettings) ChoosePricelist(old SyncSettings, entered string) SyncSettings {
	s.Pricelist = entered
	switch {
	case entered == "" && old.PricelistSource == PricelistUndecided:
		s.PricelistSource = PricelistUndecided
	case entered == "":
		s.PricelistSource = ""
	case entered == old.Pricelist:
		s.PricelistSource = old.PricelistSource
	default:
		s.PricelistSource = PricelistChosen
	}
	return s
}

// Defaults for SyncSettings.
const (
	DefaultBatchSize   = 50
	MaxBatchSize       = 500
	DefaultConcurrency = 4
	MaxConcurrency     = 32
)

// WithDefaults returns s with zero fields set to their defaults.
func (s SyncSettings) WithDefaults() SyncSettings {
	if s.ConflictPolicy == "" {
		s.ConflictPolicy = NewestWins
	}
	if s.DeletePolicy == "" {
		s.DeletePolicy = DeleteKeep
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultBatchSize
	}
	if s.Concurrency == 0 {
		s.Concurrency = DefaultConcurrency
	}
	return s
}

// Validate checks the settings.
func (s SyncSettings) Validate() error {
	var v Validator
	v.OneOf(string(s.ConflictPolicy), []string{string(NewestWins), string(CRMWins), string(MetakockaWins)}, "conflictPolicy")
	v.Check(s.DeletePolicy == "" || s.DeletePolicy == DeleteKeep || s.DeletePolicy == DeleteInMetakocka, "deletePolicy",
		"must be keep (the default) or delete_in_metakocka")
	v.Check(s.BatchSize >= 1 && s.BatchSize <= MaxBatchSize, "batchSize", "must be between 1 and 500")
	v.Check(s.Concurrency >= 1 && s.Concurrency <= MaxConcurrency, "concurrency", "must be between 1 and 32")
	v.Check(s.ScheduleInterval == 0 || s.ScheduleInterval >= time.Minute, "scheduleInterval", "must be 0 (off) or at least 1m")
	v.MaxLen(s.Pricelist, 50, "pricelist")
	v.Check(s.PricelistSource == "" || s.PricelistSource == PricelistChosen || s.PricelistSource == PricelistDiscovered ||
		s.PricelistSource == PricelistUndecided, "pricelistSource", "must be chosen, discovered, undecided or empty")
	return v.Err("sync settings")
}

// DefaultMetakockaURL is the base URL of the real Metakocka API.
const DefaultMetakockaURL = "https://main.metakocka.si"

// MetakockaURLs are the Metakocka base URLs a tenant may choose through the
// API or the UI. A tenant's URL is where mksync sends the tenant's secret
// key and whose answers it stores; a free choice would let any tenant make
// the server send requests to addresses only the server can reach (SSRF).
// Entries are origins (scheme://host[:port]) allowed besides
// DefaultMetakockaURL, which always is; "*" allows any http(s) URL (tests, a
// simulator). The operator's CLI (`mksync credentials set`) is not bound by
// it.
type MetakockaURLs []string

// ParseMetakockaURLs reads a comma-separated list of origins (or "*"), as
// MKSYNC_METAKOCKA_URLS holds it; empty is the zero value.
func ParseMetakockaURLs(list string) (MetakockaURLs, error) {
	var out MetakockaURLs
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			continue
		case e == "*":
			out = append(out, e)
			continue
		}
		o, ok := origin(e)
		if !ok {
			return nil, Errorf(EINVALID, "Metakocka URL %q: want an origin such as %s, or *", e, DefaultMetakockaURL)
		}
		out = append(out, o)
	}
	return out, nil
}

// Allows reports whether a tenant may set u as its Metakocka URL; "" (the
// default URL) always.
func (a MetakockaURLs) Allows(u string) bool {
	if u == "" {
		return true
	}
	o, ok := origin(u)
	if !ok {
		return false
	}
	for _, e := range append(MetakockaURLs{DefaultMetakockaURL}, a...) {
		if e == "*" {
			return true
		}
		if eo, ok := origin(e); ok && eo == o {
			return true
		}
	}
	return false
}

// Check returns EINVALID naming metakockaUrl when a tenant may not set u.
// The message asks for the operator's allow-list, never suggests an empty
// URL: that would quietly point the tenant's sync at production Metakocka.
func (a MetakockaURLs) Check(u string) error {
	var v Validator
	v.Check(a.Allows(u), "metakockaUrl", "is not a Metakocka URL this server connects to; ask the administrator of this server to allow it")
	return v.Err("credentials")
}

// CheckChange is Check for a tenant changing its URL from old to u: an
// unchanged URL passes, since the operator may have set one outside the
// list (`mksync credentials set`), and saving other settings must not
// fail on it.
func (a MetakockaURLs) CheckChange(old, u string) error {
	if u == old {
		return nil
	}
	return a.Check(u)
}

// origin returns scheme://host[:port] of an absolute http(s) URL, lower
// case, without a default port; ok is false for anything else (a user
// part included: https://main.metakocka.si@elsewhere is elsewhere).
func origin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

// MetakockaCredentials connect a tenant to its Metakocka company. Stores keep
// SecretKey, WebhookSecret and AlertWebhookSecret encrypted at rest; in
// memory they are Secrets, redacted wherever printed.
type MetakockaCredentials struct {
	TenantID  string `json:"-"`
	CompanyID string `json:"companyId"`
	SecretKey Secret `json:"-"`
	// BaseURL of the Metakocka API; default DefaultMetakockaURL.
	BaseURL  string       `json:"metakockaUrl"`
	Settings SyncSettings `json:"settings"`
	// WebhookID is the public, unguessable path segment of the tenant's stock
	// webhook; WebhookSecret verifies Metakocka's HMAC signature.
	WebhookID     string `json:"webhookId"`
	WebhookSecret Secret `json:"-"`
	// AlertWebhookURL, when set, receives the tenant's alert notices in
	// addition to the deployment's global webhook, so that a tenant can
	// route its own alerts; AlertWebhookSecret signs them (HMAC-SHA256) so
	// the receiver can verify them. Both empty: no tenant webhook.
	AlertWebhookURL    string    `json:"alertWebhookUrl"`
	AlertWebhookSecret Secret    `json:"-"`
	UpdatedAt          time.Time `json:"updatedAt"`
}

// MinAlertWebhookSecret is the shortest alert webhook secret accepted, so
// that signatures cannot be guessed.
const MinAlertWebhookSecret = 16

// MinWebhookSecret is the shortest stock webhook secret accepted (empty
// lets the store generate one), so that Metakocka's HMAC signatures cannot
// be guessed. A stored shorter one verifies no webhook.
const MinWebhookSecret = 16

// Validate checks the credentials.
func (c *MetakockaCredentials) Validate() error {
	var v Validator
	v.Required(c.CompanyID, "companyId")
	v.MaxLen(c.CompanyID, 30, "companyId")
	v.Check(!c.SecretKey.IsZero(), "secretKey", "is required")
	v.Check(c.BaseURL == "" || strings.HasPrefix(c.BaseURL, "https://") || strings.HasPrefix(c.BaseURL, "http://"), "metakockaUrl", "must be an http(s) URL")
	v.Check(c.WebhookSecret.IsZero() || len(c.WebhookSecret.Reveal()) >= MinWebhookSecret, "webhookSecret", "must be at least 16 bytes (or empty to have one generated)")
	v.MaxLen(c.AlertWebhookURL, 2000, "alertWebhookUrl")
	v.Check(c.AlertWebhookURL == "" || isHTTPURL(c.AlertWebhookURL), "alertWebhookUrl", "must be an absolute http(s) URL")
	v.Check(c.AlertWebhookURL == "" || len(c.AlertWebhookSecret.Reveal()) >= MinAlertWebhookSecret, "alertWebhookSecret", "must be at least 16 bytes when alertWebhookUrl is set")
	v.Check(c.AlertWebhookURL != "" || c.AlertWebhookSecret.IsZero(), "alertWebhookSecret", "must be empty without alertWebhookUrl")
	if err := v.Err("credentials"); err != nil {
		return err
	}
	return c.Settings.WithDefaults().Validate()
}

// isHTTPURL reports whether s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// APIToken authenticates a tenant's API calls. Only its SHA-256 hash is stored;
// the plaintext is shown once, when it is created.
type APIToken struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenantId"`
	Name       string     `json:"name"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	// SessionGeneration is carried by every web session signed in with the
	// token; TokenStore.EndSessions increments it, which ends them all
	// (sign-out). Never shown.
	SessionGeneration int64 `json:"-"`
}

// TokenPrefix starts every API token, so that leaked tokens are easy to find
// with secret scanners.
const TokenPrefix = "mks_"

// NewTokenSecret returns a new random token (TokenPrefix + 32 random bytes,
// base64url) and its hash.
func NewTokenSecret() (Secret, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, WrapError(EINTERNAL, "generate token", err)
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return Secret(plain), HashToken(plain), nil
}

// HashToken returns the SHA-256 of a token, the only form stores keep.
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// TokenMatches compares a presented token with a stored hash in constant time.
func TokenMatches(plain string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashToken(plain), hash) == 1
}
