package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/mksync/mksync"
)

// CreateTenant implements mksync.TenantStore.
func (s *store) CreateTenant(ctx context.Context, t *mksync.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	n := *t
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	now := s.truncNow()
	n.CreatedAt, n.UpdatedAt = now, now
	err := s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
			n.ID, n.Name, fmtTime(now), fmtTime(now))
		return translate("create tenant", err, "a tenant with this id already exists", "", "")
	})
	if err != nil {
		return err
	}
	*t = n
	return nil
}

func scanTenant(sc scanner) (mksync.Tenant, error) {
	var t mksync.Tenant
	var created, updated string
	if err := sc.Scan(&t.ID, &t.Name, &created, &updated); err != nil {
		return t, err
	}
	return t, times(created, &t.CreatedAt, updated, &t.UpdatedAt)
}

// FindTenantByID implements mksync.TenantStore.
func (s *store) FindTenantByID(ctx context.Context, id string) (mksync.Tenant, error) {
	t, err := scanTenant(s.reader().QueryRowContext(ctx, "SELECT id, name, created_at, updated_at FROM tenants WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("tenant", id)
	}
	if err != nil {
		return t, translate("find tenant", err, "", "", "")
	}
	return t, nil
}

// ListTenants implements mksync.TenantStore (admin and scheduler only).
func (s *store) ListTenants(ctx context.Context, p mksync.Page) ([]mksync.Tenant, string, error) {
	after, err := decodeCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	limit := p.EffectiveLimit()
	rows, err := s.reader().QueryContext(ctx, "SELECT id, name, created_at, updated_at FROM tenants WHERE id > ? ORDER BY id LIMIT ?", after, limit+1)
	if err != nil {
		return nil, "", internal("list tenants", err)
	}
	defer rows.Close()
	var out []mksync.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, "", translate("list tenants", err, "", "", "")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("list tenants", err)
	}
	out, next := pageOf(out, limit, func(t mksync.Tenant) string { return t.ID })
	return out, next, nil
}

// DeleteTenant implements mksync.TenantStore: everything the tenant owns
// goes with it (ON DELETE CASCADE).
func (s *store) DeleteTenant(ctx context.Context, id string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM tenants WHERE id = ?", id)
		if err != nil {
			return internal("delete tenant", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("tenant", id)
		}
		return nil
	})
}

const tokenCols = "id, tenant_id, name, hash, created_at, last_used_at, revoked_at, session_generation"

func scanToken(sc scanner) (mksync.APIToken, error) {
	var t mksync.APIToken
	var created string
	var used, revoked sql.NullString
	if err := sc.Scan(&t.ID, &t.TenantID, &t.Name, &t.Hash, &created, &used, &revoked, &t.SessionGeneration); err != nil {
		return t, err
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return t, err
	}
	if t.LastUsedAt, err = nullTime(used); err != nil {
		return t, err
	}
	t.RevokedAt, err = nullTime(revoked)
	return t, err
}

// CreateAPIToken implements mksync.TokenStore.
func (s *store) CreateAPIToken(ctx context.Context, tenantID string, t *mksync.APIToken) error {
	if len(t.Hash) == 0 {
		return mksync.Errorf(mksync.EINVALID, "invalid token: hash is required")
	}
	n := *t
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	n.TenantID, n.CreatedAt, n.LastUsedAt, n.RevokedAt = tenantID, s.truncNow(), nil, nil
	err := s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "INSERT INTO api_tokens (id, tenant_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?)",
			n.ID, tenantID, n.Name, n.Hash, fmtTime(n.CreatedAt))
		return translate("create token", err, "a token with this id or hash already exists", "", "")
	})
	if err != nil {
		return err
	}
	*t = n
	return nil
}

// AuthenticateAPIToken implements mksync.TokenStore. It only reads: the
// use is noted and written in the background (tokenTouches), at most once a
// minute per token, so that authenticating never waits on the writer.
func (s *store) AuthenticateAPIToken(ctx context.Context, hash []byte, now time.Time) (mksync.APIToken, error) {
	if len(hash) == 0 {
		return mksync.APIToken{}, mksync.Errorf(mksync.EUNAUTHORIZED, "invalid or revoked token")
	}
	noted := s.db.touches.noted() // before the read (see noted)
	t, err := scanToken(s.reader().QueryRowContext(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE hash = ? AND revoked_at IS NULL", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, mksync.Errorf(mksync.EUNAUTHORIZED, "invalid or revoked token")
	}
	if err != nil {
		return t, translate("authenticate token", err, "", "", "")
	}
	now = trunc(now)
	if n, ok := noted[t.ID]; ok && (t.LastUsedAt == nil || n.After(*t.LastUsedAt)) {
		t.LastUsedAt = &n
	}
	if t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < time.Minute && !now.Before(*t.LastUsedAt) {
		return t, nil
	}
	s.db.touches.note(t.ID, now)
	t.LastUsedAt = &now
	return t, nil
}

// ListAPITokens implements mksync.TokenStore, oldest first.
func (s *store) ListAPITokens(ctx context.Context, tenantID string) ([]mksync.APIToken, error) {
	noted := s.db.touches.noted() // before the read (see noted)
	rows, err := s.reader().QueryContext(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE tenant_id = ? ORDER BY id", tenantID)
	if err != nil {
		return nil, internal("list tokens", err)
	}
	defer rows.Close()
	if s.db.afterTokenRead != nil {
		s.db.afterTokenRead()
	}
	var out []mksync.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, translate("list tokens", err, "", "", "")
		}
		if n, ok := noted[t.ID]; ok && (t.LastUsedAt == nil || n.After(*t.LastUsedAt)) {
			t.LastUsedAt = &n // not written yet (or written after the read began)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list tokens", err)
	}
	return out, nil
}

// RevokeAPIToken implements mksync.TokenStore. Revoking a revoked token
// keeps the first revocation time.
func (s *store) RevokeAPIToken(ctx context.Context, tenantID, tokenID string, now time.Time) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?",
			fmtTime(now), tenantID, tokenID)
		if err != nil {
			return internal("revoke token", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("token", tokenID)
		}
		return nil
	})
}

// EndSessions implements mksync.TokenStore.
func (s *store) EndSessions(ctx context.Context, tenantID, tokenID string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "UPDATE api_tokens SET session_generation = session_generation + 1 WHERE tenant_id = ? AND id = ?",
			tenantID, tokenID)
		if err != nil {
			return internal("end sessions", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("token", tokenID)
		}
		return nil
	})
}

const adminTokenKey = "admin_token_hash"

// AdminTokenHash implements mksync.TokenStore.
func (s *store) AdminTokenHash(ctx context.Context) ([]byte, error) {
	var h []byte
	err := s.reader().QueryRowContext(ctx, "SELECT value FROM instance_settings WHERE key = ?", adminTokenKey).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mksync.Errorf(mksync.ENOTFOUND, "no admin token is set")
	}
	if err != nil {
		return nil, internal("read admin token hash", err)
	}
	return h, nil
}

// SetAdminTokenHash implements mksync.TokenStore.
func (s *store) SetAdminTokenHash(ctx context.Context, hash []byte) error {
	if len(hash) == 0 {
		return mksync.Errorf(mksync.EINVALID, "admin token hash is empty")
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO instance_settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, adminTokenKey, hash)
		if err != nil {
			return internal("set admin token hash", err)
		}
		return nil
	})
}

// randomToken returns n random bytes, base64url: webhook ids and secrets.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", internal("random bytes", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// seal seals v for column of tenantID's credentials row, bound there.
func (s *store) seal(tenantID, column string, v mksync.Secret) (string, error) {
	sealed, err := s.sealer.Seal([]byte(v.Reveal()), mksync.SecretBinding(tenantID, column))
	if err != nil {
		return "", internal("encrypt "+column, err)
	}
	return sealed, nil
}

// open opens a value read from column of tenantID's credentials row.
func (s *store) open(tenantID, column, sealed string) (mksync.Secret, error) {
	b, err := s.sealer.Open(sealed, mksync.SecretBinding(tenantID, column))
	if err != nil {
		return "", internal("decrypt "+column, err)
	}
	return mksync.Secret(b), nil
}

// SetCredentials implements mksync.CredentialStore.
func (s *store) SetCredentials(ctx context.Context, tenantID string, c *mksync.MetakockaCredentials) error {
	if err := c.Validate(); err != nil {
		return err
	}
	n := *c
	n.TenantID, n.UpdatedAt = tenantID, s.truncNow()
	n.Settings = n.Settings.WithDefaults()
	if n.BaseURL == "" {
		n.BaseURL = mksync.DefaultMetakockaURL
	}
	err := s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		var oldHook, oldSealed string
		err := q.QueryRowContext(ctx, "SELECT webhook_id, webhook_secret_sealed FROM credentials WHERE tenant_id = ?", tenantID).Scan(&oldHook, &oldSealed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return internal("read credentials", err)
		}
		if n.WebhookID == "" {
			if n.WebhookID = oldHook; n.WebhookID == "" {
				if n.WebhookID, err = randomToken(24); err != nil {
					return err
				}
			}
		}
		if n.WebhookSecret.IsZero() {
			if oldSealed != "" {
				if n.WebhookSecret, err = s.open(tenantID, "webhook_secret", oldSealed); err != nil {
					return err
				}
			} else {
				v, err := randomToken(32)
				if err != nil {
					return err
				}
				n.WebhookSecret = mksync.Secret(v)
			}
		}
		secret, err := s.seal(tenantID, "secret_key", n.SecretKey)
		if err != nil {
			return err
		}
		hookSecret, err := s.seal(tenantID, "webhook_secret", n.WebhookSecret)
		if err != nil {
			return err
		}
		// No alert webhook is stored as NULLs, not as a sealed empty string.
		var alertURL, alertSecret sql.NullString
		if n.AlertWebhookURL != "" {
			alertURL.String, alertURL.Valid = n.AlertWebhookURL, true
			if alertSecret.String, err = s.seal(tenantID, "alert_webhook_secret", n.AlertWebhookSecret); err != nil {
				return err
			}
			alertSecret.Valid = true
		}
		st := n.Settings
		_, err = q.ExecContext(ctx, `INSERT INTO credentials (tenant_id, company_id, secret_key_sealed, base_url,
			conflict_policy, schedule_interval_ms, batch_size, concurrency, auto_push, webhook_id,
			webhook_secret_sealed, alert_webhook_url, alert_webhook_secret_sealed, updated_at, pricelist, delete_policy, pricelist_source)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET company_id = excluded.company_id,
				secret_key_sealed = excluded.secret_key_sealed, base_url = excluded.base_url,
				conflict_policy = excluded.conflict_policy, schedule_interval_ms = excluded.schedule_interval_ms,
				batch_size = excluded.batch_size, concurrency = excluded.concurrency, auto_push = excluded.auto_push,
				webhook_id = excluded.webhook_id, webhook_secret_sealed = excluded.webhook_secret_sealed,
				alert_webhook_url = excluded.alert_webhook_url,
				alert_webhook_secret_sealed = excluded.alert_webhook_secret_sealed, updated_at = excluded.updated_at,
				pricelist = excluded.pricelist, delete_policy = excluded.delete_policy,
				pricelist_source = excluded.pricelist_source`,
			tenantID, n.CompanyID, secret, n.BaseURL, string(st.ConflictPolicy), st.ScheduleInterval.Milliseconds(),
			st.BatchSize, st.Concurrency, boolInt(st.AutoPush), n.WebhookID, hookSecret, alertURL, alertSecret, fmtTime(n.UpdatedAt),
			st.Pricelist, string(st.DeletePolicy), string(st.PricelistSource))
		return translate("set credentials", err, "this webhook id is taken", "", "")
	})
	if err != nil {
		return err
	}
	*c = n
	return nil
}

const credentialCols = `tenant_id, company_id, secret_key_sealed, base_url, conflict_policy, schedule_interval_ms,
	batch_size, concurrency, auto_push, webhook_id, webhook_secret_sealed, alert_webhook_url,
	alert_webhook_secret_sealed, updated_at, pricelist, delete_policy, pricelist_source`

func (s *store) scanCredentials(sc scanner) (mksync.MetakockaCredentials, error) {
	var c mksync.MetakockaCredentials
	var secret, hookSecret, updated, policy, deletePolicy, pricelistSource string
	var alertURL, alertSecret sql.NullString
	var intervalMS int64
	err := sc.Scan(&c.TenantID, &c.CompanyID, &secret, &c.BaseURL, &policy, &intervalMS, &c.Settings.BatchSize,
		&c.Settings.Concurrency, &c.Settings.AutoPush, &c.WebhookID, &hookSecret, &alertURL, &alertSecret, &updated,
		&c.Settings.Pricelist, &deletePolicy, &pricelistSource)
	if err != nil {
		return c, err
	}
	c.Settings.PricelistSource = mksync.PricelistSource(pricelistSource)
	c.AlertWebhookURL = alertURL.String
	if alertSecret.Valid {
		if c.AlertWebhookSecret, err = s.open(c.TenantID, "alert_webhook_secret", alertSecret.String); err != nil {
			return c, err
		}
	}
	c.Settings.ConflictPolicy, c.Settings.DeletePolicy = mksync.ConflictPolicy(policy), mksync.DeletePolicy(deletePolicy)
	c.Settings.ScheduleInterval = time.Duration(intervalMS) * time.Millisecond
	if c.SecretKey, err = s.open(c.TenantID, "secret_key", secret); err != nil {
		return c, err
	}
	if c.WebhookSecret, err = s.open(c.TenantID, "webhook_secret", hookSecret); err != nil {
		return c, err
	}
	c.UpdatedAt, err = parseTime(updated)
	return c, err
}

// FindCredentials implements mksync.CredentialStore.
func (s *store) FindCredentials(ctx context.Context, tenantID string) (mksync.MetakockaCredentials, error) {
	return s.findCredentials(ctx, "tenant_id = ?", tenantID)
}

// FindCredentialsByWebhookID implements mksync.CredentialStore (across
// tenants: the webhook id names the tenant).
func (s *store) FindCredentialsByWebhookID(ctx context.Context, webhookID string) (mksync.MetakockaCredentials, error) {
	if webhookID == "" {
		return mksync.MetakockaCredentials{}, notFound("webhook", webhookID)
	}
	return s.findCredentials(ctx, "webhook_id = ?", webhookID)
}

func (s *store) findCredentials(ctx context.Context, cond, key string) (mksync.MetakockaCredentials, error) {
	c, err := s.scanCredentials(s.reader().QueryRowContext(ctx, "SELECT "+credentialCols+" FROM credentials WHERE "+cond, key))
	if errors.Is(err, sql.ErrNoRows) {
		return c, mksync.Errorf(mksync.ENOTFOUND, "no Metakocka credentials found")
	}
	if err != nil {
		return c, translate("find credentials", err, "", "", "")
	}
	return c, nil
}

// ReencryptSecrets implements mksync.CredentialStore: every tenant's secrets
// are opened and sealed again with the sealer's current key, bound to their
// row and column (values sealed before bindings become bound), in one
// transaction.
func (s *store) ReencryptSecrets(ctx context.Context) (int, error) {
	count := 0
	err := s.write(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, "SELECT tenant_id, secret_key_sealed, webhook_secret_sealed, alert_webhook_secret_sealed FROM credentials ORDER BY tenant_id")
		if err != nil {
			return internal("read credentials", err)
		}
		type row struct {
			tenant, secret, hook string
			alert                sql.NullString
		}
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.tenant, &r.secret, &r.hook, &r.alert); err != nil {
				rows.Close()
				return internal("read credentials", err)
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return internal("read credentials", err)
		}
		for _, r := range all {
			secret, err := s.open(r.tenant, "secret_key", r.secret)
			if err != nil {
				return err
			}
			hook, err := s.open(r.tenant, "webhook_secret", r.hook)
			if err != nil {
				return err
			}
			if r.secret, err = s.seal(r.tenant, "secret_key", secret); err != nil {
				return err
			}
			if r.hook, err = s.seal(r.tenant, "webhook_secret", hook); err != nil {
				return err
			}
			if r.alert.Valid {
				alert, err := s.open(r.tenant, "alert_webhook_secret", r.alert.String)
				if err != nil {
					return err
				}
				if r.alert.String, err = s.seal(r.tenant, "alert_webhook_secret", alert); err != nil {
					return err
				}
			}
			if _, err := q.ExecContext(ctx, "UPDATE credentials SET secret_key_sealed = ?, webhook_secret_sealed = ?, alert_webhook_secret_sealed = ? WHERE tenant_id = ?",
				r.secret, r.hook, r.alert, r.tenant); err != nil {
				return internal("rewrite credentials", err)
			}
		}
		count = len(all)
		return nil
	})
	return count, err
}
