package engine

import (
	"context"
	"fmt"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// kindView is the part of a document view that only some kinds use: a
// bill's service date, a credit note's type and the invoice it credits
// (the CRM invoice when it is mapped, else its number in Metakocka), and
// the prepayment an offer or order asks for. Every field is omitted when
// empty, so documents that do not use them keep their hashes.
type kindView struct {
	ServiceToDate     string `json:"serviceToDate,omitempty"`
	CreditNoteType    string `json:"creditNoteType,omitempty"`
	CreditedID        string `json:"creditedInvoiceId,omitempty"`
	CreditedNumber    string `json:"creditedInvoiceNumber,omitempty"`
	PrepaymentPercent string `json:"prepaymentPercent,omitempty"`
	PrepaymentValue   string `json:"prepaymentValue,omitempty"`
}

// creditType is t as a view holds it: standalone, the default, as "", so
// that a credit note made without a type and the standalone one Metakocka
// holds then are the same.
func creditType(t string) string {
	if t == metakocka.CreditNoteStandalone {
		return ""
	}
	return t
}

func kindViewOf(d *mksync.SalesDocument) kindView {
	return kindView{ServiceToDate: dateText(d.ServiceToDate), CreditNoteType: creditType(d.CreditNoteType),
		CreditedID: d.CreditedInvoiceID, CreditedNumber: d.CreditedInvoiceNumber,
		PrepaymentPercent: decOrEmpty(d.PrepaymentPercent), PrepaymentValue: decOrEmpty(d.PrepaymentValue)}
}

// applyTo writes the kind fields onto d.
func (k kindView) applyTo(d *mksync.SalesDocument) error {
	d.ServiceToDate = nil
	if k.ServiceToDate != "" {
		dt, err := mksync.ParseDate(k.ServiceToDate)
		if err != nil {
			return err
		}
		d.ServiceToDate = &dt
	}
	d.CreditNoteType, d.CreditedInvoiceID, d.CreditedInvoiceNumber = k.CreditNoteType, k.CreditedID, k.CreditedNumber
	d.PrepaymentPercent, d.PrepaymentValue = parseDec(k.PrepaymentPercent), parseDec(k.PrepaymentValue)
	return nil
}

// readMkKind reads the kind fields of a Metakocka document. A credit
// note's credit_note_bill (an invoice's count_code) becomes the CRM
// invoice mapped to that count_code when there is exactly one, else stays
// the number.
func (s *session) readMkKind(ctx context.Context, v *documentView, d *metakocka.Document) error {
	var err error
	if v.ServiceToDate, err = parseMkDate(d.ServiceToDate); err != nil {
		return err
	}
	if d.PrepaymentPercent.Valid {
		v.PrepaymentPercent = decOrEmpty(d.PrepaymentPercent.Value)
	}
	if d.PrepaymentValue.Valid {
		v.PrepaymentValue = decOrEmpty(d.PrepaymentValue.Value)
	}
	if d.DocType != metakocka.DocSalesBillCreditNote {
		return nil
	}
	v.CreditNoteType = creditType(d.CreditNoteType)
	if d.CreditNoteBill == "" || v.CreditNoteType == "" {
		return nil
	}
	id, err := s.invoiceByCountCode(ctx, d.CreditNoteBill)
	if err != nil {
		return fmt.Errorf("credited invoice %s: %w", d.CreditNoteBill, err)
	}
	if id != "" {
		v.CreditedID = id
	} else {
		v.CreditedNumber = d.CreditNoteBill
	}
	return nil
}

// invoiceByCountCode is the CRM invoice mapped to the Metakocka document
// with count_code code, "" when none or more than one is (Metakocka then
// credits the newest; the number is kept rather than a guess).
func (s *session) invoiceByCountCode(ctx context.Context, code string) (string, error) {
	found := ""
	page := mksync.Page{Limit: mksync.MaxPageLimit}
	for {
		ms, next, err := s.e.store.FindMappings(ctx, s.tenantID, mksync.EntitySalesDocument, mksync.ListFilter{Search: code, Page: page})
		if err != nil {
			return "", fmt.Errorf("find mappings of count_code %s: %w", code, err)
		}
		for _, m := range ms {
			ok, err := s.isMappedInvoice(ctx, m, code)
			switch {
			case err != nil:
				return "", err
			case !ok:
				continue
			case found != "":
				return "", nil // more than one
			}
			found = m.EntityID
		}
		if next == "" {
			return found, nil
		}
		page.After = next
	}
}

// isMappedInvoice reports whether m maps a CRM invoice to the Metakocka
// document with count_code code.
func (s *session) isMappedInvoice(ctx context.Context, m mksync.Mapping, code string) (bool, error) {
	if m.CountCode != code || m.MetakockaID == "" {
		return false, nil
	}
	d, err := s.e.store.FindSalesDocumentByID(ctx, s.tenantID, m.EntityID)
	if isCode(err, mksync.ENOTFOUND) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find sales document %s: %w", m.EntityID, err)
	}
	return d.Kind == mksync.KindInvoice, nil
}

// creditNoteBill is the count_code a credit note names in Metakocka: its
// CRM invoice's, which must be mapped (else ECONFLICT: the invoice goes to
// Metakocka first), or the number it keeps.
func (s *session) creditNoteBill(ctx context.Context, d *mksync.SalesDocument, lookup func(context.Context, mksync.EntityType, string) (mksync.Mapping, bool, error)) (string, error) {
	if d.Kind != mksync.KindCreditNote || d.CreditedInvoiceID == "" {
		return d.CreditedInvoiceNumber, nil
	}
	m, ok, err := lookup(ctx, mksync.EntitySalesDocument, d.CreditedInvoiceID)
	if err != nil {
		return "", err
	}
	if !ok || m.MetakockaID == "" || m.CountCode == "" {
		return "", mksync.Errorf(mksync.ECONFLICT, "credit note %s credits invoice %s, which is not in Metakocka yet: sync the invoice first", d.ID, d.CreditedInvoiceID)
	}
	return m.CountCode, nil
}

// writeMkKind writes the kind fields onto md; bill is the count_code of the
// credited invoice (see creditNoteBill). A credit note without a type goes
// as "standalone" (it names no invoice), as documents_put_document.md
// shows.
func writeMkKind(md *metakocka.Document, v documentView, bill string) {
	if v.PrepaymentPercent == "" {
		md.PrepaymentPercent = metakocka.Decimal{}
	} else {
		md.PrepaymentPercent = keepDec(md.PrepaymentPercent, parseDec(v.PrepaymentPercent))
	}
	if v.PrepaymentValue == "" {
		md.PrepaymentValue = metakocka.Decimal{}
	} else {
		md.PrepaymentValue = keepDec(md.PrepaymentValue, parseDec(v.PrepaymentValue))
	}
	if md.DocType != metakocka.DocSalesBillCreditNote {
		return
	}
	md.CreditNoteType = v.CreditNoteType
	if md.CreditNoteType == "" {
		md.CreditNoteType = metakocka.CreditNoteStandalone
	}
	md.CreditNoteBill = ""
	if md.CreditNoteType != metakocka.CreditNoteStandalone {
		md.CreditNoteBill = bill
	}
}
