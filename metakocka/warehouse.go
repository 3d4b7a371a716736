package metakocka

import (
	"context"
	"strings"
)

// MaxStockWindow is the largest warehouse_stock window Metakocka returns.
const MaxStockWindow = 1000

// Warehouse is one warehouse as warehouse_list answers it.
type Warehouse struct {
	MkID                 string `json:"mk_id,omitempty"`
	Mark                 string `json:"mark,omitempty"`
	Name                 string `json:"name,omitempty"`
	SameAddressAsCompany Bool   `json:"same_address_as_company,omitzero"`
	MainWarehouse        Bool   `json:"main_warehouse,omitzero"`
	Street               string `json:"street,omitempty"`
	Post                 string `json:"post,omitempty"`
	Place                string `json:"place,omitempty"`
	Country              string `json:"country,omitempty"`
	DefaultMicrolocID    string `json:"default_microloc_id,omitempty"`
	IncludeInStockInfo   Bool   `json:"include_in_stock_info,omitzero"`
	Active               Bool   `json:"active,omitzero"`
	WarehouseType        string `json:"warehouse_type,omitempty"`
	ShowProductFreeStock Bool   `json:"show_product_free_stock,omitzero"`
}

// StockEntry is one entry of warehouse_stock's stock_list (and of the
// stock webhook's, which has the same shape): a product's amount in one
// warehouse, one entry per lot, serial number or microlocation.
type StockEntry struct {
	WarehouseID    string  `json:"warehouse_id,omitempty"`
	WarehouseMark  string  `json:"warehouse_mark,omitempty"`
	MkID           string  `json:"mk_id,omitempty"`
	CountCode      string  `json:"count_code,omitempty"`
	Code           string  `json:"code,omitempty"`
	Title          string  `json:"title,omitempty"`
	Amount         Decimal `json:"amount,omitzero"`
	ReservedAmount Decimal `json:"reserved_amount,omitzero"`
	FreeAmount     Decimal `json:"free_amount,omitzero"`
	Microlocation  string  `json:"microlocation,omitempty"`
	Unit           string  `json:"unit,omitempty"`
}

// WarehouseStockRequest filters warehouse_stock. Offset and Limit select
// the window (Limit 0 means MaxStockWindow).
type WarehouseStockRequest struct {
	// WarehouseIDs limit the answer to these warehouses (wh_id_list).
	WarehouseIDs []string `json:"-"`
	// ProductMkIDs limit it to these products (product_mk_id_list).
	ProductMkIDs []string `json:"-"`
	Offset       int      `json:"-"`
	Limit        int      `json:"-"`
}

type warehouseStockWire struct {
	WhIDList        string `json:"wh_id_list,omitempty"`
	ProductMkIDList string `json:"product_mk_id_list,omitempty"`
	Offset          Int    `json:"offset"`
	Limit           Int    `json:"limit"`
}

var (
	mWarehouseList  = method{name: "warehouse_list", product: true, class: classList}
	mWarehouseStock = method{name: "warehouse_stock", product: true, class: classList}
)

// WarehouseList returns the company's warehouses.
func (c *Client) WarehouseList(ctx context.Context) ([]Warehouse, error) {
	var out struct {
		WarehouseList List[Warehouse] `json:"warehouse_list"`
	}
	if err := c.call(ctx, mWarehouseList, struct{}{}, &out); err != nil {
		return nil, err
	}
	return out.WarehouseList, nil
}

// WarehouseStock returns one window of stock entries. A window shorter
// than its Limit is the last one. Errors: EINVALID for a window outside
// 0..1000.
func (c *Client) WarehouseStock(ctx context.Context, req WarehouseStockRequest) ([]StockEntry, error) {
	if req.Limit < 0 || req.Limit > MaxStockWindow || req.Offset < 0 {
		return nil, inputError(mWarehouseStock, "offset must be >= 0 and limit within 0..1000")
	}
	if req.Limit == 0 {
		req.Limit = MaxStockWindow
	}
	var out struct {
		StockList List[StockEntry] `json:"stock_list"`
	}
	err := c.call(ctx, mWarehouseStock, warehouseStockWire{
		WhIDList: strings.Join(req.WarehouseIDs, ","), ProductMkIDList: strings.Join(req.ProductMkIDs, ","),
		Offset: NewInt(int64(req.Offset)), Limit: NewInt(int64(req.Limit)),
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.StockList, nil
}
