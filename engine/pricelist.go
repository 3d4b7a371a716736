package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// discoverySample is how many products (one product_list window) the
// price list discovery reads.
const discoverySample = metakocka.MaxProductWindow

// pricelistCount is one price list and how many sampled products carry it.
type pricelistCount struct {
	code     string
	products int
}

// samplePricelists counts, over products, the sales price lists each
// carries (a list a product names twice counts once). Purchase lists and
// a partner's own prices (buyer) are not a default for the catalogue and
// are left out. priced is how many products carry at least one.
func samplePricelists(products []metakocka.Product) (counts []pricelistCount, priced int) {
	n := map[string]int{}
	for _, p := range products {
		seen := map[string]bool{}
		for _, pl := range p.Pricelist {
			if pl.CountCode == "" || pl.Buyer != "" || strings.EqualFold(pl.SalesPurchase, "purchase") || seen[pl.CountCode] {
				continue
			}
			seen[pl.CountCode] = true
			n[pl.CountCode]++
		}
		if len(seen) > 0 {
			priced++
		}
	}
	for code, k := range n {
		counts = append(counts, pricelistCount{code, k})
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].products != counts[j].products {
			return counts[i].products > counts[j].products
		}
		return counts[i].code < counts[j].code
	})
	return counts, priced
}

// decidePricelist is the rule of discovery: the one list that every priced
// product carries, when exactly one does. No priced product decides
// nothing (""); two or more lists that no single list covers, or several
// that each cover all, are undecided (ok false): guessing could read a
// wrong price into the CRM and write it back.
func decidePricelist(counts []pricelistCount, priced int) (code string, ok bool) {
	if priced == 0 {
		return "", true
	}
	var full []string
	for _, c := range counts {
		if c.products == priced {
			full = append(full, c.code)
		}
	}
	if len(full) == 1 {
		return full[0], true
	}
	return "", false
}

// ensurePricelist decides, once, the price list of a tenant that has none:
// the one its Metakocka company's products carry (decidePricelist over
// the first product_list window). The decision is stored in the tenant's
// settings (source "discovered"), so that pushes and pulls share it and a
// later run never guesses again; a company whose products carry several
// lists with no clear default is stored as "undecided" with an error
// record naming them, and prices are not synced until the tenant chooses.
// A company without priced products decides nothing: the server's default
// list is used, and the next session looks again.
func (s *session) ensurePricelist(ctx context.Context) error {
	if s.settings.Pricelist != "" || s.settings.PricelistSource != "" {
		return nil
	}
	if kept, err := s.keepDefaultOfSyncedTenant(ctx); kept || err != nil {
		return err
	}
	page, err := s.mk.ProductList(ctx, metakocka.ProductListRequest{ReturnPricelist: metakocka.NewBool(true), Limit: discoverySample})
	if err != nil {
		return fmt.Errorf("discover the price list: %w", err)
	}
	counts, priced := samplePricelists(page.Products)
	code, ok := decidePricelist(counts, priced)
	if ok && code == "" {
		return nil
	}
	source := mksync.PricelistDiscovered
	if !ok {
		source = mksync.PricelistUndecided
	}
	stored, err := s.storePricelist(ctx, code, source)
	if err != nil {
		return err
	}
	s.settings.Pricelist, s.settings.PricelistSource = stored.Pricelist, stored.PricelistSource
	if stored.PricelistSource == mksync.PricelistUndecided && !ok {
		return s.recordUndecidedPricelist(ctx, counts, priced)
	}
	s.e.log.LogAttrs(ctx, slog.LevelInfo, "price list discovered",
		slog.String("tenant_id", s.tenantID), slog.String("pricelist", stored.Pricelist))
	return nil
}

// keepDefaultOfSyncedTenant: a tenant that already synced products
// without a price list (before discovery existed, or while its company had
// no priced products) did so on the engine's default list; that list is
// stored as the tenant's (source "", set by the server), so that a later
// discovery never moves prices already synced onto another list. kept
// reports that it applied.
func (s *session) keepDefaultOfSyncedTenant(ctx context.Context) (kept bool, err error) {
	counts, err := s.e.store.CountMappingsByState(ctx, s.tenantID, mksync.EntityProduct)
	if err != nil {
		return false, fmt.Errorf("count product mappings: %w", err)
	}
	// Synced and conflicting records went through a sync; unsynced ones
	// and unfinished creates did not.
	if counts[mksync.StateSynced]+counts[mksync.StateConflict] == 0 {
		return false, nil
	}
	stored, err := s.storePricelist(ctx, s.e.cfg.Pricelist, "")
	if err != nil {
		return false, err
	}
	s.settings.Pricelist, s.settings.PricelistSource = stored.Pricelist, stored.PricelistSource
	return true, nil
}

// storePricelist writes the decision into the stored settings unless a
// price list was chosen or decided meanwhile, and returns the settings as
// stored.
func (s *session) storePricelist(ctx context.Context, code string, source mksync.PricelistSource) (mksync.SyncSettings, error) {
	var out mksync.SyncSettings
	err := s.e.store.InTx(ctx, s.tenantID, func(tx mksync.Store) error {
		creds, err := tx.FindCredentials(ctx, s.tenantID)
		if err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
		if creds.Settings.Pricelist != "" || creds.Settings.PricelistSource != "" {
			out = creds.Settings
			return nil
		}
		creds.Settings.Pricelist, creds.Settings.PricelistSource = code, source
		if err := tx.SetCredentials(ctx, s.tenantID, &creds); err != nil {
			return fmt.Errorf("store the price list: %w", err)
		}
		out = creds.Settings
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store the discovered price list of tenant %s: %w", s.tenantID, err)
	}
	return out, nil
}

// recordUndecidedPricelist writes the error record (code conflict) that
// tells the tenant to choose among the lists its products carry.
func (s *session) recordUndecidedPricelist(ctx context.Context, counts []pricelistCount, priced int) error {
	var names, parts []string
	for _, c := range counts {
		names = append(names, c.code)
		parts = append(parts, fmt.Sprintf("%s on %d", c.code, c.products))
	}
	er := mksync.ErrorRecord{
		Category: "SYNC", Operation: "products.pricelist", Code: mksync.ECONFLICT,
		Message: fmt.Sprintf("the company's products carry several price lists with no clear default (%s of %d priced products): "+
			"choose one in Settings; product prices are not synced until then", strings.Join(parts, ", "), priced),
		Details:   map[string]any{"candidates": names},
		CreatedAt: s.e.clock.Now(),
	}
	if err := s.e.store.CreateErrorRecord(context.WithoutCancel(ctx), s.tenantID, &er); err != nil {
		return fmt.Errorf("record the undecided price list: %w", err)
	}
	s.e.log.LogAttrs(ctx, slog.LevelWarn, "price list undecided: several lists, no clear default",
		slog.String("tenant_id", s.tenantID), slog.String("error_id", er.ID), slog.Any("candidates", names))
	return nil
}

// productSession is a session for work on et; work that reads or writes
// products' prices (products, and sales documents, which push and pull
// their products) first makes sure the tenant's price list is decided.
func (e *Engine) productSession(ctx context.Context, tenantID string, et mksync.EntityType) (*session, error) {
	s, err := e.session(ctx, tenantID)
	if err != nil || et == mksync.EntityContact {
		return s, err
	}
	if err := s.ensurePricelist(ctx); err != nil {
		return nil, err
	}
	return s, nil
}
