package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// A stock webhook pulls each product it names once; a payload that is not
// Metakocka's documented JSON is refused as invalid.
func TestApplyStockPullsTheNamedProducts(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	b.fake.SeedProducts(b.company, 3)
	ps := b.fake.Products(b.company)
	require.Len(t, ps, 3)
	payload := fmt.Sprintf(`{"stock_list":[{"mk_id":%q},{"mk_id":%q},{"mk_id":%q},{"mk_id":""}]}`, ps[0].MkID, ps[1].MkID, ps[0].MkID)
	require.NoError(t, b.e.ApplyStock(ctx, b.tenant, []byte(payload)))
	for i, p := range ps {
		_, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, p.MkID)
		if i < 2 {
			require.NoError(t, err, "product %s was named", p.MkID)
		} else {
			require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "product %s was not named", p.MkID)
		}
	}
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(b.e.ApplyStock(ctx, b.tenant, []byte(`{"stock_list":`))))
}

// TestStockPerWarehouse: a pull brings each product's stock per warehouse
// beside the total (one warehouse_stock read per product_list window), and
// the stock webhook's per-warehouse payload is applied directly: no
// product_list call, the lots of one warehouse summed, the total their sum.
func TestStockPerWarehouse(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{settings: mksync.SyncSettings{Pricelist: "PC_MAIN"}})
	ctx := context.Background()
	b.fake.SeedDemo(b.company)
	whs := b.fake.Warehouses(b.company)
	require.Len(t, whs, 3, "the demo company has several warehouses")

	b.fake.ResetStats()
	run := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka}
	require.NoError(t, runToEnd(ctx, b.e, b.tenant, &run, nil))
	require.Zero(t, run.Result.Failed, "%+v", run.Result.Errors)
	st := b.fake.Stats()
	require.EqualValues(t, 1, st.Calls("warehouse_stock", mkfake.OutcomeOK), "one read for the one window of products")
	require.EqualValues(t, 1, st.Calls("warehouse_list", mkfake.OutcomeOK))
	multi := 0
	var target mkfake.Product
	for _, fp := range b.fake.Products(b.company) {
		m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, fp.MkID)
		require.NoError(t, err)
		got, err := b.store.WarehouseStock(ctx, b.tenant, m.EntityID)
		require.NoError(t, err)
		var nonZero int
		for _, a := range fp.WarehouseStock {
			if a != "0" {
				nonZero++
			}
		}
		require.Len(t, got, nonZero, fp.Code)
		for _, w := range got {
			require.Equal(t, fp.WarehouseStock[w.WarehouseID], w.Amount.String(), fp.Code)
			require.NotEmpty(t, w.Name)
		}
		if len(got) >= 2 {
			multi++
			target = fp
		}
	}
	require.Positive(t, multi, "some products are stocked in several warehouses")

	// The webhook: two lots in the first warehouse (decimal comma), nothing
	// left in the second, as Metakocka sends it.
	m, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, target.MkID)
	require.NoError(t, err)
	payload := fmt.Sprintf(`{"opr_code":"0","stock_list_count":"3","stock_list":[
		{"warehouse_id":%[1]q,"mk_id":%[3]q,"count_code":%[4]q,"amount":"10,5","reserved_amount":"0","free_amount":"10,5","unit":"kos"},
		{"warehouse_id":%[1]q,"mk_id":%[3]q,"count_code":%[4]q,"amount":"2","unit":"kos"},
		{"warehouse_id":%[2]q,"mk_id":%[3]q,"count_code":%[4]q,"amount":"0","unit":"kos"}]}`,
		whs[0].MkID, whs[1].MkID, target.MkID, target.CountCode)
	b.fake.ResetStats()
	require.NoError(t, b.e.ApplyStock(ctx, b.tenant, []byte(payload)))
	require.Zero(t, b.fake.Stats().Calls("product_list", mkfake.OutcomeOK), "applied directly, not re-pulled")
	require.Zero(t, b.fake.Stats().Calls("warehouse_list", mkfake.OutcomeOK), "the warehouses were known")
	got, err := b.store.WarehouseStock(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)
	byID := map[string]string{}
	for _, w := range got {
		byID[w.WarehouseID] = w.Amount.String()
	}
	require.Equal(t, map[string]string{whs[0].MkID: "12.5", whs[1].MkID: "0"}, byID)
	p, err := b.store.FindProductByID(ctx, b.tenant, m.EntityID)
	require.NoError(t, err)
	require.Equal(t, "12.5", p.StockAmount.String())
	mm, err := b.store.FindMapping(ctx, b.tenant, mksync.EntityProduct, m.EntityID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateSynced, mm.State, "stock is never pushed")
}
