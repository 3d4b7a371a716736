package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func sampleProduct(code string) mksync.Product {
	return mksync.Product{
		Code:        code,
		Name:        "Product " + code,
		Description: "Med, cvetlični, 500 g",
		Unit:        "kos",
		Price:       dec("12345678901234.123456"), // exact beyond float64
		TaxRate:     dec("9.5"),
		Sales:       true,
		Service:     false,
		Purchasing:  true,
		Barcode:     "3830000000001",
		Height:      dec("0.1"),
		Width:       dec("0.25"),
		Depth:       dec("0"),
		Weight:      dec("0.5"),
		StockAmount: dec("0"),
	}
}

func testProducts(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "shop")

	p := sampleProduct("MED-500")
	require.NoError(t, s.CreateProduct(ctx, tid, &p))
	require.NotEmpty(t, p.ID)
	require.EqualValues(t, 1, p.Version)
	requireRecentUTC(t, p.CreatedAt)

	got, err := s.FindProductByID(ctx, tid, p.ID)
	require.NoError(t, err)
	requireSame(t, p, got)
	require.Equal(t, "12345678901234.123456", got.Price.String(), "decimals must be exact")
	byCode, err := s.FindProductByCode(ctx, tid, "MED-500")
	require.NoError(t, err)
	requireSame(t, got, byCode)
	_, err = s.FindProductByCode(ctx, tid, "med-500x")
	requireCode(t, err, mksync.ENOTFOUND)

	// Codes are unique per tenant.
	dup := sampleProduct("MED-500")
	requireCode(t, s.CreateProduct(ctx, tid, &dup), mksync.ECONFLICT)
	other := sampleProduct("MED-1000")
	require.NoError(t, s.CreateProduct(ctx, tid, &other))
	clash := other
	clash.Code = "MED-500"
	requireCode(t, s.UpdateProduct(ctx, tid, &clash), mksync.ECONFLICT)

	// Validation.
	bad := sampleProduct("")
	bad.Price = dec("-1")
	err = s.CreateProduct(ctx, tid, &bad)
	requireCode(t, err, mksync.EINVALID)
	require.Contains(t, mksync.ErrorDetails(err), "code")
	require.Contains(t, mksync.ErrorDetails(err), "price")
	require.Len(t, collect(t, s.AllProducts(ctx, tid)), 2)

	// Versioned update; a synced mapping turns pending.
	m := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, MetakockaID: "P1", CountCode: "MED-500", State: mksync.StateSynced}
	require.NoError(t, s.UpsertMapping(ctx, tid, &m))
	require.NoError(t, s.SetProductStock(ctx, tid, p.ID, dec("3")))
	upd := got
	upd.Price = dec("10.99")
	upd.PriceIncludesTax = true
	upd.StockAmount = dec("999")
	require.NoError(t, s.UpdateProduct(ctx, tid, &upd))
	gross, err := s.FindProductByID(ctx, tid, p.ID)
	require.NoError(t, err)
	require.True(t, gross.PriceIncludesTax, "a gross price stays gross")
	require.EqualValues(t, 2, upd.Version)
	require.Equal(t, "3", upd.StockAmount.String(), "updates keep the stored stock")
	stale := got
	requireCode(t, s.UpdateProduct(ctx, tid, &stale), mksync.ECONFLICT)
	mm, err := s.FindMapping(ctx, tid, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StatePending, mm.State)

	// Stock: only the amount changes, not the version or the sync state.
	mm.State = mksync.StateSynced
	require.NoError(t, s.UpsertMapping(ctx, tid, &mm))
	require.NoError(t, s.SetProductStock(ctx, tid, p.ID, dec("42.125")))
	got, err = s.FindProductByID(ctx, tid, p.ID)
	require.NoError(t, err)
	require.Equal(t, "42.125", got.StockAmount.String())
	require.Equal(t, "10.99", got.Price.String())
	require.EqualValues(t, 2, got.Version)
	mm, err = s.FindMapping(ctx, tid, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateSynced, mm.State)
	requireCode(t, s.SetProductStock(ctx, tid, "0190f3c4-0000-7000-8000-0000000000ff", dec("1")), mksync.ENOTFOUND)

	// Lists and search by code or name.
	list, next, err := s.FindProducts(ctx, tid, mksync.ListFilter{Search: "med-1"})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, list, 1)
	require.Equal(t, other.ID, list[0].ID)
	synced, _, err := s.FindProducts(ctx, tid, mksync.ListFilter{State: mksync.StateSynced})
	require.NoError(t, err)
	require.Len(t, synced, 1)
	unsynced, _, err := s.FindProducts(ctx, tid, mksync.ListFilter{State: mksync.StateUnsynced})
	require.NoError(t, err)
	require.Len(t, unsynced, 1)
	require.Equal(t, other.ID, unsynced[0].ID)

	// Delete removes the mapping too.
	require.NoError(t, s.DeleteProduct(ctx, tid, p.ID))
	_, err = s.FindProductByID(ctx, tid, p.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.FindMapping(ctx, tid, mksync.EntityProduct, p.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.DeleteProduct(ctx, tid, p.ID), mksync.ENOTFOUND)
	// The code is free again.
	again := sampleProduct("MED-500")
	require.NoError(t, s.CreateProduct(ctx, tid, &again))
}

func testProductUpsertAndStream(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "catalogue")
	const n = 1100
	ps := make([]mksync.Product, n)
	for i := range ps {
		ps[i] = sampleProduct(fmt.Sprintf("SKU-%05d", i))
	}
	require.NoError(t, s.UpsertProducts(ctx, tid, ps))
	all := collect(t, s.AllProducts(ctx, tid))
	require.Len(t, all, n)
	for i := 1; i < n; i++ {
		require.Less(t, all[i-1].ID, all[i].ID)
	}

	// Replace keeps the id and the stock, bumps the version.
	require.NoError(t, s.SetProductStock(ctx, tid, ps[5].ID, dec("7")))
	ps[5].Name = "Renamed"
	ps[5].PriceIncludesTax = true
	ps[5].StockAmount = dec("1")
	require.NoError(t, s.UpsertProducts(ctx, tid, ps[5:6]))
	require.Equal(t, "7", ps[5].StockAmount.String())
	got, err := s.FindProductByID(ctx, tid, ps[5].ID)
	require.NoError(t, err)
	require.Equal(t, "Renamed", got.Name)
	require.True(t, got.PriceIncludesTax, "a gross price stays gross")
	require.EqualValues(t, 2, got.Version)
	require.Equal(t, "7", got.StockAmount.String(), "upserts keep the stored stock")

	// A code taken by another product is a conflict; the batch is not written.
	fresh := sampleProduct("SKU-NEW")
	taken := sampleProduct("SKU-00001")
	requireCode(t, s.UpsertProducts(ctx, tid, []mksync.Product{fresh, taken}), mksync.ECONFLICT)
	_, err = s.FindProductByCode(ctx, tid, "SKU-NEW")
	requireCode(t, err, mksync.ENOTFOUND)

	// Invalid: nothing written.
	bad := sampleProduct("SKU-BAD")
	bad.TaxRate = dec("100")
	requireCode(t, s.UpsertProducts(ctx, tid, []mksync.Product{sampleProduct("SKU-OK"), bad}), mksync.EINVALID)
	_, err = s.FindProductByCode(ctx, tid, "SKU-OK")
	requireCode(t, err, mksync.ENOTFOUND)
}

// testWarehouseStock: a product's stock per warehouse is replaced as a
// whole, leaves the version and the sync state alone, is refused when
// malformed (nothing written) and goes with the product.
func testWarehouseStock(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "warehouses")
	p := sampleProduct("WH-1")
	require.NoError(t, s.CreateProduct(ctx, tid, &p))
	m := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, MetakockaID: "P1", CountCode: "WH-1", State: mksync.StateSynced}
	require.NoError(t, s.UpsertMapping(ctx, tid, &m))

	got, err := s.WarehouseStock(ctx, tid, p.ID)
	require.NoError(t, err)
	require.Empty(t, got, "no stock known yet")

	first := []mksync.WarehouseStock{
		{WarehouseID: "1600000067", Mark: "oznaka2", Name: "Skladišče Maribor", Amount: dec("103")},
		{WarehouseID: "1600000042", Mark: "oznaka1", Name: "moje skladisce", Amount: dec("-3.5")},
	}
	require.NoError(t, s.SetWarehouseStock(ctx, tid, p.ID, first))
	got, err = s.WarehouseStock(ctx, tid, p.ID)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "1600000042", got[0].WarehouseID, "in warehouse id order")
	require.Equal(t, "oznaka1", got[0].Mark)
	require.Equal(t, "-3.5", got[0].Amount.String())
	require.Equal(t, "Skladišče Maribor", got[1].Name)
	require.Equal(t, "103", got[1].Amount.String())

	// Replaced as a whole: a warehouse not named again is gone.
	require.NoError(t, s.SetWarehouseStock(ctx, tid, p.ID, []mksync.WarehouseStock{{WarehouseID: "1600000042", Amount: dec("7")}}))
	got, err = s.WarehouseStock(ctx, tid, p.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"1600000042"}, []string{got[0].WarehouseID})
	require.Len(t, got, 1)
	require.Equal(t, "7", got[0].Amount.String())

	// Stock is never pushed: the product keeps its version and mapping state.
	after, err := s.FindProductByID(ctx, tid, p.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, after.Version)
	mm, err := s.FindMapping(ctx, tid, mksync.EntityProduct, p.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.StateSynced, mm.State)

	// Malformed input writes nothing.
	requireCode(t, s.SetWarehouseStock(ctx, tid, p.ID, []mksync.WarehouseStock{
		{WarehouseID: "A", Amount: dec("1")}, {WarehouseID: "A", Amount: dec("2")},
	}), mksync.EINVALID)
	requireCode(t, s.SetWarehouseStock(ctx, tid, p.ID, []mksync.WarehouseStock{{Amount: dec("1")}}), mksync.EINVALID)
	got, err = s.WarehouseStock(ctx, tid, p.ID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "7", got[0].Amount.String())

	// Clearing, an unknown product, and the product's delete.
	require.NoError(t, s.SetWarehouseStock(ctx, tid, p.ID, nil))
	got, err = s.WarehouseStock(ctx, tid, p.ID)
	require.NoError(t, err)
	require.Empty(t, got)
	const missing = "0190f3c4-0000-7000-8000-0000000000ff"
	requireCode(t, s.SetWarehouseStock(ctx, tid, missing, nil), mksync.ENOTFOUND)
	_, err = s.WarehouseStock(ctx, tid, missing)
	requireCode(t, err, mksync.ENOTFOUND)
	require.NoError(t, s.SetWarehouseStock(ctx, tid, p.ID, first))
	require.NoError(t, s.DeleteProduct(ctx, tid, p.ID))
	_, err = s.WarehouseStock(ctx, tid, p.ID)
	requireCode(t, err, mksync.ENOTFOUND)
}
