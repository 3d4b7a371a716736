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
	r.created_at, r.updated_at, r.version`

func scanProduct(sc scanner) (mksync.Product, error) {
	var p mksync.Product
	var price, tax, h, w, d, wt, stock, created, updated string
	err := sc.Scan(&p.ID, &p.TenantID, &p.Code, &p.Name, &p.Description, &p.Unit, &price, &tax, &p.Sales,
		&p.Purchasing, &p.Service, &p.Barcode, &h, &w, &d, &wt, &stock, &created, &updated, &p.Version)
	if err != nil {
		return p, err
	}
	if err := decs(price, &p.Price, tax, &p.TaxRate, h, &p.Height, w, &p.Width, d, &p.Depth, wt, &p.Weight, stock, &p.StockAmount); err != nil {
		return p, err
	}
	if p.CreatedAt, err = parseTime(created); err != nil {
		return p, err
	}
	p.UpdatedAt, err = parseTime(updated)
	return p, err
}

func productSearch(p *mksync.Product) string { return searchText(p.Code, p.Name) }

const productCodeTaken = "another product of this tenant has this code"

// CreateProduct implements mksync.ProductStore.
func (s *store) CreateProduct(ctx context.Context, tenantID string, p *mksync.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	n := *p
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	now := s.truncNow()
	n.TenantID, n.CreatedAt, n.UpdatedAt, n.Version = tenantID, now, now, 1
	err := s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO products (id, tenant_id, code, name, description, unit, price,
			tax_rate, sales, purchasing, service, barcode, height, width, depth, weight, stock_amount,
			search_text, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			n.ID, tenantID, n.Code, n.Name, n.Description, n.Unit, fmtDec(n.Price), fmtDec(n.TaxRate),
			boolInt(n.Sales), boolInt(n.Purchasing), boolInt(n.Service), n.Barcode, fmtDec(n.Height),
			fmtDec(n.Width), fmtDec(n.Depth), fmtDec(n.Weight), fmtDec(n.StockAmount), productSearch(&n),
			fmtTime(now), fmtTime(now))
		return translate("create product", err, "a product with this id or code already exists", "", "")
	})
	if err != nil {
		return err
	}
	*p = n
	return nil
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
	p, err := scanProduct(s.reader().QueryRowContext(ctx, "SELECT "+productCols+" FROM products r WHERE r.tenant_id = ? AND "+cond, tenantID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("product", key)
	}
	if err != nil {
		return p, translate("find product", err, "", "", "")
	}
	return p, nil
}

// FindProducts implements mksync.ProductStore.
func (s *store) FindProducts(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.Product, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	limit := f.EffectiveLimit()
	items, err := s.listProducts(ctx, tenantID, after, f, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := pageOf(items, limit, func(p mksync.Product) string { return p.ID })
	return items, next, nil
}

func (s *store) listProducts(ctx context.Context, tenantID, after string, f mksync.ListFilter, limit int) ([]mksync.Product, error) {
	w, err := crmWhere(mksync.EntityProduct, tenantID, after, f)
	if err != nil {
		return nil, err
	}
	return listCRM(ctx, s.reader(), "products", productCols, w, limit, scanProduct)
}

// AllProducts implements mksync.ProductStore.
func (s *store) AllProducts(ctx context.Context, tenantID string) iter.Seq2[mksync.Product, error] {
	return stream(func(after string, limit int) ([]mksync.Product, error) {
		return s.listProducts(ctx, tenantID, after, mksync.ListFilter{}, limit)
	}, func(p mksync.Product) string { return p.ID })
}

// UpdateProduct implements mksync.ProductStore. The stock amount is not
// written (SetProductStock owns it).
func (s *store) UpdateProduct(ctx context.Context, tenantID string, p *mksync.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	n := *p
	now := s.truncNow()
	err := s.write(ctx, func(q querier) error {
		var created, stock string
		err := q.QueryRowContext(ctx, `UPDATE products SET code = ?, name = ?, description = ?, unit = ?,
			price = ?, tax_rate = ?, sales = ?, purchasing = ?, service = ?, barcode = ?, height = ?, width = ?,
			depth = ?, weight = ?, search_text = ?, updated_at = ?, version = version + 1
			WHERE tenant_id = ? AND id = ? AND version = ?
			RETURNING version, created_at, stock_amount`,
			n.Code, n.Name, n.Description, n.Unit, fmtDec(n.Price), fmtDec(n.TaxRate), boolInt(n.Sales),
			boolInt(n.Purchasing), boolInt(n.Service), n.Barcode, fmtDec(n.Height), fmtDec(n.Width),
			fmtDec(n.Depth), fmtDec(n.Weight), productSearch(&n), fmtTime(now),
			tenantID, n.ID, n.Version).Scan(&n.Version, &created, &stock)
		if errors.Is(err, sql.ErrNoRows) {
			return versionMiss(ctx, q, "products", "product", tenantID, n.ID, p.Version)
		}
		if err != nil {
			return translate("update product", err, productCodeTaken, "", "")
		}
		if err := decs(stock, &n.StockAmount); err != nil {
			return err
		}
		if n.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		return s.markPending(ctx, q, tenantID, mksync.EntityProduct, n.ID, fmtTime(now))
	})
	if err != nil {
		return err
	}
	n.TenantID, n.UpdatedAt = tenantID, now
	*p = n
	return nil
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
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM products WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return translate("delete product", err, "", mksync.ECONFLICT, "the product is used by a sales document")
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("product", id)
		}
		return s.deleteMappingOf(ctx, q, tenantID, mksync.EntityProduct, id)
	})
}

// UpsertProducts implements mksync.ProductStore. Replacing keeps the stored
// stock amount, like UpdateProduct.
func (s *store) UpsertProducts(ctx context.Context, tenantID string, ps []mksync.Product) error {
	for i := range ps {
		if err := ps[i].Validate(); err != nil {
			return mksync.WrapError(mksync.EINVALID, fmt.Sprintf("product %d: %s", i, mksync.ErrorMessage(err)), err)
		}
	}
	for i := range ps {
		if err := ensureID(&ps[i].ID); err != nil {
			return err
		}
	}
	for lo, hi := range batches(len(ps)) {
		if err := s.write(ctx, func(q querier) error { return s.upsertProducts(ctx, q, tenantID, ps[lo:hi]) }); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) upsertProducts(ctx context.Context, q querier, tenantID string, ps []mksync.Product) error {
	if err := requireTenant(ctx, q, tenantID); err != nil {
		return err
	}
	stmt, err := q.PrepareContext(ctx, `INSERT INTO products (id, tenant_id, code, name, description, unit, price,
		tax_rate, sales, purchasing, service, barcode, height, width, depth, weight, stock_amount,
		search_text, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
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
			productSearch(p), nowS, nowS).Scan(&p.Version, &created, &stock)
		if errors.Is(err, sql.ErrNoRows) {
			return mksync.Errorf(mksync.ECONFLICT, "product id %s belongs to another record", p.ID)
		}
		if err != nil {
			return translate("upsert product", err, fmt.Sprintf("product %s: %s", p.Code, productCodeTaken), "", "")
		}
		if err := decs(stock, &p.StockAmount); err != nil {
			return err
		}
		if p.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		p.TenantID, p.UpdatedAt = tenantID, now
		if p.Version > 1 {
			if err := s.markPending(ctx, q, tenantID, mksync.EntityProduct, p.ID, nowS); err != nil {
				return err
			}
		}
	}
	return nil
}
