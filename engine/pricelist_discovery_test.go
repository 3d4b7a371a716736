package engine

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// TestDecidePricelist: the one list every priced product carries, when
// exactly one does; no priced product decides nothing; otherwise no guess.
func TestDecidePricelist(t *testing.T) {
	t.Parallel()
	pl := func(codes ...string) metakocka.Product {
		var p metakocka.Product
		for _, c := range codes {
			p.Pricelist = append(p.Pricelist, metakocka.Pricelist{CountCode: c})
		}
		return p
	}
	tests := []struct {
		name     string
		products []metakocka.Product
		want     string
		ok       bool
	}{
		{"no products", nil, "", true},
		{"no priced products", []metakocka.Product{pl(), pl()}, "", true},
		{"one list", []metakocka.Product{pl("PC_MAIN"), pl("PC_MAIN"), pl()}, "PC_MAIN", true},
		{"one list on all, an action list on some", []metakocka.Product{pl("PC_MAIN", "AKCIJA"), pl("PC_MAIN"), pl("PC_MAIN")}, "PC_MAIN", true},
		{"two lists on all", []metakocka.Product{pl("A", "B"), pl("B", "A")}, "", false},
		{"two lists, neither on all", []metakocka.Product{pl("A"), pl("B")}, "", false},
		{"a list named twice counts once", []metakocka.Product{pl("A", "A"), pl("B")}, "", false},
		{"purchase and partner lists are not defaults", []metakocka.Product{
			{Pricelist: metakocka.List[metakocka.Pricelist]{{CountCode: "PC_MAIN"}, {CountCode: "NAB", SalesPurchase: "purchase"}}},
			{Pricelist: metakocka.List[metakocka.Pricelist]{{CountCode: "PC_MAIN"}, {CountCode: "NAB", SalesPurchase: "purchase"}, {CountCode: "KUPEC", Buyer: "Janez Novak"}}},
		}, "PC_MAIN", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := decidePricelist(samplePricelists(tt.products))
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.ok, ok)
		})
	}
}

// addPriced adds a product with net prices on the given lists (code →
// price) to the simulator.
func addPriced(t *testing.T, b *bundle, code string, prices map[string]string) string {
	t.Helper()
	var lists metakocka.List[metakocka.Pricelist]
	for list, price := range prices {
		lists = append(lists, metakocka.Pricelist{CountCode: list, PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal(price), Tax: "220"}}})
	}
	ref, err := b.mk(t).ProductAdd(context.Background(), metakocka.Product{Code: code, Name: "Product " + code, Unit: "kos", Pricelist: lists})
	require.NoError(t, err)
	return ref.MkID
}

// TestPricelistDiscoveredFromCompany is the case: a company whose
// products use PC_MAIN and a tenant with no price list chosen. The pulled
// products show their real prices; the list is stored in the tenant's
// settings as discovered, once (later runs read no sample); a CRM price
// edit goes back to PC_MAIN and is not overwritten by the next pull.
func TestPricelistDiscoveredFromCompany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{})
	first := addPriced(t, b, "PC-1", map[string]string{"PC_MAIN": "12.5"})
	addPriced(t, b, "PC-2", map[string]string{"PC_MAIN": "3"})

	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	creds, err := b.store.FindCredentials(ctx, b.tenant)
	require.NoError(t, err)
	require.Equal(t, "PC_MAIN", creds.Settings.Pricelist)
	require.Equal(t, mksync.PricelistDiscovered, creds.Settings.PricelistSource)
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, first)
	require.NoError(t, err)
	p, err := b.store.FindProductByID(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)
	require.Equal(t, "12.5", p.Price.String(), "the real price, not MPC's nothing")
	require.Equal(t, "22", p.TaxRate.String())

	// A CRM price edit is pushed to the discovered list and survives the
	// next pull; the decision is not sampled again.
	p.Price = decimal.NewFromInt(14)
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	var onMain string
	for _, fp := range b.fake.Products(b.company) {
		if fp.MkID == first {
			for _, pr := range fp.Prices {
				if pr.Pricelist == "PC_MAIN" {
					onMain = pr.Price
				}
			}
			require.Len(t, fp.Prices, 1, "no MPC entry was added")
		}
	}
	require.Equal(t, "14", onMain)
	b.fake.ResetStats()
	_, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, first)
	require.NoError(t, err)
	got, err := b.store.FindProductByID(ctx, b.tenant, p.ID)
	require.NoError(t, err)
	require.Equal(t, "14", got.Price.String())
	require.EqualValues(t, 1, b.fake.Stats().Calls("product_list", mkfake.OutcomeOK), "one read of the product, no second discovery")
}

// TestPricelistUndecided: products that carry two lists, each on every
// product, are not guessed between. The settings say "undecided", an error
// record names both lists, the pulled products get no price, and a push
// writes no price list; once the tenant chooses, prices sync.
func TestPricelistUndecided(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{})
	mkID := addPriced(t, b, "UD-1", map[string]string{"PC_A": "10", "PC_B": "20"})
	addPriced(t, b, "UD-2", map[string]string{"PC_A": "1", "PC_B": "2"})

	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.NoError(t, err, "%+v", res)
	creds, err := b.store.FindCredentials(ctx, b.tenant)
	require.NoError(t, err)
	require.Empty(t, creds.Settings.Pricelist)
	require.Equal(t, mksync.PricelistUndecided, creds.Settings.PricelistSource)
	recs, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{Operation: "products.pricelist"})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Contains(t, recs[0].Message, "PC_A")
	require.Contains(t, recs[0].Message, "PC_B")
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.NoError(t, err)
	p, err := b.store.FindProductByID(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)
	require.True(t, p.Price.IsZero(), "no price was guessed: %s", p.Price)

	// A push writes no price list; Metakocka keeps both.
	p.Name = "Renamed"
	require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
	_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	for _, fp := range b.fake.Products(b.company) {
		if fp.MkID == mkID {
			require.Equal(t, "Renamed", fp.Name)
			require.Len(t, fp.Prices, 2)
		}
	}
	// A second run does not decide again or write a second record.
	_, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.NoError(t, err)
	recs, _, err = b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{Operation: "products.pricelist"})
	require.NoError(t, err)
	require.Len(t, recs, 1)

	// The tenant chooses PC_B: the next pull reads its price.
	creds.Settings = creds.Settings.ChoosePricelist(creds.Settings, "PC_B")
	require.Equal(t, mksync.PricelistChosen, creds.Settings.PricelistSource)
	require.NoError(t, b.store.SetCredentials(ctx, b.tenant, &creds))
	_, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.NoError(t, err)
	got, err := b.store.FindProductByID(ctx, b.tenant, p.ID)
	require.NoError(t, err)
	require.Equal(t, "20", got.Price.String())
}

// TestSyncedTenantKeepsTheDefaultList: a tenant that synced products
// before it had a price list did so on the engine's default list (MPC);
// discovery keeps that list rather than deciding anew (here the products
// carry two lists, which would otherwise be undecided).
func TestSyncedTenantKeepsTheDefaultList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{})
	mkID := addPriced(t, b, "OLD-1", map[string]string{"MPC": "7", "PC_X": "9"})
	addPriced(t, b, "OLD-2", map[string]string{"MPC": "1", "PC_X": "2"})
	p := mksync.Product{Code: "LOCAL-1", Name: "Local", Unit: "kos", Price: decimal.NewFromInt(3), TaxRate: decimal.NewFromInt(22)}
	require.NoError(t, b.store.CreateProduct(ctx, b.tenant, &p))
	m := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, MetakockaID: "MK-OLD", CountCode: "CC-OLD", State: mksync.StateSynced}
	require.NoError(t, b.store.UpsertMapping(ctx, b.tenant, &m))

	res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.NoError(t, err, "%+v", res)
	creds, err := b.store.FindCredentials(ctx, b.tenant)
	require.NoError(t, err)
	require.Equal(t, "MPC", creds.Settings.Pricelist)
	require.Empty(t, creds.Settings.PricelistSource, "set by the server, not discovered")
	recs, _, err := b.store.FindErrorRecords(ctx, b.tenant, mksync.ErrorFilter{Operation: "products.pricelist"})
	require.NoError(t, err)
	require.Empty(t, recs)
	got, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, mkID)
	require.NoError(t, err)
	pulled, err := b.store.FindProductByID(ctx, b.tenant, got.EntityID)
	require.NoError(t, err)
	require.Equal(t, "7", pulled.Price.String())
}
