// Package clienttest starts a complete mksync deployment in-process for
// tests of API clients: the real REST API (httpapi) on a loopback port, a
// migrated SQLite store in a temporary folder, the sync engine, and the
// Metakocka simulator (mkfake) over loopback HTTP. Nothing is mocked.
package clienttest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
)

// Options configure Start. The zero value is a deployment with the engine
// and the API's default rate limits.
type Options struct {
	// NoEngine leaves the sync engine out: sync routes answer 503
	// "sync engine not configured", as `mksync serve` did before it had one.
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
	// Store is the deployment's database.
	Store *sqlite.DB
	// Fake is the Metakocka simulator; FakeURL its base URL.
	Fake    *mkfake.Server
	FakeURL string
	// Engine is nil with Options.NoEngine.
	Engine *engine.Engine

	companies atomic.Int64
}

// Start starts a deployment that stops when t ends.
func Start(t testing.TB, o Options) *Deployment {
	t.Helper()
	ctx := context.Background()
	key, err := keyring.GenerateKey()
	must(t, err)
	kr, err := keyring.New(key)
	must(t, err)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: kr, Logger: observe.Discard()})
	must(t, err)
	t.Cleanup(func() { _ = db.Close() })
	must(t, db.Migrate(ctx))
	admin, hash, err := mksync.NewTokenSecret()
	must(t, err)
	must(t, db.SetAdminTokenHash(ctx, hash))

	fake := mkfake.New(mkfake.Options{Seed: 7})
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); fakeSrv.Close() })

	d := &Deployment{AdminToken: admin, Store: db, Fake: fake, FakeURL: fakeSrv.URL}
	cfg := httpapi.Config{Store: db, Logger: observe.Discard(), RateLimitSync: o.RateLimitSync, RateLimitAPI: o.RateLimitAPI,
		MetakockaURLs: mksync.MetakockaURLs{fakeSrv.URL}}
	if !o.NoEngine {
		eng, err := engine.New(engine.Config{
			Store:  db,
			Logger: observe.Discard(),
			Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 32},
			Retry: metakocka.RetryConfig{MaxRetries: 2, InitialInterval: 5 * time.Millisecond,
				MaxInterval: 20 * time.Millisecond, MaxElapsed: 10 * time.Second},
			Timeouts: metakocka.Timeouts{Default: 5 * time.Second, List: 20 * time.Second, Search: 20 * time.Second},
		})
		must(t, err)
		jdb := jobs.SQLite(db.WriteDB(), sqlite.TxOf)
		must(t, jobs.Migrate(ctx, jdb, nil))
		j, err := jobs.New(jdb, jobs.Config{Store: db, Runner: eng, Logger: observe.Discard()})
		must(t, err)
		must(t, j.Start(ctx))
		t.Cleanup(func() { _ = j.Stop(context.Background()) })
		d.Engine = eng
		cfg.Syncer, cfg.Runs = eng, j
	}
	api, err := httpapi.New(cfg)
	must(t, err)
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
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
