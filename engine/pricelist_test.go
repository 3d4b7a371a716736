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
	}{
		{"the tenant's choice", "PC_SHOP", "12.5", "9.5"},
		{"the default list (MPC)", "", "20", "22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{settings: mksync.SyncSettings{Pricelist: tt.pricelist}})
			ref, err := b.mk(t).ProductAdd(ctx, metakocka.Product{Code: "PL-1", Name: "Chair", Unit: "kos",
				Pricelist: metakocka.List[metakocka.Pricelist]{
					{CountCode: "MPC", PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal("20"), Tax: "220"}}},
					{CountCode: "PC_SHOP", PriceDef: metakocka.List[metakocka.PriceDef]{{Price: metakocka.MustDecimal("12,5"), Tax: "095"}}},
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
		})
	}
}
