package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func testTenants(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tn := mksync.Tenant{Name: "Kmetija Zupan"}
	require.NoError(t, s.CreateTenant(ctx, &tn))
	require.NotEmpty(t, tn.ID)
	requireRecentUTC(t, tn.CreatedAt)
	got, err := s.FindTenantByID(ctx, tn.ID)
	require.NoError(t, err)
	requireSame(t, tn, got)

	requireCode(t, s.CreateTenant(ctx, &mksync.Tenant{}), mksync.EINVALID)
	dup := mksync.Tenant{ID: tn.ID, Name: "dup"}
	requireCode(t, s.CreateTenant(ctx, &dup), mksync.ECONFLICT)
	_, err = s.FindTenantByID(ctx, "0190f3c4-0000-7000-8000-0000000000ff")
	requireCode(t, err, mksync.ENOTFOUND)

	ids := []string{tn.ID}
	for range 6 {
		ids = append(ids, newTenant(t, s, "more"))
	}
	all := pageAll(t, 3, func(p mksync.Page) ([]mksync.Tenant, string, error) { return s.ListTenants(ctx, p) })
	require.Len(t, all, 7)
	for i, x := range all {
		require.Equal(t, ids[i], x.ID)
	}

	// Deleting a tenant deletes everything it owns.
	f := newDocFixture(t, s, "doomed")
	d := f.document("1")
	require.NoError(t, s.CreateSalesDocument(ctx, f.tenant, &d))
	m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: f.contact.ID, MetakockaID: "1", State: mksync.StateSynced}
	require.NoError(t, s.UpsertMapping(ctx, f.tenant, &m))
	_, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	require.NoError(t, s.CreateAPIToken(ctx, f.tenant, &mksync.APIToken{Name: "t", Hash: hash}))
	require.NoError(t, s.SetCredentials(ctx, f.tenant, &mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "s"}))
	require.NoError(t, s.CreateErrorRecord(ctx, f.tenant, &mksync.ErrorRecord{Category: "SYNC", Operation: "x", Code: "internal", Message: "m"}))
	require.NoError(t, s.CreateSyncRun(ctx, f.tenant, &mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunQueued}))
	_, err = s.OpenAlert(ctx, f.tenant, &mksync.Alert{Key: "k", Severity: "warning", Message: "m"})
	require.NoError(t, err)
	require.NoError(t, s.SetCursor(ctx, f.tenant, "k", "v"))

	require.NoError(t, s.DeleteTenant(ctx, f.tenant))
	_, err = s.FindTenantByID(ctx, f.tenant)
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteTenant(ctx, f.tenant), mksync.ENOTFOUND)
	_, err = s.FindContactByID(ctx, f.tenant, f.contact.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.FindSalesDocumentByID(ctx, f.tenant, d.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.AuthenticateAPIToken(ctx, hash, time.Now())
	requireCode(t, err, mksync.EUNAUTHORIZED)
	_, err = s.FindCredentials(ctx, f.tenant)
	requireCode(t, err, mksync.ENOTFOUND)
	// Ids of the deleted tenant's records are free for reuse.
	c := f.contact
	require.NoError(t, s.CreateContact(ctx, tn.ID, &c))
}

func testTokens(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "tokens")

	plain, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	tok := mksync.APIToken{Name: "crm", Hash: hash}
	require.NoError(t, s.CreateAPIToken(ctx, tid, &tok))
	require.NotEmpty(t, tok.ID)
	require.Equal(t, tid, tok.TenantID)
	requireRecentUTC(t, tok.CreatedAt)

	// Same hash twice is a conflict (it would name two tenants).
	requireCode(t, s.CreateAPIToken(ctx, tid, &mksync.APIToken{Name: "again", Hash: hash}), mksync.ECONFLICT)
	requireCode(t, s.CreateAPIToken(ctx, tid, &mksync.APIToken{Name: "nohash"}), mksync.EINVALID)

	used := time.Date(2025, 7, 1, 10, 0, 0, 500000000, time.UTC)
	got, err := s.AuthenticateAPIToken(ctx, mksync.HashToken(plain.Reveal()), used)
	require.NoError(t, err)
	require.Equal(t, tok.ID, got.ID)
	require.Equal(t, tid, got.TenantID)
	require.Equal(t, "crm", got.Name)
	require.True(t, bytes.Equal(hash, got.Hash))

	list, err := s.ListAPITokens(ctx, tid)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].LastUsedAt, "use must be recorded")
	require.True(t, list[0].LastUsedAt.Equal(used))
	require.Nil(t, list[0].RevokedAt)

	_, err = s.AuthenticateAPIToken(ctx, mksync.HashToken("mks_unknown"), used)
	requireCode(t, err, mksync.EUNAUTHORIZED)

	_, hash2, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	tok2 := mksync.APIToken{Name: "ci", Hash: hash2}
	require.NoError(t, s.CreateAPIToken(ctx, tid, &tok2))

	// Ending the token's sessions moves its generation on; the token stays.
	require.Zero(t, got.SessionGeneration)
	require.NoError(t, s.EndSessions(ctx, tid, tok.ID))
	require.NoError(t, s.EndSessions(ctx, tid, tok.ID))
	got, err = s.AuthenticateAPIToken(ctx, hash, used)
	require.NoError(t, err)
	require.EqualValues(t, 2, got.SessionGeneration)
	again, err := s.AuthenticateAPIToken(ctx, hash2, used)
	require.NoError(t, err)
	require.Zero(t, again.SessionGeneration, "another token's sessions are not ended")
	requireCode(t, s.EndSessions(ctx, tid, "0190f3c4-0000-7000-8000-0000000000ff"), mksync.ENOTFOUND)

	revoked := used.Add(time.Hour)
	require.NoError(t, s.RevokeAPIToken(ctx, tid, tok.ID, revoked))
	_, err = s.AuthenticateAPIToken(ctx, hash, used.Add(2*time.Hour))
	requireCode(t, err, mksync.EUNAUTHORIZED)
	_, err = s.AuthenticateAPIToken(ctx, hash2, used)
	require.NoError(t, err)
	requireCode(t, s.RevokeAPIToken(ctx, tid, "0190f3c4-0000-7000-8000-0000000000ff", revoked), mksync.ENOTFOUND)

	list, err = s.ListAPITokens(ctx, tid)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, tok.ID, list[0].ID)
	require.NotNil(t, list[0].RevokedAt)
	require.True(t, list[0].RevokedAt.Equal(revoked))

	// Admin token hash: absent, set, replaced.
	_, err = s.AdminTokenHash(ctx)
	requireCode(t, err, mksync.ENOTFOUND)
	require.NoError(t, s.SetAdminTokenHash(ctx, []byte("first-hash")))
	require.NoError(t, s.SetAdminTokenHash(ctx, mksync.HashToken("admin")))
	h, err := s.AdminTokenHash(ctx)
	require.NoError(t, err)
	require.Equal(t, mksync.HashToken("admin"), h)
}

// secretMarker is the plaintext the suite stores as a Metakocka secret and
// then looks for in the raw database.
const secretMarker = "PLAINTEXT-SECRET-7f3a9c1e-must-never-be-stored"

func testCredentials(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "creds")

	_, err := s.FindCredentials(ctx, tid)
	requireCode(t, err, mksync.ENOTFOUND)

	c := mksync.MetakockaCredentials{CompanyID: "6371", SecretKey: secretMarker}
	require.NoError(t, s.SetCredentials(ctx, tid, &c))
	require.Equal(t, mksync.DefaultMetakockaURL, c.BaseURL)
	require.Equal(t, mksync.NewestWins, c.Settings.ConflictPolicy)
	require.NotEmpty(t, c.WebhookID, "a webhook id is made")
	require.GreaterOrEqual(t, len(c.WebhookID), 16, "webhook ids must be unguessable")
	require.False(t, c.WebhookSecret.IsZero(), "a webhook secret is made")
	requireRecentUTC(t, c.UpdatedAt)

	got, err := s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, secretMarker, got.SecretKey.Reveal(), "secrets come back decrypted")
	require.Equal(t, c.WebhookSecret.Reveal(), got.WebhookSecret.Reveal())
	requireSame(t, c, got)

	// Replacing keeps the webhook unless told otherwise; settings round-trip.
	upd := mksync.MetakockaCredentials{
		CompanyID: "6372", SecretKey: "second-secret", BaseURL: "http://127.0.0.1:9999",
		Settings: mksync.SyncSettings{ConflictPolicy: mksync.CRMWins, ScheduleInterval: 15 * time.Minute, BatchSize: 200, Concurrency: 8, AutoPush: true, Pricelist: "PC_MAIN",
			PricelistSource: mksync.PricelistDiscovered, DeletePolicy: mksync.DeleteInMetakocka},
	}
	require.NoError(t, s.SetCredentials(ctx, tid, &upd))
	require.Equal(t, c.WebhookID, upd.WebhookID)
	require.Equal(t, c.WebhookSecret.Reveal(), upd.WebhookSecret.Reveal())
	got, err = s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	requireSame(t, upd, got)
	require.Equal(t, "second-secret", got.SecretKey.Reveal())

	byHook, err := s.FindCredentialsByWebhookID(ctx, c.WebhookID)
	require.NoError(t, err)
	require.Equal(t, tid, byHook.TenantID)
	require.Equal(t, "6372", byHook.CompanyID)
	require.Equal(t, c.WebhookSecret.Reveal(), byHook.WebhookSecret.Reveal())
	_, err = s.FindCredentialsByWebhookID(ctx, "no-such-hook")
	requireCode(t, err, mksync.ENOTFOUND)

	// A chosen webhook id and secret are kept.
	upd.WebhookID = "hook-0123456789abcdef"
	upd.WebhookSecret = "whsec-chosen-0123456789"
	require.NoError(t, s.SetCredentials(ctx, tid, &upd))
	_, err = s.FindCredentialsByWebhookID(ctx, c.WebhookID)
	requireCode(t, err, mksync.ENOTFOUND)
	byHook, err = s.FindCredentialsByWebhookID(ctx, "hook-0123456789abcdef")
	require.NoError(t, err)
	require.Equal(t, "whsec-chosen-0123456789", byHook.WebhookSecret.Reveal())

	// Invalid: nothing written.
	err = s.SetCredentials(ctx, tid, &mksync.MetakockaCredentials{CompanyID: "", SecretKey: ""})
	requireCode(t, err, mksync.EINVALID)
	err = s.SetCredentials(ctx, tid, &mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "x", Settings: mksync.SyncSettings{BatchSize: 10000}})
	requireCode(t, err, mksync.EINVALID)
	got, err = s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, "6372", got.CompanyID)
	requireCode(t, s.SetCredentials(ctx, "0190f3c4-0000-7000-8000-00000000ffff", &mksync.MetakockaCredentials{CompanyID: "1", SecretKey: "x"}), mksync.ENOTFOUND)

	// The tenant's alert webhook round-trips, secret opened.
	upd.AlertWebhookURL, upd.AlertWebhookSecret = "https://alerts.example/hook?team=ops", "alert-secret-0123456789"
	require.NoError(t, s.SetCredentials(ctx, tid, &upd))
	got, err = s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example/hook?team=ops", got.AlertWebhookURL)
	require.Equal(t, "alert-secret-0123456789", got.AlertWebhookSecret.Reveal())
	requireSame(t, upd, got)
	byHook, err = s.FindCredentialsByWebhookID(ctx, "hook-0123456789abcdef")
	require.NoError(t, err)
	require.Equal(t, "alert-secret-0123456789", byHook.AlertWebhookSecret.Reveal())

	// Re-encryption rewrites every tenant's secrets and keeps them readable.
	t2 := newTenant(t, s, "creds2")
	require.NoError(t, s.SetCredentials(ctx, t2, &mksync.MetakockaCredentials{CompanyID: "2", SecretKey: "k2"}))
	n, err := s.ReencryptSecrets(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	got, err = s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, "second-secret", got.SecretKey.Reveal())
	require.Equal(t, "whsec-chosen-0123456789", got.WebhookSecret.Reveal())
	require.Equal(t, "alert-secret-0123456789", got.AlertWebhookSecret.Reveal())
	got, err = s.FindCredentials(ctx, t2)
	require.NoError(t, err)
	require.Empty(t, got.AlertWebhookURL, "no alert webhook stays none")
	require.True(t, got.AlertWebhookSecret.IsZero())

	// Leaving the alert webhook out removes it.
	upd.AlertWebhookURL, upd.AlertWebhookSecret = "", ""
	require.NoError(t, s.SetCredentials(ctx, tid, &upd))
	got, err = s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	require.Empty(t, got.AlertWebhookURL)
	require.True(t, got.AlertWebhookSecret.IsZero())
	// A bad alert webhook is EINVALID.
	bad := upd
	bad.AlertWebhookURL, bad.AlertWebhookSecret = "javascript:alert(1)", "alert-secret-0123456789"
	requireCode(t, s.SetCredentials(ctx, tid, &bad), mksync.EINVALID)
}

// CheckSecretsSealed stores a credential with a known plaintext secret in s
// and asserts that rawDump — every byte the store's database holds, as the
// store's own test reads it (the SQLite file with its WAL, a Postgres table
// dump) — does not contain it. Stores call it from their tests with a real
// sealer.
func CheckSecretsSealed(t *testing.T, s mksync.Store, rawDump func() []byte) {
	t.Helper()
	ctx := t.Context()
	tid := newTenant(t, s, "sealed")
	c := mksync.MetakockaCredentials{CompanyID: "4242", SecretKey: secretMarker, WebhookSecret: secretMarker + "-webhook",
		AlertWebhookURL: "https://alerts.example/hook", AlertWebhookSecret: secretMarker + "-alert"}
	require.NoError(t, s.SetCredentials(ctx, tid, &c))
	got, err := s.FindCredentials(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, secretMarker, got.SecretKey.Reveal())

	raw := rawDump()
	require.NotEmpty(t, raw)
	require.False(t, bytes.Contains(raw, []byte(secretMarker)), "the database holds a plaintext secret")
	require.False(t, bytes.Contains(raw, []byte("7f3a9c1e")), "the database holds part of a plaintext secret")
}
