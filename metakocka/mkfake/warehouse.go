package mkfake

import (
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// Warehouse is a company's warehouse as warehouse_list answers it.
type Warehouse struct {
	MkID string `json:"mk_id"`
	Mark string `json:"mark"`
	Name string `json:"name"`
	// Street, Post and Place are the warehouse's address.
	Street string `json:"street"`
	Post   string `json:"post"`
	Place  string `json:"place"`
	// Main is warehouse_list's main_warehouse.
	Main bool `json:"main_warehouse"`
}

// AddWarehouse adds a warehouse to the company and returns its mk_id; ""
// for an unknown company. The first warehouse added is the main one.
func (s *Server) AddWarehouse(companyID, mark, name, street, post, place string) string {
	c := s.company(companyID)
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addWarehouse(mark, name, street, post, place)
}

// addWarehouse: AddWarehouse with c.mu held.
func (c *company) addWarehouse(mark, name, street, post, place string) string {
	id, _ := c.nextID()
	c.warehouses = append(c.warehouses, &Warehouse{MkID: id, Mark: mark, Name: name, Street: street, Post: post, Place: place,
		Main: len(c.warehouses) == 0})
	return id
}

// Warehouses returns copies of the company's warehouses in the order added.
func (s *Server) Warehouses(companyID string) []Warehouse {
	c := s.company(companyID)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Warehouse, len(c.warehouses))
	for i, w := range c.warehouses {
		out[i] = *w
	}
	return out
}

// SetWarehouseStock sets the amount of the product with that count_code in
// one warehouse; the product's total ("amount" in product_list) becomes
// the sum over its warehouses. False for an unknown company, product or
// warehouse.
func (s *Server) SetWarehouseStock(companyID, countCode, warehouseID, amount string) bool {
	c := s.company(companyID)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.productByCode[countCode]
	if p == nil || c.warehouse(warehouseID) == nil {
		return false
	}
	c.setWarehouseStock(p, warehouseID, normNumber(amount))
	p.LastChange = s.now()
	return true
}

// setWarehouseStock sets one warehouse's amount and the total. Callers
// hold c.mu.
func (c *company) setWarehouseStock(p *productRec, warehouseID, amount string) {
	if p.WarehouseStock == nil {
		p.WarehouseStock = map[string]string{}
	}
	p.WarehouseStock[warehouseID] = amount
	total := decimal.Zero
	for _, a := range p.WarehouseStock {
		d, _, _ := decimalOf("amount", a)
		total = total.Add(d)
	}
	p.Stock = total.String()
}

func (c *company) warehouse(id string) *Warehouse {
	for _, w := range c.warehouses {
		if w.MkID == id {
			return w
		}
	}
	return nil
}

// warehouseList: warehouse_list, every warehouse of the company (the docs
// show no filter and one window of up to 1000).
func (s *Server) warehouseList(c *company, _ obj) (obj, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := make([]any, 0, len(c.warehouses))
	for _, w := range c.warehouses {
		list = append(list, obj{
			"mk_id": w.MkID, "mark": w.Mark, "name": w.Name, "same_address_as_company": "false",
			"main_warehouse": boolStr(w.Main), "street": w.Street, "post": w.Post, "place": w.Place,
			"country": "Slovenija", "include_in_stock_info": "true", "active": "true",
			"warehouse_type": "normal", "show_product_free_stock": "false",
		})
	}
	return obj{"offset": "0", "limit": "1000", "warehouse_list_count": itoa(len(list)), "warehouse_list": list}, nil
}

// stockListMax is the largest window warehouse_stock answers.
const stockListMax = 1000

// commaSet is a comma-separated list attribute as a set (nil when absent).
func commaSet(v string) map[string]bool {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	out := map[string]bool{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out[s] = true
		}
	}
	return out
}

// warehouseStock: warehouse_stock, one entry per product and warehouse
// with stock (products in mk_id order, warehouses in the company's order),
// filtered by wh_id_list, product_mk_id_list, product_code_list (code or
// count_code) and eshop_sync, in windows of offset/limit (at most 1000).
// A product with no stock in a warehouse has no entry there unless
// return_reservation_without_amount is set.
func (s *Server) warehouseStock(c *company, req obj) (obj, error) {
	offset, err := intOf("offset", req["offset"], 0)
	if err != nil {
		return nil, err
	}
	limit, err := intOf("limit", req["limit"], stockListMax)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > stockListMax {
		limit = stockListMax
	}
	whs, ids, codes := commaSet(field(req, "wh_id_list")), commaSet(field(req, "product_mk_id_list")), commaSet(field(req, "product_code_list"))
	eshop, filterEshop := boolOf(req["eshop_sync"])
	withEmpty, _ := boolOf(req["return_reservation_without_amount"])

	c.mu.Lock()
	defer c.mu.Unlock()
	candidates := c.products
	if ids != nil {
		candidates = nil
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			if p := c.productByID[id]; p != nil {
				candidates = append(candidates, p)
			}
		}
		slices.SortFunc(candidates, func(a, b *productRec) int { return int(a.seq) - int(b.seq) })
	}
	list := []any{}
	skipped := 0
	for _, p := range candidates {
		if codes != nil && !codes[p.Code] && !codes[p.CountCode] || filterEshop && p.EshopSync != eshop || p.Service {
			continue
		}
		for _, w := range c.warehouses {
			amount, ok := p.WarehouseStock[w.MkID]
			if whs != nil && !whs[w.MkID] || !ok && !withEmpty || ok && isZero(amount) && !withEmpty {
				continue
			}
			if !ok {
				amount = "0"
			}
			if skipped < offset {
				skipped++
				continue
			}
			if len(list) == limit {
				break
			}
			list = append(list, obj{"warehouse_id": w.MkID, "mk_id": p.MkID, "count_code": p.CountCode, "code": p.Code,
				"title": p.Name, "amount": amount, "unit": p.Unit})
		}
	}
	out := obj{"offset": itoa(offset), "limit": itoa(limit), "stock_list_count": itoa(len(list)), "stock_list": list}
	if v := field(req, "wh_id_list"); v != "" {
		out["wh_id_list"] = v
	}
	return out, nil
}

func isZero(amount string) bool {
	d, _, err := decimalOf("amount", amount)
	return err == nil && d.IsZero()
}

// amountDetail is product_list's amount_detail of a product: its stock per
// warehouse (the simulator keeps no lots, serial numbers or expiry dates).
func (c *company) amountDetail(p *productRec) []any {
	var out []any
	for _, w := range c.warehouses {
		if a, ok := p.WarehouseStock[w.MkID]; ok {
			out = append(out, obj{"warehouse_mark": w.Mark, "warehouse_name": w.Name, "amount": a})
		}
	}
	return out
}
