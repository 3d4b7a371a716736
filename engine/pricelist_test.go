package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// TestTenantChoosesPricelist: a product's price and tax are read from the
// price list the tenant chose, not the engine's default, and a push writes
// them back to that list.
func TestTenantChoosesPricelist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		pricelist string
		price     string
		taxRate   string
		gross     bool
	}{
		{"the tenant's choice", "PC_SHOP", "12.5", "9.5", false},
		{"the server's default list (MPC)", "MPC", "20", "22", false},
		{"a gross price list", "PC_GROSS", "19.99", "22", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{settings: mksync.SyncSettings{Pricelist: tt.pricelist}})
			ref, err := b.mk(t).ProductAdd(ctx, metakocka.Product{Code: "PL-1", Name: "Chair", Unit: "kos",
				Pricelist: metakocka.List[metakocka.Pricelist]{
					{CountCode: "MPC", PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal("20"), Tax: "220"}}},
					{CountCode: "PC_SHOP", PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal("12,5"), Tax: "095"}}},
					{CountCode: "PC_GROSS", PriceDef: metakocka.List[metakocka.PriceDef]{{PriceWithTax: metakocka.MustDecimal("19,99"), Tax: "220"}}},
				}})
			require.NoError(t, err)
			res, err := b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, ref.MkID)
			require.NoError(t, err, "%+v", res)
			m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, ref.MkID)
			require.NoError(t, err)
			p, err := b.store.FindProductByID(ctx, b.tenant, m.EntityID)
			require.NoError(t, err)
			require.Equal(t, tt.price, p.Price.String())
			require.Equal(t, tt.taxRate, p.TaxRate.String())
			require.Equal(t, tt.gross, p.PriceIncludesTax)

			// A price changed in the CRM goes to the same list.
			p.Price = p.Price.Add(p.Price)
			require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
			_, err = b.e.SyncToMetakocka(ctx, b.tenant, mksync.EntityProduct, p.ID)
			require.NoError(t, err)
			b.fake.ResetStats()
			res, err = b.e.SyncFromMetakocka(ctx, b.tenant, mksync.EntityProduct, ref.MkID)
			require.NoError(t, err)
			require.Zero(t, res.Updated+res.Conflicts, "%+v", res)
			got, err := b.store.FindProductByID(ctx, b.tenant, p.ID)
			require.NoError(t, err)
			require.True(t, p.Price.Equal(got.Price), "%s != %s", p.Price, got.Price)
			require.Equal(t, tt.gross, got.PriceIncludesTax, "the price went back in its form")
		})
	}
}

// TestDemoProductsShowTheirPrices: the demo company keeps gross prices on
// PC_MAIN; a tenant that chose it, and a fresh tenant that chose nothing
// (the list is discovered from the company), pull every product with its
// price and tax rate.
func TestDemoProductsShowTheirPrices(t *testing.T) {
	t.Parallel()
	for _, chosen := range []string{"PC_MAIN", ""} {
		t.Run("chosen="+chosen, func(t *testing.T) {
			t.Parallel()
			testDemoProductsShowTheirPrices(t, chosen)
		})
	}
}

func testDemoProductsShowTheirPrices(t *testing.T, chosen string) {
	ctx := context.Background()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{Pricelist: chosen}})
	b.fake.SeedDemo(b.company)
	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	fakes := b.fake.Products(b.company)
	require.NotEmpty(t, fakes)
	for _, fp := range fakes {
		m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, fp.MkID)
		require.NoError(t, err, fp.Code)
		p, err := b.store.FindProductByID(ctx, b.tenant, m.EntityID)
		require.NoError(t, err)
		require.Len(t, fp.Prices, 1)
		require.Equal(t, fp.Prices[0].PriceWithTax, p.Price.String(), fp.Code)
		require.True(t, p.PriceIncludesTax, fp.Code)
		require.True(t, p.Price.IsPositive(), fp.Code)
	}
	b.fake.ResetStats()
	run = mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, writes(b.fake.Stats()), "%+v", run.Result)
}
