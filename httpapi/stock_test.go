package httpapi_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// TestPricelistSourceInSettings: the API shows where the price list came
// from; saving a discovered list unchanged keeps it discovered, another
// list is chosen, an empty one asks for a new discovery, and the source
// cannot be set by a client.
func TestPricelistSourceInSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok := b.a.Token
	base := "/api/integrations/metakocka/credentials"
	put := func(pricelist string) map[string]any {
		var v map[string]any
		b.decode(b.do("PUT", base, tok, `{"companyId":"16","secretKey":"k-0123456789","settings":{"pricelist":"`+pricelist+`","pricelistSource":"chosen"}}`), 200, &v)
		return v["settings"].(map[string]any)
	}
	require.Equal(t, "", put("")["pricelistSource"], "a client cannot set the source")

	// The engine discovered PC_MAIN.
	c, err := b.db.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	c.Settings.Pricelist, c.Settings.PricelistSource = "PC_MAIN", mksync.PricelistDiscovered
	require.NoError(t, b.db.SetCredentials(ctx, b.a.ID, &c))
	var v map[string]any
	b.decode(b.do("GET", base, tok, ""), 200, &v)
	require.Equal(t, "discovered", v["settings"].(map[string]any)["pricelistSource"])

	require.Equal(t, "discovered", put("PC_MAIN")["pricelistSource"], "saved unchanged, it stays discovered")
	require.Equal(t, "chosen", put("PC_SHOP")["pricelistSource"])
	require.Equal(t, "chosen", put("PC_SHOP")["pricelistSource"])
	require.Equal(t, "", put("")["pricelistSource"], "emptied: discovered again at the next sync")
}

// TestProductShowsStockPerWarehouse: one product read through the API
// carries its stock per warehouse; a client cannot write it.
func TestProductShowsStockPerWarehouse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := mksync.Product{Code: "WH-API", Name: "Chair", Unit: "kos", Price: decimal.NewFromInt(10), TaxRate: decimal.NewFromInt(22)}
	require.NoError(t, b.db.CreateProduct(ctx, b.a.ID, &p))
	require.NoError(t, b.db.SetWarehouseStock(ctx, b.a.ID, p.ID, []mksync.WarehouseStock{
		{WarehouseID: "1600000042", Mark: "GL", Name: "Glavno skladišče", Amount: decimal.RequireFromString("12.5")},
	}))
	var got map[string]any
	b.decode(b.do("GET", "/api/products/"+p.ID, b.a.Token, ""), 200, &got)
	require.Equal(t, []any{map[string]any{"warehouseId": "1600000042", "mark": "GL", "name": "Glavno skladišče", "amount": "12.5"}}, got["warehouses"])

	body := `{"code":"WH-API","name":"Chair 2","unit":"kos","price":"10","taxRate":"22","version":1,"warehouses":[{"warehouseId":"X","amount":"999"}]}`
	b.decode(b.do("PUT", "/api/products/"+p.ID, b.a.Token, body), 200, &got)
	stock, err := b.db.WarehouseStock(ctx, b.a.ID, p.ID)
	require.NoError(t, err)
	require.Len(t, stock, 1)
	require.Equal(t, "1600000042", stock[0].WarehouseID, "stock is read from Metakocka only")
	b.decode(b.do("GET", "/api/products/"+p.ID, b.b.Token, ""), 404, nil)
}
