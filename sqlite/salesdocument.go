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
	r.delivery_date, r.due_date, r.total_net, r.total_tax, r.total_gross, r.created_at, r.updated_at, r.version,
	r.title, r.buyer_order, r.payment_method, r.discount_value,
	r.delivery_name, r.delivery_street, r.delivery_post_number, r.delivery_city, r.delivery_country,
	r.service_to_date, r.credit_note_type, r.credited_invoice_id, r.credited_invoice_number, r.prepayment_percent,
	r.prepayment_value`

func scanDocument(sc scanner) (mksync.SalesDocument, error) {
	var d mksync.SalesDocument
	var date, net, tax, gross, created, updated, discount, prePct, preVal string
	var delivery, due, serviceTo sql.NullString
	var a mksync.Address
	err := sc.Scan(&d.ID, &d.TenantID, &d.Kind, &d.Number, &date, &d.ContactID, &d.Currency, &d.Status, &d.Notes,
		&delivery, &due, &net, &tax, &gross, &created, &updated, &d.Version,
		&d.Title, &d.BuyerOrder, &d.PaymentMethod, &discount, &a.Name, &a.Street, &a.PostNumber, &a.City, &a.Country,
		&serviceTo, &d.CreditNoteType, &d.CreditedInvoiceID, &d.CreditedInvoiceNumber, &prePct, &preVal)
	if err != nil {
		return d, err
	}
	d.DeliveryAddress = mksync.AddressOrNil(a)
	if err := decs(net, &d.TotalNet, tax, &d.TotalTax, gross, &d.TotalGross, discount, &d.DiscountValue,
		prePct, &d.PrepaymentPercent, preVal, &d.PrepaymentValue); err != nil {
		return d, err
	}
	if d.ServiceToDate, err = nullDate(serviceTo); err != nil {
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
	return d, times(created, &d.CreatedAt, updated, &d.UpdatedAt)
}

func documentSearch(d *mksync.SalesDocument) string { return searchText(d.Number) }

var documentRecord = crmRecord[mksync.SalesDocument]{table: "sales_documents", what: "sales document", et: mksync.EntitySalesDocument,
	cols: documentCols, scan: scanDocument, id: func(d mksync.SalesDocument) string { return d.ID },
	complete: loadLines,
	stamps: func(d *mksync.SalesDocument) stamps {
		return stamps{&d.ID, &d.TenantID, &d.CreatedAt, &d.UpdatedAt, &d.Version}
	},
	prepare: func(d *mksync.SalesDocument) {
		d.Lines = append([]mksync.DocumentLine(nil), d.Lines...)
		d.ComputeTotals()
	}}

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
	if d.CreditedInvoiceID != "" {
		err := q.QueryRowContext(ctx, "SELECT 1 FROM sales_documents WHERE tenant_id = ? AND id = ? AND kind = ?",
			tenantID, d.CreditedInvoiceID, string(mksync.KindInvoice)).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			v.Check(false, "creditedInvoiceId", "must be an existing invoice")
		case err != nil:
			return internal("check credited invoice", err)
		}
	}
	known := map[string]bool{}
	for i, l := range d.Lines {
		if l.ProductID == "" {
			continue // a free-text line
		}
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
		product_id, description, unit, quantity, unit_price, price_includes_tax, discount_percent, tax_rate, tax_code,
		net_amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return internal("prepare document lines", err)
	}
	defer stmt.Close()
	for i, l := range d.Lines {
		var product sql.NullString
		if l.ProductID != "" {
			product = sql.NullString{String: l.ProductID, Valid: true}
		}
		if _, err := stmt.ExecContext(ctx, d.ID, i, tenantID, product, l.Description, l.Unit, fmtDec(l.Quantity),
			fmtDec(l.UnitPrice), l.PriceIncludesTax, fmtDec(l.DiscountPercent), fmtDec(l.TaxRate), l.TaxCode,
			fmtDec(l.NetAmount)); err != nil {
			return translate("insert document line", err, "", mksync.EINVALID, "a line names an unknown product")
		}
	}
	return nil
}

// CreateSalesDocument implements mksync.SalesDocumentStore.
func (s *store) CreateSalesDocument(ctx context.Context, tenantID string, d *mksync.SalesDocument) error {
	return create(ctx, s, documentRecord, tenantID, d, func(q querier, n *mksync.SalesDocument, now string) error {
		if err := checkDocumentRefs(ctx, q, tenantID, n); err != nil {
			return err
		}
		a := n.DeliveryOrZero()
		_, err := q.ExecContext(ctx, `INSERT INTO sales_documents (id, tenant_id, kind, number, date, contact_id,
			currency, status, notes, delivery_date, due_date, total_net, total_tax, total_gross, search_text,
			created_at, updated_at, version, title, buyer_order, payment_method, discount_value, delivery_name,
			delivery_street, delivery_post_number, delivery_city, delivery_country, service_to_date, credit_note_type,
			credited_invoice_id, credited_invoice_number, prepayment_percent, prepayment_value)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, tenantID, string(n.Kind), n.Number, n.Date.String(), n.ContactID, n.Currency, n.Status, n.Notes,
			fmtDatePtr(n.DeliveryDate), fmtDatePtr(n.DueDate), fmtDec(n.TotalNet), fmtDec(n.TotalTax),
			fmtDec(n.TotalGross), documentSearch(n), now, now,
			n.Title, n.BuyerOrder, n.PaymentMethod, fmtDec(n.DiscountValue), a.Name, a.Street, a.PostNumber, a.City, a.Country,
			fmtDatePtr(n.ServiceToDate), n.CreditNoteType, n.CreditedInvoiceID, n.CreditedInvoiceNumber,
			fmtDec(n.PrepaymentPercent), fmtDec(n.PrepaymentValue))
		if err != nil {
			return translate("create sales document", err, "a record with this id already exists", mksync.EINVALID, "the contact does not exist")
		}
		return insertLines(ctx, q, tenantID, n)
	})
}

// FindSalesDocumentByID implements mksync.SalesDocumentStore.
func (s *store) FindSalesDocumentByID(ctx context.Context, tenantID, id string) (mksync.SalesDocument, error) {
	q := s.reader()
	d, err := findOne(q.QueryRowContext(ctx, "SELECT "+documentCols+" FROM sales_documents r WHERE r.tenant_id = ? AND r.id = ?", tenantID, id),
		scanDocument, "sales document", id)
	if err != nil {
		return d, err
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
	return `SELECT document_id, coalesce(product_id, ''), description, unit, quantity, unit_price,
		price_includes_tax, discount_percent, tax_rate, tax_code, net_amount FROM sales_document_lines WHERE tenant_id = ? AND document_id IN (?` + strings.Repeat(", ?", n-1) + `)
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
		if err := rows.Scan(&docID, &l.ProductID, &l.Description, &l.Unit, &qty, &price, &l.PriceIncludesTax, &disc,
			&tax, &l.TaxCode, &net); err != nil {
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
	return documentRecord.find(ctx, s, tenantID, f)
}

// AllSalesDocuments implements mksync.SalesDocumentStore.
func (s *store) AllSalesDocuments(ctx context.Context, tenantID string) iter.Seq2[mksync.SalesDocument, error] {
	return documentRecord.all(ctx, s, tenantID)
}

// UpdateSalesDocument implements mksync.SalesDocumentStore: versioned like
// UpdateContact; the lines are replaced and the totals recomputed.
func (s *store) UpdateSalesDocument(ctx context.Context, tenantID string, d *mksync.SalesDocument) error {
	return update(ctx, s, documentRecord, tenantID, d, func(q querier, n *mksync.SalesDocument, now string) (created string, err error) {
		if err := checkDocumentRefs(ctx, q, tenantID, n); err != nil {
			return "", err
		}
		a := n.DeliveryOrZero()
		err = q.QueryRowContext(ctx, `UPDATE sales_documents SET kind = ?, number = ?, date = ?, contact_id = ?,
			currency = ?, status = ?, notes = ?, delivery_date = ?, due_date = ?, total_net = ?, total_tax = ?,
			total_gross = ?, search_text = ?, updated_at = ?, version = version + 1, title = ?, buyer_order = ?,
			payment_method = ?, discount_value = ?, delivery_name = ?, delivery_street = ?, delivery_post_number = ?,
			delivery_city = ?, delivery_country = ?, service_to_date = ?, credit_note_type = ?,
			credited_invoice_id = ?, credited_invoice_number = ?, prepayment_percent = ?, prepayment_value = ?
			WHERE tenant_id = ? AND id = ? AND version = ?
			RETURNING version, created_at`,
			string(n.Kind), n.Number, n.Date.String(), n.ContactID, n.Currency, n.Status, n.Notes,
			fmtDatePtr(n.DeliveryDate), fmtDatePtr(n.DueDate), fmtDec(n.TotalNet), fmtDec(n.TotalTax),
			fmtDec(n.TotalGross), documentSearch(n), now, n.Title, n.BuyerOrder, n.PaymentMethod,
			fmtDec(n.DiscountValue), a.Name, a.Street, a.PostNumber, a.City, a.Country,
			fmtDatePtr(n.ServiceToDate), n.CreditNoteType, n.CreditedInvoiceID, n.CreditedInvoiceNumber,
			fmtDec(n.PrepaymentPercent), fmtDec(n.PrepaymentValue),
			tenantID, n.ID, n.Version).Scan(&n.Version, &created)
		if err != nil {
			return "", err
		}
		return created, insertLines(ctx, q, tenantID, n)
	}, func(err error) error {
		return translate("update sales document", err, "", mksync.EINVALID, "the contact does not exist")
	})
}

// DeleteSalesDocument implements mksync.SalesDocumentStore.
func (s *store) DeleteSalesDocument(ctx context.Context, tenantID, id string) error {
	return documentRecord.delete(ctx, s, tenantID, id)
}
