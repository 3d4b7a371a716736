package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// removeString is product_update's value that clears a text attribute.
const removeString = "$REMOVE_STRING_VALUE$"

// productView is the part of a product that syncs with a Metakocka product
// (docs/mapping.md, "Products ⇄ products"). Stock is one-way (Metakocka →
// CRM) and not part of it. Price and TaxRate are "" when the Metakocka
// product has no entry on the tenant's price list.
type productView struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Unit        string `json:"unit"`
	Price       string `json:"price"`
	TaxRate     string `json:"taxRate"`
	Sales       bool   `json:"sales"`
	Purchasing  bool   `json:"purchasing"`
	Service     bool   `json:"service"`
	Barcode     string `json:"barcode"`
	Height      string `json:"height"`
	Width       string `json:"width"`
	Depth       string `json:"depth"`
	Weight      string `json:"weight"`
}

func (s *session) viewOfProduct(p *mksync.Product) productView {
	unit := p.Unit
	if unit == "" {
		unit = s.e.cfg.DefaultUnit
	}
	return productView{
		Code: p.Code, Name: p.Name, Description: p.Description, Unit: unit,
		Price: dec(p.Price), TaxRate: dec(p.TaxRate),
		Sales: p.Sales, Purchasing: p.Purchasing, Service: p.Service, Barcode: p.Barcode,
		Height: dec(p.Height), Width: dec(p.Width), Depth: dec(p.Depth), Weight: dec(p.Weight),
	}
}

func optDec(d metakocka.Decimal) string {
	if !d.Valid {
		return "0"
	}
	return dec(d.Value)
}

// viewOfMkProduct reads a product as product_list (with return_pricelist)
// answers it. A tax code without a rate (an unknown code) is EINVALID.
func (s *session) viewOfMkProduct(p *metakocka.Product) (productView, error) {
	v := productView{
		Code: p.Code, Name: p.Name, Description: p.NameDesc, Unit: p.Unit,
		Sales: p.Sales.True(), Purchasing: p.Purchasing.True(), Service: p.Service.True(), Barcode: p.Barcode,
		Height: optDec(p.Height), Width: optDec(p.Width), Depth: optDec(p.Depth), Weight: optDec(p.Weight),
	}
	for _, pl := range p.Pricelist {
		if pl.CountCode != s.e.cfg.Pricelist || len(pl.PriceDef) == 0 {
			continue
		}
		def := pl.PriceDef[0]
		rate, err := taxRatePercent(def.Tax, def.TaxFactor)
		if err != nil {
			return v, fmt.Errorf("product %s: %w", p.MkID, err)
		}
		v.Price, v.TaxRate = optDec(def.Price), dec(rate)
		break
	}
	return v, nil
}

func parseDec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}

// applyTo copies the view onto a local product; a view without a price
// keeps the local price and tax rate.
func (v productView) applyTo(p *mksync.Product) {
	p.Code, p.Name, p.Description, p.Unit = v.Code, v.Name, v.Description, v.Unit
	if v.Price != "" {
		p.Price, p.TaxRate = parseDec(v.Price), parseDec(v.TaxRate)
	}
	p.Sales, p.Purchasing, p.Service, p.Barcode = v.Sales, v.Purchasing, v.Service, v.Barcode
	p.Height, p.Width, p.Depth, p.Weight = parseDec(v.Height), parseDec(v.Width), parseDec(v.Depth), parseDec(v.Weight)
}

// mkProductOf is the product_add/product_update body of a view. On an
// update, empty texts are sent as product_update's "remove" value so that
// clearing a field in the CRM clears it in Metakocka.
func (s *session) mkProductOf(v productView, update bool) (metakocka.Product, error) {
	code, err := taxCode(parseDec(v.TaxRate))
	if err != nil {
		return metakocka.Product{}, err
	}
	clear := func(t string) string {
		if update && t == "" {
			return removeString
		}
		return t
	}
	return metakocka.Product{
		Code: v.Code, Name: v.Name, NameDesc: clear(v.Description), Unit: v.Unit, Barcode: clear(v.Barcode),
		Sales: metakocka.NewBool(v.Sales), Purchasing: metakocka.NewBool(v.Purchasing), Service: metakocka.NewBool(v.Service),
		Height: metakocka.NewDecimal(parseDec(v.Height)), Width: metakocka.NewDecimal(parseDec(v.Width)),
		Depth: metakocka.NewDecimal(parseDec(v.Depth)), Weight: metakocka.NewDecimal(parseDec(v.Weight)),
		Pricelist: metakocka.List[metakocka.Pricelist]{{
			CountCode: s.e.cfg.Pricelist,
			PriceDef:  metakocka.List[metakocka.PriceDef]{{Price: metakocka.NewDecimal(parseDec(v.Price)), Tax: code}},
		}},
	}, nil
}

// findProduct reads one product by mk_id, count_code or code; found is
// false when Metakocka has none.
func (s *session) findProduct(ctx context.Context, q metakocka.ProductListRequest) (metakocka.Product, bool, error) {
	q.ReturnPricelist = metakocka.NewBool(true)
	q.ReturnWarehouseStock = metakocka.NewBool(true)
	q.Limit = 10
	page, err := s.mk.ProductList(ctx, q)
	if err != nil {
		return metakocka.Product{}, false, fmt.Errorf("look up product: %w", err)
	}
	for _, p := range page.Products {
		if (q.MkID == "" || p.MkID == q.MkID) && (q.CountCode == "" || p.CountCode == q.CountCode) && (q.Code == "" || p.Code == q.Code) {
			s.e.cache.putMeta(s.tenantID, mksync.EntityProduct, p.MkID, p)
			return p, true, nil
		}
	}
	return metakocka.Product{}, false, nil
}

// productByMkID is findProduct by mk_id through the metadata cache.
func (s *session) productByMkID(ctx context.Context, mkID string) (metakocka.Product, bool, error) {
	if p, ok := s.e.cache.metaProduct(s.tenantID, mkID); ok {
		return p, true, nil
	}
	return s.findProduct(ctx, metakocka.ProductListRequest{MkID: mkID})
}

// pushProduct syncs one product to Metakocka (see pushContact).
func (s *session) pushProduct(ctx context.Context, p mksync.Product, force bool) recordResult {
	unlock := s.e.locks.lock(s.tenantID, mksync.EntityProduct, p.ID)
	defer unlock()
	r, err := s.pushProductLocked(ctx, &p, force)
	if err != nil {
		return s.fail(ctx, mksync.EntityProduct, mksync.ToMetakocka, p.ID, p.ID, err)
	}
	return r
}

func (s *session) pushProductLocked(ctx context.Context, p *mksync.Product, force bool) (recordResult, error) {
	if err := p.Validate(); err != nil {
		return recordResult{}, err
	}
	v := s.viewOfProduct(p)
	h := payloadHash(v)
	m, mapped, err := s.mapping(ctx, mksync.EntityProduct, p.ID)
	if err != nil {
		return recordResult{}, err
	}
	if mapped && m.MetakockaID != "" {
		if m.State == mksync.StateConflict && !force {
			return recordResult{out: outConflict}, nil
		}
		if h == m.PushedHash && !force {
			return s.skipped(ctx, m)
		}
		remote, found, err := s.findProduct(ctx, metakocka.ProductListRequest{MkID: m.MetakockaID})
		if err != nil {
			return recordResult{}, err
		}
		if found {
			rv, err := s.viewOfMkProduct(&remote)
			if err != nil {
				return recordResult{}, err
			}
			rh := payloadHash(rv)
			if h == rh {
				// Already equal: the same change made on both sides, or an
				// earlier push whose mapping write was interrupted; no conflict.
				nm := s.synced(mksync.EntityProduct, p.ID, remote.MkID, remote.CountCode, h, rh)
				return recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
			}
			out, stop, res, err := s.settlePush(ctx, mksync.EntityProduct, p.ID, m, h, rh, p.UpdatedAt, time.Time{}, force,
				func() error { return s.applyMkProduct(ctx, p, rv, &remote, rh) })
			if stop || err != nil {
				return res, err
			}
			return s.updateMkProduct(ctx, p.ID, v, h, &remote, out)
		}
		m.MetakockaID = ""
	}
	cc := CountCode(p.ID)
	if mapped && m.CountCode != "" {
		cc = m.CountCode
	}
	if mapped {
		remote, found, err := s.findProduct(ctx, metakocka.ProductListRequest{CountCode: cc})
		if err != nil {
			return recordResult{}, err
		}
		if found {
			return s.adoptMkProduct(ctx, p.ID, v, h, &remote)
		}
	} else {
		intent := mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, CountCode: cc, State: mksync.StatePending}
		if err := s.saveMapping(ctx, &intent); err != nil {
			return recordResult{}, err
		}
	}
	body, err := s.mkProductOf(v, false)
	if err != nil {
		return recordResult{}, err
	}
	body.CountCode = cc
	for attempt := 1; ; attempt++ {
		res, err := s.mk.ProductAdd(ctx, body)
		if err == nil {
			nm := s.synced(mksync.EntityProduct, p.ID, res.MkID, cc, h, h)
			if err := s.saveMapping(ctx, &nm); err != nil {
				return recordResult{}, err
			}
			return recordResult{out: outCreated}, nil
		}
		if !retryable(err) && !isCode(err, mksync.ECONFLICT) {
			return recordResult{}, fmt.Errorf("add product %s: %w", cc, err)
		}
		remote, found, lerr := s.findProduct(ctx, metakocka.ProductListRequest{CountCode: cc})
		if lerr == nil && !found && isCode(err, mksync.ECONFLICT) {
			// The code (SKU) exists already: the catalogue was there
			// before mksync. Link to it; the store refuses the link when
			// another local product holds it.
			remote, found, lerr = s.findProduct(ctx, metakocka.ProductListRequest{Code: v.Code})
		}
		if lerr != nil {
			return recordResult{}, fmt.Errorf("add product %s failed (%v), then looking it up failed: %w", cc, err, lerr)
		}
		if found {
			return s.adoptMkProduct(ctx, p.ID, v, h, &remote)
		}
		if !retryable(err) || attempt >= s.e.cfg.CreateAttempts {
			return recordResult{}, fmt.Errorf("add product %s: %w", cc, err)
		}
	}
}

// adoptMkProduct maps the product to one found by count_code (an earlier
// attempt) or code (a catalogue that existed before), updating it when it
// differs.
func (s *session) adoptMkProduct(ctx context.Context, localID string, v productView, h string, remote *metakocka.Product) (recordResult, error) {
	rv, err := s.viewOfMkProduct(remote)
	if err != nil {
		return recordResult{}, err
	}
	if rh := payloadHash(rv); rh == h {
		nm := s.synced(mksync.EntityProduct, localID, remote.MkID, remote.CountCode, h, rh)
		return recordResult{out: outCreated}, s.saveMapping(ctx, &nm)
	}
	return s.updateMkProduct(ctx, localID, v, h, remote, outCreated)
}

// updateMkProduct writes v onto the Metakocka product and maps it.
func (s *session) updateMkProduct(ctx context.Context, localID string, v productView, h string, remote *metakocka.Product, out outcome) (recordResult, error) {
	body, err := s.mkProductOf(v, true)
	if err != nil {
		return recordResult{}, err
	}
	body.MkID = remote.MkID
	if _, err := s.mk.ProductUpdate(ctx, body); err != nil {
		return recordResult{}, fmt.Errorf("update product %s: %w", remote.MkID, err)
	}
	nm := s.synced(mksync.EntityProduct, localID, remote.MkID, remote.CountCode, h, h)
	if err := s.saveMapping(ctx, &nm); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: out}, nil
}

// applyMkProduct writes the Metakocka product onto the local product p and
// maps them in one transaction; its stock goes through SetProductStock.
func (s *session) applyMkProduct(ctx context.Context, p *mksync.Product, rv productView, remote *metakocka.Product, rh string) error {
	rv.applyTo(p)
	return s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if err := tx.UpdateProduct(ctx, s.tenantID, p); err != nil {
			return fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if err := s.setStock(ctx, tx, p, remote); err != nil {
			return err
		}
		nm := s.synced(mksync.EntityProduct, p.ID, remote.MkID, remote.CountCode, payloadHash(s.viewOfProduct(p)), rh)
		return save(&nm)
	})
}

// setStock copies Metakocka's stock amount (one-way) when it differs.
func (s *session) setStock(ctx context.Context, st mksync.Store, p *mksync.Product, remote *metakocka.Product) error {
	if !remote.Amount.Valid || remote.Amount.Value.Equal(p.StockAmount) {
		return nil
	}
	if err := st.SetProductStock(ctx, s.tenantID, p.ID, remote.Amount.Value); err != nil {
		return fmt.Errorf("set stock of product %s: %w", p.ID, err)
	}
	p.StockAmount = remote.Amount.Value
	return nil
}

// pullProduct syncs one Metakocka product into the CRM (see pullPartner).
// A local product with the same code and no mapping is linked rather than
// duplicated.
func (s *session) pullProduct(ctx context.Context, mp metakocka.Product, force bool) (recordResult, string) {
	id, r, err := s.pullProductLocked(ctx, mp, force)
	if err != nil {
		return s.fail(ctx, mksync.EntityProduct, mksync.FromMetakocka, mp.MkID, id, err), id
	}
	return r, id
}

func (s *session) pullProductLocked(ctx context.Context, mp metakocka.Product, force bool) (string, recordResult, error) {
	rv, err := s.viewOfMkProduct(&mp)
	if err != nil {
		return "", recordResult{}, err
	}
	rh := payloadHash(rv)
	m, mapped, err := s.mappingByMkID(ctx, mksync.EntityProduct, mp.MkID)
	if err != nil {
		return "", recordResult{}, err
	}
	if !mapped {
		unlock := s.e.locks.lock(s.tenantID, mksync.EntityProduct, "mk:"+mp.MkID)
		defer unlock()
		// Another worker may have pulled it while this one waited.
		if m, again, err := s.mappingByMkID(ctx, mksync.EntityProduct, mp.MkID); err != nil || again {
			return m.EntityID, recordResult{out: outSkipped}, err
		}
		// The same product in the CRM already (mksync's count_code, or the
		// same code), without a mapping: link it.
		var local *mksync.Product
		if id, ok := LocalIDOf(mp.CountCode); ok {
			if p, err := s.e.store.FindProductByID(ctx, s.tenantID, id); err == nil {
				local = &p
			} else if !isCode(err, mksync.ENOTFOUND) {
				return id, recordResult{}, fmt.Errorf("find product %s: %w", id, err)
			}
		}
		if local == nil && mp.Code != "" {
			if p, err := s.e.store.FindProductByCode(ctx, s.tenantID, mp.Code); err == nil {
				local = &p
			} else if !isCode(err, mksync.ENOTFOUND) {
				return "", recordResult{}, fmt.Errorf("find product by code %s: %w", mp.Code, err)
			}
		}
		if local != nil {
			if om, has, err := s.mapping(ctx, mksync.EntityProduct, local.ID); err != nil {
				return local.ID, recordResult{}, err
			} else if has && om.MetakockaID != "" {
				return local.ID, recordResult{}, mksync.Errorf(mksync.ECONFLICT,
					"Metakocka product %s has code %s, which local product %s already has while mapped to Metakocka product %s",
					mp.MkID, mp.Code, local.ID, om.MetakockaID)
			}
			return local.ID, recordResult{out: outUpdated}, s.applyMkProduct(ctx, local, rv, &mp, rh)
		}
		var p mksync.Product
		rv.applyTo(&p)
		err := s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
			if err := tx.CreateProduct(ctx, s.tenantID, &p); err != nil {
				return fmt.Errorf("create product from Metakocka product %s: %w", mp.MkID, err)
			}
			if err := s.setStock(ctx, tx, &p, &mp); err != nil {
				return err
			}
			nm := s.synced(mksync.EntityProduct, p.ID, mp.MkID, mp.CountCode, payloadHash(s.viewOfProduct(&p)), rh)
			return save(&nm)
		})
		if err != nil {
			return "", recordResult{}, err
		}
		return p.ID, recordResult{out: outCreated}, nil
	}

	m, unlock, err := s.lockMapped(ctx, mksync.EntityProduct, m.EntityID, mp.MkID, "product")
	defer unlock()
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	if m.State == mksync.StateConflict && !force {
		return m.EntityID, recordResult{out: outConflict}, nil
	}
	if rh == m.PulledHash && !force {
		// Unchanged; only the one-way stock may have moved.
		if mp.Amount.Valid {
			p, err := s.e.store.FindProductByID(ctx, s.tenantID, m.EntityID)
			if err != nil {
				return m.EntityID, recordResult{}, fmt.Errorf("find product %s: %w", m.EntityID, err)
			}
			if !mp.Amount.Value.Equal(p.StockAmount) {
				return p.ID, recordResult{out: outUpdated}, s.setStock(ctx, s.e.store, &p, &mp)
			}
		}
		return m.EntityID, recordResult{out: outSkipped}, nil
	}
	p, err := s.e.store.FindProductByID(ctx, s.tenantID, m.EntityID)
	if err != nil {
		return m.EntityID, recordResult{}, fmt.Errorf("find product %s: %w", m.EntityID, err)
	}
	lv := s.viewOfProduct(&p)
	lh := payloadHash(lv)
	if lh == rh {
		nm := s.synced(mksync.EntityProduct, p.ID, mp.MkID, mp.CountCode, lh, rh)
		if err := s.setStock(ctx, s.e.store, &p, &mp); err != nil {
			return p.ID, recordResult{}, err
		}
		return p.ID, recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
	}
	if lh != m.PushedHash && rh != m.PulledHash {
		w := winMetakocka
		if !force {
			w = s.decide(p.UpdatedAt, time.Time{})
		}
		switch w {
		case winCRM:
			if _, err := s.updateMkProduct(ctx, p.ID, lv, lh, &mp, outConflict); err != nil {
				return p.ID, recordResult{}, err
			}
		case winMetakocka:
			if err := s.applyMkProduct(ctx, &p, rv, &mp, rh); err != nil {
				return p.ID, recordResult{}, err
			}
		}
		return p.ID, s.recordConflict(ctx, mksync.EntityProduct, mksync.FromMetakocka, p.ID, mp.MkID, w, force), nil
	}
	if rh == m.PulledHash && !force {
		return p.ID, recordResult{out: outSkipped}, nil
	}
	return p.ID, recordResult{out: outUpdated}, s.applyMkProduct(ctx, &p, rv, &mp, rh)
}
