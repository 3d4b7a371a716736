package metakocka

import (
	"context"
	"iter"
)

// MaxProductWindow is the largest product_list window Metakocka returns.
const MaxProductWindow = 1000

// Product is a Metakocka product (artikel) as product_list returns it and
// product_add/product_update take it. Unset fields are not sent, so an update
// changes only what is set.
type Product struct {
	MkID      string `json:"mk_id,omitempty"`
	CountCode string `json:"count_code,omitempty"`
	Code      string `json:"code,omitempty"`
	Barcode   string `json:"barcode,omitempty"`
	Name      string `json:"name,omitempty"`
	NameDesc  string `json:"name_desc,omitempty"`
	Unit      string `json:"unit,omitempty"`
	Unit2     string `json:"unit2,omitempty"`
	// UnitFactor converts Unit to Unit2.
	UnitFactor Decimal `json:"unit_factor,omitzero"`

	Service         Bool `json:"service,omitzero"`
	Sales           Bool `json:"sales,omitzero"`
	Purchasing      Bool `json:"purchasing,omitzero"`
	Activated       Bool `json:"activated,omitzero"`
	EshopSync       Bool `json:"eshop_sync,omitzero"`
	Work            Bool `json:"work,omitzero"`
	Asset           Bool `json:"asset,omitzero"`
	Compound        Bool `json:"compound,omitzero"`
	Norm            Bool `json:"norm,omitzero"`
	ExpirationDates Bool `json:"expiration_dates,omitzero"`
	LotNumbers      Bool `json:"lot_numbers,omitzero"`
	SerialNumbers   Bool `json:"serial_numbers,omitzero"`

	Height               Decimal `json:"height,omitzero"`
	Width                Decimal `json:"width,omitzero"`
	Depth                Decimal `json:"depth,omitzero"`
	Weight               Decimal `json:"weight,omitzero"`
	GrossWeight          Decimal `json:"gross_weight,omitzero"`
	MinStock             Decimal `json:"min_stock,omitzero"`
	MinimalOrderQuantity Decimal `json:"minimal_order_quantity,omitzero"`
	KoliPackageAmount    Decimal `json:"koli_package_amount,omitzero"`
	CustomsFee           string  `json:"customs_fee,omitempty"`
	Country              string  `json:"country,omitempty"`

	// Amount, AmountDetail, FreeAmount and ReservationDetail come with
	// product_list when stock is asked for (read only).
	Amount            Decimal           `json:"amount,omitzero"`
	AmountDetail      List[StockDetail] `json:"amount_detail,omitempty"`
	FreeAmount        Decimal           `json:"free_amount,omitzero"`
	ReservationDetail List[StockDetail] `json:"reservation_detail,omitempty"`
	LastPurchasePrice Decimal           `json:"last_purchase_price,omitzero"`

	Localization     List[Localization] `json:"localization,omitempty"`
	Categories       List[Category]     `json:"categories,omitempty"`
	CategoryTreeList List[CategoryNode] `json:"category_tree_list,omitempty"`
	ExtraColumn      List[ExtraColumn]  `json:"extra_column,omitempty"`
	Pricelist        List[Pricelist]    `json:"pricelist,omitempty"`
	// CompoundType is "compound" or "norm".
	CompoundType       string                   `json:"compound_type,omitempty"`
	Compounds          List[CompoundItem]       `json:"compounds,omitempty"`
	SupplierInfo       *SupplierInfo            `json:"supplier_info,omitempty"`
	ProductPartnerInfo List[ProductPartnerInfo] `json:"product_partner_info,omitempty"`
}

// StockDetail is stock (or a reservation) in one warehouse, per serial
// number, lot or expiry date.
type StockDetail struct {
	WarehouseMark string  `json:"warehouse_mark,omitempty"`
	WarehouseName string  `json:"warehouse_name,omitempty"`
	SerialNumber  string  `json:"serial_number,omitempty"`
	LotNumber     string  `json:"lot_number,omitempty"`
	Microlocation string  `json:"microlocation,omitempty"`
	ExpDate       string  `json:"exp_date,omitempty"`
	Amount        Decimal `json:"amount,omitzero"`
}

// Localization is a product's name in one language.
type Localization struct {
	Language string `json:"language,omitempty"`
	Name     string `json:"name,omitempty"`
	NameDesc string `json:"name_desc,omitempty"`
}

// Category puts a product in a category; several names are a path
// (["Fruit", "Apple"]).
type Category struct {
	Category List[string] `json:"category"`
}

// CategoryNode is one node of the category tree product_list returns.
type CategoryNode struct {
	TreeNodeID        string             `json:"tree_node_id,omitempty"`
	TreeNodeLabel     string             `json:"tree_node_label,omitempty"`
	TreeNodeContainer Bool               `json:"tree_node_container,omitzero"`
	TreeNodeVisible   Bool               `json:"tree_node_visible,omitzero"`
	TreeNodeList      List[CategoryNode] `json:"tree_node_list,omitempty"`
}

// ExtraColumn is a company-defined extra field.
type ExtraColumn struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Pricelist is a product's entry on one price list.
type Pricelist struct {
	CountCode     string         `json:"count_code,omitempty"`
	Title         string         `json:"title,omitempty"`
	Buyer         string         `json:"buyer,omitempty"`
	ValidFrom     string         `json:"valid_from,omitempty"`
	ValidTo       string         `json:"valid_to,omitempty"`
	SalesPurchase string         `json:"sales_purchase,omitempty"`
	CurrencyCode  string         `json:"currency_code,omitempty"`
	PricelistType string         `json:"pricelist_type,omitempty"`
	PriceDef      List[PriceDef] `json:"price_def,omitempty"`
}

// PriceDef is one price of a price list, optionally for an amount range.
// Tax is a Metakocka tax code (see TaxRate); TaxFactor ("0.22") may be used
// instead.
type PriceDef struct {
	AmountFrom        Decimal `json:"amount_from,omitzero"`
	AmountTo          Decimal `json:"amount_to,omitzero"`
	Discount          Decimal `json:"discount,omitzero"`
	Tax               string  `json:"tax,omitempty"`
	TaxDesc           string  `json:"tax_desc,omitempty"`
	TaxFactor         Decimal `json:"tax_factor,omitzero"`
	Price             Decimal `json:"price,omitzero"`
	PriceWithTax      Decimal `json:"price_with_tax,omitzero"`
	LowestPrice30Days Decimal `json:"lowest_price_30_days,omitzero"`
}

// CompoundItem is one component of a compound or bill of materials.
type CompoundItem struct {
	MkID               string  `json:"mk_id,omitempty"`
	ProductMkID        string  `json:"product_mk_id,omitempty"`
	ProductCountCode   string  `json:"product_count_code,omitempty"`
	ProductCode        string  `json:"product_code,omitempty"`
	ProductTitle       string  `json:"product_title,omitempty"`
	Amount             Decimal `json:"amount,omitzero"`
	PurchaseUnitFactor Decimal `json:"purchase_unit_factor,omitzero"`
	SupplierID         string  `json:"supplier_id,omitempty"`
	PurchasePrice      Decimal `json:"purchase_price,omitzero"`
	NOfWorkers         Int     `json:"n_of_workers,omitzero"`
	RowOrder           Int     `json:"row_order,omitzero"`
	WorkplaceID        string  `json:"workplace_id,omitempty"`
	Unit               string  `json:"unit,omitempty"`
	MarkDelete         Bool    `json:"mark_delete,omitzero"`
}

// SupplierInfo names a product's supplier.
type SupplierInfo struct {
	PartnerID   string `json:"partner_id,omitempty"`
	PartnerName string `json:"partner_name,omitempty"`
}

// ProductPartnerInfo is a partner's own code and name for a product.
type ProductPartnerInfo struct {
	MkID        string `json:"mk_id,omitempty"`
	ProductID   string `json:"product_id,omitempty"`
	ProductCode string `json:"product_code,omitempty"`
	ProductName string `json:"product_name,omitempty"`
	PartnerID   string `json:"partner_id,omitempty"`
	PartnerName string `json:"partner_name,omitempty"`
}

// ProductListRequest filters product_list and selects what each product
// carries. Offset and Limit select the window (Limit 0 means
// MaxProductWindow).
type ProductListRequest struct {
	CountCode string `json:"count_code,omitempty"`
	MkID      string `json:"mk_id,omitempty"`
	Code      string `json:"code,omitempty"`
	Category  string `json:"category,omitempty"`
	// SearchWithLike matches CountCode, Code and names by prefix/LIKE.
	SearchWithLike Bool `json:"search_with_like,omitzero"`

	Sales     Bool `json:"sales,omitzero"`
	Purchase  Bool `json:"purchase,omitzero"`
	Service   Bool `json:"service,omitzero"`
	Work      Bool `json:"work,omitzero"`
	Active    Bool `json:"active,omitzero"`
	EshopSync Bool `json:"eshop_sync,omitzero"`

	// ReturnWarehouseStock is Metakocka's return_warehause_stock.
	ReturnWarehouseStock       Bool `json:"return_warehause_stock,omitzero"`
	ReturnFreeAmount           Bool `json:"return_free_amount,omitzero"`
	ReturnWarehouseReservation Bool `json:"return_warehouse_reservation,omitzero"`
	ReturnProductPartnerInfo   Bool `json:"return_product_partner_info,omitzero"`
	ReturnCategory             Bool `json:"return_category,omitzero"`
	ReturnPricelist            Bool `json:"return_pricelist,omitzero"`
	ShowTaxFactor              Bool `json:"show_tax_factor,omitzero"`
	ReturnProductCompound      Bool `json:"return_product_compound,omitzero"`
	ReturnLastPurchasePrice    Bool `json:"return_last_purchase_price,omitzero"`

	Offset int `json:"-"`
	Limit  int `json:"-"`
}

// ProductListPage is one product_list window.
type ProductListPage struct {
	Offset   int
	Limit    int
	Products []Product
}

type productListWire struct {
	ProductListRequest
	Offset Int `json:"offset"`
	Limit  Int `json:"limit"`
}

type productListAnswer struct {
	Offset           Int           `json:"offset"`
	Limit            Int           `json:"limit"`
	ProductListCount Int           `json:"product_list_count"`
	ProductList      List[Product] `json:"product_list"`
}

// ProductRef is what product_add, product_update and product_delete return.
type ProductRef struct {
	MkID      string `json:"mk_id"`
	CountCode string `json:"count_code"`
	// ProductPartnerInfoMkID are the ids of added partner infos.
	ProductPartnerInfoMkID List[string] `json:"product_partner_info_mk_id,omitempty"`
}

// ProductKey identifies a product by MkID or CountCode.
type ProductKey struct {
	MkID      string `json:"mk_id,omitempty"`
	CountCode string `json:"count_code,omitempty"`
}

var (
	mProductList   = method{name: "product_list", product: true, class: classList}
	mProductAdd    = method{name: "product_add", product: true, unsafe: true}
	mProductUpdate = method{name: "product_update", product: true}
	mProductDelete = method{name: "product_delete", product: true}
)

// ProductList returns one window of products. A window shorter than its
// Limit is the last one. Errors: EINVALID for a window outside 0..1000.
func (c *Client) ProductList(ctx context.Context, req ProductListRequest) (ProductListPage, error) {
	if req.Limit < 0 || req.Limit > MaxProductWindow || req.Offset < 0 {
		return ProductListPage{}, inputError(mProductList, "offset must be >= 0 and limit within 0..1000")
	}
	if req.Limit == 0 {
		req.Limit = MaxProductWindow
	}
	var out productListAnswer
	err := c.call(ctx, mProductList, productListWire{
		ProductListRequest: req,
		Offset:             NewInt(int64(req.Offset)),
		Limit:              NewInt(int64(req.Limit)),
	}, &out)
	if err != nil {
		return ProductListPage{}, err
	}
	return ProductListPage{Offset: req.Offset, Limit: req.Limit, Products: out.ProductList}, nil
}

// Products iterates over every product matching req, fetching windows of
// req.Limit (default 1000) lazily, starting at req.Offset. On an error it
// yields the error once and stops. Products added or removed while iterating
// may shift windows, so a product may be seen twice or missed; callers that
// need a consistent view re-run it.
func (c *Client) Products(ctx context.Context, req ProductListRequest) iter.Seq2[Product, error] {
	return func(yield func(Product, error) bool) {
		for {
			page, err := c.ProductList(ctx, req)
			if err != nil {
				yield(Product{}, err)
				return
			}
			for _, p := range page.Products {
				if !yield(p, nil) {
					return
				}
			}
			if len(page.Products) < page.Limit || len(page.Products) == 0 {
				return
			}
			req.Offset += len(page.Products)
			req.Limit = page.Limit
		}
	}
}

// ProductAdd creates p. Metakocka refuses a second product with the same
// count_code and code (ECONFLICT), which makes a retried add detectable; the
// client still repeats it only when the first try provably was not processed.
func (c *Client) ProductAdd(ctx context.Context, p Product) (ProductRef, error) {
	if p.Code == "" || p.Name == "" || p.Unit == "" {
		return ProductRef{}, inputError(mProductAdd, "product code, name and unit are required")
	}
	var out ProductRef
	err := c.call(ctx, mProductAdd, p, &out)
	return out, err
}

// ProductUpdate changes the product identified by p.MkID or p.CountCode;
// unset fields keep their value.
func (c *Client) ProductUpdate(ctx context.Context, p Product) (ProductRef, error) {
	if p.MkID == "" && p.CountCode == "" {
		return ProductRef{}, inputError(mProductUpdate, "product mk_id or count_code is required")
	}
	var out ProductRef
	err := c.call(ctx, mProductUpdate, p, &out)
	return out, err
}

// ProductDelete deletes the product identified by k. Metakocka refuses to
// delete a product used on a document (EINVALID).
func (c *Client) ProductDelete(ctx context.Context, k ProductKey) (ProductRef, error) {
	if k.MkID == "" && k.CountCode == "" {
		return ProductRef{}, inputError(mProductDelete, "product mk_id or count_code is required")
	}
	var out ProductRef
	err := c.call(ctx, mProductDelete, k, &out)
	return out, err
}
