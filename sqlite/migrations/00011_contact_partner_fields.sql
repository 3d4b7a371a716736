-- A contact carries what Metakocka keeps on its partner beside the name and billing address: the
-- contact person's own name, the buyer and taxpayer flags, the billing address's payment due days and
-- a delivery address; and the mk_ids of the billing address, delivery address and contact person, so
-- that an update names them as update_partner requires. buyer NULL is "not said".

-- +goose Up
ALTER TABLE contacts ADD COLUMN contact_person TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN buyer INTEGER;
ALTER TABLE contacts ADD COLUMN taxpayer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN payment_due_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN delivery_street TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN delivery_post_number TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN delivery_city TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN delivery_country TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN mk_billing_address_id TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN mk_delivery_address_id TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN mk_contact_person_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE contacts DROP COLUMN mk_contact_person_id;
ALTER TABLE contacts DROP COLUMN mk_delivery_address_id;
ALTER TABLE contacts DROP COLUMN mk_billing_address_id;
ALTER TABLE contacts DROP COLUMN delivery_country;
ALTER TABLE contacts DROP COLUMN delivery_city;
ALTER TABLE contacts DROP COLUMN delivery_post_number;
ALTER TABLE contacts DROP COLUMN delivery_street;
ALTER TABLE contacts DROP COLUMN payment_due_days;
ALTER TABLE contacts DROP COLUMN taxpayer;
ALTER TABLE contacts DROP COLUMN buyer;
ALTER TABLE contacts DROP COLUMN contact_person;
