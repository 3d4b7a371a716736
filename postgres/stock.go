package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// SetWarehouseStock implements mksync.ProductStore: the product's rows of
// product_stock are replaced in one transaction.
func (d *DB) SetWarehouseStock(ctx context.Context, tenantID, id string, stock []mksync.WarehouseStock) error {
	if err := mksync.CheckWarehouseStock(stock); err != nil {
		return err
	}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := productExists(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM product_stock WHERE tenant_id = $1 AND product_id = $2`, tenantID, id); err != nil {
			return err
		}
		for _, w := range stock {
			_, err := tx.Exec(ctx, `INSERT INTO product_stock (tenant_id, product_id, warehouse_id, warehouse_mark, warehouse_name, amount)
				VALUES ($1, $2, $3, $4, $5, $6)`, tenantID, id, w.WarehouseID, w.Mark, w.Name, w.Amount)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return dbErr("set warehouse stock", err)
}

// WarehouseStock implements mksync.ProductStore.
func (d *DB) WarehouseStock(ctx context.Context, tenantID, id string) ([]mksync.WarehouseStock, error) {
	out := []mksync.WarehouseStock{}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := productExists(ctx, tx, tenantID, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT warehouse_id, warehouse_mark, warehouse_name, amount FROM product_stock
			WHERE tenant_id = $1 AND product_id = $2 ORDER BY warehouse_id`, tenantID, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w mksync.WarehouseStock
			if err := rows.Scan(&w.WarehouseID, &w.Mark, &w.Name, &w.Amount); err != nil {
				return err
			}
			out = append(out, w)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dbErr("read warehouse stock", err)
	}
	return out, nil
}

// productExists is ENOTFOUND when the tenant has no product id.
func productExists(ctx context.Context, tx pgx.Tx, tenantID, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM products WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("product", id)
	}
	return err
}
