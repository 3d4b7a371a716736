package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app/apptest"
	"github.com/mksync/mksync/client"
)

// bundle is a deployment and clients for its admin and two tenants.
type bundle struct {
	d      *apptest.Deployment
	admin  *client.Client
	a, b   *client.Client
	ta, tb apptest.Tenant
}

func setup(t *testing.T, o apptest.Options) *bundle {
	t.Helper()
	d := apptest.Start(t, o)
	admin, err := client.New(client.Config{BaseURL: d.URL, Token: d.AdminToken, UserAgent: "client-test/1"})
	require.NoError(t, err)
	b := &bundle{d: d, admin: admin}
	b.ta = d.NewTenant(t, "Tenant A", true)
	b.tb = d.NewTenant(t, "Tenant B", true)
	b.a = admin.WithToken(b.ta.Token)
	b.b = admin.WithToken(b.tb.Token)
	return b
}

func apiError(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var e *client.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, status, e.Status, e.Error())
	require.Equal(t, code, e.Code)
	require.Equal(t, code, mksync.ErrorCode(err), "mksync.ErrorCode sees the envelope's code")
	require.NotEmpty(t, e.ErrorID)
	require.NotEmpty(t, e.RequestID)
	return e
}

func newContact(name string) mksync.Contact {
	return mksync.Contact{Name: name, Email: "info@example.com", Street: "Dunajska 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
}

func newProduct(code string) mksync.Product {
	return mksync.Product{Code: code, Name: "Product " + code, Unit: "kos", Price: decimal.RequireFromString("19.99"),
		TaxRate: decimal.NewFromInt(22), Sales: true}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []client.Config{{}, {BaseURL: "localhost:8080"}, {BaseURL: "ftp://x"}, {BaseURL: "http://x", Timeout: -1}} {
		_, err := client.New(cfg)
		require.Error(t, err, "%+v", cfg)
	}
	c, err := client.New(client.Config{BaseURL: "http://example.com/prefix/", Token: "mks_secret"})
	require.NoError(t, err)
	require.Equal(t, "http://example.com/prefix", c.BaseURL())
}

func TestContactCRUD(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx := context.Background()

	created, err := b.a.CreateContact(ctx, newContact("Acme d.o.o."))
	require.NoError(t, err)
	require.NotEmpty(t, created.ID)
	require.EqualValues(t, 1, created.Version)
	require.Nil(t, created.Mapping)

	got, err := b.a.Contact(ctx, created.ID)
	require.NoError(t, err)
	require.Equal(t, "Acme d.o.o.", got.Name)

	upd := got.Contact
	upd.City = "Maribor"
	updated, err := b.a.UpdateContact(ctx, upd)
	require.NoError(t, err)
	require.EqualValues(t, 2, updated.Version)
	require.Equal(t, "Maribor", updated.City)

	// A stale version is a conflict.
	_, err = b.a.UpdateContact(ctx, upd)
	apiError(t, err, 409, mksync.ECONFLICT)

	// Lists filter and paginate.
	for _, n := range []string{"Beta", "Gamma"} {
		_, err := b.a.CreateContact(ctx, newContact(n))
		require.NoError(t, err)
	}
	page, err := b.a.ListContacts(ctx, client.ListOptions{PageOptions: client.PageOptions{Limit: 2}})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	require.NotEmpty(t, page.NextCursor)
	page, err = b.a.ListContacts(ctx, client.ListOptions{PageOptions: client.PageOptions{Limit: 2, Cursor: page.NextCursor}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Empty(t, page.NextCursor)
	page, err = b.a.ListContacts(ctx, client.ListOptions{Search: "gam", State: mksync.StateUnsynced})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, "Gamma", page.Items[0].Name)

	// Tenant B sees none of it.
	_, err = b.b.Contact(ctx, created.ID)
	apiError(t, err, 404, mksync.ENOTFOUND)
	_, err = b.b.UpdateContact(ctx, updated.Contact)
	apiError(t, err, 404, mksync.ENOTFOUND)
	err = b.b.DeleteContact(ctx, created.ID)
	apiError(t, err, 404, mksync.ENOTFOUND)

	require.NoError(t, b.a.DeleteContact(ctx, created.ID))
	_, err = b.a.Contact(ctx, created.ID)
	apiError(t, err, 404, mksync.ENOTFOUND)
	// A first-attempt DELETE of a missing record is still reported.
	apiError(t, b.a.DeleteContact(ctx, created.ID), 404, mksync.ENOTFOUND)
}

func TestInvalidInputEnvelope(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx := context.Background()
	_, err := b.a.CreateContact(ctx, mksync.Contact{Email: "not an address"})
	e := apiError(t, err, 400, mksync.EINVALID)
	require.Contains(t, e.Details, "name")
	require.Contains(t, e.Details, "email")
	require.Equal(t, e.Details, mksync.ErrorDetails(err))
	require.Contains(t, err.Error(), "POST /api/contacts: 400 invalid")
	require.Contains(t, err.Error(), e.ErrorID)

	var de *mksync.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, mksync.EINVALID, de.Code)
	require.Equal(t, e.Message, mksync.ErrorMessage(err))
}

func TestProductsAndSalesDocuments(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx := context.Background()
	ct, err := b.a.CreateContact(ctx, newContact("Buyer"))
	require.NoError(t, err)
	p, err := b.a.CreateProduct(ctx, newProduct("SKU-1"))
	require.NoError(t, err)
	require.Equal(t, "19.99", p.Price.String())
	_, err = b.a.CreateProduct(ctx, newProduct("SKU-1"))
	apiError(t, err, 409, mksync.ECONFLICT)

	pu := p.Product
	pu.Name = "Renamed"
	p2, err := b.a.UpdateProduct(ctx, pu)
	require.NoError(t, err)
	require.Equal(t, "Renamed", p2.Name)
	list, err := b.a.ListProducts(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)

	doc := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, 3, 1), ContactID: ct.ID, Currency: "EUR",
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(3), UnitPrice: decimal.RequireFromString("10.00"), TaxRate: decimal.NewFromInt(22)}}}
	d, err := b.a.CreateSalesDocument(ctx, doc)
	require.NoError(t, err)
	require.Equal(t, "30", d.TotalNet.String())
	require.Equal(t, "36.6", d.TotalGross.String())

	du := d.SalesDocument
	du.Notes = "deliver on Monday"
	d2, err := b.a.UpdateSalesDocument(ctx, du)
	require.NoError(t, err)
	require.Equal(t, "deliver on Monday", d2.Notes)
	got, err := b.a.SalesDocument(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, got.Lines, 1)
	docs, err := b.a.ListSalesDocuments(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, docs.Items, 1)

	// A product in use cannot go.
	apiError(t, b.a.DeleteProduct(ctx, p.ID), 409, mksync.ECONFLICT)
	require.NoError(t, b.a.DeleteSalesDocument(ctx, d.ID))
	require.NoError(t, b.a.DeleteProduct(ctx, p.ID))
	require.NoError(t, b.a.DeleteContact(ctx, ct.ID))
}

func TestAuthAndAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx := context.Background()

	tn, err := b.admin.CreateTenant(ctx, "Tenant C")
	require.NoError(t, err)
	got, err := b.admin.Tenant(ctx, tn.ID)
	require.NoError(t, err)
	require.Equal(t, "Tenant C", got.Name)
	ts, err := b.admin.Tenants(ctx, client.PageOptions{})
	require.NoError(t, err)
	require.Len(t, ts.Items, 3)

	tok, plain, err := b.admin.CreateToken(ctx, tn.ID, "crm")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(plain.Reveal(), mksync.TokenPrefix))
	require.Equal(t, "[REDACTED]", plain.String(), "the token prints redacted")
	c := b.admin.WithToken(plain)
	_, err = c.ListContacts(ctx, client.ListOptions{})
	require.NoError(t, err)
	toks, err := b.admin.Tokens(ctx, tn.ID)
	require.NoError(t, err)
	require.Len(t, toks, 1)
	require.Equal(t, tok.ID, toks[0].ID)

	// Tenant tokens may not use admin routes; the admin token may not read
	// tenant data.
	_, err = c.Tenants(ctx, client.PageOptions{})
	apiError(t, err, 403, mksync.EFORBIDDEN)
	_, err = b.admin.ListContacts(ctx, client.ListOptions{})
	apiError(t, err, 403, mksync.EFORBIDDEN)

	require.NoError(t, b.admin.RevokeToken(ctx, tn.ID, tok.ID))
	_, err = c.ListContacts(ctx, client.ListOptions{})
	e := apiError(t, err, 401, mksync.EUNAUTHORIZED)
	require.NotContains(t, e.Error(), plain.Reveal(), "no error names the token")
	_, err = b.admin.Tenant(ctx, "no-such-tenant")
	apiError(t, err, 404, mksync.ENOTFOUND)
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	fresh := b.d.NewTenant(t, "unconnected", false)
	c := b.admin.WithToken(fresh.Token)

	_, err := c.Credentials(ctx)
	apiError(t, err, 404, mksync.ENOTFOUND)
	apiError(t, c.TestCredentials(ctx), 404, mksync.ENOTFOUND)

	_, err = c.SetCredentials(ctx, client.CredentialsInput{CompanyID: "", MetakockaURL: "not a url"})
	e := apiError(t, err, 400, mksync.EINVALID)
	require.Contains(t, e.Details, "companyId")

	b.d.Fake.AddCompany("777", "right-secret")
	creds, err := c.SetCredentials(ctx, client.CredentialsInput{CompanyID: "777", SecretKey: "wrong-secret", MetakockaURL: b.d.FakeURL,
		Settings: &mksync.SyncSettings{ScheduleInterval: 15 * time.Minute, BatchSize: 20}})
	require.NoError(t, err)
	require.True(t, creds.SecretKeySet)
	require.NotEmpty(t, creds.WebhookID)
	require.Equal(t, 15*time.Minute, creds.Settings.ScheduleInterval)
	require.Equal(t, 20, creds.Settings.BatchSize)
	require.Equal(t, mksync.NewestWins, creds.Settings.ConflictPolicy)

	err = c.TestCredentials(ctx)
	var ae *client.Error
	require.ErrorAs(t, err, &ae)
	// A rejected Metakocka secret is upstream (502), never 401: a caller
	// must be able to tell it from its own bad API token.
	require.Equal(t, mksync.EUPSTREAM, ae.Code, err.Error())
	require.Equal(t, http.StatusBadGateway, ae.Status)
	require.Contains(t, ae.Message, "Metakocka")

	// Fix only the secret; settings stay.
	_, err = c.SetCredentials(ctx, client.CredentialsInput{CompanyID: "777", SecretKey: "right-secret", MetakockaURL: b.d.FakeURL,
		Settings: &creds.Settings})
	require.NoError(t, err)
	require.NoError(t, c.TestCredentials(ctx))
	got, err := c.Credentials(ctx)
	require.NoError(t, err)
	require.Equal(t, "777", got.CompanyID)
	require.Equal(t, 15*time.Minute, got.Settings.ScheduleInterval)
	require.Empty(t, got.AlertWebhookURL)

	// A per-tenant alert receiver: the URL is shown back, the secret only as set.
	got, err = c.SetCredentials(ctx, client.CredentialsInput{CompanyID: "777", MetakockaURL: b.d.FakeURL, Settings: &creds.Settings,
		AlertWebhookURL: "https://alerts.example.com/mksync", AlertWebhookSecret: "alert-secret-0123456789"})
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example.com/mksync", got.AlertWebhookURL)
	require.True(t, got.AlertWebhookSecretSet)
	got, err = c.Credentials(ctx)
	require.NoError(t, err)
	require.Equal(t, "https://alerts.example.com/mksync", got.AlertWebhookURL)
	require.True(t, got.AlertWebhookSecretSet)
}

func TestErrorRecordsAlertsAndClientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx := context.Background()

	id, err := b.a.ReportClientError(ctx, client.ClientErrorReport{Message: "sync button failed", Operation: "contacts.sync",
		Code: "upstream", Context: map[string]string{"component": "ContactTable", "token": "mks_leaked"}})
	require.NoError(t, err)
	require.NotEmpty(t, id)
	rec, err := b.a.ErrorRecord(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "CLIENT", rec.Category)
	require.Equal(t, "sync button failed", rec.Message)
	require.NotEqual(t, "mks_leaked", rec.Details["token"], "sensitive context is redacted")

	// A 503 is stored under the errorId it answered.
	_, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, "no-such-contact")
	apiError(t, err, 404, mksync.ENOTFOUND)
	ct, err := b.a.CreateContact(ctx, newContact("X"))
	require.NoError(t, err)
	_, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, ct.ID)
	e := apiError(t, err, 503, mksync.EUPSTREAM)
	require.Contains(t, e.Message, "sync engine not configured")
	rec, err = b.a.ErrorRecord(ctx, e.ErrorID)
	require.NoError(t, err)
	require.Equal(t, mksync.EUPSTREAM, rec.Code)

	recs, err := b.a.ErrorRecords(ctx, client.ErrorListOptions{Category: "API", Since: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	require.Len(t, recs.Items, 1)
	require.Equal(t, e.ErrorID, recs.Items[0].ID)
	_, err = b.b.ErrorRecord(ctx, e.ErrorID)
	apiError(t, err, 404, mksync.ENOTFOUND)

	alerts, err := b.a.Alerts(ctx, mksync.AlertOpen, client.PageOptions{})
	require.NoError(t, err)
	require.Empty(t, alerts.Items)
	_, err = b.a.Alerts(ctx, "bogus", client.PageOptions{})
	apiError(t, err, 400, mksync.EINVALID)
}

func TestHealthAndOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx := context.Background()
	require.NoError(t, b.a.Healthz(ctx))
	require.NoError(t, b.a.Readyz(ctx))
	doc, err := b.a.OpenAPI(ctx)
	require.NoError(t, err)
	require.Contains(t, string(doc), `"openapi": "3.1.0"`)
}

func TestRateLimitedGETGivesUpBeyondMaxElapsed(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true, RateLimitAPI: 2})
	ctx := context.Background()
	c, err := client.New(client.Config{BaseURL: b.d.URL, Token: b.ta.Token, Retry: client.Retry{MaxElapsed: time.Second}})
	require.NoError(t, err)
	for range 2 {
		_, err := c.ListContacts(ctx, client.ListOptions{})
		require.NoError(t, err)
	}
	start := time.Now()
	_, err = c.ListContacts(ctx, client.ListOptions{})
	e := apiError(t, err, 429, mksync.ERATELIMITED)
	require.GreaterOrEqual(t, e.RetryAfter, time.Second)
	require.Equal(t, 2, e.RateLimit.Limit)
	require.Equal(t, 0, e.RateLimit.Remaining)
	require.Less(t, time.Since(start), 5*time.Second, "a Retry-After past MaxElapsed is not waited for")
	// Tenant B has its own bucket.
	_, err = b.b.ListContacts(ctx, client.ListOptions{})
	require.NoError(t, err)
}

func TestContextEndsCall(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{NoEngine: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.a.ListContacts(ctx, client.ListOptions{})
	require.ErrorIs(t, err, context.Canceled)
	var e *client.Error
	require.False(t, errors.As(err, &e))
}
