-- Stock per warehouse beside the product's total (read from Metakocka's
-- warehouse_stock and the stock webhook, never pushed), and where the
-- tenant's price list came from (SyncSettings.PricelistSource).

-- +goose Up
CREATE TABLE product_stock (
    tenant_id      TEXT NOT NULL,
    product_id     TEXT NOT NULL,
    warehouse_id   TEXT NOT NULL,
    warehouse_mark TEXT NOT NULL,
    warehouse_name TEXT NOT NULL,
    amount         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, product_id, warehouse_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
) STRICT;

ALTER TABLE credentials ADD COLUMN pricelist_source TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE credentials DROP COLUMN pricelist_source;
DROP TABLE product_stock;
