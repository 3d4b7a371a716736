package mkfake

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Product is a Metakocka product (artikel) as the simulator stores it.
type Product struct {
	MkID       string `json:"mk_id"`
	CountCode  string `json:"count_code"`
	Code       string `json:"code"`
	Barcode    string `json:"barcode,omitempty"`
	Name       string `json:"name"`
	NameDesc   string `json:"name_desc,omitempty"`
	Unit       string `json:"unit"`
	Service    bool   `json:"service"`
	Sales      bool   `json:"sales"`
	Purchasing bool   `json:"purchasing"`
	Activated  bool   `json:"activated"`
	EshopSync  bool   `json:"eshop_sync"`
	Work       bool   `json:"work"`
	// Stock is the warehouse amount, a decimal string ("0" when never
	// stocked); product_list answers it as "amount".
	Stock string `json:"stock"`
	// WarehouseStock is the amount per warehouse mk_id (SetWarehouseStock);
	// Stock is then their sum.
	WarehouseStock map[string]string `json:"warehouse_stock,omitempty"`
	// Prices are the product's pricelist entries.
	Prices []Price `json:"prices,omitempty"`
	// Extra holds the other attributes given on add/update (dimensions,
	// categories, localization, extra_column, ...), answered back as given.
	Extra map[string]any `json:"extra,omitempty"`
	// InUse counts the document rows that reference the product; a product
	// in use cannot be deleted.
	InUse      int       `json:"in_use"`
	LastChange time.Time `json:"last_change"`
}

// Price is one price definition of a product on a pricelist. Numbers are
// decimal strings with a dot; Tax is a Metakocka tax code ("220", "095",
// "EX4") and TaxFactor its rate ("0.22").
type Price struct {
	Pricelist         string `json:"pricelist"`
	AmountFrom        string `json:"amount_from,omitempty"`
	AmountTo          string `json:"amount_to,omitempty"`
	Discount          string `json:"discount,omitempty"`
	Tax               string `json:"tax,omitempty"`
	TaxFactor         string `json:"tax_factor,omitempty"`
	Price             string `json:"price,omitempty"`
	PriceWithTax      string `json:"price_with_tax,omitempty"`
	LowestPrice30Days string `json:"lowest_price_30_days,omitempty"`
}

// productRec is a stored product. Its Product.Extra is always nil: the
// extra attributes are kept as their JSON in extra, about a tenth of the
// memory of a small map with boxed values, which matters for catalogues of
// 100,000 products held in one process.
type productRec struct {
	Product
	extra []byte // nil when the product has no extra attributes
	seq   uint64
}

// clone returns a deep copy of the product, Extra included.
func (p *productRec) clone() Product {
	out := p.Product
	out.Prices = slices.Clone(p.Prices)
	out.WarehouseStock = maps.Clone(p.WarehouseStock)
	out.Extra = p.extras()
	return out
}

// pack splits next into what a productRec stores: the product without
// Extra, and Extra as JSON.
func pack(next Product) (Product, []byte, error) {
	var extra []byte
	if len(next.Extra) > 0 {
		b, err := json.Marshal(next.Extra)
		if err != nil {
			return Product{}, nil, invalidf("Invalid product attributes: %v", err)
		}
		extra = b
	}
	next.Extra = nil
	return next, extra, nil
}

// extras decodes the extra attributes into a new map (nil when none).
func (p *productRec) extras() map[string]any {
	if p.extra == nil {
		return nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.extra))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		// set wrote these bytes with json.Marshal; they always decode.
		return nil
	}
	return m
}

// Products returns copies of a company's products in mk_id order; nil for
// an unknown company.
func (s *Server) Products(companyID string) []Product {
	return snapshot(s, companyID, productsOf, (*productRec).clone)
}

// ProductIDs returns the mk_ids of a company's products in mk_id order,
// without copying the products.
func (s *Server) ProductIDs(companyID string) []string {
	return snapshot(s, companyID, productsOf, func(p *productRec) string { return p.MkID })
}

func productsOf(c *company) []*productRec { return c.products }

// productCore are the attributes stored in Product's own fields; request
// keys not here (and not credentials) go to Product.Extra.
var productCore = map[string]bool{
	"secret_key": true, "company_id": true, "mk_id": true, "count_code": true, "code": true,
	"barcode": true, "name": true, "name_desc": true, "unit": true, "service": true,
	"sales": true, "purchasing": true, "activated": true, "eshop_sync": true, "work": true,
	"pricelist": true, "pricelist_remove_product_before_add": true,
}

// removeValue clears a text attribute on product_update.
const removeValue = "$REMOVE_STRING_VALUE$"

// applyProduct copies the attributes present in in onto p; empty values
// leave the current value.
func applyProduct(p *Product, in obj) error {
	for key, dst := range map[string]*string{
		"code": &p.Code, "barcode": &p.Barcode, "name": &p.Name, "name_desc": &p.NameDesc, "unit": &p.Unit,
	} {
		v := field(in, key)
		switch {
		case v == removeValue && (key == "name_desc" || key == "barcode"):
			*dst = ""
		case v != "":
			*dst = v
		}
	}
	for key, dst := range map[string]*bool{
		"service": &p.Service, "sales": &p.Sales, "purchasing": &p.Purchasing,
		"activated": &p.Activated, "eshop_sync": &p.EshopSync, "work": &p.Work,
	} {
		if b, ok := boolOf(in[key]); ok {
			*dst = b
		}
	}
	for k, v := range in {
		if productCore[k] || v == nil {
			continue
		}
		if p.Extra == nil {
			p.Extra = map[string]any{}
		}
		p.Extra[k] = copyAny(v)
	}
	if in["pricelist"] != nil {
		prices, err := parsePrices(in["pricelist"])
		if err != nil {
			return err
		}
		if b, _ := boolOf(in["pricelist_remove_product_before_add"]); b {
			p.Prices = nil
		}
		// A pricelist given replaces the product's entries on that pricelist.
		given := map[string]bool{}
		for _, pr := range prices {
			given[pr.Pricelist] = true
		}
		p.Prices = slices.DeleteFunc(p.Prices, func(pr Price) bool { return given[pr.Pricelist] })
		p.Prices = append(p.Prices, prices...)
	}
	return nil
}

// parsePrices reads a "pricelist" attribute: a list (or one object) of
// {count_code, price_def: list or object}.
func parsePrices(v any) ([]Price, error) {
	var out []Price
	for _, pl := range objects(v) {
		code := field(pl, "count_code")
		if code == "" {
			return nil, invalidf("Paramether 'count_code' is required for pricelist")
		}
		for _, def := range objects(pl["price_def"]) {
			pr := Price{Pricelist: code}
			for key, dst := range map[string]*string{
				"amount_from": &pr.AmountFrom, "amount_to": &pr.AmountTo, "discount": &pr.Discount,
				"tax_factor": &pr.TaxFactor, "price": &pr.Price, "price_with_tax": &pr.PriceWithTax,
				"lowest_price_30_days": &pr.LowestPrice30Days,
			} {
				if _, ok, err := decimalOf(key, def[key]); err != nil {
					return nil, err
				} else if ok {
					*dst = normNumber(def[key])
				}
			}
			if t := field(def, "tax"); t != "" {
				rate, err := taxRate(t)
				if err != nil {
					return nil, err
				}
				pr.Tax = strings.ToUpper(t)
				if pr.TaxFactor == "" {
					pr.TaxFactor = rate.String()
				}
			} else if pr.TaxFactor != "" {
				f, _, _ := decimalOf("tax_factor", pr.TaxFactor)
				pr.Tax = taxCodeOf(f)
			}
			out = append(out, pr)
		}
	}
	return out, nil
}

// exRates is the company tax table for the codes "EX1"…"EX4": real rates
// of the company's settings, as the documented examples show them (EX4
// 22 %: tax_desc "22", tax_factor "0.22", sum_tax_ex4 0.88 on a basic of 4;
// EX3 9.5 %; EX1 25 % on a Croatian order). The docs show no rate for EX2,
// so the simulator refuses it rather than guess.
var exRates = map[string]decimal.Decimal{
	"EX1": decimal.RequireFromString("0.25"),
	"EX3": decimal.RequireFromString("0.095"),
	"EX4": decimal.RequireFromString("0.22"),
}

// taxRate is the rate of a Metakocka tax code: three digits give tenths of a
// percent ("220" = 0.22, "095" = 0.095); "EX1", "EX3" and "EX4" come from
// the company's tax table (exRates).
func taxRate(code string) (decimal.Decimal, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) == 3 && strings.Trim(code, "0123456789") == "" {
		d, _ := decimal.NewFromString(code)
		return d.Shift(-3), nil
	}
	if r, ok := exRates[code]; ok {
		return r, nil
	}
	if code == "EX2" {
		return decimal.Zero, invalidf("Paramether 'tax' has invalid value : EX2. Tax EX2 is not defined in company tax table")
	}
	return decimal.Zero, invalidf("Paramether 'tax' has invalid value : %s. Valid values : three digits (e.g. 220, 095, 000) or EX1, EX3, EX4", code)
}

// taxDesc is the tax_desc Metakocka shows for a rate: the percent without
// trailing zeros ("22", "9.5").
func taxDesc(rate decimal.Decimal) string { return rate.Shift(2).String() }

// taxCodeOf is the three-digit tax code of a rate (0.22 → "220").
func taxCodeOf(rate decimal.Decimal) string {
	n := rate.Shift(3).Round(0).IntPart()
	if n < 0 || n > 999 {
		return ""
	}
	s := "00" + itoa(int(n))
	return s[len(s)-3:]
}

// indexProduct adds p to the company's indexes (not to the list).
func (c *company) indexProduct(p *productRec) {
	c.productByID[p.MkID] = p
	c.productByCode[p.CountCode] = p
	if p.Code != "" {
		c.productByItem[p.Code] = p
	}
}

func (c *company) unindexProduct(p *productRec) {
	delete(c.productByID, p.MkID)
	delete(c.productByCode, p.CountCode)
	if c.productByItem[p.Code] == p {
		delete(c.productByItem, p.Code)
	}
}

// createProduct stores a new product. Callers hold c.mu.
func (s *Server) createProduct(c *company, in obj) (*productRec, error) {
	for _, k := range []string{"code", "name", "unit"} {
		if field(in, k) == "" {
			return nil, invalidf("Paramether '%s' is required for product", k)
		}
	}
	code, item := field(in, "count_code"), field(in, "code")
	if code != "" && c.productByCode[code] != nil {
		return nil, refusedf("Product with count_code '%s' already exists", code)
	}
	if other := c.productByItem[item]; other != nil {
		return nil, refusedf("Product with code '%s' already exists (count_code '%s')", item, other.CountCode)
	}
	p := &productRec{}
	p.Stock = "0"
	p.Activated = true
	next := p.Product
	if err := applyProduct(&next, in); err != nil {
		return nil, err
	}
	var err error
	if p.Product, p.extra, err = pack(next); err != nil {
		return nil, err
	}
	p.MkID, p.seq = c.nextID()
	if code == "" {
		code = c.nextCode("product", "%d", 30000, func(k string) bool { return c.productByCode[k] != nil })
	}
	p.CountCode = code
	p.LastChange = s.now()
	c.products = append(c.products, p)
	c.indexProduct(p)
	return p, nil
}

// findProduct selects a product by mk_id, else count_code.
func (c *company) findProduct(in obj) (*productRec, error) {
	if id := field(in, "mk_id"); id != "" {
		if p := c.productByID[id]; p != nil {
			return p, nil
		}
		return nil, refusedf("Cannot find product with mk_id '%s'", id)
	}
	if code := field(in, "count_code"); code != "" {
		if p := c.productByCode[code]; p != nil {
			return p, nil
		}
		return nil, refusedf("Cannot find product with count_code '%s'", code)
	}
	return nil, invalidf("Paramether 'count_code' or 'mk_id' is required for selection of product")
}

// productAdd: product_add.
func (s *Server) productAdd(c *company, req obj) (obj, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := s.createProduct(c, req)
	if err != nil {
		return nil, err
	}
	return obj{"mk_id": p.MkID, "count_code": p.CountCode}, nil
}

// productUpdate: product_update, the product chosen by mk_id or count_code.
func (s *Server) productUpdate(c *company, req obj) (obj, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := c.findProduct(req)
	if err != nil {
		return nil, err
	}
	next := p.clone()
	if err := applyProduct(&next, req); err != nil {
		return nil, err
	}
	if field(req, "mk_id") != "" {
		if code := field(req, "count_code"); code != "" && code != p.CountCode {
			if c.productByCode[code] != nil {
				return nil, refusedf("Product with count_code '%s' already exists", code)
			}
			next.CountCode = code
		}
	}
	if next.Code != p.Code {
		if other := c.productByItem[next.Code]; other != nil {
			return nil, refusedf("Product with code '%s' already exists (count_code '%s')", next.Code, other.CountCode)
		}
	}
	if p.Sales && !next.Sales && p.InUse > 0 {
		return nil, refusedf("Product '%s' is used on sales documents and must stay a sales product", p.CountCode)
	}
	stored, extra, err := pack(next)
	if err != nil {
		return nil, err
	}
	c.unindexProduct(p)
	stored.LastChange = s.now()
	p.Product, p.extra = stored, extra
	c.indexProduct(p)
	return obj{"mk_id": p.MkID, "count_code": p.CountCode}, nil
}

// productDelete: product_delete; refused while a document uses the product.
func (s *Server) productDelete(c *company, req obj) (obj, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := c.findProduct(req)
	if err != nil {
		return nil, err
	}
	if p.InUse > 0 {
		return nil, refusedf("Product '%s' is used on documents and cannot be deleted", p.CountCode)
	}
	c.unindexProduct(p)
	i := sort.Search(len(c.products), func(i int) bool { return c.products[i].seq >= p.seq })
	if i < len(c.products) && c.products[i] == p {
		c.products = slices.Delete(c.products, i, i+1)
	}
	return obj{"mk_id": p.MkID, "count_code": p.CountCode}, nil
}

// productListMax is the largest window product_list answers.
const productListMax = 1000

// productList: product_list with the documented filters, in mk_id order,
// at most 1000 per window.
func (s *Server) productList(c *company, req obj) (obj, error) {
	offset, err := intOf("offset", req["offset"], 0)
	if err != nil {
		return nil, err
	}
	limit, err := intOf("limit", req["limit"], productListMax)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > productListMax {
		limit = productListMax
	}
	like, _ := boolOf(req["search_with_like"])
	countCode, mkID, code := field(req, "count_code"), field(req, "mk_id"), field(req, "code")
	category := lower(field(req, "category"))
	type flag struct {
		want bool
		get  func(*Product) bool
	}
	var flags []flag
	for key, get := range map[string]func(*Product) bool{
		"sales":      func(p *Product) bool { return p.Sales },
		"purchase":   func(p *Product) bool { return p.Purchasing },
		"purchasing": func(p *Product) bool { return p.Purchasing },
		"service":    func(p *Product) bool { return p.Service },
		"work":       func(p *Product) bool { return p.Work },
		"active":     func(p *Product) bool { return p.Activated },
		"eshop_sync": func(p *Product) bool { return p.EshopSync },
	} {
		if b, ok := boolOf(req[key]); ok {
			flags = append(flags, flag{b, get})
		}
	}
	match := func(p *productRec) bool {
		for _, f := range flags {
			if f.get(&p.Product) != f.want {
				return false
			}
		}
		if like {
			if countCode != "" && !strings.Contains(lower(p.CountCode), lower(countCode)) {
				return false
			}
			if code != "" && !strings.Contains(lower(p.Code), lower(code)) {
				return false
			}
			if t := lower(field(req, "title")); t != "" && !strings.Contains(lower(p.Name), t) {
				return false
			}
		} else {
			if countCode != "" && p.CountCode != countCode {
				return false
			}
			if code != "" && p.Code != code {
				return false
			}
		}
		if mkID != "" && p.MkID != mkID {
			return false
		}
		return category == "" || (p.extra != nil && hasCategory(p.extras()["categories"], category))
	}
	withStock, _ := boolOf(req["return_warehause_stock"])
	withFree, _ := boolOf(req["return_free_amount"])
	withPrices, _ := boolOf(req["return_pricelist"])
	withFactor, _ := boolOf(req["show_tax_factor"])

	c.mu.Lock()
	defer c.mu.Unlock()
	var candidates []*productRec
	switch {
	case mkID != "":
		if p := c.productByID[mkID]; p != nil {
			candidates = []*productRec{p}
		}
	case countCode != "" && !like:
		if p := c.productByCode[countCode]; p != nil {
			candidates = []*productRec{p}
		}
	case code != "" && !like:
		if p := c.productByItem[code]; p != nil {
			candidates = []*productRec{p}
		}
	default:
		candidates = c.products
	}
	list := make([]any, 0, min(limit, len(candidates)))
	if len(flags) == 0 && countCode == "" && code == "" && mkID == "" && category == "" && field(req, "title") == "" {
		// No filter: the window is a slice of the list.
		if offset < len(candidates) {
			for _, p := range candidates[offset:min(len(candidates), offset+limit)] {
				list = append(list, productJSON(c, p, withStock, withFree, withPrices, withFactor))
			}
		}
	} else {
		skipped := 0
		for _, p := range candidates {
			if len(list) == limit {
				break
			}
			if !match(p) {
				continue
			}
			if skipped < offset {
				skipped++
				continue
			}
			list = append(list, productJSON(c, p, withStock, withFree, withPrices, withFactor))
		}
	}
	out := obj{}
	for k, v := range req {
		if k != "secret_key" && k != "company_id" {
			out[k] = str(v)
		}
	}
	out["limit"] = itoa(limit)
	out["offset"] = itoa(offset)
	out["product_list_count"] = itoa(len(list))
	out["product_list"] = list
	return out, nil
}

func hasCategory(v any, want string) bool {
	for _, cat := range objects(v) {
		switch x := cat["category"].(type) {
		case string:
			if lower(x) == want {
				return true
			}
		case []any:
			for _, e := range x {
				if lower(str(e)) == want {
					return true
				}
			}
		}
	}
	return false
}

// productJSON is a product as product_list answers it.
func productJSON(c *company, p *productRec, stock, free, prices, factor bool) obj {
	out := p.extras()
	if out == nil {
		out = make(obj, 12)
	}
	out["count_code"] = p.CountCode
	out["mk_id"] = p.MkID
	out["code"] = p.Code
	putNonEmpty(out, "barcode", p.Barcode)
	out["name"] = p.Name
	putNonEmpty(out, "name_desc", p.NameDesc)
	out["unit"] = p.Unit
	out["service"] = boolStr(p.Service)
	out["sales"] = boolStr(p.Sales)
	out["purchasing"] = boolStr(p.Purchasing)
	out["activated"] = boolStr(p.Activated)
	out["eshop_sync"] = boolStr(p.EshopSync)
	out["work"] = boolStr(p.Work)
	if stock {
		out["amount"] = p.Stock
		if detail := c.amountDetail(p); len(detail) > 0 {
			out["amount_detail"] = detail
		}
	}
	if free {
		out["free_amount"] = p.Stock
	}
	if prices {
		list := make([]any, 0, len(p.Prices))
		for _, pr := range p.Prices {
			def := obj{}
			putNonEmpty(def, "amount_from", pr.AmountFrom)
			putNonEmpty(def, "amount_to", pr.AmountTo)
			putNonEmpty(def, "discount", pr.Discount)
			putNonEmpty(def, "tax", pr.Tax)
			putNonEmpty(def, "price", pr.Price)
			putNonEmpty(def, "price_with_tax", pr.PriceWithTax)
			putNonEmpty(def, "lowest_price_30_days", pr.LowestPrice30Days)
			if factor {
				putNonEmpty(def, "tax_factor", pr.TaxFactor)
			}
			list = append(list, obj{"count_code": pr.Pricelist, "price_def": def, "currency_code": "EUR", "sales_purchase": "sales"})
		}
		out["pricelist"] = list
	}
	return out
}
