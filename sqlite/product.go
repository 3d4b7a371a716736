package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/mksync/mksync"
)

const productCols = `r.id, r.tenant_id, r.code, r.name, r.description, r.unit, r.price, r.tax_rate, r.sales,
	r.purchasing, r.service, r.barcode, r.height, r.width, r.depth, r.weight, r.stock_amount,
	r.created_at, r.updated_at, r.version, r.price_includes_tax`

func scanProduct(sc scanner) (mksync.Product, error) {
	var p mksync.Product
	var price, tax, h, w, d, wt, stock, created, updated string
	err := sc.Scan(&p.ID, &p.TenantID, &p.Code, &p.Name, &p.Description, &p.Unit, &price, &tax, &p.Sales,
		&p.Purchasing, &p.Service, &p.Barcode, &h, &w, &d, &wt, &stock, &created, &updated, &p.Version,
		&p.PriceIncludesTax)
	if err != nil {
		return p, err
	}
	if err := decs(price, &p.Price, tax, &p.TaxRate, h, &p.Height, w, &p.Width, d, &p.Depth, wt, &p.Weight, stock, &p.StockAmount); err != nil {
		return p, err
	}
	return p, times(created, &p.CreatedAt, updated, &p.UpdatedAt)
}

func productSearch(p *mksync.Product) string { return searchText(p.Code, p.Name) }

var productRecord = crmRecord[mksync.Product]{table: "products", what: "product", et: mksync.EntityProduct,
	cols: productCols, scan: scanProduct, id: func(p mksync.Product) string { return p.ID },
	inUse: "the product is used by a sales document",
	stamps: func(p *mksync.Product) stamps {
		return stamps{&p.ID, &p.TenantID, &p.CreatedAt, &p.UpdatedAt, &p.Version}
	}}

const productCodeTaken = "another product of this tenant has this code"

// CreateProduct implements mksync.ProductStore.
func (s *store) CreateProduct(ctx context.Context, tenantID string, p *mksync.Product) error {
	return create(ctx, s, productRecord, tenantID, p, func(q querier, n *mksync.Product, now string) error {
		_, err := q.ExecContext(ctx, `INSERT INTO products (id, tenant_id, code, name, description, unit, price,
			tax_rate, sales, purchasing, service, barcode, height, width, depth, weight, stock_amount,
			search_text, created_at, updated_at, version, price_includes_tax)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
			n.ID, tenantID, n.Code, n.Name, n.Description, n.Unit, fmtDec(n.Price), fmtDec(n.TaxRate),
			boolInt(n.Sales), boolInt(n.Purchasing), boolInt(n.Service), n.Barcode, fmtDec(n.Height),
			fmtDec(n.Width), fmtDec(n.Depth), fmtDec(n.Weight), fmtDec(n.StockAmount), productSearch(n),
			now, now, boolInt(n.PriceIncludesTax))
		return translate("create product", err, "a product with this id or code already exists", "", "")
	})
}

// FindProductByID implements mksync.ProductStore.
func (s *store) FindProductByID(ctx context.Context, tenantID, id string) (mksync.Product, error) {
	return s.findProduct(ctx, "r.id = ?", tenantID, id)
}

// FindProductByCode implements mksync.ProductStore.
func (s *store) FindProductByCode(ctx context.Context, tenantID, code string) (mksync.Product, error) {
	return s.findProduct(ctx, "r.code = ?", tenantID, code)
}

func (s *store) findProduct(ctx context.Context, cond, tenantID, key string) (mksync.Product, error) {
	return findOne(s.reader().QueryRowContext(ctx, "SELECT "+productCols+" FROM products r WHERE r.tenant_id = ? AND "+cond, tenantID, key),
		scanProduct, "product", key)
}

// FindProducts implements mksync.ProductStore.
func (s *store) FindProducts(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.Product, string, error) {
	return productRecord.find(ctx, s, tenantID, f)
}

// AllProducts implements mksync.ProductStore.
func (s *store) AllProducts(ctx context.Context, tenantID string) iter.Seq2[mksync.Product, error] {
	return productRecord.all(ctx, s, tenantID)
}

// UpdateProduct implements mksync.ProductStore. The stock amount is not
// written (SetProductStock owns it).
func (s *store) UpdateProduct(ctx context.Context, tenantID string, p *mksync.Product) error {
	return update(ctx, s, productRecord, tenantID, p, func(q querier, n *mksync.Product, now string) (created string, err error) {
		var stock string
		err = q.QueryRowContext(ctx, `UPDATE products SET code = ?, name = ?, description = ?, unit = ?,
			price = ?, tax_rate = ?, sales = ?, purchasing = ?, service = ?, barcode = ?, height = ?, width = ?,
			depth = ?, weight = ?, search_text = ?, updated_at = ?, version = version + 1, price_includes_tax = ?
			WHERE tenant_id = ? AND id = ? AND version = ?
			RETURNING version, created_at, stock_amount`,
			n.Code, n.Name, n.Description, n.Unit, fmtDec(n.Price), fmtDec(n.TaxRate), boolInt(n.Sales),
			boolInt(n.Purchasing), boolInt(n.Service), n.Barcode, fmtDec(n.Height), fmtDec(n.Width),
			fmtDec(n.Depth), fmtDec(n.Weight), productSearch(n), now, boolInt(n.PriceIncludesTax),
			tenantID, n.ID, n.Version).Scan(&n.Version, &created, &stock)
		if err != nil {
			return "", err
		}
		return created, decs(stock, &n.StockAmount)
	}, func(err error) error { return translate("update product", err, productCodeTaken, "", "") })
}

// SetProductStock implements mksync.ProductStore.
func (s *store) SetProductStock(ctx context.Context, tenantID, id string, amount mksync.Decimal) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "UPDATE products SET stock_amount = ? WHERE tenant_id = ? AND id = ?", fmtDec(amount), tenantID, id)
		if err != nil {
			return internal("set product stock", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("product", id)
		}
		return nil
	})
}

// DeleteProduct implements mksync.ProductStore.
func (s *store) DeleteProduct(ctx context.Context, tenantID, id string) error {
	return productRecord.delete(ctx, s, tenantID, id)
}

// UpsertProducts implements mksync.ProductStore. Replacing keeps the stored
// stock amount, like UpdateProduct.
func (s *store) UpsertProducts(ctx context.Context, tenantID string, ps []mksync.Product) error {
	return upsertAll(ctx, s, "product", ps, func(p *mksync.Product) *string { return &p.ID },
		func(q querier, batch []mksync.Product) error { return s.upsertProducts(ctx, q, tenantID, batch) })
}

func (s *store) upsertProducts(ctx context.Context, q querier, tenantID string, ps []mksync.Product) error {
	if err := requireTenant(ctx, q, tenantID); err != nil {
		return err
	}
	stmt, err := q.PrepareContext(ctx, `INSERT INTO products (id, tenant_id, code, name, description, unit, price,
		tax_rate, sales, purchasing, service, barcode, height, width, depth, weight, stock_amount,
		search_text, created_at, updated_at, version, price_includes_tax)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
			price_includes_tax = excluded.price_includes_tax,
			description = excluded.description, unit = excluded.unit, price = excluded.price,
			tax_rate = excluded.tax_rate, sales = excluded.sales, purchasing = excluded.purchasing,
			service = excluded.service, barcode = excluded.barcode, height = excluded.height,
			width = excluded.width, depth = excluded.depth, weight = excluded.weight,
			search_text = excluded.search_text, updated_at = excluded.updated_at,
			version = products.version + 1
		WHERE products.tenant_id = excluded.tenant_id
		RETURNING version, created_at, stock_amount`)
	if err != nil {
		return internal("prepare product upsert", err)
	}
	defer stmt.Close()
	now := s.truncNow()
	nowS := fmtTime(now)
	for i := range ps {
		p := &ps[i]
		var created, stock string
		err := stmt.QueryRowContext(ctx, p.ID, tenantID, p.Code, p.Name, p.Description, p.Unit, fmtDec(p.Price),
			fmtDec(p.TaxRate), boolInt(p.Sales), boolInt(p.Purchasing), boolInt(p.Service), p.Barcode,
			fmtDec(p.Height), fmtDec(p.Width), fmtDec(p.Depth), fmtDec(p.Weight), fmtDec(p.StockAmount),
			productSearch(p), nowS, nowS, boolInt(p.PriceIncludesTax)).Scan(&p.Version, &created, &stock)
		if errors.Is(err, sql.ErrNoRows) {
			return upsertMiss("product", p.ID)
		}
		if err != nil {
			return translate("upsert product", err, fmt.Sprintf("product %s: %s", p.Code, productCodeTaken), "", "")
		}
		if err := decs(stock, &p.StockAmount); err != nil {
			return err
		}
		p.TenantID, p.UpdatedAt = tenantID, now
		if p.CreatedAt, err = s.written(ctx, q, tenantID, mksync.EntityProduct, p.ID, p.Version, created, nowS); err != nil {
			return err
		}
	}
	return nil
}
