package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mksync/mksync"
)

// SetWarehouseStock implements mksync.ProductStore: the product's rows of
// product_stock are replaced in one write.
func (s *store) SetWarehouseStock(ctx context.Context, tenantID, id string, stock []mksync.WarehouseStock) error {
	if err := mksync.CheckWarehouseStock(stock); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		if err := productExists(ctx, q, tenantID, id); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM product_stock WHERE tenant_id = ? AND product_id = ?", tenantID, id); err != nil {
			return internal("clear warehouse stock", err)
		}
		for _, w := range stock {
			_, err := q.ExecContext(ctx, `INSERT INTO product_stock (tenant_id, product_id, warehouse_id, warehouse_mark, warehouse_name, amount)
				VALUES (?, ?, ?, ?, ?, ?)`, tenantID, id, w.WarehouseID, w.Mark, w.Name, fmtDec(w.Amount))
			if err != nil {
				return internal("set warehouse stock", err)
			}
		}
		return nil
	})
}

// WarehouseStock implements mksync.ProductStore. One statement reads the
// product and its stock (the product's row joined to its stock rows, one
// row with no warehouse when it has none): a pull compares the stock of
// every product it writes, inside its transaction.
func (s *store) WarehouseStock(ctx context.Context, tenantID, id string) ([]mksync.WarehouseStock, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT w.warehouse_id, w.warehouse_mark, w.warehouse_name, w.amount
		FROM products p LEFT JOIN product_stock w ON w.tenant_id = p.tenant_id AND w.product_id = p.id
		WHERE p.tenant_id = ? AND p.id = ? ORDER BY w.warehouse_id`, tenantID, id)
	if err != nil {
		return nil, internal("read warehouse stock", err)
	}
	defer rows.Close()
	out := []mksync.WarehouseStock{}
	found := false
	for rows.Next() {
		found = true
		var wid, mark, name, amount sql.NullString
		if err := rows.Scan(&wid, &mark, &name, &amount); err != nil {
			return nil, internal("read warehouse stock", err)
		}
		if !wid.Valid {
			continue // the product has no stock rows
		}
		w := mksync.WarehouseStock{WarehouseID: wid.String, Mark: mark.String, Name: name.String}
		if err := decs(amount.String, &w.Amount); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("read warehouse stock", err)
	}
	if !found {
		return nil, notFound("product", id)
	}
	return out, nil
}

// productExists is ENOTFOUND when the tenant has no product id.
func productExists(ctx context.Context, q querier, tenantID, id string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM products WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("product", id)
	case err != nil:
		return internal("find product", err)
	}
	return nil
}
