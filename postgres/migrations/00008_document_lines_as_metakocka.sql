-- Sales documents carry what Metakocka needs to compute the same sums and
-- to get a document back in the form it was entered: per line whether the
-- price was entered gross, a free-text line's text and unit (such a line
-- has no product, so product_id becomes nullable), the company's own tax
-- code (EX1…EX4); per document the gross coupon (discount_value), title,
-- buyer's order number, payment method and delivery address. A tenant
-- chooses the Metakocka price list its products' prices come from (empty:
-- the server's default), and a product's price says
-- whether it was entered gross, as a price list holds it.

-- +goose Up
ALTER TABLE products ADD COLUMN price_includes_tax boolean NOT NULL DEFAULT false;
ALTER TABLE credentials ADD COLUMN pricelist text NOT NULL DEFAULT '';
ALTER TABLE sales_documents
    ADD COLUMN title text NOT NULL DEFAULT '',
    ADD COLUMN buyer_order text NOT NULL DEFAULT '',
    ADD COLUMN payment_method text NOT NULL DEFAULT '',
    ADD COLUMN discount_value numeric NOT NULL DEFAULT 0,
    ADD COLUMN delivery_name text NOT NULL DEFAULT '',
    ADD COLUMN delivery_street text NOT NULL DEFAULT '',
    ADD COLUMN delivery_post_number text NOT NULL DEFAULT '',
    ADD COLUMN delivery_city text NOT NULL DEFAULT '',
    ADD COLUMN delivery_country text NOT NULL DEFAULT '';
ALTER TABLE sales_document_lines
    ALTER COLUMN product_id DROP NOT NULL,
    ADD COLUMN description text NOT NULL DEFAULT '',
    ADD COLUMN unit text NOT NULL DEFAULT '',
    ADD COLUMN price_includes_tax boolean NOT NULL DEFAULT false,
    ADD COLUMN tax_code text NOT NULL DEFAULT '';

-- +goose Down
DELETE FROM sales_document_lines WHERE product_id IS NULL;
ALTER TABLE sales_document_lines
    ALTER COLUMN product_id SET NOT NULL,
    DROP COLUMN description,
    DROP COLUMN unit,
    DROP COLUMN price_includes_tax,
    DROP COLUMN tax_code;
ALTER TABLE sales_documents
    DROP COLUMN title,
    DROP COLUMN buyer_order,
    DROP COLUMN payment_method,
    DROP COLUMN discount_value,
    DROP COLUMN delivery_name,
    DROP COLUMN delivery_street,
    DROP COLUMN delivery_post_number,
    DROP COLUMN delivery_city,
    DROP COLUMN delivery_country;
ALTER TABLE credentials DROP COLUMN pricelist;
ALTER TABLE products DROP COLUMN price_includes_tax;
