package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// warehouseStock is what a session read of products' stock per warehouse
// (warehouse_stock, or a stock webhook), by product mk_id, until a pull of
// the product applies it beside the total.
type warehouseStock struct {
	mu     sync.Mutex
	names  map[string]metakocka.Warehouse // warehouse_list, read once per session
	byProd map[string][]mksync.WarehouseStock
}

// warehouses returns the company's warehouses by mk_id, read once per
// session with warehouse_list.
func (s *session) warehouses(ctx context.Context) (map[string]metakocka.Warehouse, error) {
	s.stock.mu.Lock()
	names := s.stock.names
	s.stock.mu.Unlock()
	if names != nil {
		return names, nil
	}
	list, err := s.mk.WarehouseList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list warehouses: %w", err)
	}
	names = make(map[string]metakocka.Warehouse, len(list))
	for _, w := range list {
		names[w.MkID] = w
	}
	s.stock.mu.Lock()
	s.stock.names = names
	s.stock.mu.Unlock()
	return names, nil
}

// groupStock sums stock entries per product and warehouse (Metakocka
// sends one entry per lot, serial number or microlocation), names each
// warehouse from names, and returns each product's warehouses in id order.
func groupStock(entries []metakocka.StockEntry, names map[string]metakocka.Warehouse) map[string][]mksync.WarehouseStock {
	sums := map[string]map[string]decimal.Decimal{}
	for _, e := range entries {
		if e.MkID == "" || e.WarehouseID == "" {
			continue
		}
		if sums[e.MkID] == nil {
			sums[e.MkID] = map[string]decimal.Decimal{}
		}
		sums[e.MkID][e.WarehouseID] = sums[e.MkID][e.WarehouseID].Add(e.Amount.Value)
	}
	out := make(map[string][]mksync.WarehouseStock, len(sums))
	for mkID, byWh := range sums {
		list := make([]mksync.WarehouseStock, 0, len(byWh))
		for id, amount := range byWh {
			w := names[id]
			list = append(list, mksync.WarehouseStock{WarehouseID: id, Mark: w.Mark, Name: w.Name, Amount: amount})
		}
		slices.SortFunc(list, func(a, b mksync.WarehouseStock) int { return strings.Compare(a.WarehouseID, b.WarehouseID) })
		out[mkID] = list
	}
	return out
}

// readWarehouseStock reads the stock per warehouse of the products mkIDs
// (warehouse_stock by product_mk_id_list, every window) and keeps it for
// their pulls. A product without entries has no stock in any warehouse.
func (s *session) readWarehouseStock(ctx context.Context, mkIDs []string) error {
	if len(mkIDs) == 0 {
		return nil
	}
	names, err := s.warehouses(ctx)
	if err != nil {
		return err
	}
	var entries []metakocka.StockEntry
	for off := 0; ; {
		page, err := s.mk.WarehouseStock(ctx, metakocka.WarehouseStockRequest{ProductMkIDs: mkIDs, Offset: off})
		if err != nil {
			return fmt.Errorf("read stock per warehouse: %w", err)
		}
		entries = append(entries, page...)
		if len(page) < metakocka.MaxStockWindow {
			break
		}
		off += len(page)
	}
	grouped := groupStock(entries, names)
	s.stock.mu.Lock()
	defer s.stock.mu.Unlock()
	if s.stock.byProd == nil {
		s.stock.byProd = map[string][]mksync.WarehouseStock{}
	}
	for _, id := range mkIDs {
		s.stock.byProd[id] = grouped[id]
	}
	return nil
}

// takeWarehouseStock returns (and forgets) the stock per warehouse read
// for the product; ok is false when none was read.
func (s *session) takeWarehouseStock(mkID string) (stock []mksync.WarehouseStock, ok bool) {
	s.stock.mu.Lock()
	defer s.stock.mu.Unlock()
	stock, ok = s.stock.byProd[mkID]
	delete(s.stock.byProd, mkID)
	return stock, ok
}

// hasWarehouseStock reports whether stock per warehouse was read for the
// product and not applied yet.
func (s *session) hasWarehouseStock(mkID string) bool {
	s.stock.mu.Lock()
	defer s.stock.mu.Unlock()
	_, ok := s.stock.byProd[mkID]
	return ok
}

// setWarehouseStock writes the product's stock per warehouse when it
// differs from the stored one (one-way, never pushed); changed reports a
// write.
func (s *session) setWarehouseStock(ctx context.Context, st mksync.Store, productID string, stock []mksync.WarehouseStock) (changed bool, err error) {
	stored, err := st.WarehouseStock(ctx, s.tenantID, productID)
	if err != nil {
		return false, fmt.Errorf("read stock per warehouse of product %s: %w", productID, err)
	}
	if sameStock(stored, stock) {
		return false, nil
	}
	if err := st.SetWarehouseStock(ctx, s.tenantID, productID, stock); err != nil {
		return false, fmt.Errorf("set stock per warehouse of product %s: %w", productID, err)
	}
	return true, nil
}

func sameStock(a, b []mksync.WarehouseStock) bool {
	return slices.EqualFunc(a, b, func(x, y mksync.WarehouseStock) bool {
		return x.WarehouseID == y.WarehouseID && x.Mark == y.Mark && x.Name == y.Name && x.Amount.Equal(y.Amount)
	})
}
