package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

const credentialColumns = `tenant_id, company_id, secret_key_sealed, base_url, conflict_policy,
	schedule_interval_ms, batch_size, concurrency, auto_push, webhook_id, webhook_secret_sealed, updated_at,
	alert_webhook_url, alert_webhook_secret_sealed, pricelist, delete_policy, pricelist_source`

func (d *DB) requireSealer() error {
	if d.sealer == nil {
		return mksync.Errorf(mksync.EINTERNAL, "postgres: no secret sealer configured (Options.Sealer)")
	}
	return nil
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", mksync.WrapError(mksync.EINTERNAL, "generate random value", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SetCredentials validates and stores c with its secrets sealed; see
// mksync.CredentialStore. ECONFLICT when the WebhookID belongs to another
// tenant, ENOTFOUND when the tenant does not exist.
func (d *DB) SetCredentials(ctx context.Context, tenantID string, c *mksync.MetakockaCredentials) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := d.requireSealer(); err != nil {
		return err
	}
	stored := *c
	if stored.BaseURL == "" {
		stored.BaseURL = mksync.DefaultMetakockaURL
	}
	stored.Settings = stored.Settings.WithDefaults()
	stored.TenantID = tenantID
	stored.UpdatedAt = d.nowUTC()
	secretSealed, err := d.sealer.Seal([]byte(stored.SecretKey.Reveal()), mksync.SecretBinding(tenantID, "secret_key"))
	if err != nil {
		return mksync.WrapError(mksync.EINTERNAL, "seal secret key", err)
	}
	// No alert webhook is stored as NULLs, not as a sealed empty string.
	var alertURL, alertSealed *string
	if stored.AlertWebhookURL != "" {
		sealed, err := d.sealer.Seal([]byte(stored.AlertWebhookSecret.Reveal()), mksync.SecretBinding(tenantID, "alert_webhook_secret"))
		if err != nil {
			return mksync.WrapError(mksync.EINTERNAL, "seal alert webhook secret", err)
		}
		alertURL, alertSealed = &stored.AlertWebhookURL, &sealed
	}
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var oldID, oldSecretSealed string
		err := tx.QueryRow(ctx, `SELECT webhook_id, webhook_secret_sealed FROM credentials WHERE tenant_id = $1 FOR UPDATE`, tenantID).
			Scan(&oldID, &oldSecretSealed)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if stored.WebhookID == "" {
			stored.WebhookID = oldID
		}
		if stored.WebhookID == "" {
			if stored.WebhookID, err = randomToken(18); err != nil {
				return err
			}
		}
		webhookSealed := oldSecretSealed
		switch {
		case !stored.WebhookSecret.IsZero():
			webhookSealed = ""
		case oldSecretSealed != "":
			plain, err := d.sealer.Open(oldSecretSealed, mksync.SecretBinding(tenantID, "webhook_secret"))
			if err != nil {
				return mksync.WrapError(mksync.EINTERNAL, "open stored webhook secret", err)
			}
			stored.WebhookSecret = mksync.Secret(plain)
		default:
			s, err := randomToken(32)
			if err != nil {
				return err
			}
			stored.WebhookSecret = mksync.Secret(s)
			webhookSealed = ""
		}
		if webhookSealed == "" {
			if webhookSealed, err = d.sealer.Seal([]byte(stored.WebhookSecret.Reveal()), mksync.SecretBinding(tenantID, "webhook_secret")); err != nil {
				return mksync.WrapError(mksync.EINTERNAL, "seal webhook secret", err)
			}
		}
		s := stored.Settings
		_, err = tx.Exec(ctx, `INSERT INTO credentials (`+credentialColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (tenant_id) DO UPDATE SET company_id = EXCLUDED.company_id,
				secret_key_sealed = EXCLUDED.secret_key_sealed, base_url = EXCLUDED.base_url,
				conflict_policy = EXCLUDED.conflict_policy, schedule_interval_ms = EXCLUDED.schedule_interval_ms,
				batch_size = EXCLUDED.batch_size, concurrency = EXCLUDED.concurrency, auto_push = EXCLUDED.auto_push,
				webhook_id = EXCLUDED.webhook_id, webhook_secret_sealed = EXCLUDED.webhook_secret_sealed,
				updated_at = EXCLUDED.updated_at, alert_webhook_url = EXCLUDED.alert_webhook_url,
				alert_webhook_secret_sealed = EXCLUDED.alert_webhook_secret_sealed, pricelist = EXCLUDED.pricelist,
				delete_policy = EXCLUDED.delete_policy, pricelist_source = EXCLUDED.pricelist_source`,
			tenantID, stored.CompanyID, secretSealed, stored.BaseURL, string(s.ConflictPolicy),
			s.ScheduleInterval.Milliseconds(), s.BatchSize, s.Concurrency, s.AutoPush,
			stored.WebhookID, webhookSealed, stored.UpdatedAt, alertURL, alertSealed, s.Pricelist, string(s.DeletePolicy), string(s.PricelistSource))
		return err
	})
	if err != nil {
		return tenantMissing("set credentials", err)
	}
	*c = stored
	return nil
}

// scanCredentials reads a row and opens its secrets.
func (d *DB) scanCredentials(r pgx.Row) (mksync.MetakockaCredentials, error) {
	var c mksync.MetakockaCredentials
	var secretSealed, webhookSealed, policy, deletePolicy, pricelistSource string
	var alertURL, alertSealed *string
	var intervalMS int64
	err := r.Scan(&c.TenantID, &c.CompanyID, &secretSealed, &c.BaseURL, &policy, &intervalMS,
		&c.Settings.BatchSize, &c.Settings.Concurrency, &c.Settings.AutoPush, &c.WebhookID, &webhookSealed, &c.UpdatedAt,
		&alertURL, &alertSealed, &c.Settings.Pricelist, &deletePolicy, &pricelistSource)
	if err != nil {
		return c, err
	}
	c.Settings.PricelistSource = mksync.PricelistSource(pricelistSource)
	c.Settings.ConflictPolicy, c.Settings.DeletePolicy = mksync.ConflictPolicy(policy), mksync.DeletePolicy(deletePolicy)
	c.Settings.ScheduleInterval = time.Duration(intervalMS) * time.Millisecond
	c.UpdatedAt = utc(c.UpdatedAt)
	if err := d.requireSealer(); err != nil {
		return c, err
	}
	sk, err := d.sealer.Open(secretSealed, mksync.SecretBinding(c.TenantID, "secret_key"))
	if err != nil {
		return c, mksync.WrapError(mksync.EINTERNAL, "open stored secret key", err)
	}
	ws, err := d.sealer.Open(webhookSealed, mksync.SecretBinding(c.TenantID, "webhook_secret"))
	if err != nil {
		return c, mksync.WrapError(mksync.EINTERNAL, "open stored webhook secret", err)
	}
	c.SecretKey, c.WebhookSecret = mksync.Secret(sk), mksync.Secret(ws)
	if alertURL != nil {
		c.AlertWebhookURL = *alertURL
	}
	if alertSealed != nil {
		as, err := d.sealer.Open(*alertSealed, mksync.SecretBinding(c.TenantID, "alert_webhook_secret"))
		if err != nil {
			return c, mksync.WrapError(mksync.EINTERNAL, "open stored alert webhook secret", err)
		}
		c.AlertWebhookSecret = mksync.Secret(as)
	}
	return c, nil
}

// FindCredentials returns the tenant's credentials with secrets opened;
// ENOTFOUND when none are set.
func (d *DB) FindCredentials(ctx context.Context, tenantID string) (mksync.MetakockaCredentials, error) {
	var c mksync.MetakockaCredentials
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		c, err = d.scanCredentials(tx.QueryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE tenant_id = $1`, tenantID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.MetakockaCredentials{}, mksync.Errorf(mksync.ENOTFOUND, "no Metakocka credentials for tenant %s", tenantID)
	}
	if err != nil {
		return mksync.MetakockaCredentials{}, dbErr("find credentials", err)
	}
	return c, nil
}

// FindCredentialsByWebhookID resolves a webhook id across tenants (as
// mksync_admin); ENOTFOUND when unknown.
func (d *DB) FindCredentialsByWebhookID(ctx context.Context, webhookID string) (mksync.MetakockaCredentials, error) {
	var c mksync.MetakockaCredentials
	err := d.adminTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = d.scanCredentials(tx.QueryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE webhook_id = $1`, webhookID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.MetakockaCredentials{}, mksync.Errorf(mksync.ENOTFOUND, "unknown webhook")
	}
	if err != nil {
		return mksync.MetakockaCredentials{}, dbErr("find credentials by webhook", err)
	}
	return c, nil
}

// ReencryptSecrets re-seals every tenant's secrets with the sealer's current
// key (as mksync_admin), one transaction per chunk of tenants, and returns
// how many credential rows it rewrote. It is safe to re-run after a failure.
func (d *DB) ReencryptSecrets(ctx context.Context) (int, error) {
	if err := d.requireSealer(); err != nil {
		return 0, err
	}
	total := 0
	after := ""
	for {
		var n int
		var last string
		err := d.adminTx(ctx, func(tx pgx.Tx) error {
			type row struct {
				tenant, secret, webhook string
				alert                   *string
			}
			rows, err := collectRows(ctx, tx, func(r pgx.Rows) (row, error) {
				var x row
				return x, r.Scan(&x.tenant, &x.secret, &x.webhook, &x.alert)
			}, `SELECT tenant_id, secret_key_sealed, webhook_secret_sealed, alert_webhook_secret_sealed FROM credentials
				WHERE tenant_id > $1 ORDER BY tenant_id LIMIT $2 FOR UPDATE`, after, chunkSize)
			if err != nil {
				return err
			}
			batch := &pgx.Batch{}
			for _, x := range rows {
				secret, err := d.reseal(x.tenant, "secret_key", x.secret)
				if err != nil {
					return mksync.WrapError(mksync.EINTERNAL, "re-seal secret key of tenant "+x.tenant, err)
				}
				webhook, err := d.reseal(x.tenant, "webhook_secret", x.webhook)
				if err != nil {
					return mksync.WrapError(mksync.EINTERNAL, "re-seal webhook secret of tenant "+x.tenant, err)
				}
				var alert *string
				if x.alert != nil {
					a, err := d.reseal(x.tenant, "alert_webhook_secret", *x.alert)
					if err != nil {
						return mksync.WrapError(mksync.EINTERNAL, "re-seal alert webhook secret of tenant "+x.tenant, err)
					}
					alert = &a
				}
				batch.Queue(`UPDATE credentials SET secret_key_sealed = $2, webhook_secret_sealed = $3,
					alert_webhook_secret_sealed = $4 WHERE tenant_id = $1`, x.tenant, secret, webhook, alert)
				last = x.tenant
			}
			n = len(rows)
			if n == 0 {
				return nil
			}
			return tx.SendBatch(ctx, batch).Close()
		})
		if err != nil {
			return total, dbErr("re-encrypt secrets", err)
		}
		total += n
		if n < chunkSize {
			return total, nil
		}
		after = last
	}
}

// reseal opens a value of column of tenantID's row and seals it again with
// the current key, bound there (values sealed before bindings become bound).
func (d *DB) reseal(tenantID, column, sealed string) (string, error) {
	b := mksync.SecretBinding(tenantID, column)
	plain, err := d.sealer.Open(sealed, b)
	if err != nil {
		return "", err
	}
	return d.sealer.Seal(plain, b)
}
