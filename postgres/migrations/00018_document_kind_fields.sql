-- The header fields of credit notes and prepayments that Metakocka
-- documents: a credit note's type (financial, goods, standalone) and the
-- invoice it credits (the CRM's invoice, or its Metakocka number when the
-- invoice is not in the CRM), the service date of a bill
-- (service_to_date), and the prepayment an offer or order asks for (in
-- percent or as an amount). Same version as the sqlite store's 00018.

-- +goose Up
ALTER TABLE sales_documents
    ADD COLUMN service_to_date date,
    ADD COLUMN credit_note_type text NOT NULL DEFAULT '',
    ADD COLUMN credited_invoice_id text NOT NULL DEFAULT '',
    ADD COLUMN credited_invoice_number text NOT NULL DEFAULT '',
    ADD COLUMN prepayment_percent numeric NOT NULL DEFAULT 0,
    ADD COLUMN prepayment_value numeric NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sales_documents
    DROP COLUMN service_to_date,
    DROP COLUMN credit_note_type,
    DROP COLUMN credited_invoice_id,
    DROP COLUMN credited_invoice_number,
    DROP COLUMN prepayment_percent,
    DROP COLUMN prepayment_value;
