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
// product has no entry on the tenant's price list; Gross says the price is
// the list's price_with_tax (omitted when false, so that net-priced
// products keep the hash their mappings were saved with).
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
	Gross       bool   `json:"gross,omitempty"`
}

func (s *session) viewOfProduct(p *mksync.Product) productView {
	unit := p.Unit
	if unit == "" {
		unit = s.e.cfg.DefaultUnit
	}
	v := productView{
		Code: p.Code, Name: p.Name, Description: p.Description, Unit: unit,
		Price: dec(p.Price), TaxRate: dec(p.TaxRate), Gross: p.PriceIncludesTax,
		Sales: p.Sales, Purchasing: p.Purchasing, Service: p.Service, Barcode: p.Barcode,
		Height: dec(p.Height), Width: dec(p.Width), Depth: dec(p.Depth), Weight: dec(p.Weight),
	}
	if s.pricelist() == "" {
		// No price list decided: prices are not synced either way.
		v.Price, v.TaxRate, v.Gross = "", "", false
	}
	return v
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
		if pl.CountCode != s.pricelist() || len(pl.PriceDef) == 0 {
			continue
		}
		def := pl.PriceDef[0]
		rate, err := taxRatePercent(def.Tax, def.TaxFactor)
		if err != nil {
			return v, fmt.Errorf("product %s: %w", p.MkID, err)
		}
		v.Price, v.TaxRate = optDec(def.Price), dec(rate)
		if !def.Price.Valid && def.PriceWithTax.Valid {
			v.Price, v.Gross = optDec(def.PriceWithTax), true
		}
		break
	}
	return v, nil
}

// pricelist is the count_code of the price list products' prices are read
// from and written to: the tenant's (SyncSettings.Pricelist: chosen or
// discovered), else the engine's default (Config.Pricelist); "" while
// undecided (several lists, no clear default): prices are then not synced.
func (s *session) pricelist() string {
	switch {
	case s.settings.Pricelist != "":
		return s.settings.Pricelist
	case s.settings.PricelistSource == mksync.PricelistUndecided:
		return ""
	}
	return s.e.cfg.Pricelist
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
		p.Price, p.TaxRate, p.PriceIncludesTax = parseDec(v.Price), parseDec(v.TaxRate), v.Gross
	}
	p.Sales, p.Purchasing, p.Service, p.Barcode = v.Sales, v.Purchasing, v.Service, v.Barcode
	p.Height, p.Width, p.Depth, p.Weight = parseDec(v.Height), parseDec(v.Width), parseDec(v.Depth), parseDec(v.Weight)
}

// mkProductOf is the product_add/product_update body of a view. On an
// update, empty texts are sent as product_update's "remove" value so that
// clearing a field in the CRM clears it in Metakocka.
func (s *session) mkProductOf(v productView, update bool) (metakocka.Product, error) {
	var prices metakocka.List[metakocka.Pricelist]
	if list := s.pricelist(); list != "" {
		code, err := taxCode(parseDec(v.TaxRate))
		if err != nil {
			return metakocka.Product{}, err
		}
		def := metakocka.PriceDef{Price: metakocka.NewDecimal(parseDec(v.Price)), Tax: code}
		if v.Gross {
			def.Price, def.PriceWithTax = metakocka.Decimal{}, metakocka.NewDecimal(parseDec(v.Price))
		}
		prices = metakocka.List[metakocka.Pricelist]{{CountCode: list, PriceDef: metakocka.List[metakocka.PriceDef]{def}}}
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
		Pricelist: prices,
	}, nil
}

// keepTaxCode writes back the tax code remote holds on the tenant's price
// list when it is one of the company's own codes (EX1…EX4) of the same rate
// the body carries, rather than the three-digit code of that rate: what
// was read goes back as it was.
func (s *session) keepTaxCode(body *metakocka.Product, remote *metakocka.Product) {
	if len(body.Pricelist) == 0 || len(body.Pricelist[0].PriceDef) == 0 {
		return
	}
	def := &body.Pricelist[0].PriceDef[0]
	rate, ok := metakocka.TaxRate(def.Tax)
	if !ok {
		return
	}
	for _, pl := range remote.Pricelist {
		if pl.CountCode != s.pricelist() || len(pl.PriceDef) == 0 {
			continue
		}
		if had := pl.PriceDef[0]; exCode(had.Tax, rate.Mul(hundred)) != "" {
			def.Tax = exCode(had.Tax, rate.Mul(hundred))
		}
		return
	}
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

// applyMkProduct writes the Metakocka product onto the local product p and
// maps them in one transaction; its stock goes through SetProductStock.
func (s *session) applyMkProduct(ctx context.Context, p *mksync.Product, rv productView, remote *metakocka.Product, pulled snapshot) error {
	rv.applyTo(p)
	return s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if err := tx.UpdateProduct(ctx, s.tenantID, p); err != nil {
			return fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if _, err := s.setStock(ctx, tx, p, remote); err != nil {
			return err
		}
		nm := s.synced(mksync.EntityProduct, p.ID, remote.MkID, remote.CountCode, snapAs(s.viewOfProduct(p), pulled), pulled)
		return save(&nm)
	})
}

// setStock copies Metakocka's stock (one-way): the total amount when it
// differs, and the stock per warehouse read for the product in this
// session (readWarehouseStock) when it differs. changed reports a write.
func (s *session) setStock(ctx context.Context, st mksync.Store, p *mksync.Product, remote *metakocka.Product) (changed bool, err error) {
	if ws, ok := s.takeWarehouseStock(remote.MkID); ok {
		if changed, err = s.setWarehouseStock(ctx, st, p.ID, ws); err != nil {
			return false, err
		}
	}
	if !remote.Amount.Valid || remote.Amount.Value.Equal(p.StockAmount) {
		return changed, nil
	}
	if err := st.SetProductStock(ctx, s.tenantID, p.ID, remote.Amount.Value); err != nil {
		return false, fmt.Errorf("set stock of product %s: %w", p.ID, err)
	}
	p.StockAmount = remote.Amount.Value
	return true, nil
}

// fetch reads the product to pull and its stock per warehouse.
func (a products) fetch(ctx context.Context, mkID string) (metakocka.Product, bool, error) {
	mp, found, err := a.s.findProduct(ctx, metakocka.ProductListRequest{MkID: mkID})
	if err != nil || !found {
		return mp, found, err
	}
	return mp, true, a.s.readWarehouseStock(ctx, []string{mp.MkID})
}

// productLocal is one product being pushed.
type productLocal struct {
	products
	p *mksync.Product
}

func (a products) local(p *mksync.Product) local[metakocka.Product, productView] {
	return productLocal{a, p}
}

func (a products) remote(_ context.Context, p *metakocka.Product) (productView, error) {
	return a.s.viewOfMkProduct(p)
}

func (a products) ident(p *metakocka.Product) remoteID {
	return remoteID{mkID: p.MkID, countCode: p.CountCode}
}

// link finds the same product in the CRM to link rather than duplicate:
// mksync's count_code, else the same code, else the one product not linked
// yet with the same barcode (several make an ambiguousError).
func (a products) link(ctx context.Context, mp *metakocka.Product) (*mksync.Product, string, error) {
	if p, id, err := a.linkByCountCode(ctx, mp.CountCode); p != nil || err != nil {
		return p, id, err
	}
	if mp.Code != "" {
		p, err := a.s.e.store.FindProductByCode(ctx, a.s.tenantID, mp.Code)
		if err == nil {
			return &p, p.ID, nil
		}
		if !isCode(err, mksync.ENOTFOUND) {
			return nil, "", fmt.Errorf("find product by code %s: %w", mp.Code, err)
		}
	}
	ps, err := a.s.e.store.FindProductsByBarcode(ctx, a.s.tenantID, mp.Barcode)
	if err != nil {
		return nil, "", fmt.Errorf("find products by barcode %s: %w", mp.Barcode, err)
	}
	return linkFree(ctx, a.s, mksync.EntityProduct, "barcode", ps, func(p *mksync.Product) string { return p.ID })
}

// taken: a code is unique in the CRM, so a product mapped elsewhere with
// the same code is a conflict, not a second product.
func (a products) taken(mp *metakocka.Product, p *mksync.Product, m mksync.Mapping) error {
	return mksync.Errorf(mksync.ECONFLICT,
		"Metakocka product %s has code %s, which local product %s already has while mapped to Metakocka product %s",
		mp.MkID, mp.Code, p.ID, m.MetakockaID)
}

func (a products) create(ctx context.Context, rv productView, mp *metakocka.Product, rs snapshot) (string, error) {
	var p mksync.Product
	rv.applyTo(&p)
	err := a.s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if err := tx.CreateProduct(ctx, a.s.tenantID, &p); err != nil {
			return fmt.Errorf("create product from Metakocka product %s: %w", mp.MkID, err)
		}
		if _, err := a.s.setStock(ctx, tx, &p, mp); err != nil {
			return err
		}
		nm := a.s.synced(mksync.EntityProduct, p.ID, mp.MkID, mp.CountCode, snapAs(a.s.viewOfProduct(&p), rs), rs)
		return save(&nm)
	})
	return p.ID, err
}

// unchanged: only the one-way stock (total or per warehouse) may have
// moved.
func (a products) unchanged(ctx context.Context, m mksync.Mapping, mp *metakocka.Product) (string, recordResult, error) {
	if !mp.Amount.Valid && !a.s.hasWarehouseStock(mp.MkID) {
		return a.common.unchanged(ctx, m, mp)
	}
	p, err := a.load(ctx, m.EntityID)
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	changed, err := a.s.setStock(ctx, a.s.e.store, &p, mp)
	if err != nil || changed {
		return p.ID, recordResult{out: outUpdated}, err
	}
	return a.common.unchanged(ctx, m, mp)
}

func (a products) same(ctx context.Context, p *mksync.Product, mp *metakocka.Product) error {
	_, err := a.s.setStock(ctx, a.s.e.store, p, mp)
	return err
}

func (l productLocal) id() string         { return l.p.ID }
func (l productLocal) check() error       { return l.p.Validate() }
func (l productLocal) view() productView  { return l.s.viewOfProduct(l.p) }
func (l productLocal) changed() time.Time { return l.p.UpdatedAt }
func (l productLocal) countCode() string  { return CountCode(l.p.ID) }

func (l productLocal) get(ctx context.Context, mkID string) (metakocka.Product, bool, error) {
	return l.s.findProduct(ctx, metakocka.ProductListRequest{MkID: mkID})
}

// lookup finds the product by count_code; when a create was refused
// because the code (SKU) exists already, the catalogue was there before
// mksync: link to it by code (the store refuses the link when another
// local product holds it).
func (l productLocal) lookup(ctx context.Context, cc string, addErr error) (metakocka.Product, bool, error) {
	mp, found, err := l.s.findProduct(ctx, metakocka.ProductListRequest{CountCode: cc})
	if err == nil && !found && addErr != nil && isCode(addErr, mksync.ECONFLICT) {
		return l.s.findProduct(ctx, metakocka.ProductListRequest{Code: l.p.Code})
	}
	return mp, found, err
}

func (l productLocal) creator(cc string) (string, func(context.Context) (remoteID, error), error) {
	body, err := l.s.mkProductOf(l.view(), false)
	body.CountCode = cc
	add := func(ctx context.Context) (remoteID, error) {
		res, err := l.s.mk.ProductAdd(ctx, body)
		return remoteID{mkID: res.MkID}, err
	}
	return "add product " + cc, add, err
}

// adopt maps the product to one found by count_code (an earlier attempt)
// or code (a catalogue that existed before), updating it when it differs.
func (l productLocal) adopt(ctx context.Context, mp *metakocka.Product) (recordResult, error) {
	return adoptOrUpdate(ctx, l.s, l, mp)
}

// update writes the product onto the Metakocka product; what Metakocka
// holds afterwards is the view sent.
func (l productLocal) update(ctx context.Context, remote *metakocka.Product) (productView, error) {
	v := l.view()
	body, err := l.s.mkProductOf(v, true)
	if err != nil {
		return productView{}, err
	}
	body.MkID = remote.MkID
	l.s.keepTaxCode(&body, remote)
	if _, err := l.s.mk.ProductUpdate(ctx, body); err != nil {
		return productView{}, fmt.Errorf("update product %s: %w", remote.MkID, err)
	}
	return v, nil
}

// withView is the product with v written over its synced fields (a merge).
func (l productLocal) withView(v productView) (local[metakocka.Product, productView], error) {
	p := *l.p
	v.applyTo(&p)
	return productLocal{l.products, &p}, nil
}

func (l productLocal) apply(ctx context.Context, rv productView, mp *metakocka.Product, pulled snapshot) error {
	return l.s.applyMkProduct(ctx, l.p, rv, mp, pulled)
}

// pushProduct syncs one product to Metakocka (see push).
func (s *session) pushProduct(ctx context.Context, p mksync.Product, force bool) recordResult {
	return pushOne(ctx, s, newProducts(s), &p, force)
}

// pullProduct syncs one Metakocka product into the CRM (see pull). A local
// product with the same code and no mapping is linked rather than
// duplicated.
func (s *session) pullProduct(ctx context.Context, mp metakocka.Product, force bool) (recordResult, string) {
	return pullOne(ctx, s, newProducts(s), mp, force)
}

// match finds the Metakocka products that are this product: by code
// (product_list filters by code), else by barcode (through the session's
// catalogue index: Metakocka documents no barcode filter). A product mksync
// created for another local product (its count_code) is never a candidate.
func (l productLocal) match(ctx context.Context) ([]candidate[metakocka.Product], error) {
	if l.p.Code != "" {
		q := metakocka.ProductListRequest{Code: l.p.Code, ReturnPricelist: metakocka.NewBool(true), ReturnWarehouseStock: metakocka.NewBool(true), Limit: 10}
		page, err := l.s.mk.ProductList(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("match product by code %s: %w", l.p.Code, err)
		}
		var out []candidate[metakocka.Product]
		for _, mp := range page.Products {
			if mp.Code == l.p.Code && l.candidate(mp) {
				out = append(out, candidate[metakocka.Product]{r: mp, mkID: mp.MkID, key: "code"})
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return l.matchBarcode(ctx)
}

// candidate: mp was not made by mksync for another local product.
func (l productLocal) candidate(mp metakocka.Product) bool {
	id, ok := LocalIDOf(mp.CountCode)
	return !ok || id == l.p.ID
}

// matchBarcode finds the Metakocka products with this product's barcode.
func (l productLocal) matchBarcode(ctx context.Context) ([]candidate[metakocka.Product], error) {
	if l.p.Barcode == "" {
		return nil, nil
	}
	ids, err := l.s.productsByBarcode(ctx, l.p.Barcode)
	if err != nil {
		return nil, fmt.Errorf("match product by barcode %s: %w", l.p.Barcode, err)
	}
	var out []candidate[metakocka.Product]
	for _, id := range ids {
		mp, found, err := l.s.findProduct(ctx, metakocka.ProductListRequest{MkID: id})
		if err != nil {
			return nil, fmt.Errorf("match product by barcode %s: %w", l.p.Barcode, err)
		}
		if found && mp.Barcode == l.p.Barcode && l.candidate(mp) {
			out = append(out, candidate[metakocka.Product]{r: mp, mkID: mp.MkID, key: "barcode"})
		}
	}
	return out, nil
}
