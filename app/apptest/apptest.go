// Package apptest starts a complete mksync deployment in-process for
// end-to-end tests: the real program, built by package app exactly as
// `mksync serve` builds it — REST API, web UI, sync engine and job workers
// on a migrated SQLite store in a temporary folder — on a loopback port,
// and the Metakocka simulator (mkfake) over loopback HTTP. Nothing is
// mocked.
//
// It is for tests only (it imports testing); the API clients' end-to-end
// tests use it, so that client/ itself imports no server package.
package apptest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// Options configure Start. The zero value is a deployment with the engine,
// job workers and the API's default rate limits.
type Options struct {
	// NoEngine leaves the sync engine out of the API and UI: sync routes
	// answer 503 "sync engine not configured".
	NoEngine bool
	// RateLimitSync and RateLimitAPI are requests per minute per tenant;
	// 0 means the API's defaults (10 and 1200).
	RateLimitSync, RateLimitAPI int
}

// Deployment is a running mksync: its URL, admin token and parts.
type Deployment struct {
	// URL is the API's base URL, http://127.0.0.1:PORT.
	URL string
	// AdminToken authenticates /api/admin routes.
	AdminToken mksync.Secret
	// App is the running program; App.Store its database.
	App *app.App
	// Store is the deployment's database (App.Store).
	Store mksync.Store
	// Fake is the Metakocka simulator; FakeURL its base URL.
	Fake    *mkfake.Server
	FakeURL string

	companies atomic.Int64
}

// Start starts a deployment that stops when t ends.
func Start(t testing.TB, o Options) *Deployment {
	t.Helper()
	ctx := context.Background()
	fake := mkfake.New(mkfake.Options{Seed: 7})
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); fakeSrv.Close() })

	admin, _, err := mksync.NewTokenSecret()
	must(t, err)
	cfg := app.Config{
		AdminToken:    admin,
		RateLimitSync: o.RateLimitSync,
		RateLimitAPI:  o.RateLimitAPI,
		MetakockaURLs: mksync.MetakockaURLs{fakeSrv.URL},
	}
	a, err := app.StartLocal(ctx, app.LocalOptions{
		Dir:      t.TempDir(),
		Config:   cfg,
		Logger:   slog.New(slog.DiscardHandler),
		NoEngine: o.NoEngine,
		Engine: func(c *engine.Config) {
			c.Retry = metakocka.RetryConfig{MaxRetries: 2, InitialInterval: 5 * time.Millisecond,
				MaxInterval: 20 * time.Millisecond, MaxElapsed: 10 * time.Second}
			c.Timeouts = metakocka.Timeouts{Default: 5 * time.Second, List: 20 * time.Second, Search: 20 * time.Second}
		},
	})
	must(t, err)
	t.Cleanup(a.Close)
	_, err = app.EnsureAdminToken(ctx, cfg, a.Store)
	must(t, err)
	h, err := a.Handler(ctx)
	must(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Deployment{URL: srv.URL, AdminToken: admin, App: a, Store: a.Store, Fake: fake, FakeURL: fakeSrv.URL}
}

// Tenant is a tenant of a Deployment, connected to its own simulator
// company.
type Tenant struct {
	ID    string
	Token mksync.Secret
	// Company and Secret are its Metakocka company in the simulator.
	Company string
	Secret  mksync.Secret
}

// NewTenant creates a tenant with an API token and, unless unconnected,
// Metakocka credentials for a new simulator company.
func (d *Deployment) NewTenant(t testing.TB, name string, connected bool) Tenant {
	t.Helper()
	ctx := context.Background()
	tn := mksync.Tenant{Name: name}
	must(t, d.Store.CreateTenant(ctx, &tn))
	plain, hash, err := mksync.NewTokenSecret()
	must(t, err)
	must(t, d.Store.CreateAPIToken(ctx, tn.ID, &mksync.APIToken{Name: "test", Hash: hash}))
	out := Tenant{ID: tn.ID, Token: plain}
	if connected {
		out.Company = fmt.Sprint(100 + d.companies.Add(1))
		out.Secret = mksync.Secret("secret-" + out.Company)
		d.Fake.AddCompany(out.Company, out.Secret.Reveal())
		must(t, d.Store.SetCredentials(ctx, tn.ID, &mksync.MetakockaCredentials{
			CompanyID: out.Company, SecretKey: out.Secret, BaseURL: d.FakeURL,
		}))
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
