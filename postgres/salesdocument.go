package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

const documentColumns = `id, tenant_id, kind, number, date, contact_id, currency, status, notes, delivery_date,
	due_date, total_net, total_tax, total_gross, created_at, updated_at, version`

func scanDocument(r pgx.Row) (mksync.SalesDocument, error) {
	var doc mksync.SalesDocument
	var kind string
	var date time.Time
	var delivery, due *time.Time
	err := r.Scan(&doc.ID, &doc.TenantID, &kind, &doc.Number, &date, &doc.ContactID, &doc.Currency, &doc.Status,
		&doc.Notes, &delivery, &due, &doc.TotalNet, &doc.TotalTax, &doc.TotalGross, &doc.CreatedAt,
		&doc.UpdatedAt, &doc.Version)
	doc.Kind = mksync.DocumentKind(kind)
	doc.Date = toDate(date)
	doc.DeliveryDate, doc.DueDate = toDatePtr(delivery), toDatePtr(due)
	doc.CreatedAt, doc.UpdatedAt = utc(doc.CreatedAt), utc(doc.UpdatedAt)
	return doc, err
}

func scanDocumentRows(r pgx.Rows) (mksync.SalesDocument, error) { return scanDocument(r) }

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

// checkReferences returns EINVALID naming the field when the contact or a
// line's product is not the tenant's.
func checkReferences(ctx context.Context, tx pgx.Tx, tenantID string, doc *mksync.SalesDocument) error {
	var v mksync.Validator
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE tenant_id = $1 AND id = $2)`,
		tenantID, doc.ContactID).Scan(&ok); err != nil {
		return err
	}
	v.Check(ok, "contactId", "must be an existing contact")
	ids := make([]string, len(doc.Lines))
	for i, l := range doc.Lines {
		ids[i] = l.ProductID
	}
	rows, err := tx.Query(ctx, `SELECT id FROM products WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	for i, l := range doc.Lines {
		v.Check(known[l.ProductID], fmt.Sprintf("lines[%d].productId", i), "must be an existing product")
	}
	return v.Err("sales document")
}

// insertLines writes the document's lines in one statement.
func insertLines(ctx context.Context, tx pgx.Tx, tenantID string, doc *mksync.SalesDocument) error {
	n := len(doc.Lines)
	nos, products := make([]int32, n), make([]string, n)
	qty, price, disc, tax, net := make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	for i, l := range doc.Lines {
		nos[i], products[i] = int32(i), l.ProductID
		qty[i], price[i], disc[i], tax[i], net[i] = l.Quantity, l.UnitPrice, l.DiscountPercent, l.TaxRate, l.NetAmount
	}
	_, err := tx.Exec(ctx, `INSERT INTO sales_document_lines (tenant_id, document_id, position, product_id, quantity,
			unit_price, discount_percent, tax_rate, net_amount)
		SELECT $1, $2, u.* FROM unnest($3::int[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[],
			$8::numeric[], $9::numeric[]) AS u`,
		tenantID, doc.ID, nos, products, qty, price, disc, tax, net)
	return err
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
	rows, err := tx.Query(ctx, `SELECT document_id, product_id, quantity, unit_price, discount_percent, tax_rate, net_amount
		FROM sales_document_lines WHERE tenant_id = $1 AND document_id = ANY($2) ORDER BY document_id, position`,
		tenantID, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var docID string
		var l mksync.DocumentLine
		if err := rows.Scan(&docID, &l.ProductID, &l.Quantity, &l.UnitPrice, &l.DiscountPercent, &l.TaxRate, &l.NetAmount); err != nil {
			return err
		}
		i := index[docID]
		docs[i].Lines = append(docs[i].Lines, l)
	}
	return rows.Err()
}

// CreateSalesDocument computes totals, checks the contact and products
// (EINVALID when not the tenant's) and writes the document and its lines in
// one transaction.
func (d *DB) CreateSalesDocument(ctx context.Context, tenantID string, doc *mksync.SalesDocument) error {
	if err := prepareDocument(doc); err != nil {
		return err
	}
	if err := fillID(&doc.ID); err != nil {
		return err
	}
	now := d.nowUTC()
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := requireTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := checkReferences(ctx, tx, tenantID, doc); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sales_documents (`+documentColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 1)`,
			doc.ID, tenantID, string(doc.Kind), doc.Number, doc.Date.Time, doc.ContactID, doc.Currency, doc.Status,
			doc.Notes, dateArg(doc.DeliveryDate), dateArg(doc.DueDate), doc.TotalNet, doc.TotalTax, doc.TotalGross, now)
		if err != nil {
			return err
		}
		return insertLines(ctx, tx, tenantID, doc)
	})
	if err != nil {
		return tenantMissing("create sales document", err)
	}
	doc.TenantID, doc.CreatedAt, doc.UpdatedAt, doc.Version = tenantID, now, now, 1
	return nil
}

// FindSalesDocumentByID returns the document with its lines.
func (d *DB) FindSalesDocumentByID(ctx context.Context, tenantID, id string) (mksync.SalesDocument, error) {
	var docs []mksync.SalesDocument
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		docs, err = collectRows(ctx, tx, scanDocumentRows,
			`SELECT `+documentColumns+` FROM sales_documents WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		return loadLines(ctx, tx, tenantID, docs)
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
	q, err := newListQuery(tenantID, mksync.EntitySalesDocument, f, "number")
	if err != nil {
		return nil, "", err
	}
	limit := f.EffectiveLimit()
	var out []mksync.SalesDocument
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		out, err = collectRows(ctx, tx, scanDocumentRows, q.sql("sales_documents", prefixed("r.", documentColumns), limit), q.args...)
		if err != nil {
			return err
		}
		return loadLines(ctx, tx, tenantID, out)
	})
	if err != nil {
		return nil, "", dbErr("find sales documents", err)
	}
	return pageOf(out, limit, func(doc mksync.SalesDocument) string { return encodeIDCursor(doc.ID) })
}

// UpdateSalesDocument replaces the document and its lines when doc.Version
// is current (else ECONFLICT), recomputing totals and turning a synced
// mapping pending.
func (d *DB) UpdateSalesDocument(ctx context.Context, tenantID string, doc *mksync.SalesDocument) error {
	if err := prepareDocument(doc); err != nil {
		return err
	}
	now := d.nowUTC()
	var created time.Time
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		// Lock and check the document first, so that another tenant's
		// document is ENOTFOUND whatever the references say.
		var current int64
		err := tx.QueryRow(ctx, `SELECT version FROM sales_documents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, doc.ID).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("sales document", doc.ID)
		}
		if err != nil {
			return err
		}
		if current != doc.Version {
			return checkVersionMiss(ctx, tx, "sales_documents", "sales document", tenantID, doc.ID, doc.Version)
		}
		if err := checkReferences(ctx, tx, tenantID, doc); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `UPDATE sales_documents SET kind = $4, number = $5, date = $6, contact_id = $7,
				currency = $8, status = $9, notes = $10, delivery_date = $11, due_date = $12, total_net = $13,
				total_tax = $14, total_gross = $15, updated_at = $16, version = version + 1
			WHERE tenant_id = $1 AND id = $2 AND version = $3 RETURNING created_at`,
			tenantID, doc.ID, doc.Version, string(doc.Kind), doc.Number, doc.Date.Time, doc.ContactID, doc.Currency,
			doc.Status, doc.Notes, dateArg(doc.DeliveryDate), dateArg(doc.DueDate), doc.TotalNet, doc.TotalTax,
			doc.TotalGross, now).Scan(&created)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sales_document_lines WHERE tenant_id = $1 AND document_id = $2`, tenantID, doc.ID); err != nil {
			return err
		}
		if err := insertLines(ctx, tx, tenantID, doc); err != nil {
			return err
		}
		return markPending(ctx, tx, tenantID, mksync.EntitySalesDocument, now, doc.ID)
	})
	if err != nil {
		return dbErr("update sales document", err)
	}
	doc.TenantID, doc.CreatedAt, doc.UpdatedAt, doc.Version = tenantID, utc(created), now, doc.Version+1
	return nil
}

// DeleteSalesDocument deletes the document, its lines and its mapping.
func (d *DB) DeleteSalesDocument(ctx context.Context, tenantID, id string) error {
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sales_documents WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("sales document", id)
		}
		return d.deleteMapping(ctx, tx, tenantID, mksync.EntitySalesDocument, id)
	})
	return dbErr("delete sales document", err)
}

// AllSalesDocuments streams the tenant's documents with their lines in id
// order.
func (d *DB) AllSalesDocuments(ctx context.Context, tenantID string) iter.Seq2[mksync.SalesDocument, error] {
	return stream(ctx, d, tenantID, "stream sales documents",
		func(ctx context.Context, tx pgx.Tx, after string, limit int) ([]mksync.SalesDocument, error) {
			docs, err := collectRows(ctx, tx, scanDocumentRows,
				`SELECT `+documentColumns+` FROM sales_documents WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
				tenantID, after, limit)
			if err != nil {
				return nil, err
			}
			return docs, loadLines(ctx, tx, tenantID, docs)
		},
		func(doc mksync.SalesDocument) string { return doc.ID })
}

// requireTenant returns ENOTFOUND when the tenant does not exist, for writes
// whose other checks would otherwise report something else first.
func requireTenant(ctx context.Context, tx pgx.Tx, tenantID string) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)`, tenantID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return notFound("tenant", tenantID)
	}
	return nil
}
