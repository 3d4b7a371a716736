package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// settings shows the Metakocka connection and sync settings.
func (h *Handler) settings(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.cfg.Store.FindCredentials(r.Context(), s.TenantID)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		c = mksync.MetakockaCredentials{Settings: mksync.SyncSettings{}.WithDefaults()}
	case err != nil:
		return fmt.Errorf("find credentials: %w", err)
	}
	p := SettingsPage{Layout: h.layout(r, s, "Settings", "/settings"), Form: h.settingsForm(r, s, c)}
	h.renderPage(w, r, http.StatusOK, "settings.html", p)
	return nil
}

// deletePolicyOptions are the choices of the deletion policy.
func deletePolicyOptions(selected mksync.DeletePolicy) []Option {
	return options(string(selected),
		[2]string{string(mksync.DeleteKeep), "Keep it in Metakocka"},
		[2]string{string(mksync.DeleteInMetakocka), "Delete it in Metakocka too (products)"})
}

func policyOptions(selected mksync.ConflictPolicy) []Option {
	return options(string(selected),
		[2]string{string(mksync.NewestWins), "Newest change wins"},
		[2]string{string(mksync.CRMWins), "CRM wins"},
		[2]string{string(mksync.MetakockaWins), "Metakocka wins"})
}

// settingsForm fills the form from stored credentials; secrets show only
// whether they are set.
func (h *Handler) settingsForm(r *http.Request, s *session, c mksync.MetakockaCredentials) SettingsForm {
	st := c.Settings.WithDefaults()
	f := SettingsForm{
		CSRF: s.CSRF, CompanyID: c.CompanyID, MetakockaURL: c.BaseURL, SecretKeySet: !c.SecretKey.IsZero(),
		ConflictPolicy: string(st.ConflictPolicy), Policies: policyOptions(st.ConflictPolicy),
		DeletePolicy: string(st.DeletePolicy), DeletePolicies: deletePolicyOptions(st.DeletePolicy),
		Schedule: formatInterval(st.ScheduleInterval), BatchSize: strconv.Itoa(st.BatchSize),
		Concurrency: strconv.Itoa(st.Concurrency), AutoPush: st.AutoPush, Pricelist: st.Pricelist,
		PricelistSource: string(st.PricelistSource),
		WebhookID:       c.WebhookID, WebhookSecretSet: !c.WebhookSecret.IsZero(),
		AlertWebhookURL: c.AlertWebhookURL, AlertWebhookSecretSet: !c.AlertWebhookSecret.IsZero(),
	}
	if c.WebhookID != "" {
		scheme := "http"
		if r.TLS != nil || h.cfg.SecureCookies {
			scheme = "https"
		}
		f.WebhookURL = scheme + "://" + r.Host + h.cfg.WebhookPath + c.WebhookID + "/stock"
	}
	return f
}

func formatInterval(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// saveSettings validates and stores the form with the domain's rules. An
// empty secret field keeps the stored secret (they are write-only); an
// empty alert webhook URL removes the tenant's alert webhook.
func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	old, err := h.cfg.Store.FindCredentials(ctx, s.TenantID)
	if err != nil && mksync.ErrorCode(err) != mksync.ENOTFOUND {
		return fmt.Errorf("find credentials: %w", err)
	}
	firstTime := mksync.ErrorCode(err) == mksync.ENOTFOUND
	problems := map[string]string{}
	c := mksync.MetakockaCredentials{
		CompanyID:          strings.TrimSpace(r.PostFormValue("companyId")),
		SecretKey:          mksync.Secret(r.PostFormValue("secretKey")),
		BaseURL:            strings.TrimSpace(r.PostFormValue("metakockaUrl")),
		WebhookSecret:      mksync.Secret(r.PostFormValue("webhookSecret")),
		AlertWebhookURL:    strings.TrimSpace(r.PostFormValue("alertWebhookUrl")),
		AlertWebhookSecret: mksync.Secret(r.PostFormValue("alertWebhookSecret")),
		Settings: mksync.SyncSettings{
			ConflictPolicy: mksync.ConflictPolicy(r.PostFormValue("conflictPolicy")),
			AutoPush:       r.PostFormValue("autoPush") == "on",
			Pricelist:      strings.TrimSpace(r.PostFormValue("pricelist")),
			DeletePolicy:   mksync.DeletePolicy(r.PostFormValue("deletePolicy")),
		},
	}
	if _, sent := r.PostForm["deletePolicy"]; !sent {
		// A form without the field (an older page) keeps the stored one.
		c.Settings.DeletePolicy = old.Settings.DeletePolicy
	}
	c.Settings = c.Settings.ChoosePricelist(old.Settings, c.Settings.Pricelist)
	if c.SecretKey.IsZero() {
		c.SecretKey = old.SecretKey
	}
	if c.AlertWebhookURL != "" && c.AlertWebhookSecret.IsZero() {
		c.AlertWebhookSecret = old.AlertWebhookSecret
	}
	if v := strings.TrimSpace(r.PostFormValue("schedule")); v != "" && v != "0" {
		d, err := time.ParseDuration(v)
		if err != nil {
			problems["scheduleInterval"] = "must be a duration such as 15m or 1h, or empty for off"
		}
		c.Settings.ScheduleInterval = d
	}
	for field, dst := range map[string]*int{"batchSize": &c.Settings.BatchSize, "concurrency": &c.Settings.Concurrency} {
		v := strings.TrimSpace(r.PostFormValue(field))
		if v == "" {
			continue // the default
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			problems[field] = "must be a whole number"
		}
		*dst = n
	}
	if len(problems) == 0 {
		if err := c.Validate(); err != nil {
			if mksync.ErrorCode(err) != mksync.EINVALID {
				return err
			}
			problems = mksync.ErrorDetails(err)
		}
	}
	if len(problems) == 0 {
		if err := h.cfg.MetakockaURLs.CheckChange(old.BaseURL, c.BaseURL); err != nil {
			problems = mksync.ErrorDetails(err)
		}
	}
	if len(problems) == 0 {
		if err := h.cfg.Store.SetCredentials(ctx, s.TenantID, &c); err != nil {
			if mksync.ErrorCode(err) != mksync.EINVALID {
				return fmt.Errorf("set credentials: %w", err)
			}
			problems = mksync.ErrorDetails(err)
			if len(problems) == 0 {
				problems = map[string]string{"form": mksync.ErrorMessage(err)}
			}
		}
	}
	status := http.StatusOK
	form := h.settingsForm(r, s, c)
	if len(problems) > 0 {
		status = http.StatusBadRequest
		// Show what was typed (never the secrets) with the problems.
		form.SecretKeySet, form.WebhookSecretSet = !old.SecretKey.IsZero(), !old.WebhookSecret.IsZero()
		form.AlertWebhookSecretSet = !old.AlertWebhookSecret.IsZero()
		form.WebhookID = old.WebhookID
		form.Schedule, form.BatchSize, form.Concurrency = r.PostFormValue("schedule"), r.PostFormValue("batchSize"), r.PostFormValue("concurrency")
		for _, k := range sortedKeys(problems) {
			form.Problems = append(form.Problems, Field{Label: k, Value: problems[k]})
		}
	} else {
		form.Saved = true
		if firstTime {
			if err := h.openFirstConnect(ctx, s); err != nil {
				return err
			}
			form.FirstConnect, _ = mksync.FirstConnectPending(ctx, h.cfg.Store, s.TenantID)
		}
	}
	if isHTMX(r) {
		h.render(w, r, status, "settings.html", "settingsForm", form)
		return nil
	}
	p := SettingsPage{Layout: h.layout(r, s, "Settings", "/settings"), Form: form}
	h.renderPage(w, r, status, "settings.html", p)
	return nil
}
