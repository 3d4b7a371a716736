package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// The Engine is the contract the API, the UI and the jobs see.
var _ mksync.Syncer = (*Engine)(nil)

// ApplyStock applies a verified Metakocka stock webhook of the tenant
// (webhooks.md, warehouse_product_stock_update). The payload lists a
// product's stock in every active warehouse, one entry per lot, serial
// number or microlocation, so for a product mapped to a CRM product it is
// applied directly, with no call to product_list: the stock per warehouse
// is replaced by the payload's sums and the total becomes their sum
// (warehouse_list is read only when a warehouse is new to the product). A
// product the CRM does not have yet, or whose entries lack a warehouse id
// or an amount, is pulled instead (its stock comes with it). Products are
// handled each once, in the order given. Errors: EINVALID for a payload
// that is not the documented JSON; otherwise the first failure, wrapped
// with its product.
func (e *Engine) ApplyStock(ctx context.Context, tenantID string, payload []byte) error {
	var body struct {
		StockList metakocka.List[metakocka.StockEntry] `json:"stock_list"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		return mksync.WrapError(mksync.EINVALID, "stock webhook payload is not the documented JSON", err)
	}
	var ids []string
	byProduct := map[string][]metakocka.StockEntry{}
	for _, s := range body.StockList {
		if s.MkID == "" {
			continue
		}
		if !slices.Contains(ids, s.MkID) {
			ids = append(ids, s.MkID)
		}
		byProduct[s.MkID] = append(byProduct[s.MkID], s)
	}
	if len(ids) == 0 {
		return nil
	}
	s, err := e.session(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		localID, mapped, err := s.localIDByMkID(ctx, mksync.EntityProduct, id)
		if err != nil {
			return fmt.Errorf("find product %s for its stock: %w", id, err)
		}
		if mapped && localID != "" && complete(byProduct[id]) {
			if err := s.applyStockEntries(ctx, localID, byProduct[id]); err != nil {
				return fmt.Errorf("apply stock of product %s: %w", id, err)
			}
			continue
		}
		if _, err := e.SyncFromMetakocka(ctx, tenantID, mksync.EntityProduct, id); err != nil {
			return fmt.Errorf("pull product %s for its stock: %w", id, err)
		}
	}
	return nil
}

// complete reports whether every entry names its warehouse and amount.
func complete(entries []metakocka.StockEntry) bool {
	for _, e := range entries {
		if e.WarehouseID == "" || !e.Amount.Valid {
			return false
		}
	}
	return len(entries) > 0
}

// applyStockEntries writes one product's stock from a webhook's entries:
// per warehouse (named from the stored stock, else warehouse_list) and the
// total, in one transaction, each only when it differs.
func (s *session) applyStockEntries(ctx context.Context, productID string, entries []metakocka.StockEntry) error {
	stored, err := s.e.store.WarehouseStock(ctx, s.tenantID, productID)
	if err != nil {
		return fmt.Errorf("read stock per warehouse: %w", err)
	}
	names := map[string]metakocka.Warehouse{}
	for _, w := range stored {
		names[w.WarehouseID] = metakocka.Warehouse{MkID: w.WarehouseID, Mark: w.Mark, Name: w.Name}
	}
	total := decimal.Zero
	for _, e := range entries {
		total = total.Add(e.Amount.Value)
		if _, known := names[e.WarehouseID]; !known {
			if names, err = s.warehouses(ctx); err != nil {
				return err
			}
			break
		}
	}
	stock := groupStock(entries, names)[entries[0].MkID]
	return s.e.store.InTx(ctx, s.tenantID, func(tx mksync.Store) error {
		p, err := tx.FindProductByID(ctx, s.tenantID, productID)
		if err != nil {
			return fmt.Errorf("find product %s: %w", productID, err)
		}
		if _, err := s.setWarehouseStock(ctx, tx, productID, stock); err != nil {
			return err
		}
		if total.Equal(p.StockAmount) {
			return nil
		}
		if err := tx.SetProductStock(ctx, s.tenantID, productID, total); err != nil {
			return fmt.Errorf("set stock of product %s: %w", productID, err)
		}
		return nil
	})
}
