// Package mkfake simulates the Metakocka REST API (same paths, same JSON
// wire format) with fault injection, so that mksync's tests, demo and
// benchmarks run without a Metakocka account.
//
// # Serving
//
// A *Server is an http.Handler; run it with httptest.NewServer or an
// http.Server. Companies are added with AddCompany; each has its own data,
// id sequence, faults and search queue, and nothing one company does is
// visible to another.
//
// Every API call is POST with a JSON body carrying company_id and
// secret_key:
//
//   - /rest/eshop/v1/<method> for get_partner, add_partner, update_partner,
//     put_document, get_document, update_document, delete_document,
//     change_document_status, search and search_query_advance_discovery;
//   - /rest/eshop/v1/json/<method> for product_list, product_add,
//     product_update and product_delete, as documented. The /json/ prefix is
//     also accepted for the other methods (the docs use it for older calls),
//     but product methods without it get HTTP 404 with opr_code "2", so a
//     client using the wrong path fails in tests rather than in production.
//
// Answers are HTTP 200 with opr_code "0" and opr_time_ms plus the documented
// fields, or an error opr_code with opr_desc. Numbers and booleans in
// answers are strings; decimals are written with a dot. Requests may give
// numbers as strings with a decimal dot or comma ("19,99") or as JSON
// numbers, and booleans as "true"/"false" or JSON booleans.
//
// # Error answers
//
// The docs show opr_code "2" for bad input ("Unknown document type : x")
// and "6" for refusals ("Cannot find ..."); the simulator uses:
//
//   - "1", opr_desc "Authentication failed : wrong company_id or secret_key"
//     (HTTP 200) for an unknown company_id or a wrong secret_key. The docs
//     do not show this answer; this wording is the simulator's choice.
//   - "2" for malformed input: missing or invalid attributes, unknown
//     document type, unknown product on a document row without a unit
//     ("Product with code X not found - unit must be set to add new
//     product"), invalid JSON.
//   - "6" for business rules: duplicate count_code ("Product with
//     count_code 'X' already exists"), a product used on a document cannot
//     be deleted or lose its sales flag, missing records ("Cannot find ...").
//   - "1", "Internal error while processing request (injected by mkfake)"
//     for injected opr_code errors.
//
// An unknown method gets HTTP 404 with opr_code "2".
//
// # Records and ids
//
// mk_ids are numeric strings: the company_id's digits followed by an
// eight-digit sequence shared by all record kinds ("1600000042" in company
// 16), so they grow in creation order. Generated count_codes are numeric
// for partners (from "1000") and products (from "30000"), and "PP1_100",
// "PP-10000", "1-MK-1000", "2-MK-1000", "3-MK-1000", "1-DBP-1000",
// "1-AV-1000" … for offers, orders, domestic, foreign and retail bills,
// credit notes and prepaid bills. A count_code given by the caller must be unique per
// company and record kind (per document type for documents). Product codes
// (šifra) are unique too, since document rows find products by code. A
// document count_code "COUNT_CODE_SELECT#<prefix>" picks the next free
// "<prefix><n>".
//
// # Methods
//
// get_partner searches by partner_id (mk_id or count_code), partner_name
// (case-insensitive substring), partner_tax_number, partner_email
// (case-insensitive) and partner_phone_number (digits only); several
// criteria must all match. Tax numbers are compared exactly as stored:
// get_partner.md does not say how Metakocka compares them, so the simulator
// does not guess that spaces or case are ignored ("SI 12345678" is not found
// by "SI12345678" nor by "12345678"); a client that wants every written form
// asks for each. put_document's partner resolution by tax_id_number and
// search's partner_tax_num compare the same way. A partner's street, post_number,
// place and country form its main address ("Račun"); so does a listed
// address of type "Račun" when those are empty. Addresses keep language
// (default "Slovenski", as every documented answer shows), payment_due_days
// and currency.
//
// update_partner selects by mk_id, else count_code (with both, count_code
// is changed); empty values keep the current ones; contacts and addresses
// with mk_id are changed, without one added (an added address without
// address_type is "Dobava"; an added contact needs the mk_address_id of
// one of the partner's addresses, "mandatory" in update_partner.md: without
// it opr_code "2", with an unknown one "6"). The top-level street, post_number, place,
// province and country change nothing, always: update_partner.md's example
// sends a street and post number and answers with the billing ("Račun")
// address unchanged, so addresses change only through
// partner_delivery_address_list by mk_id. Address entries take the fields
// add_partner documents for an address plus those get_partner answers on one
// (payment_due_days, language, currency_id, currency): the docs do not list
// update_partner's address fields, and these are the ones Metakocka shows on
// an address. The top-level buyer, taxpayer, business_entity,
// foreign_county, supplier, customer, tax_id_number and registration_number
// are changed as add_partner documents them. get_partner and update_partner
// answer buyer and supplier too (the documented answers show neither; a
// document's partner shows supplier): a client must not rely on them. A
// partner added without buyer is a buyer (add_partner.md's example sends
// "buyer": "true" and does not say what Metakocka does without it; partners
// that put_document creates from a document's partner object are buyers
// too).
//
// product_list answers products in mk_id order, at most 1000 per window
// (a larger limit is cut to 1000), with the filters count_code, mk_id, code
// (substring matches on count_code, code and title with search_with_like),
// sales, purchase, service, work, active, eshop_sync and category;
// return_warehause_stock adds "amount", return_free_amount "free_amount"
// (the same value: there are no reservations), return_pricelist
// "pricelist". The answer echoes the request's attributes, as documented.
// product_list always answers a list, even for one product. With stock per
// warehouse (SetWarehouseStock; the demo seed stocks its products in three
// warehouses), "amount" is the sum over the warehouses and
// return_warehause_stock also adds "amount_detail" (warehouse_mark,
// warehouse_name, amount per warehouse: the simulator keeps no lots, serial
// numbers or expiry dates). SetStock puts the difference in the main (first)
// warehouse.
//
// warehouse_list (under /json/) answers every warehouse with the documented
// attributes except default_microloc_id (no microlocations are simulated);
// the docs show no filter, so none is read. warehouse_stock (under /json/)
// answers one entry per product and warehouse with non-zero stock
// (return_reservation_without_amount adds the empty ones), products in
// mk_id order, filtered by wh_id_list, product_mk_id_list, product_code_list
// (code or count_code) and eshop_sync, in windows of offset/limit (at most
// 1000); there are no reservations, so reserved_amount and free_amount are
// not answered ("If company is without reservations, only amount"), and
// service products have no stock. source_stock (external ERP stock) is not
// simulated.
//
// put_document keeps sales_offer, sales_order, sales_bill_domestic,
// sales_bill_foreign, sales_bill_retail, sales_bill_credit_note and
// sales_bill_prepaid; other types get "Unknown document type". The partner
// (and receiver) object resolves to a stored partner by mk_id, count_code,
// tax_id_number, or the same name, street and post number, and otherwise a
// new partner is created from it. Rows name products by mk_id, count_code
// or code; an unknown product is created when the row has code and unit,
// otherwise the request fails. A row with only a name (no mk_id,
// count_code or code) is a free-text line without a catalogue product. A
// negative amount (a coupon or return line) is accepted only on a service
// product, as documents_concept.md says. With mk_id, put_document replaces
// the whole document (count_code ignored, as documented).
//
// A credit note needs credit_note_type "financial", "goods" or
// "standalone" (documents_put_document.md); the first two name an invoice
// (credit_note_bill, the newest sales bill with that count_code) and may
// omit the partner (the invoice's is used); a financial note takes only
// service products, a goods note only products of its invoice.
//
// Sums are calculated as Metakocka does (sum_basic, sum_discount,
// sum_tax_<code>, sum_all, sum_prepayment, sum_paid): a row priced with
// price is net, one priced only with price_with_tax gross, less its
// discounts ("22;23" cascade). Tax codes are rates: three digits in tenths
// of a percent, and "EX1" 25 %, "EX3" 9.5 %, "EX4" 22 % from the company's
// tax table, as the documented examples show them; "EX2", whose rate the
// docs never show, is refused. discount_value is the webshop coupon on the
// gross total (1 × 100 gross with discount_value 10 gives sum_all 90): all
// rows are reduced by the same fraction. Per tax code the base is rounded
// to cents and the tax is the rounded gross less the rounded base, so a
// gross-priced document totals its gross exactly. sum_discount is the
// rows' net discounts plus discount_value; sum_paid the payments of
// mark_paid (one without an amount pays the whole document).
// show_tax_factor adds tax_factor and tax_desc ("22") to every row.
//
// Three documented answers show sums that no single rule gives from their
// rows (documents_get_document_sales_order.md, _sales_offer.md and the
// first example of _bill.md, all with discount_value: e.g. sum_discount
// equal to discount_value while line discounts exist, sum_prepayment
// different from prepayment_value); the simulator follows the rule above,
// which gives every other documented sum to the cent.
//
// update_document changes, on a sales order chosen by mk_id or
// buyer_order, the documented attributes (delivery_type, status_code,
// tracking_code, notes, …), partner and receiver, product rows
// (product_remove, product_add/product_list with mk_row_id or mark_delete),
// "clear" and count_code_new; on other types, chosen by mk_id or
// count_code, only status_code. last_change moves only when something
// actually changed. delete_document removes a sales order by mk_id (other
// types are refused, see Strictness); deleted documents are no longer found
// by search.
//
// get_document with return_document_info "true" answers document_info on
// sales orders and bills (the types the docs show it on; other types
// ignore the flag): a NEW entry at the document's creation, a CHANGE entry
// at its last change of content when it changed since (put_document over
// it, or update_document of more than the status), and a
// DOCUMENT_STATUS_CHANGE entry with value_previous and value_new for each
// change of its status by update_document or change_document_status (a
// change of the status alone is no CHANGE), in time order, operation_time
// to the second with its offset. A put_document over a document that
// changes its status_code is a CHANGE only: the docs do not show it
// writing a status change. CUSTOM notes (written by Metakocka's own
// actions) are not simulated.
//
// change_document_status sets the status of sales orders chosen by mk_id,
// mk_id_list or buyer_order (change_document_status.md), all or none: a
// missing document refuses the request before any is changed. Warehouse
// receiving notes, the other documented type, are not simulated and are
// refused like any other type.
//
// search serves one document type, ordered by mk_id (order_direction asc
// or desc), at most 100 per window, with "query" (substring of count_code,
// partner name or tax number, buyer_order, title) and the query_advance
// types last_change_from/last_change_to (inclusive, compared to the
// second), doc_date_from/doc_date_to, partner_mk_id, partner_code,
// partner_tax_num, partner_query, partner_country, status_list,
// customer_order/buyer_order, delivery_type, product_id_list and
// product_code_list, and payment_status ("true": sum_paid covers sum_all)
// on sales bills only, as documented for invoices; other types are refused
// with opr_code "2". A
// company's searches are served one at a time, as Metakocka does: a second
// search waits (its latency included) until the first is answered.
//
// # Strictness
//
// The simulator refuses (opr_code "2") what the docs do not show, rather
// than guess, by default:
//
//   - search with last_change_from/last_change_to: only on sales_order, the
//     type search_examples.md shows them on (mksync lists the other types
//     whole and compares by hash, see docs/mapping.md; a doc_date range,
//     which the docs show for bills and orders, would miss an old document
//     changed later);
//   - dates in requests (doc_date, duo_payment, … and query_advance date
//     values): only the documented forms "2014-11-23+02:00",
//     "2019-12-17T14:28:54+02:00" and "16.02.2022"; a bare "2014-11-23" is
//     refused (mksync writes a date with the company's offset on that day);
//   - delete_document only on sales_order
//     (documents_delete_document_sales_order.md; the type table of
//     documents_concept.md marks no type deletable);
//   - EX2 (no documented rate), negative amounts on products that are not
//     services, credit notes without their documented credit_note_type and
//     invoice, payment_status on types other than sales bills.
//
// Always strict, whatever Options say: update_partner's top-level street,
// post_number, place, province and country change nothing
// (update_partner.md's example sends a street and post number and answers
// the billing address unchanged; addresses change through
// partner_delivery_address_list by mk_id), and tax numbers are compared
// exactly (see Methods).
//
// Options.Lenient accepts the bare dates and the last_change search on
// every type (the simulator's behaviour before; kept to compare with it);
// the other rules above hold whatever the options say.
//
// update_document is served as documented: on a sales order the head
// attributes of documents_update_document_sales_order.md, partner and
// receiver, rows by mk_row_id; on other types status_code only
// (documents_update_document_bill.md). mksync uses it for a change of those
// head fields only, so the rows keep their mk_row_ids.
//
// # Faults
//
// SetFaults sets random faults per company (latency, jitter, HTTP 500/503,
// 429 with Retry-After, a token bucket, hangs, connection resets, opr_code
// errors, and commit-then-fail: the write is stored but the caller sees a
// 503 or a hang). FailNext and FailNextMethod queue deterministic faults
// for the next requests. Hangs end when the request's context ends, after
// HangFor, or on Close. Faults apply to known companies only and are
// decided before authentication. Stats counts every request by method and
// outcome; Stats.Writes sums the write methods (WriteMethods), which is
// how tests show that a preview (dry run) wrote nothing.
//
// # Introspection
//
// GET /_fake/stats serves Stats; GET /_fake/companies/{id}/partners,
// /products and /documents serve the stored records as JSON; GET and PUT
// /_fake/companies/{id}/faults read and replace the random faults
// (durations as Go duration strings, e.g. {"latency":"50ms",
// "error_rate":0.1}).
package mkfake
