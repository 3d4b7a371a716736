package mksync

import (
	"time"

	"github.com/shopspring/decimal"
)

// Product is an item of the tenant's catalogue; in Metakocka a product
// (product_add / product_update / product_list).
type Product struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// Code is the SKU (Metakocka "code", ≤ 50). Unique per tenant.
	Code        string `json:"code"`
	Name        string `json:"name"`        // ≤ 200
	Description string `json:"description"` // Metakocka "name_desc"
	Unit        string `json:"unit"`        // e.g. "kos", "kg"; ≤ 20
	// Price is the sales price in the tenant's currency: net, or gross
	// (tax included) when PriceIncludesTax, as it is entered in Metakocka's
	// price list (web shops enter gross prices), so that it goes back in
	// the same form.
	Price            decimal.Decimal `json:"price"`
	PriceIncludesTax bool            `json:"priceIncludesTax"`
	// TaxRate is the VAT rate in percent (22 = 22 %).
	TaxRate    decimal.Decimal `json:"taxRate"`
	Sales      bool            `json:"sales"`
	Purchasing bool            `json:"purchasing"`
	Service    bool            `json:"service"`
	Barcode    string          `json:"barcode"`
	Height     decimal.Decimal `json:"height"`
	Width      decimal.Decimal `json:"width"`
	Depth      decimal.Decimal `json:"depth"`
	Weight     decimal.Decimal `json:"weight"`
	// StockAmount is read from Metakocka (stock pulls and the stock webhook);
	// the CRM never pushes it.
	StockAmount decimal.Decimal `json:"stockAmount"`
	// Warehouses is the stock per Metakocka warehouse beside the total, read
	// from Metakocka (warehouse_stock, the stock webhook) and never pushed.
	// Stores keep it apart (ProductStore.SetWarehouseStock); reading one
	// product through the API fills it, lists leave it out.
	Warehouses []WarehouseStock `json:"warehouses,omitempty"`
	CreatedAt  time.Time        `json:"createdAt"`
	UpdatedAt  time.Time        `json:"updatedAt"`
	Version    int64            `json:"version"`
}

// Validate checks the product against Metakocka's field limits and returns an
// EINVALID *Error naming every bad field.
func (p *Product) Validate() error {
	var v Validator
	v.Required(p.Code, "code")
	v.MaxLen(p.Code, 50, "code")
	v.Required(p.Name, "name")
	v.MaxLen(p.Name, 200, "name")
	v.MaxLen(p.Description, 4000, "description")
	v.MaxLen(p.Unit, 20, "unit")
	v.MaxLen(p.Barcode, 50, "barcode")
	for _, d := range []struct {
		v    decimal.Decimal
		name string
	}{{p.Price, "price"}, {p.Height, "height"}, {p.Width, "width"}, {p.Depth, "depth"}, {p.Weight, "weight"}} {
		v.Decimal(d.v, d.name)
		v.Check(!d.v.IsNegative(), d.name, "must not be negative")
	}
	// Compared only when bounded (see Validator.Decimal).
	v.Check(v.Decimal(p.TaxRate, "taxRate") && !p.TaxRate.IsNegative() && p.TaxRate.LessThan(decimal.NewFromInt(100)), "taxRate", "must be between 0 and 100")
	return v.Err("product")
}

// WarehouseStock is a product's stock in one Metakocka warehouse: the sum
// of warehouse_stock's entries for it (Metakocka answers one entry per lot,
// serial number or microlocation).
type WarehouseStock struct {
	// WarehouseID is the warehouse's Metakocka mk_id.
	WarehouseID string `json:"warehouseId"`
	// Mark and Name are warehouse_list's "mark" and "name" ("" when the
	// warehouse was not in the list when the stock was read).
	Mark   string          `json:"mark"`
	Name   string          `json:"name"`
	Amount decimal.Decimal `json:"amount"`
}

// Decimal is the exact decimal type mksync uses for money and quantities.
type Decimal = decimal.Decimal

// CheckWarehouseStock is EINVALID when an entry has no warehouse id, a
// warehouse repeats, or an amount is out of the decimal bounds; stores
// check it before writing.
func CheckWarehouseStock(stock []WarehouseStock) error {
	var v Validator
	seen := make(map[string]bool, len(stock))
	for _, w := range stock {
		v.Check(w.WarehouseID != "", "warehouses", "every entry needs a warehouseId")
		v.Check(!seen[w.WarehouseID], "warehouses", "warehouse "+w.WarehouseID+" is listed twice")
		v.MaxLen(w.WarehouseID, 30, "warehouseId")
		v.MaxLen(w.Mark, 100, "mark")
		v.MaxLen(w.Name, 200, "name")
		v.Decimal(w.Amount, "amount")
		seen[w.WarehouseID] = true
	}
	return v.Err("warehouse stock")
}
