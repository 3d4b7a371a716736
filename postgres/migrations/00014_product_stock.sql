-- Stock per warehouse beside the product's total (read from Metakocka's
-- warehouse_stock and the stock webhook, never pushed), and where the
-- tenant's price list came from (SyncSettings.PricelistSource). Row-level
-- security as on every tenant table (version 1).

-- +goose Up
CREATE TABLE product_stock (
    tenant_id      text COLLATE "C" NOT NULL,
    product_id     text COLLATE "C" NOT NULL,
    warehouse_id   text COLLATE "C" NOT NULL,
    warehouse_mark text    NOT NULL DEFAULT '',
    warehouse_name text    NOT NULL DEFAULT '',
    amount         numeric NOT NULL,
    PRIMARY KEY (tenant_id, product_id, warehouse_id),
    CONSTRAINT product_stock_product_fk FOREIGN KEY (tenant_id, product_id)
        REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE product_stock ENABLE ROW LEVEL SECURITY;
ALTER TABLE product_stock FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON product_stock TO mksync_app
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON product_stock TO mksync_app;

ALTER TABLE credentials ADD COLUMN pricelist_source text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE credentials DROP COLUMN pricelist_source;
DROP TABLE product_stock;
