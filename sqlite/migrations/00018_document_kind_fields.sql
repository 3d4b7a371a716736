-- The header fields of credit notes and prepayments that Metakocka
-- documents: a credit note's type (financial, goods, standalone) and the
-- invoice it credits (the CRM's invoice, or its Metakocka number when the
-- invoice is not in the CRM), the service date of a bill
-- (service_to_date), and the prepayment an offer or order asks for (in
-- percent or as an amount). Same version as the postgres store's 00018.

-- +goose Up
ALTER TABLE sales_documents ADD COLUMN service_to_date TEXT;
ALTER TABLE sales_documents ADD COLUMN credit_note_type TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN credited_invoice_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN credited_invoice_number TEXT NOT NULL DEFAULT '';
ALTER TABLE sales_documents ADD COLUMN prepayment_percent TEXT NOT NULL DEFAULT '0';
ALTER TABLE sales_documents ADD COLUMN prepayment_value TEXT NOT NULL DEFAULT '0';

-- +goose Down
ALTER TABLE sales_documents DROP COLUMN service_to_date;
ALTER TABLE sales_documents DROP COLUMN credit_note_type;
ALTER TABLE sales_documents DROP COLUMN credited_invoice_id;
ALTER TABLE sales_documents DROP COLUMN credited_invoice_number;
ALTER TABLE sales_documents DROP COLUMN prepayment_percent;
ALTER TABLE sales_documents DROP COLUMN prepayment_value;
