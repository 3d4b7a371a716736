package postgres

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

const documentColumns = `id, tenant_id, kind, number, date, contact_id, currency, status, notes, delivery_date,
	due_date, total_net, total_tax, total_gross, created_at, updated_at, version, title, buyer_order, payment_method,
	discount_value, delivery_name, delivery_street, delivery_post_number, delivery_city, delivery_country,
	service_to_date, credit_note_type, credited_invoice_id, credited_invoice_number, prepayment_percent, prepayment_value`

func scanDocument(r pgx.Row) (mksync.SalesDocument, error) {
	var doc mksync.SalesDocument
	var kind string
	var date time.Time
	var delivery, due, serviceTo *time.Time
	var a mksync.Address
	err := r.Scan(&doc.ID, &doc.TenantID, &kind, &doc.Number, &date, &doc.ContactID, &doc.Currency, &doc.Status,
		&doc.Notes, &delivery, &due, &doc.TotalNet, &doc.TotalTax, &doc.TotalGross, &doc.CreatedAt,
		&doc.UpdatedAt, &doc.Version, &doc.Title, &doc.BuyerOrder, &doc.PaymentMethod, &doc.DiscountValue,
		&a.Name, &a.Street, &a.PostNumber, &a.City, &a.Country,
		&serviceTo, &doc.CreditNoteType, &doc.CreditedInvoiceID, &doc.CreditedInvoiceNumber, &doc.PrepaymentPercent,
		&doc.PrepaymentValue)
	doc.DeliveryAddress = mksync.AddressOrNil(a)
	doc.Kind = mksync.DocumentKind(kind)
	doc.Date = toDate(date)
	doc.DeliveryDate, doc.DueDate, doc.ServiceToDate = toDatePtr(delivery), toDatePtr(due), toDatePtr(serviceTo)
	doc.CreatedAt, doc.UpdatedAt = utc(doc.CreatedAt), utc(doc.UpdatedAt)
	return doc, err
}

func scanDocumentRows(r pgx.Rows) (mksync.SalesDocument, error) { return scanDocument(r) }

var documentTable = crmTable[mksync.SalesDocument]{table: "sales_documents", what: "sales document", et: mksync.EntitySalesDocument,
	cols: documentColumns, scan: scanDocumentRows, id: func(doc mksync.SalesDocument) string { return doc.ID },
	searchCols: []string{"number"}, complete: loadLines,
	stamps: func(doc *mksync.SalesDocument) stamps {
		return stamps{&doc.ID, &doc.TenantID, &doc.CreatedAt, &doc.UpdatedAt, &doc.Version}
	}}

func toDate(t time.Time) mksync.Date {
	if t.IsZero() {
		return mksync.Date{}
	}
	return mksync.NewDate(t.Year(), t.Month(), t.Day())
}

func toDatePtr(t *time.Time) *mksync.Date {
	if t == nil {
		return nil
	}
	d := toDate(*t)
	return &d
}

// dateArg passes an optional date to the database.
func dateArg(d *mksync.Date) any {
	if d == nil || d.IsZero() {
		return nil
	}
	return d.Time
}

// prepareDocument defaults, validates and computes totals.
func prepareDocument(doc *mksync.SalesDocument) error {
	if doc.Currency == "" {
		doc.Currency = "EUR"
	}
	if err := doc.Validate(); err != nil {
		return err
	}
	doc.ComputeTotals()
	return nil
}

// referencesQuery reads, in one statement, whether the tenant, the
// document's contact and the invoice a credit note credits exist and which
// of its lines' products are the tenant's; checkReferences judges the
// answer.
const referencesQuery = `SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1),
	EXISTS (SELECT 1 FROM contacts WHERE tenant_id = $1 AND id = $2),
	ARRAY(SELECT id FROM products WHERE tenant_id = $1 AND id = ANY($3)),
	$4::text = '' OR EXISTS (SELECT 1 FROM sales_documents WHERE tenant_id = $1 AND id = $4::text AND kind = 'invoice')`

// referenceArgs are referencesQuery's arguments for doc.
func referenceArgs(tenantID string, doc *mksync.SalesDocument) []any {
	ids := make([]string, 0, len(doc.Lines))
	for _, l := range doc.Lines {
		if l.ProductID != "" {
			ids = append(ids, l.ProductID)
		}
	}
	return []any{tenantID, doc.ContactID, ids, doc.CreditedInvoiceID}
}

// checkReferences reads referencesQuery's answer from row and returns
// ENOTFOUND when the tenant is missing (and requireTenant), EINVALID naming
// the field when the contact or a line's product is not the tenant's.
func checkReferences(row pgx.Row, tenantID string, doc *mksync.SalesDocument, requireTenant bool) error {
	var tenantOK, contactOK, creditedOK bool
	var found []string
	if err := row.Scan(&tenantOK, &contactOK, &found, &creditedOK); err != nil {
		return err
	}
	if requireTenant && !tenantOK {
		return notFound("tenant", tenantID)
	}
	return judgeReferences(doc, contactOK, creditedOK, found)
}

// judgeReferences returns EINVALID naming the field when the document's
// contact is not the tenant's (!contactOK), the invoice a credit note
// credits is not one of the tenant's invoices (!creditedOK) or a line's
// product is not among found, the tenant's products of those the lines
// name.
func judgeReferences(doc *mksync.SalesDocument, contactOK, creditedOK bool, found []string) error {
	var v mksync.Validator
	v.Check(contactOK, "contactId", "must be an existing contact")
	v.Check(creditedOK, "creditedInvoiceId", "must be an existing invoice")
	known := make(map[string]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	for i, l := range doc.Lines {
		v.Check(l.ProductID == "" || known[l.ProductID], fmt.Sprintf("lines[%d].productId", i), "must be an existing product")
	}
	return v.Err("sales document")
}

// queueLines adds the statement that writes the document's lines to b.
func queueLines(b *pgx.Batch, tenantID string, doc *mksync.SalesDocument) {
	b.Queue(`INSERT INTO sales_document_lines (tenant_id, document_id, position, product_id, quantity,
			unit_price, discount_percent, tax_rate, net_amount, description, unit, tax_code, price_includes_tax)
		SELECT $1, $2, u.* FROM unnest($3::int[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[],
			$8::numeric[], $9::numeric[], $10::text[], $11::text[], $12::text[], $13::bool[]) AS u`,
		append([]any{tenantID, doc.ID}, lineArgs(doc)...)...)
}

// lineArgs are the document's lines as eleven arrays: position, product id
// (NULL for none), quantity, unit price, discount percent, tax rate, net
// amount, description, unit, tax code and whether the price includes tax.
func lineArgs(doc *mksync.SalesDocument) []any {
	n := len(doc.Lines)
	nos, products := make([]int32, n), make([]*string, n)
	descs, units, codes, gross := make([]string, n), make([]string, n), make([]string, n), make([]bool, n)
	qty, price, disc, tax, net := make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	for i, l := range doc.Lines {
		nos[i] = int32(i)
		if l.ProductID != "" {
			products[i] = &doc.Lines[i].ProductID
		}
		descs[i], units[i], codes[i], gross[i] = l.Description, l.Unit, l.TaxCode, l.PriceIncludesTax
		qty[i], price[i], disc[i], tax[i], net[i] = l.Quantity, l.UnitPrice, l.DiscountPercent, l.TaxRate, l.NetAmount
	}
	return []any{nos, products, qty, price, disc, tax, net, descs, units, codes, gross}
}

// loadLines fills the lines of docs with one query.
func loadLines(ctx context.Context, tx pgx.Tx, tenantID string, docs []mksync.SalesDocument) error {
	if len(docs) == 0 {
		return nil
	}
	ids := make([]string, len(docs))
	index := make(map[string]int, len(docs))
	for i, doc := range docs {
		ids[i] = doc.ID
		index[doc.ID] = i
	}
	rows, err := tx.Query(ctx, linesQuery, tenantID, ids)
	if err != nil {
		return err
	}
	return scanLines(rows, docs, index)
}

// linesQuery reads lines in the order scanLines wants them.
const linesQuery = `SELECT document_id, coalesce(product_id, ''), quantity, unit_price, discount_percent,
			tax_rate, net_amount, description, unit, tax_code, price_includes_tax
		FROM sales_document_lines WHERE tenant_id = $1 AND document_id = ANY($2) ORDER BY document_id, position`

// scanLines appends the lines rows (of linesQuery) hold to docs, index
// giving each document's place, and closes rows.
func scanLines(rows pgx.Rows, docs []mksync.SalesDocument, index map[string]int) error {
	defer rows.Close()
	for rows.Next() {
		var docID string
		var l mksync.DocumentLine
		if err := rows.Scan(&docID, &l.ProductID, &l.Quantity, &l.UnitPrice, &l.DiscountPercent, &l.TaxRate, &l.NetAmount,
			&l.Description, &l.Unit, &l.TaxCode, &l.PriceIncludesTax); err != nil {
			return err
		}
		i, ok := index[docID]
		if !ok {
			continue
		}
		docs[i].Lines = append(docs[i].Lines, l)
	}
	return rows.Err()
}

// wroteLines counts a document's lines as written, for the statistics
// (autoanalyze.go; a failed write counted too is harmless).
func (d *DB) wroteLines(doc *mksync.SalesDocument) {
	d.analyze.wrote("sales_document_lines", len(doc.Lines))
}

// CreateSalesDocument computes totals, checks the contact and products
// (EINVALID when not the tenant's) and writes the document and its lines in
// one transaction.
func (d *DB) CreateSalesDocument(ctx context.Context, tenantID string, doc *mksync.SalesDocument) error {
	defer d.wroteLines(doc)
	return documentTable.create(ctx, d, tenantID, doc, func() error { return prepareDocument(doc) }, func(tx pgx.Tx, now time.Time) error {
		// Two round trips: the references, then the document and its lines.
		if err := checkReferences(tx.QueryRow(ctx, referencesQuery, referenceArgs(tenantID, doc)...), tenantID, doc, true); err != nil {
			return err
		}
		a := doc.DeliveryOrZero()
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO sales_documents (`+documentColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 1, $16, $17, $18, $19,
				$20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)`,
			doc.ID, tenantID, string(doc.Kind), doc.Number, doc.Date.Time, doc.ContactID, doc.Currency, doc.Status,
			doc.Notes, dateArg(doc.DeliveryDate), dateArg(doc.DueDate), doc.TotalNet, doc.TotalTax, doc.TotalGross, now,
			doc.Title, doc.BuyerOrder, doc.PaymentMethod, doc.DiscountValue, a.Name, a.Street, a.PostNumber, a.City, a.Country,
			dateArg(doc.ServiceToDate), doc.CreditNoteType, doc.CreditedInvoiceID, doc.CreditedInvoiceNumber,
			doc.PrepaymentPercent, doc.PrepaymentValue)
		queueLines(b, tenantID, doc)
		return tx.SendBatch(ctx, b).Close()
	}, tenantMissing)
}

// FindSalesDocumentByID returns the document with its lines: both
// queries in one round trip (tenantBatch).
func (d *DB) FindSalesDocumentByID(ctx context.Context, tenantID, id string) (mksync.SalesDocument, error) {
	var docs []mksync.SalesDocument
	err := d.tenantBatch(ctx, tenantID, func(b *pgx.Batch) {
		b.Queue(`SELECT `+documentColumns+` FROM sales_documents WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		b.Queue(linesQuery, tenantID, []string{id})
	}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err == nil {
			docs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mksync.SalesDocument, error) { return scanDocument(r) })
		}
		if err != nil {
			return err
		}
		rows, err = br.Query()
		if err != nil {
			return err
		}
		return scanLines(rows, docs, map[string]int{id: 0})
	})
	if err != nil {
		return mksync.SalesDocument{}, dbErr("find sales document", err)
	}
	if len(docs) == 0 {
		return mksync.SalesDocument{}, notFound("sales document", id)
	}
	return docs[0], nil
}

// FindSalesDocuments lists documents (with lines) in id order; Search
// matches the number.
func (d *DB) FindSalesDocuments(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.SalesDocument, string, error) {
	return documentTable.find(ctx, d, tenantID, f)
}

// UpdateSalesDocument replaces the document and its lines when doc.Version
// is current (else ECONFLICT), recomputing totals and turning a synced
// mapping pending. One statement (updateDocumentQuery) checks and writes
// everything, so the update is one round trip (tenantBatch): a bulk pull
// updates every document it reads.
func (d *DB) UpdateSalesDocument(ctx context.Context, tenantID string, doc *mksync.SalesDocument) error {
	if err := prepareDocument(doc); err != nil {
		return err
	}
	defer d.wroteLines(doc)
	now := d.nowUTC()
	products := []string{} // not nil: NULL has no cardinality
	seen := map[string]bool{}
	for _, l := range doc.Lines {
		if l.ProductID != "" && !seen[l.ProductID] {
			seen[l.ProductID] = true
			products = append(products, l.ProductID)
		}
	}
	a := doc.DeliveryOrZero()
	args := append([]any{tenantID, doc.ID, doc.Version, string(doc.Kind), doc.Number, doc.Date.Time, doc.ContactID, doc.Currency,
		doc.Status, doc.Notes, dateArg(doc.DeliveryDate), dateArg(doc.DueDate), doc.TotalNet, doc.TotalTax,
		doc.TotalGross, now, doc.Title, doc.BuyerOrder, doc.PaymentMethod, doc.DiscountValue,
		a.Name, a.Street, a.PostNumber, a.City, a.Country, products, string(mksync.EntitySalesDocument)}, lineArgs(doc)...)
	args = append(args, dateArg(doc.ServiceToDate), doc.CreditNoteType, doc.CreditedInvoiceID, doc.CreditedInvoiceNumber,
		doc.PrepaymentPercent, doc.PrepaymentValue)
	var created *time.Time
	err := d.tenantBatch(ctx, tenantID, func(b *pgx.Batch) { b.Queue(updateDocumentQuery, args...) }, func(br pgx.BatchResults) error {
		var current *int64
		var contactOK, creditedOK bool
		var found []string
		if err := br.QueryRow().Scan(&current, &contactOK, &creditedOK, &found, &created); err != nil {
			return err
		}
		// The document first, so that another tenant's document is
		// ENOTFOUND whatever the references say.
		switch {
		case current == nil:
			return notFound("sales document", doc.ID)
		case *current != doc.Version:
			return mksync.Errorf(mksync.ECONFLICT, "%s %s was changed by someone else (version %d, not %d): reload and retry",
				"sales document", doc.ID, *current, doc.Version)
		case created == nil: // the statement wrote nothing: a reference is not the tenant's
			if err := judgeReferences(doc, contactOK, creditedOK, found); err != nil {
				return err
			}
			return mksync.Errorf(mksync.EINTERNAL, "sales document %s was not updated", doc.ID)
		}
		return nil
	})
	if err != nil {
		return dbErr("update sales document", err)
	}
	doc.TenantID, doc.CreatedAt, doc.UpdatedAt, doc.Version = tenantID, utc(*created), now, doc.Version+1
	return nil
}

// updateDocumentQuery checks and updates a document, its lines and its
// mapping in one statement. It locks the document and reads its version
// and references (the contact, $7, and the distinct products the lines
// name, $26); it writes only when the version is $3 and every reference is
// the tenant's: the document, its lines by position (upserted; positions
// past the new lines deleted, so no row is both deleted and inserted; a
// line equal to the stored one is not written again: a head change
// rewrites no line) and
// a synced mapping turned pending ($27 is the entity type; $39–$44 the
// credit note and prepayment fields, $41 the credited invoice, checked to
// be the tenant's invoice). It returns the current version (NULL: no such
// document), whether the contact and the credited invoice are the
// tenant's, the products found, and the created time when it wrote (else
// NULL).
const updateDocumentQuery = `WITH cur AS (
		SELECT version FROM sales_documents WHERE tenant_id = $1 AND id = $2 FOR UPDATE
	), refs AS (
		SELECT EXISTS (SELECT 1 FROM contacts WHERE tenant_id = $1 AND id = $7) AS contact_ok,
			($41::text = '' OR EXISTS (SELECT 1 FROM sales_documents
				WHERE tenant_id = $1 AND id = $41::text AND kind = 'invoice')) AS credited_ok,
			ARRAY(SELECT id FROM products WHERE tenant_id = $1 AND id = ANY($26::text[])) AS found
	), upd AS (
		UPDATE sales_documents SET kind = $4, number = $5, date = $6, contact_id = $7,
			currency = $8, status = $9, notes = $10, delivery_date = $11, due_date = $12, total_net = $13,
			total_tax = $14, total_gross = $15, updated_at = $16, version = version + 1, title = $17,
			buyer_order = $18, payment_method = $19, discount_value = $20, delivery_name = $21,
			delivery_street = $22, delivery_post_number = $23, delivery_city = $24, delivery_country = $25,
			service_to_date = $39, credit_note_type = $40, credited_invoice_id = $41, credited_invoice_number = $42,
			prepayment_percent = $43, prepayment_value = $44
		WHERE tenant_id = $1 AND id = $2 AND version = $3
			AND (SELECT contact_ok FROM refs) AND (SELECT credited_ok FROM refs)
			AND (SELECT cardinality(found) FROM refs) = cardinality($26::text[])
		RETURNING created_at
	), del AS (
		DELETE FROM sales_document_lines
		WHERE tenant_id = $1 AND document_id = $2 AND position >= cardinality($28::int[]) AND EXISTS (SELECT 1 FROM upd)
	), ins AS (
		INSERT INTO sales_document_lines (tenant_id, document_id, position, product_id, quantity,
			unit_price, discount_percent, tax_rate, net_amount, description, unit, tax_code, price_includes_tax)
		SELECT $1, $2, u.* FROM unnest($28::int[], $29::text[], $30::numeric[], $31::numeric[], $32::numeric[],
			$33::numeric[], $34::numeric[], $35::text[], $36::text[], $37::text[], $38::bool[]) AS u
		WHERE EXISTS (SELECT 1 FROM upd)
		ON CONFLICT (tenant_id, document_id, position) DO UPDATE SET product_id = excluded.product_id,
			quantity = excluded.quantity, unit_price = excluded.unit_price, discount_percent = excluded.discount_percent,
			tax_rate = excluded.tax_rate, net_amount = excluded.net_amount, description = excluded.description,
			unit = excluded.unit, tax_code = excluded.tax_code, price_includes_tax = excluded.price_includes_tax
		WHERE sales_document_lines::text IS DISTINCT FROM excluded::text
	), pend AS (
		UPDATE mappings SET state = 'pending', updated_at = $16
		WHERE tenant_id = $1 AND entity_type = $27 AND entity_id = $2 AND state = 'synced' AND EXISTS (SELECT 1 FROM upd)
	)
	SELECT (SELECT version FROM cur), r.contact_ok, r.credited_ok, r.found, (SELECT created_at FROM upd) FROM refs r`

// DeleteSalesDocument deletes the document, its lines and its mapping.
func (d *DB) DeleteSalesDocument(ctx context.Context, tenantID, id string) error {
	return documentTable.delete(ctx, d, tenantID, id)
}

// AllSalesDocuments streams the tenant's documents with their lines in id
// order.
func (d *DB) AllSalesDocuments(ctx context.Context, tenantID string) iter.Seq2[mksync.SalesDocument, error] {
	return documentTable.all(ctx, d, tenantID)
}

// FindSalesDocumentMapped reads the mapping of the document id and the
// document with its lines in one round trip (one batch: three queries in
// one transaction), for a pull that reads both under the record's lock.
// mapped is false when the document has no mapping; ENOTFOUND when the
// document does not exist (whatever its mapping).
func (d *DB) FindSalesDocumentMapped(ctx context.Context, tenantID, id string) (m mksync.Mapping, mapped bool, doc mksync.SalesDocument, err error) {
	var docs []mksync.SalesDocument
	err = d.tenantBatch(ctx, tenantID, func(b *pgx.Batch) {
		b.Queue(`SELECT `+mappingColumns+` FROM mappings WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3`,
			tenantID, string(mksync.EntitySalesDocument), id)
		b.Queue(`SELECT `+documentColumns+` FROM sales_documents WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		b.Queue(linesQuery, tenantID, []string{id})
	}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mksync.Mapping, error) { return scanMapping(r) })
		if err != nil {
			return err
		}
		if len(ms) == 1 {
			m, mapped = ms[0], true
		}
		if rows, err = br.Query(); err == nil {
			docs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mksync.SalesDocument, error) { return scanDocument(r) })
		}
		if err != nil {
			return err
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		return scanLines(rows, docs, map[string]int{id: 0})
	})
	if err != nil {
		return mksync.Mapping{}, false, mksync.SalesDocument{}, dbErr("find sales document and its mapping", err)
	}
	if len(docs) == 0 {
		return mksync.Mapping{}, false, mksync.SalesDocument{}, notFound("sales document", id)
	}
	return m, mapped, docs[0], nil
}
