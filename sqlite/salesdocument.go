package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/mksync/mksync"
)

const documentCols = `r.id, r.tenant_id, r.kind, r.number, r.date, r.contact_id, r.currency, r.status, r.notes,
	r.delivery_date, r.due_date, r.total_net, r.total_tax, r.total_gross, r.created_at, r.updated_at, r.version`

func scanDocument(sc scanner) (mksync.SalesDocument, error) {
	var d mksync.SalesDocument
	var date, net, tax, gross, created, updated string
	var delivery, due sql.NullString
	err := sc.Scan(&d.ID, &d.TenantID, &d.Kind, &d.Number, &date, &d.ContactID, &d.Currency, &d.Status, &d.Notes,
		&delivery, &due, &net, &tax, &gross, &created, &updated, &d.Version)
	if err != nil {
		return d, err
	}
	if err := decs(net, &d.TotalNet, tax, &d.TotalTax, gross, &d.TotalGross); err != nil {
		return d, err
	}
	if d.Date, err = parseDate(date); err != nil {
		return d, err
	}
	if d.DeliveryDate, err = nullDate(delivery); err != nil {
		return d, err
	}
	if d.DueDate, err = nullDate(due); err != nil {
		return d, err
	}
	if d.CreatedAt, err = parseTime(created); err != nil {
		return d, err
	}
	d.UpdatedAt, err = parseTime(updated)
	return d, err
}

func documentSearch(d *mksync.SalesDocument) string { return searchText(d.Number) }

// checkDocumentRefs returns EINVALID unless the document's contact and every
// line's product exist for the tenant.
func checkDocumentRefs(ctx context.Context, q querier, tenantID string, d *mksync.SalesDocument) error {
	var v mksync.Validator
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM contacts WHERE tenant_id = ? AND id = ?", tenantID, d.ContactID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v.Check(false, "contactId", "must be an existing contact")
	case err != nil:
		return internal("check contact", err)
	}
	known := map[string]bool{}
	for i, l := range d.Lines {
		ok, seen := known[l.ProductID]
		if !seen {
			err := q.QueryRowContext(ctx, "SELECT 1 FROM products WHERE tenant_id = ? AND id = ?", tenantID, l.ProductID).Scan(&one)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return internal("check product", err)
			default:
				ok = true
			}
			known[l.ProductID] = ok
		}
		v.Check(ok, fmt.Sprintf("lines[%d].productId", i), "must be an existing product")
	}
	return v.Err("sales document")
}

// insertLines writes the document's lines (after deleting any old ones).
func insertLines(ctx context.Context, q querier, tenantID string, d *mksync.SalesDocument) error {
	if _, err := q.ExecContext(ctx, deleteLinesQuery, tenantID, d.ID); err != nil {
		return internal("delete document lines", err)
	}
	stmt, err := q.PrepareContext(ctx, `INSERT INTO sales_document_lines (document_id, position, tenant_id,
		product_id, quantity, unit_price, discount_percent, tax_rate, net_amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return internal("prepare document lines", err)
	}
	defer stmt.Close()
	for i, l := range d.Lines {
		if _, err := stmt.ExecContext(ctx, d.ID, i, tenantID, l.ProductID, fmtDec(l.Quantity), fmtDec(l.UnitPrice),
			fmtDec(l.DiscountPercent), fmtDec(l.TaxRate), fmtDec(l.NetAmount)); err != nil {
			return translate("insert document line", err, "", mksync.EINVALID, "a line names an unknown product")
		}
	}
	return nil
}

// CreateSalesDocument implements mksync.SalesDocumentStore.
func (s *store) CreateSalesDocument(ctx context.Context, tenantID string, d *mksync.SalesDocument) error {
	if err := d.Validate(); err != nil {
		return err
	}
	n := *d
	n.Lines = append([]mksync.DocumentLine(nil), d.Lines...)
	n.ComputeTotals()
	if err := ensureID(&n.ID); err != nil {
		return err
	}
	now := s.truncNow()
	n.TenantID, n.CreatedAt, n.UpdatedAt, n.Version = tenantID, now, now, 1
	err := s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		if err := checkDocumentRefs(ctx, q, tenantID, &n); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO sales_documents (id, tenant_id, kind, number, date, contact_id,
			currency, status, notes, delivery_date, due_date, total_net, total_tax, total_gross, search_text,
			created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			n.ID, tenantID, string(n.Kind), n.Number, n.Date.String(), n.ContactID, n.Currency, n.Status, n.Notes,
			fmtDatePtr(n.DeliveryDate), fmtDatePtr(n.DueDate), fmtDec(n.TotalNet), fmtDec(n.TotalTax),
			fmtDec(n.TotalGross), documentSearch(&n), fmtTime(now), fmtTime(now))
		if err != nil {
			return translate("create sales document", err, "a record with this id already exists", mksync.EINVALID, "the contact does not exist")
		}
		return insertLines(ctx, q, tenantID, &n)
	})
	if err != nil {
		return err
	}
	*d = n
	return nil
}

// FindSalesDocumentByID implements mksync.SalesDocumentStore.
func (s *store) FindSalesDocumentByID(ctx context.Context, tenantID, id string) (mksync.SalesDocument, error) {
	q := s.reader()
	d, err := scanDocument(q.QueryRowContext(ctx, "SELECT "+documentCols+" FROM sales_documents r WHERE r.tenant_id = ? AND r.id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("sales document", id)
	}
	if err != nil {
		return d, translate("find sales document", err, "", "", "")
	}
	docs := []mksync.SalesDocument{d}
	if err := loadLines(ctx, q, tenantID, docs); err != nil {
		return d, err
	}
	return docs[0], nil
}

// linesQuery reads the lines of n documents of a tenant (arguments: the
// tenant id, then the n document ids).
func linesQuery(n int) string {
	return `SELECT document_id, product_id, quantity, unit_price, discount_percent, tax_rate,
		net_amount FROM sales_document_lines WHERE tenant_id = ? AND document_id IN (?` + strings.Repeat(", ?", n-1) + `)
		ORDER BY document_id, position`
}

// deleteLinesQuery removes a document's lines (arguments: tenant id,
// document id).
const deleteLinesQuery = "DELETE FROM sales_document_lines WHERE tenant_id = ? AND document_id = ?"

// loadLines fills the lines of docs with one query.
func loadLines(ctx context.Context, q querier, tenantID string, docs []mksync.SalesDocument) error {
	if len(docs) == 0 {
		return nil
	}
	byID := make(map[string]*mksync.SalesDocument, len(docs))
	args := make([]any, 0, len(docs)+1)
	args = append(args, tenantID)
	for i := range docs {
		byID[docs[i].ID] = &docs[i]
		docs[i].Lines = nil
		args = append(args, docs[i].ID)
	}
	rows, err := q.QueryContext(ctx, linesQuery(len(docs)), args...)
	if err != nil {
		return internal("load document lines", err)
	}
	defer rows.Close()
	for rows.Next() {
		var docID, qty, price, disc, tax, net string
		var l mksync.DocumentLine
		if err := rows.Scan(&docID, &l.ProductID, &qty, &price, &disc, &tax, &net); err != nil {
			return internal("load document lines", err)
		}
		if err := decs(qty, &l.Quantity, price, &l.UnitPrice, disc, &l.DiscountPercent, tax, &l.TaxRate, net, &l.NetAmount); err != nil {
			return err
		}
		if d := byID[docID]; d != nil {
			d.Lines = append(d.Lines, l)
		}
	}
	if err := rows.Err(); err != nil {
		return internal("load document lines", err)
	}
	return nil
}

// FindSalesDocuments implements mksync.SalesDocumentStore.
func (s *store) FindSalesDocuments(ctx context.Context, tenantID string, f mksync.ListFilter) ([]mksync.SalesDocument, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	limit := f.EffectiveLimit()
	items, err := s.listDocuments(ctx, tenantID, after, f, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := pageOf(items, limit, func(d mksync.SalesDocument) string { return d.ID })
	return items, next, nil
}

func (s *store) listDocuments(ctx context.Context, tenantID, after string, f mksync.ListFilter, limit int) ([]mksync.SalesDocument, error) {
	w, err := crmWhere(mksync.EntitySalesDocument, tenantID, after, f)
	if err != nil {
		return nil, err
	}
	q := s.reader()
	docs, err := listCRM(ctx, q, "sales_documents", documentCols, w, limit, scanDocument)
	if err != nil {
		return nil, err
	}
	return docs, loadLines(ctx, q, tenantID, docs)
}

// AllSalesDocuments implements mksync.SalesDocumentStore.
func (s *store) AllSalesDocuments(ctx context.Context, tenantID string) iter.Seq2[mksync.SalesDocument, error] {
	return stream(func(after string, limit int) ([]mksync.SalesDocument, error) {
		return s.listDocuments(ctx, tenantID, after, mksync.ListFilter{}, limit)
	}, func(d mksync.SalesDocument) string { return d.ID })
}

// UpdateSalesDocument implements mksync.SalesDocumentStore: versioned like
// UpdateContact; the lines are replaced and the totals recomputed.
func (s *store) UpdateSalesDocument(ctx context.Context, tenantID string, d *mksync.SalesDocument) error {
	if err := d.Validate(); err != nil {
		return err
	}
	n := *d
	n.Lines = append([]mksync.DocumentLine(nil), d.Lines...)
	n.ComputeTotals()
	now := s.truncNow()
	err := s.write(ctx, func(q querier) error {
		if err := checkDocumentRefs(ctx, q, tenantID, &n); err != nil {
			return err
		}
		var created string
		err := q.QueryRowContext(ctx, `UPDATE sales_documents SET kind = ?, number = ?, date = ?, contact_id = ?,
			currency = ?, status = ?, notes = ?, delivery_date = ?, due_date = ?, total_net = ?, total_tax = ?,
			total_gross = ?, search_text = ?, updated_at = ?, version = version + 1
			WHERE tenant_id = ? AND id = ? AND version = ?
			RETURNING version, created_at`,
			string(n.Kind), n.Number, n.Date.String(), n.ContactID, n.Currency, n.Status, n.Notes,
			fmtDatePtr(n.DeliveryDate), fmtDatePtr(n.DueDate), fmtDec(n.TotalNet), fmtDec(n.TotalTax),
			fmtDec(n.TotalGross), documentSearch(&n), fmtTime(now), tenantID, n.ID, n.Version).Scan(&n.Version, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return versionMiss(ctx, q, "sales_documents", "sales document", tenantID, n.ID, d.Version)
		}
		if err != nil {
			return translate("update sales document", err, "", mksync.EINVALID, "the contact does not exist")
		}
		if n.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		if err := insertLines(ctx, q, tenantID, &n); err != nil {
			return err
		}
		return s.markPending(ctx, q, tenantID, mksync.EntitySalesDocument, n.ID, fmtTime(now))
	})
	if err != nil {
		return err
	}
	n.TenantID, n.UpdatedAt = tenantID, now
	*d = n
	return nil
}

// DeleteSalesDocument implements mksync.SalesDocumentStore.
func (s *store) DeleteSalesDocument(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM sales_documents WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return internal("delete sales document", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("sales document", id)
		}
		return s.deleteMappingOf(ctx, q, tenantID, mksync.EntitySalesDocument, id)
	})
}
