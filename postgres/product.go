package postgres

import (
	"context"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

const productColumns = `id, tenant_id, code, name, description, unit, price, tax_rate, sales, purchasing, service,
	barcode, height, width, depth, weight, stock_amount, created_at, updated_at, version, price_includes_tax`

func scanProduct(r pgx.Row) (mksync.Product, error) {
	var p mksync.Product
	err := r.Scan(&p.ID, &p.TenantID, &p.Code, &p.Name, &p.Description, &p.Unit, &p.Price, &p.TaxRate,
		&p.Sales, &p.Purchasing, &p.Service, &p.Barcode, &p.Height, &p.Width, &p.Depth, &p.Weight,
		&p.StockAmount, &p.CreatedAt, &p.UpdatedAt, &p.Version, &p.PriceIncludesTax)
	p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
	return p, err
}

func scanProductRows(r pgx.Rows) (mksync.Product, error) { return scanProduct(r) }

var productTable = crmTable[mksync.Product]{table: "products", what: "product", et: mksync.EntityProduct,
	cols: productColumns, scan: scanProductRows, id: func(p mksync.Product) string { return p.ID },
	searchCols: []string{"name", "code"}, usedByDocuments: true,
	stamps: func(p *mksync.Product) stamps {
		return stamps{&p.ID, &p.TenantID, &p.CreatedAt, &p.UpdatedAt, &p.Version}
	}}

// productConflict explains a unique violation on products: a duplicate
// code or a duplicate id.
func productConflict(op string, p *mksync.Product, err error) error {
	if code, constraint := pgCode(err); code == pgUniqueViolation && constraint == "products_code_key" {
		return mksync.WrapError(mksync.ECONFLICT, "a product with code "+p.Code+" already exists", err)
	}
	return tenantMissing(op, err)
}

// CreateProduct validates and inserts p; ECONFLICT when its code is taken.
func (d *DB) CreateProduct(ctx context.Context, tenantID string, p *mksync.Product) error {
	return productTable.create(ctx, d, tenantID, p, p.Validate, func(tx pgx.Tx, now time.Time) error {
		_, err := tx.Exec(ctx, `INSERT INTO products (`+productColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, 1, $19)`,
			p.ID, tenantID, p.Code, p.Name, p.Description, p.Unit, p.Price, p.TaxRate, p.Sales, p.Purchasing,
			p.Service, p.Barcode, p.Height, p.Width, p.Depth, p.Weight, p.StockAmount, now, p.PriceIncludesTax)
		return err
	}, func(op string, err error) error { return productConflict(op, p, err) })
}

// FindProductByID returns the tenant's product; ENOTFOUND otherwise.
func (d *DB) FindProductByID(ctx context.Context, tenantID, id string) (mksync.Product, error) {
	return d.findProduct(ctx, tenantID, "id", id)
}

// FindProductByCode returns the tenant's product with the code (SKU).
func (d *DB) FindProductByCode(ctx context.Context, tenantID, code string) (mksync.Product, error) {
	return d.findProduct(ctx, tenantID, "code", code)
}

func (d *DB) findProduct(ctx context.Context, tenantID, col, v string) (mksync.Product, error) {
	return findOne(ctx, d, tenantID, scanProduct, mksync.Errorf(mksync.ENOTFOUND, "product with %s %s not found", col, v), "find product",
		`SELECT `+productColumns+` FROM products WHERE tenant_id = $1 AND `+col+` = $2`, tenantID, v)
}

// FindProducts lists the tenant's products in id order; Search matches name
// or code.
func (d *DB) FindProducts(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.Product, string, error) {
	return productTable.find(ctx, d, tenantID, f)
}

// UpdateProduct writes p when p.Version is current (else ECONFLICT), bumps
// the version and turns a synced mapping pending. StockAmount is not
// written: it belongs to Metakocka (SetProductStock).
func (d *DB) UpdateProduct(ctx context.Context, tenantID string, p *mksync.Product) error {
	var stock decimal.Decimal
	err := productTable.update(ctx, d, tenantID, p, p.Validate, func(tx pgx.Tx, now time.Time) (created time.Time, err error) {
		err = tx.QueryRow(ctx, `UPDATE products SET code = $4, name = $5, description = $6, unit = $7, price = $8,
				tax_rate = $9, sales = $10, purchasing = $11, service = $12, barcode = $13, height = $14, width = $15,
				depth = $16, weight = $17, updated_at = $18, version = version + 1, price_includes_tax = $19
			WHERE tenant_id = $1 AND id = $2 AND version = $3 RETURNING created_at, stock_amount`,
			tenantID, p.ID, p.Version, p.Code, p.Name, p.Description, p.Unit, p.Price, p.TaxRate, p.Sales,
			p.Purchasing, p.Service, p.Barcode, p.Height, p.Width, p.Depth, p.Weight, now, p.PriceIncludesTax).Scan(&created, &stock)
		return created, err
	}, func(op string, err error) error { return productConflict(op, p, err) })
	if err != nil {
		return err
	}
	p.StockAmount = stock
	return nil
}

// SetProductStock sets only the stock amount: no version bump, no pending
// mapping (stock is never pushed).
func (d *DB) SetProductStock(ctx context.Context, tenantID, id string, amount mksync.Decimal) error {
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE products SET stock_amount = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, amount)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("product", id)
		}
		return nil
	})
	return dbErr("set product stock", err)
}

// DeleteProduct deletes the product and its mapping; ECONFLICT when a sales
// document line uses it.
func (d *DB) DeleteProduct(ctx context.Context, tenantID, id string) error {
	return productTable.delete(ctx, d, tenantID, id)
}

// AllProducts streams the tenant's products in id order.
func (d *DB) AllProducts(ctx context.Context, tenantID string) iter.Seq2[mksync.Product, error] {
	return productTable.all(ctx, d, tenantID)
}

// UpsertProducts creates or replaces products by id, chunkSize per
// transaction. A new product gets the given stock amount; a replaced one
// keeps its stored amount (SetProductStock owns it) and ps gets it back.
// ECONFLICT when a code is taken by another product.
func (d *DB) UpsertProducts(ctx context.Context, tenantID string, ps []mksync.Product) error {
	if _, err := prepareBatch("product", ps, func(p *mksync.Product) *string { return &p.ID }); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ps))
	for i := range ps {
		if seen[ps[i].Code] {
			return mksync.Errorf(mksync.EINVALID, "invalid product batch: code %s appears twice", ps[i].Code)
		}
		seen[ps[i].Code] = true
	}
	return inChunks(ps, func(batch []mksync.Product) error { return d.upsertProductBatch(ctx, tenantID, batch) })
}

func (d *DB) upsertProductBatch(ctx context.Context, tenantID string, ps []mksync.Product) error {
	defer d.analyze.wrote("products", len(ps))
	n := len(ps)
	ids, codes, names, descs, units, barcodes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prices, taxes, heights, widths, depths, weights, stocks := make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	sales, purch, service, gross := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	for i, p := range ps {
		ids[i], codes[i], names[i], descs[i], units[i], barcodes[i] = p.ID, p.Code, p.Name, p.Description, p.Unit, p.Barcode
		prices[i], taxes[i], heights[i], widths[i], depths[i], weights[i], stocks[i] = p.Price, p.TaxRate, p.Height, p.Width, p.Depth, p.Weight, p.StockAmount
		sales[i], purch[i], service[i], gross[i] = p.Sales, p.Purchasing, p.Service, p.PriceIncludesTax
	}
	now := d.nowUTC()
	type stored struct {
		created, updated time.Time
		version          int64
		stock            decimal.Decimal
	}
	got := make(map[string]stored, n)
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO products AS p (`+productColumns+`)
			SELECT u.id, $1, u.code, u.name, u.description, u.unit, u.price, u.tax_rate, u.sales, u.purchasing,
				u.service, u.barcode, u.height, u.width, u.depth, u.weight, u.stock_amount, $2, $2, 1, u.gross
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::numeric[],
				$10::bool[], $11::bool[], $12::bool[], $13::text[], $14::numeric[], $15::numeric[], $16::numeric[],
				$17::numeric[], $18::numeric[], $19::bool[])
				AS u(id, code, name, description, unit, price, tax_rate, sales, purchasing, service, barcode,
				     height, width, depth, weight, stock_amount, gross)
			ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name,
				description = EXCLUDED.description, unit = EXCLUDED.unit, price = EXCLUDED.price,
				tax_rate = EXCLUDED.tax_rate, sales = EXCLUDED.sales, purchasing = EXCLUDED.purchasing,
				service = EXCLUDED.service, barcode = EXCLUDED.barcode, height = EXCLUDED.height,
				width = EXCLUDED.width, depth = EXCLUDED.depth, weight = EXCLUDED.weight,
				price_includes_tax = EXCLUDED.price_includes_tax, updated_at = EXCLUDED.updated_at, version = p.version + 1
			WHERE p.tenant_id = EXCLUDED.tenant_id
			RETURNING id, created_at, updated_at, version, stock_amount`,
			tenantID, now, ids, codes, names, descs, units, prices, taxes, sales, purch, service, barcodes,
			heights, widths, depths, weights, stocks, gross)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var s stored
			if err := rows.Scan(&id, &s.created, &s.updated, &s.version, &s.stock); err != nil {
				return err
			}
			got[id] = s
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(got) != n {
			return mksync.Errorf(mksync.ECONFLICT, "product id already in use by another tenant")
		}
		return markPending(ctx, tx, tenantID, mksync.EntityProduct, now, ids...)
	})
	if err != nil {
		if code, constraint := pgCode(err); code == pgUniqueViolation && constraint == "products_code_key" {
			return mksync.WrapError(mksync.ECONFLICT, "a product code in the batch is already used by another product", err)
		}
		return upsertErr("upsert products", err)
	}
	for i := range ps {
		s := got[ps[i].ID]
		ps[i].TenantID, ps[i].CreatedAt, ps[i].UpdatedAt, ps[i].Version, ps[i].StockAmount = tenantID, utc(s.created), utc(s.updated), s.version, s.stock
	}
	return nil
}
