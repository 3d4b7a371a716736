package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
	"github.com/mksync/mksync/storetest"
)

// bundle is a test's world: an engine on a temp SQLite store, a Metakocka
// simulator over loopback HTTP, and one tenant connected to company "16".
type bundle struct {
	e       *Engine
	store   *sqlite.DB
	fake    *mkfake.Server
	url     string
	tenant  string
	company string
}

type setupOpts struct {
	settings mksync.SyncSettings
	timeout  time.Duration
	cfg      func(*Config)
	// fakeClock is the simulator's clock (the times it stamps on records);
	// nil for time.Now.
	fakeClock func() time.Time
}

func setup(t testing.TB, o setupOpts) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mksync.db"), sqlite.Options{Sealer: storetest.FakeSealer{}, Logger: observe.Discard()})
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	t.Cleanup(func() { _ = db.Close() })

	fake := mkfake.New(mkfake.Options{Seed: 7, Clock: o.fakeClock})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })

	if o.timeout == 0 {
		o.timeout = 2 * time.Second
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	cfg := Config{
		Store:      db,
		Logger:     observe.Discard(),
		HTTPClient: &http.Client{Transport: transport},
		Pacing:     metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 32},
		Retry:      metakocka.RetryConfig{MaxRetries: 4, InitialInterval: time.Millisecond, MaxInterval: 4 * time.Millisecond, MaxElapsed: time.Minute},
		Timeouts:   metakocka.Timeouts{Default: o.timeout, List: 4 * o.timeout, Search: 4 * o.timeout},
		RetryClock: metakocka.ShortSleeps{Max: 2 * time.Millisecond},
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	e, err := New(cfg)
	require.NoError(t, err)
	b := &bundle{e: e, store: db, fake: fake, url: srv.URL}
	b.tenant, b.company = b.addTenant(t, "16", o.settings)
	return b
}

// addTenant adds a tenant connected to a new simulator company.
func (b *bundle) addTenant(t testing.TB, company string, settings mksync.SyncSettings) (string, string) {
	t.Helper()
	ctx := context.Background()
	b.fake.AddCompany(company, "secret-"+company)
	tn := mksync.Tenant{Name: "tenant " + company}
	require.NoError(t, b.store.CreateTenant(ctx, &tn))
	require.NoError(t, b.store.SetCredentials(ctx, tn.ID, &mksync.MetakockaCredentials{
		CompanyID: company, SecretKey: mksync.Secret("secret-" + company), BaseURL: b.url, Settings: settings,
	}))
	return tn.ID, company
}

var seq atomic.Int64

func newContact(t testing.TB, b *bundle) mksync.Contact {
	t.Helper()
	n := seq.Add(1)
	c := mksync.Contact{Name: fmt.Sprintf("Contact %d", n), Email: fmt.Sprintf("c%d@example.com", n), Phone: "01 234 567",
		Street: fmt.Sprintf("Street %d", n), PostNumber: "1000", City: "Ljubljana", Country: "SI", TaxID: fmt.Sprintf("SI%08d", n)}
	require.NoError(t, b.store.CreateContact(context.Background(), b.tenant, &c))
	return c
}

func newProduct(t testing.TB, b *bundle) mksync.Product {
	t.Helper()
	n := seq.Add(1)
	p := mksync.Product{Code: fmt.Sprintf("SKU-%d", n), Name: fmt.Sprintf("Product %d", n), Unit: "kos",
		Price: decimal.RequireFromString("19.99"), TaxRate: decimal.NewFromInt(22), Sales: true}
	require.NoError(t, b.store.CreateProduct(context.Background(), b.tenant, &p))
	return p
}

func newDocument(t testing.TB, b *bundle, kind mksync.DocumentKind, c mksync.Contact, ps ...mksync.Product) mksync.SalesDocument {
	t.Helper()
	d := mksync.SalesDocument{Kind: kind, Date: mksync.NewDate(2025, 3, 14), ContactID: c.ID, Currency: "EUR"}
	for i, p := range ps {
		d.Lines = append(d.Lines, mksync.DocumentLine{ProductID: p.ID, Quantity: decimal.NewFromInt(int64(i + 1)),
			UnitPrice: p.Price, TaxRate: decimal.RequireFromString("9.5")})
	}
	require.NoError(t, b.store.CreateSalesDocument(context.Background(), b.tenant, &d))
	return d
}

// writes counts the simulator's successful (or committed) write calls.
func writes(st mkfake.Stats) int64 {
	var n int64
	for _, m := range []string{"add_partner", "update_partner", "product_add", "product_update", "put_document", "update_document"} {
		n += st.Calls(m, mkfake.OutcomeOK) + st.Calls(m, mkfake.OutcomeCommitThenFail)
	}
	return n
}

func (b *bundle) mapping(t testing.TB, et mksync.EntityType, id string) mksync.Mapping {
	t.Helper()
	m, err := b.store.FindMapping(context.Background(), b.tenant, et, id)
	require.NoError(t, err)
	return m
}

// runToEnd is the run lifecycle in one call for tests: it creates a run
// over ids (CreateRun) and works it through WorkRun, the one entry point
// that executes runs, until it is final; run is then as stored.
func runToEnd(ctx context.Context, e *Engine, tenantID string, run *mksync.SyncRun, ids []string) error {
	if err := e.CreateRun(ctx, tenantID, run, ids); err != nil {
		return err
	}
	done, err := workToEnd(ctx, e, tenantID, run.ID)
	*run = done
	return err
}

// workToEnd works the stored run runID through WorkRun until it is final
// (or fails) and returns it as stored.
func workToEnd(ctx context.Context, e *Engine, tenantID, runID string) (mksync.SyncRun, error) {
	_, err := e.WorkRun(ctx, tenantID, runID, nil)
	run, ferr := e.store.FindSyncRun(context.WithoutCancel(ctx), tenantID, runID)
	if ferr != nil {
		return run, errors.Join(err, ferr)
	}
	return run, err
}
