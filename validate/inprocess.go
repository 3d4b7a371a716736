package validate

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// InProcessOptions choose the Metakocka the in-process driver syncs with.
// All empty: an in-process simulator with faults. All set: a real account.
type InProcessOptions struct {
	// MetakockaURL is the base URL of a real Metakocka.
	MetakockaURL string
	// CompanyID and SecretKey are the real account's.
	CompanyID string
	SecretKey mksync.Secret
}

// simulatorCompanies are the simulator's two companies (tenants): the
// first is validated, the second checks isolation.
var simulatorCompanies = [2][2]string{{"16", "validate-secret"}, {"17", "other-secret"}}

// world is what the in-process driver runs in: the whole program on a
// temporary SQLite store (app.StartLocal: engine and job workers, runs
// executed as jobs as in serve), a Metakocka client and, without a real
// account, the simulator. newWorld is the one place that builds it.
type world struct {
	dir   string
	app   *app.App
	store mksync.Store
	e     *engine.Engine
	fake  *mkfake.Server // nil for a real account
	srv   *httptest.Server
	mk    *metakocka.Client
	url   string
	creds mksync.MetakockaCredentials
}

func newWorld(ctx context.Context, o InProcessOptions) (w *world, err error) {
	dir, err := os.MkdirTemp("", "mksync-validate-")
	if err != nil {
		return nil, fmt.Errorf("validate: temporary directory: %w", err)
	}
	w = &world{dir: dir, url: o.MetakockaURL, creds: mksync.MetakockaCredentials{CompanyID: o.CompanyID, SecretKey: o.SecretKey}}
	defer func() {
		if err != nil {
			_ = w.close()
			err = fmt.Errorf("validate: in-process setup: %w", err)
		}
	}()
	retry, timeouts := metakocka.RetryConfig{}, metakocka.Timeouts{}
	if w.url == "" {
		w.fake = mkfake.New(mkfake.Options{})
		w.srv = httptest.NewServer(w.fake)
		w.url = w.srv.URL
		for _, c := range simulatorCompanies {
			w.fake.AddCompany(c[0], c[1])
		}
		w.creds = mksync.MetakockaCredentials{CompanyID: simulatorCompanies[0][0], SecretKey: mksync.Secret(simulatorCompanies[0][1])}
		retry = metakocka.RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}
		timeouts = metakocka.Timeouts{Default: 500 * time.Millisecond, List: 2 * time.Second, Search: 2 * time.Second}
	}
	w.creds.BaseURL = w.url
	if w.app, err = app.StartLocal(ctx, app.LocalOptions{Dir: dir, Engine: func(c *engine.Config) {
		c.Retry, c.Timeouts = retry, timeouts
	}}); err != nil {
		return w, err
	}
	w.store, w.e = w.app.Store, w.app.Engine
	w.mk, err = metakocka.New(metakocka.Config{BaseURL: w.url, CompanyID: w.creds.CompanyID, SecretKey: w.creds.SecretKey, Retry: retry, Timeouts: timeouts})
	return w, err
}

func (w *world) close() error {
	var err error
	if w.app != nil {
		w.app.Close()
	}
	if w.fake != nil {
		w.fake.Close()
		w.srv.Close()
	}
	return errors.Join(err, os.RemoveAll(w.dir))
}

// addTenant stores a tenant connected to creds.
func (w *world) addTenant(ctx context.Context, creds mksync.MetakockaCredentials) (*localTenant, error) {
	t := mksync.Tenant{Name: Prefix + creds.CompanyID}
	if err := w.store.CreateTenant(ctx, &t); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	if err := w.store.SetCredentials(ctx, t.ID, &creds); err != nil {
		return nil, fmt.Errorf("set credentials: %w", err)
	}
	return &localTenant{store: w.store, e: w.e, app: w.app, id: t.ID}, nil
}

// InProcess drives a store, engine and Metakocka client built in this
// process, against the simulator or a real Metakocka account. Not safe for
// concurrent use.
type InProcess struct {
	*localTenant
	w *world
	// created remembers what to delete from a real account.
	createdProducts []string
	createdDocs     []string
}

// NewInProcess builds the in-process world for o. Close it when done.
func NewInProcess(ctx context.Context, o InProcessOptions) (*InProcess, error) {
	if (o.MetakockaURL == "") != (o.CompanyID == "") || (o.MetakockaURL == "") != (o.SecretKey == "") {
		return nil, errors.New("validate: give the Metakocka URL, company id and secret key together, or none")
	}
	w, err := newWorld(ctx, o)
	if err != nil {
		return nil, err
	}
	d := &InProcess{w: w}
	if d.localTenant, err = w.addTenant(ctx, w.creds); err != nil {
		_ = w.close()
		return nil, fmt.Errorf("validate: %w", err)
	}
	d.pushed = d.remember
	return d, nil
}

// Close removes the temporary store and stops the simulator.
func (d *InProcess) Close() error { return d.w.close() }

// Connect tests the tenant's Metakocka credentials.
func (d *InProcess) Connect(ctx context.Context) (string, error) {
	if err := d.e.TestConnection(ctx, d.id); err != nil {
		return "", fmt.Errorf("test Metakocka connection: %w", err)
	}
	what := "Metakocka"
	if d.w.fake != nil {
		what = "simulator"
	}
	return fmt.Sprintf("in process, %s at %s, company %s", what, d.w.url, d.w.creds.CompanyID), nil
}

// SecondTenant adds a tenant on the simulator's second company, which
// holds no record.
func (d *InProcess) SecondTenant(ctx context.Context) (Second, error) {
	if d.w.fake == nil {
		return Second{}, skip("needs the simulator (a second company)")
	}
	c := simulatorCompanies[1]
	t, err := d.w.addTenant(ctx, mksync.MetakockaCredentials{CompanyID: c[0], SecretKey: mksync.Secret(c[1]), BaseURL: d.w.url})
	return Second{Tenant: t, Empty: true}, err
}

// Simulator is the simulator, nil against a real account.
func (d *InProcess) Simulator() Simulator {
	if d.w.fake == nil {
		return nil
	}
	return &simulator{fake: d.w.fake, company: d.w.creds.CompanyID}
}

// Direct reaches the store and the tenant's Metakocka account.
func (d *InProcess) Direct() Direct { return &direct{w: d.w, tenant: d.id} }

// API is nil: there is no REST API in process.
func (d *InProcess) API() API { return nil }

// remember notes what a push created in a real account, to delete it.
func (d *InProcess) remember(ctx context.Context, et mksync.EntityType, id, mkID string) {
	switch et {
	case mksync.EntityProduct:
		d.createdProducts = append(d.createdProducts, mkID)
	case mksync.EntitySalesDocument:
		d.createdDocs = append(d.createdDocs, mkID)
		doc, _ := d.store.FindSalesDocumentByID(ctx, d.id, id)
		if len(doc.Lines) > 0 {
			if pm, err := d.e.Mapping(ctx, d.id, mksync.EntityProduct, doc.Lines[0].ProductID); err == nil {
				d.createdProducts = append(d.createdProducts, pm.MetakockaID)
			}
		}
	}
}

// Cleanup deletes the products and documents the checks made in a real
// account (Metakocka cannot delete partners).
func (d *InProcess) Cleanup(ctx context.Context) string {
	if d.w.fake != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	failed := 0
	for _, id := range d.createdDocs {
		if err := d.w.mk.DeleteDocument(ctx, metakocka.DocSalesOrder, id); err != nil {
			failed++
		}
	}
	for _, id := range d.createdProducts {
		if _, err := d.w.mk.ProductDelete(ctx, metakocka.ProductKey{MkID: id}); err != nil {
			failed++
		}
	}
	return fmt.Sprintf("deleted %d Metakocka documents and products, %d left; partners stay, named %s…",
		len(d.createdDocs)+len(d.createdProducts)-failed, failed, Prefix)
}
