package app_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/app/apptest"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// A run started through the job layer executes in the background on the
// app's workers; its progress and result are read back from the store.
func TestStartSyncRunsAsJob(t *testing.T) {
	t.Parallel()
	d := apptest.Start(t, apptest.Options{})
	tn := d.NewTenant(t, "Tenant A", true)
	ctx := context.Background()
	creds, err := d.Store.FindCredentials(ctx, tn.ID)
	require.NoError(t, err)
	creds.Settings.BatchSize = 10
	require.NoError(t, d.Store.SetCredentials(ctx, tn.ID, &creds))
	for i := range 25 {
		c := mksync.Contact{Name: fmt.Sprintf("Contact %d", i), Email: fmt.Sprintf("c%d@example.com", i),
			Street: "Dunajska 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
		require.NoError(t, d.Store.CreateContact(ctx, tn.ID, &c))
	}
	run := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka}
	require.NoError(t, d.App.Jobs.StartSync(ctx, tn.ID, &run, nil))
	require.NotEmpty(t, run.ID)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r, err := app.WaitRun(wctx, d.Store, tn.ID, run.ID, 10*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, mksync.RunSucceeded, r.Status)
	require.Equal(t, 25, r.Processed)
	require.Equal(t, 25, r.Total)
	require.Equal(t, 25, r.Result.Created)
	d.App.Close()
	d.App.Close() // safe twice (and once more at cleanup)
}

// A run queued by a process without workers is worked by the next process
// that has them: the run and its job live in the database.
func TestQueuedRunIsWorkedByTheNextProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := mkfake.New(mkfake.Options{Seed: 7})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	fake.AddCompany("16", "secret-16")
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	cfg := app.Config{DB: "sqlite:" + filepath.Join(t.TempDir(), "mksync.db"),
		EncryptionKey: mksync.Secret(base64.StdEncoding.EncodeToString(key))}

	queueOnly, err := app.Start(ctx, cfg, app.Options{Jobs: jobs.Config{NoWorkers: true}})
	require.NoError(t, err)
	st := queueOnly.Store
	tn := mksync.Tenant{Name: "Tenant A"}
	require.NoError(t, st.CreateTenant(ctx, &tn))
	require.NoError(t, st.SetCredentials(ctx, tn.ID, &mksync.MetakockaCredentials{CompanyID: "16", SecretKey: "secret-16", BaseURL: srv.URL}))
	for i := range 5 {
		p := mksync.Product{Code: fmt.Sprintf("SKU-%d", i), Name: fmt.Sprintf("Product %d", i), Unit: "kos",
			Price: decimal.RequireFromString("19.99"), TaxRate: decimal.NewFromInt(22), Sales: true}
		require.NoError(t, st.CreateProduct(ctx, tn.ID, &p))
	}
	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, queueOnly.Jobs.StartSync(ctx, tn.ID, &run, nil))
	queueOnly.Close() // queued, never started

	worker, err := app.Start(ctx, cfg, app.Options{})
	require.NoError(t, err)
	t.Cleanup(worker.Close)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r, err := app.WaitRun(wctx, worker.Store, tn.ID, run.ID, 10*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, mksync.RunSucceeded, r.Status)
	require.Len(t, fake.Products("16"), 5)
}

// A PostgreSQL rate store asked for on SQLite stops the start with the
// variable's name rather than silently pacing each process alone.
func TestMetakockaRateStoreNeedsItsDatabase(t *testing.T) {
	cfg, err := app.LoadConfig([]string{"MKSYNC_DB=sqlite:" + filepath.Join(t.TempDir(), "m.db"), "MKSYNC_METAKOCKA_RATE_STORE=postgres",
		"MKSYNC_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(make([]byte, 32))})
	require.NoError(t, err)
	_, err = app.Start(t.Context(), cfg, app.Options{Jobs: jobs.Config{NoWorkers: true}})
	require.Error(t, err)
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
	require.Contains(t, mksync.ErrorMessage(err), "MKSYNC_METAKOCKA_RATE_STORE")
}
