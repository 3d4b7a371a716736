package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/mksync/mksync"
)

// The Engine is the contract the API, the UI and the jobs see.
var _ mksync.Syncer = (*Engine)(nil)

// ApplyStock applies a verified Metakocka stock webhook of the tenant: it
// pulls every product the payload's stock_list names (by mk_id, each once,
// in the order given), and the product's stock comes with it, one-way from
// Metakocka. Errors: EINVALID for a payload that is not the documented
// JSON; otherwise the first failed pull, wrapped with its product.
func (e *Engine) ApplyStock(ctx context.Context, tenantID string, payload []byte) error {
	var body struct {
		StockList []struct {
			MkID string `json:"mk_id"`
		} `json:"stock_list"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		return mksync.WrapError(mksync.EINVALID, "stock webhook payload is not the documented JSON", err)
	}
	var ids []string
	for _, s := range body.StockList {
		if s.MkID != "" && !slices.Contains(ids, s.MkID) {
			ids = append(ids, s.MkID)
		}
	}
	for _, id := range ids {
		if _, err := e.SyncFromMetakocka(ctx, tenantID, mksync.EntityProduct, id); err != nil {
			return fmt.Errorf("pull product %s for its stock: %w", id, err)
		}
	}
	return nil
}
