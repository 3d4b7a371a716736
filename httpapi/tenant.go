package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// credentialsInput is the body of PUT .../credentials. The secrets are
// write-only: no answer ever contains them. Leaving secretKey out keeps the
// stored one (so settings can change without retyping it); leaving the
// webhook secret out keeps the stored one or makes a new one. The alert
// webhook is replaced like the other fields (leaving alertWebhookUrl out
// removes it), but its secret, left out, is kept from the stored one.
type credentialsInput struct {
	CompanyID          string         `json:"companyId"`
	SecretKey          string         `json:"secretKey"`
	MetakockaURL       string         `json:"metakockaUrl"`
	Settings           *settingsInput `json:"settings"`
	WebhookSecret      string         `json:"webhookSecret"`
	AlertWebhookURL    string         `json:"alertWebhookUrl"`
	AlertWebhookSecret string         `json:"alertWebhookSecret"`
}

// settingsInput is mksync.SyncSettings on the wire, with the schedule as
// duration text ("15m") instead of nanoseconds.
type settingsInput struct {
	ConflictPolicy   mksync.ConflictPolicy `json:"conflictPolicy"`
	ScheduleInterval duration              `json:"scheduleInterval"`
	BatchSize        int                   `json:"batchSize"`
	Concurrency      int                   `json:"concurrency"`
	AutoPush         bool                  `json:"autoPush"`
	// Pricelist is the Metakocka price list of the products' prices;
	// empty: discovered from the company's products at the next product
	// sync (the server's default list while the company has no priced
	// products).
	Pricelist string `json:"pricelist"`
	// PricelistSource is read-only: "chosen", "discovered", "undecided"
	// (several lists, none clearly the default: prices are not synced
	// until one is chosen) or "" (not decided yet).
	PricelistSource mksync.PricelistSource `json:"pricelistSource"`
	DeletePolicy    mksync.DeletePolicy    `json:"deletePolicy"`
}

func newSettingsView(s mksync.SyncSettings) settingsInput {
	return settingsInput{ConflictPolicy: s.ConflictPolicy, ScheduleInterval: duration(s.ScheduleInterval),
		BatchSize: s.BatchSize, Concurrency: s.Concurrency, AutoPush: s.AutoPush, Pricelist: s.Pricelist,
		PricelistSource: s.PricelistSource, DeletePolicy: s.DeletePolicy}
}

// credentialsView is what GET answers: the connection without its secrets,
// only whether they are set.
type credentialsView struct {
	CompanyID        string `json:"companyId"`
	MetakockaURL     string `json:"metakockaUrl"`
	SecretKeySet     bool   `json:"secretKeySet"`
	WebhookID        string `json:"webhookId"`
	WebhookSecretSet bool   `json:"webhookSecretSet"`
	// AlertWebhookURL is "" when the tenant has no alert webhook of its own.
	AlertWebhookURL       string        `json:"alertWebhookUrl"`
	AlertWebhookSecretSet bool          `json:"alertWebhookSecretSet"`
	Settings              settingsInput `json:"settings"`
	UpdatedAt             time.Time     `json:"updatedAt"`
}

func newCredentialsView(c mksync.MetakockaCredentials) credentialsView {
	return credentialsView{
		CompanyID: c.CompanyID, MetakockaURL: c.BaseURL, SecretKeySet: !c.SecretKey.IsZero(),
		WebhookID: c.WebhookID, WebhookSecretSet: !c.WebhookSecret.IsZero(),
		AlertWebhookURL: c.AlertWebhookURL, AlertWebhookSecretSet: !c.AlertWebhookSecret.IsZero(),
		Settings: newSettingsView(c.Settings), UpdatedAt: c.UpdatedAt,
	}
}

func (s *Server) registerCredentialRoutes() {
	const base = "/api/integrations/metakocka/credentials"
	s.handle("GET "+base, tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		c, err := s.cfg.Store.FindCredentials(r.Context(), p.TenantID)
		if err != nil {
			return fmt.Errorf("find credentials: %w", err)
		}
		writeJSON(w, http.StatusOK, newCredentialsView(c))
		return nil
	})
	s.handle("PUT "+base, tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		var in credentialsInput
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		c := mksync.MetakockaCredentials{
			CompanyID: in.CompanyID, SecretKey: mksync.Secret(in.SecretKey), BaseURL: in.MetakockaURL,
			WebhookSecret:   mksync.Secret(in.WebhookSecret),
			AlertWebhookURL: in.AlertWebhookURL, AlertWebhookSecret: mksync.Secret(in.AlertWebhookSecret),
		}
		if in.Settings != nil {
			c.Settings = mksync.SyncSettings{ConflictPolicy: in.Settings.ConflictPolicy,
				ScheduleInterval: time.Duration(in.Settings.ScheduleInterval), BatchSize: in.Settings.BatchSize,
				Concurrency: in.Settings.Concurrency, AutoPush: in.Settings.AutoPush,
				Pricelist: strings.TrimSpace(in.Settings.Pricelist), DeletePolicy: in.Settings.DeletePolicy}
		}
		old, err := s.cfg.Store.FindCredentials(r.Context(), p.TenantID)
		switch {
		case err == nil:
			if c.SecretKey.IsZero() {
				c.SecretKey = old.SecretKey
			}
			if c.AlertWebhookURL != "" && c.AlertWebhookSecret.IsZero() {
				c.AlertWebhookSecret = old.AlertWebhookSecret
			}
		case mksync.ErrorCode(err) != mksync.ENOTFOUND:
			return fmt.Errorf("find credentials: %w", err)
		}
		c.Settings = c.Settings.ChoosePricelist(old.Settings, c.Settings.Pricelist)
		if err := c.Validate(); err != nil {
			return err
		}
		// An unchanged URL is not checked again: the operator may have
		// set one outside the list with the CLI.
		if err := s.cfg.MetakockaURLs.CheckChange(old.BaseURL, c.BaseURL); err != nil {
			return err
		}
		if err := s.cfg.Store.SetCredentials(r.Context(), p.TenantID, &c); err != nil {
			return fmt.Errorf("set credentials: %w", err)
		}
		writeJSON(w, http.StatusOK, newCredentialsView(c))
		return nil
	})
	s.handle("POST "+base+"/test", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		if _, err := s.cfg.Store.FindCredentials(r.Context(), p.TenantID); err != nil {
			return fmt.Errorf("find credentials: %w", err)
		}
		if s.cfg.Syncer == nil {
			return errNoSyncer()
		}
		if err := s.cfg.Syncer.TestConnection(r.Context(), p.TenantID); err != nil {
			return syncerError("test metakocka connection", err)
		}
		writeJSON(w, http.StatusOK, status{Status: "ok"})
		return nil
	})
}

// tenantInput is the body of POST /api/admin/tenants.
type tenantInput struct {
	Name string `json:"name"`
}

// tokenInput is the body of POST /api/admin/tenants/{id}/tokens.
type tokenInput struct {
	Name string `json:"name"`
}

// newToken is the answer that carries a token's plaintext, the only one.
type newToken struct {
	mksync.APIToken
	Token string `json:"token"`
}

func (s *Server) registerAdminRoutes() {
	s.handle("POST /api/admin/tenants", adminOnly, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		var in tenantInput
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		t := mksync.Tenant{Name: in.Name}
		if err := t.Validate(); err != nil {
			return err
		}
		if err := s.cfg.Store.CreateTenant(r.Context(), &t); err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		w.Header().Set("Location", "/api/admin/tenants/"+t.ID)
		writeJSON(w, http.StatusCreated, t)
		return nil
	})
	s.handle("GET /api/admin/tenants", adminOnly, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		page, err := pageParams(r)
		if err != nil {
			return err
		}
		ts, next, err := s.cfg.Store.ListTenants(r.Context(), page)
		if err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
		writeJSON(w, http.StatusOK, list[mksync.Tenant]{Items: nonNil(ts), NextCursor: next})
		return nil
	})
	s.handle("GET /api/admin/tenants/{id}", adminOnly, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		t, err := s.cfg.Store.FindTenantByID(r.Context(), id)
		if err != nil {
			return fmt.Errorf("find tenant: %w", err)
		}
		writeJSON(w, http.StatusOK, t)
		return nil
	})
	s.handle("POST /api/admin/tenants/{id}/tokens", adminOnly, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var in tokenInput
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		var v mksync.Validator
		v.Required(in.Name, "name")
		v.MaxLen(in.Name, 100, "name")
		if err := v.Err("token"); err != nil {
			return err
		}
		if _, err := s.cfg.Store.FindTenantByID(r.Context(), id); err != nil {
			return fmt.Errorf("find tenant: %w", err)
		}
		plain, hash, err := mksync.NewTokenSecret()
		if err != nil {
			return err
		}
		t := mksync.APIToken{TenantID: id, Name: in.Name, Hash: hash}
		if err := s.cfg.Store.CreateAPIToken(r.Context(), id, &t); err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, newToken{APIToken: t, Token: plain.Reveal()})
		return nil
	})
	s.handle("GET /api/admin/tenants/{id}/tokens", adminOnly, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.cfg.Store.FindTenantByID(r.Context(), id); err != nil {
			return fmt.Errorf("find tenant: %w", err)
		}
		ts, err := s.cfg.Store.ListAPITokens(r.Context(), id)
		if err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		writeJSON(w, http.StatusOK, list[mksync.APIToken]{Items: nonNil(ts)})
		return nil
	})
	s.handle("DELETE /api/admin/tenants/{id}/tokens/{tokenId}", adminOnly, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		tokID, err := pathID(r, "tokenId")
		if err != nil {
			return err
		}
		if err := s.cfg.Store.RevokeAPIToken(r.Context(), id, tokID, s.cfg.Now()); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
