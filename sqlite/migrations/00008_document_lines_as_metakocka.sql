-- Sales documents carry what Metakocka needs to compute the same sums and
-- to get a document back in the form it was entered: per line whether the
-- price was entered gross, a free-text line's text and unit (such a line
-- has no product, so product_id becomes nullable), the company's own tax
-- code (EX1…EX4); per document the gross coupon (discount_value), title,
-- buyer's order number, payment method and delivery address. A tenant
-- chooses the Metakocka price list its products' prices come from (empty:
-- the server's default), and a product's price says
-- whether it was entered gross, as a price list holds it. SQLite cannot
-- drop a NOT NULL, so the lines table is rebuilt.

-- +goose Up
ALTER TABLE products ADD COLUMN price_includes_tax INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN pricelist TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN buyer_order TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN payment_method TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN discount_value TEXT NOT NULL DEFAULT '0';
ALTER TABLE sales_documents ADD COLUMN delivery_name TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN delivery_street TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN delivery_post_number TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN delivery_city TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN delivery_country TEXT NOT NULL DEFAULT '';

CREATE TABLE sales_document_lines_v8 (
    document_id        TEXT NOT NULL,
    position           INTEGER NOT NULL,
    tenant_id          TEXT NOT NULL,
    product_id         TEXT,
    description        TEXT NOT NULL DEFAULT '',
    unit               TEXT NOT NULL DEFAULT '',
    quantity           TEXT NOT NULL,
    unit_price         TEXT NOT NULL,
    price_includes_tax INTEGER NOT NULL DEFAULT 0,
    discount_percent   TEXT NOT NULL,
    tax_rate           TEXT NOT NULL,
    tax_code           TEXT NOT NULL DEFAULT '',
    net_amount         TEXT NOT NULL,
    PRIMARY KEY (document_id, position),
    FOREIGN KEY (tenant_id, document_id) REFERENCES sales_documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
) STRICT;
INSERT INTO sales_document_lines_v8 (document_id, position, tenant_id, product_id, quantity, unit_price,
    discount_percent, tax_rate, net_amount)
SELECT document_id, position, tenant_id, product_id, quantity, unit_price, discount_percent, tax_rate, net_amount
FROM sales_document_lines;
DROP TABLE sales_document_lines;
ALTER TABLE sales_document_lines_v8 RENAME TO sales_document_lines;
CREATE INDEX sales_document_lines_product ON sales_document_lines (tenant_id, product_id);
CREATE INDEX sales_document_lines_document ON sales_document_lines (tenant_id, document_id, position);

-- +goose Down
CREATE TABLE sales_document_lines_v4 (
    document_id      TEXT NOT NULL,
    position         INTEGER NOT NULL,
    tenant_id        TEXT NOT NULL,
    product_id       TEXT NOT NULL,
    quantity         TEXT NOT NULL,
    unit_price       TEXT NOT NULL,
    discount_percent TEXT NOT NULL,
    tax_rate         TEXT NOT NULL,
    net_amount       TEXT NOT NULL,
    PRIMARY KEY (document_id, position),
    FOREIGN KEY (tenant_id, document_id) REFERENCES sales_documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
) STRICT;
INSERT INTO sales_document_lines_v4 (document_id, position, tenant_id, product_id, quantity, unit_price,
    discount_percent, tax_rate, net_amount)
SELECT document_id, position, tenant_id, product_id, quantity, unit_price, discount_percent, tax_rate, net_amount
FROM sales_document_lines WHERE product_id IS NOT NULL;
DROP TABLE sales_document_lines;
ALTER TABLE sales_document_lines_v4 RENAME TO sales_document_lines;
CREATE INDEX sales_document_lines_product ON sales_document_lines (tenant_id, product_id);
CREATE INDEX sales_document_lines_document ON sales_document_lines (tenant_id, document_id, position);
ALTER TABLE sales_documents DROP COLUMN title;
ALTER TABLE sales_documents DROP COLUMN buyer_order;
ALTER TABLE sales_documents DROP COLUMN payment_method;
ALTER TABLE sales_documents DROP COLUMN discount_value;
ALTER TABLE sales_documents DROP COLUMN delivery_name;
ALTER TABLE sales_documents DROP COLUMN delivery_street;
ALTER TABLE sales_documents DROP COLUMN delivery_post_number;
ALTER TABLE sales_documents DROP COLUMN delivery_city;
ALTER TABLE sales_documents DROP COLUMN delivery_country;
ALTER TABLE credentials DROP COLUMN pricelist;
ALTER TABLE products DROP COLUMN price_includes_tax;
