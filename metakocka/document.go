package metakocka

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

// DocType is a Metakocka document type. The sales types mksync syncs are
// the constants; Metakocka knows more, which pass through unchanged.
type DocType string

// Sales document types.
const (
	DocSalesOffer        DocType = "sales_offer"
	DocSalesOrder        DocType = "sales_order"
	DocSalesBillDomestic DocType = "sales_bill_domestic"
	DocSalesBillForeign  DocType = "sales_bill_foreign"
	// DocSalesBillRetail is a retail bill (maloprodajni račun).
	DocSalesBillRetail DocType = "sales_bill_retail"
	// DocSalesBillCreditNote is a credit note (dobropis) of a sales bill; see
	// Document.CreditNoteType.
	DocSalesBillCreditNote DocType = "sales_bill_credit_note"
	// DocSalesBillPrepaid is a prepayment (advance) bill (avansni račun).
	DocSalesBillPrepaid DocType = "sales_bill_prepaid"
)

// Credit note types (credit_note_type), as documents_put_document.md lists
// them: a financial note credits service lines, a goods note returns
// products of its invoice, a standalone note names no invoice.
const (
	CreditNoteFinancial  = "financial"
	CreditNoteGoods      = "goods"
	CreditNoteStandalone = "standalone"
)

// Document is a Metakocka document (offer, order, bill) as get_document and
// search return it and put_document takes it.
//
// put_document replaces the whole document, so a document read, changed and
// written back must carry every field it was read with: fields this type does
// not model are kept in Extra and written back, and the per-rate tax sums
// (sum_tax_085, sum_tax_ex4, …) are in SumTax.
type Document struct {
	MkID      string  `json:"mk_id,omitempty"`
	DocType   DocType `json:"doc_type,omitempty"`
	CountCode string  `json:"count_code,omitempty"`
	// Dates are as Metakocka writes them ("2014-11-23+02:00", "16.02.2022").
	DocDate                   string `json:"doc_date,omitempty"`
	DuoPayment                string `json:"duo_payment,omitempty"`
	ServiceFromDate           string `json:"service_from_date,omitempty"`
	ServiceToDate             string `json:"service_to_date,omitempty"`
	DeliveryDeadline          string `json:"delivery_deadline,omitempty"`
	FinishDate                string `json:"finish_date,omitempty"`
	OrderCreateTS             string `json:"order_create_ts,omitempty"`
	CreatedTS                 string `json:"created_ts,omitempty"`
	LastChangeTS              string `json:"last_change_ts,omitempty"`
	ShippedDateExpectedSeller string `json:"shipped_date_expected_seller,omitempty"`

	Title    string   `json:"title,omitempty"`
	Partner  *Partner `json:"partner,omitempty"`
	Receiver *Partner `json:"receiver,omitempty"`

	SalesPricelistCode     string  `json:"sales_pricelist_code,omitempty"`
	PrepaymentPercent      Decimal `json:"prepayment_percent,omitzero"`
	PrepaymentValue        Decimal `json:"prepayment_value,omitzero"`
	DiscountPercent        Decimal `json:"discount_percent,omitzero"`
	DiscountValue          Decimal `json:"discount_value,omitzero"`
	CurrencyCode           string  `json:"currency_code,omitempty"`
	StatusCode             string  `json:"status_code,omitempty"`
	StatusDesc             string  `json:"status_desc,omitempty"`
	Pariteta               string  `json:"pariteta,omitempty"`
	DocCreatedEmail        string  `json:"doc_created_email,omitempty"`
	CommercialistEmail     string  `json:"commercialist_email,omitempty"`
	ParcelShopID           string  `json:"parcel_shop_id,omitempty"`
	ProfitCenter           string  `json:"profit_center,omitempty"`
	ProfitCenterDesc       string  `json:"profit_center_desc,omitempty"`
	Warehouse              string  `json:"warehouse,omitempty"`
	DeliveryType           string  `json:"delivery_type,omitempty"`
	Priority               string  `json:"priority,omitempty"`
	BuyerOrder             string  `json:"buyer_order,omitempty"`
	CustomerOrder          string  `json:"customer_order,omitempty"`
	NotesHeader            string  `json:"notes_header,omitempty"`
	Notes                  string  `json:"notes,omitempty"`
	MethodOfPayment        string  `json:"method_of_payment,omitempty"`
	LocationOfService      string  `json:"location_of_service,omitempty"`
	BankRefPrefix          string  `json:"bank_ref_prefix,omitempty"`
	BankRefNumber          string  `json:"bank_ref_number,omitempty"`
	EshopName              string  `json:"eshop_name,omitempty"`
	WebshopEshopSyncID     string  `json:"webshop_eshop_sync_id,omitempty"`
	SalesOrderTrackingType string  `json:"salesOrderTrackingType,omitempty"`
	// CreditNoteType and CreditNoteBill (the count_code of the credited
	// invoice) are a credit note's.
	CreditNoteType string `json:"credit_note_type,omitempty"`
	CreditNoteBill string `json:"credit_note_bill,omitempty"`

	OfferList   List[DocRef]       `json:"offer_list,omitempty"`
	OrderList   List[DocRef]       `json:"order_list,omitempty"`
	DocLinkList List[DocRef]       `json:"doc_link_list,omitempty"`
	ProductList List[DocumentLine] `json:"product_list,omitempty"`
	MarkPaid    List[Payment]      `json:"mark_paid,omitempty"`
	ExtraColumn List[ExtraColumn]  `json:"extra_column,omitempty"`
	MetaData    List[MetaData]     `json:"meta_data,omitempty"`
	// DocumentInfo is the document's history, answered by get_document
	// with return_document_info on sales orders and bills (read only).
	DocumentInfo List[DocumentEvent] `json:"document_info,omitempty"`

	// Sums are computed by Metakocka (read only; put_document recomputes).
	SumBasic      Decimal `json:"sum_basic,omitzero"`
	SumDiscount   Decimal `json:"sum_discount,omitzero"`
	SumPrepayment Decimal `json:"sum_prepayment,omitzero"`
	SumAll        Decimal `json:"sum_all,omitzero"`
	SumPaid       Decimal `json:"sum_paid,omitzero"`
	SumCredit     Decimal `json:"sum_credit,omitzero"`
	// SumTax maps the lower-case tax code of each sum_tax_<code> field
	// ("085", "200", "ex4") to its sum.
	SumTax map[string]Decimal `json:"-"`

	// Extra holds the fields this type does not model; they are written back.
	Extra Extra `json:"-"`
}

// envelopeKey reports whether k belongs to the request or answer around a
// document (credentials, answer status) rather than to the document; such
// keys are never kept in Extra nor written from it.
func envelopeKey(k string) bool {
	switch k {
	case "secret_key", "company_id",
		"opr_code", "opr_desc", "opr_time_ms", "opr_time", "opr_time_no_lock_ms", "error_desc":
		return true
	}
	return false
}

const sumTaxPrefix = "sum_tax_"

// UnmarshalJSON decodes a document, keeping unmodelled fields in Extra.
func (d *Document) UnmarshalJSON(b []byte) error {
	type plain Document
	var p plain
	extra, err := unmarshalKeep(b, &p, envelopeKey)
	if err != nil {
		return err
	}
	for k, raw := range extra {
		if !strings.HasPrefix(k, sumTaxPrefix) {
			continue
		}
		var v Decimal
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if p.SumTax == nil {
			p.SumTax = map[string]Decimal{}
		}
		p.SumTax[strings.TrimPrefix(k, sumTaxPrefix)] = v
		delete(extra, k)
	}
	p.Extra = extra
	*d = Document(p)
	return nil
}

// MarshalJSON encodes a document with its Extra fields and SumTax, so a
// document read and written back is unchanged (put_document ignores the sums
// and recomputes them).
func (d Document) MarshalJSON() ([]byte, error) {
	type plain Document
	extra := make(Extra, len(d.Extra)+len(d.SumTax))
	for k, raw := range d.Extra {
		if !envelopeKey(k) {
			extra[k] = raw
		}
	}
	for code, v := range d.SumTax {
		if !v.Valid {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		extra[sumTaxPrefix+code] = raw
	}
	return marshalKeep(plain(d), extra)
}

// DocumentLine is one product line of a document. The product is identified
// by MkID, CountCode or Code; a line with an unknown code and Name/Unit set
// creates the product.
type DocumentLine struct {
	MkID      string `json:"mk_id,omitempty"`
	MkRowID   string `json:"mk_row_id,omitempty"`
	CountCode string `json:"count_code,omitempty"`
	Code      string `json:"code,omitempty"`
	Barcode   string `json:"barcode,omitempty"`
	Name      string `json:"name,omitempty"`
	NameDesc  string `json:"name_desc,omitempty"`
	DocDesc   string `json:"doc_desc,omitempty"`
	Unit      string `json:"unit,omitempty"`

	Service    Bool `json:"service,omitzero"`
	Sales      Bool `json:"sales,omitzero"`
	Purchasing Bool `json:"purchasing,omitzero"`

	Amount       Decimal `json:"amount,omitzero"`
	Price        Decimal `json:"price,omitzero"`
	PriceWithTax Decimal `json:"price_with_tax,omitzero"`
	// Discount is a percentage, or several cascaded ones separated by ';'
	// ("22;23"); see Discounts.
	Discount string `json:"discount,omitempty"`
	// Tax is a Metakocka tax code (see TaxRate); TaxFactor ("0.22") may be
	// used instead.
	Tax       string  `json:"tax,omitempty"`
	TaxFactor Decimal `json:"tax_factor,omitzero"`
	// TaxDesc is the rate in percent ("22") that get_document answers with
	// show_tax_factor; like TaxFactor it gives an EX code's rate.
	TaxDesc string `json:"tax_desc,omitempty"`

	MarkDelete          Bool           `json:"mark_delete,omitzero"`
	Microlocation       string         `json:"microlocation,omitempty"`
	SerialNumberValue   string         `json:"serial_number_value,omitempty"`
	LotNumberValue      string         `json:"lot_number_value,omitempty"`
	ExpirationDateValue string         `json:"expiration_date_value,omitempty"`
	Country             string         `json:"country,omitempty"`
	CustomsFee          string         `json:"customs_fee,omitempty"`
	Categories          List[Category] `json:"categories,omitempty"`
	MetaData            List[MetaData] `json:"meta_data,omitempty"`

	// Extra holds the fields this type does not model; they are written back.
	Extra Extra `json:"-"`
}

// UnmarshalJSON decodes a line, keeping unmodelled fields in Extra. The
// discount may arrive as a string or a number.
func (l *DocumentLine) UnmarshalJSON(b []byte) error {
	type plain DocumentLine
	var p struct {
		plain
		Discount json.RawMessage `json:"discount,omitempty"`
	}
	extra, err := unmarshalKeep(b, &p, nil)
	if err != nil {
		return err
	}
	disc, err := scalarText(p.Discount)
	if err != nil {
		return fmt.Errorf("discount: %w", err)
	}
	p.plain.Discount = disc
	p.plain.Extra = extra
	*l = DocumentLine(p.plain)
	return nil
}

// MarshalJSON encodes a line with its Extra fields.
func (l DocumentLine) MarshalJSON() ([]byte, error) {
	type plain DocumentLine
	return marshalKeep(plain(l), l.Extra)
}

// Discounts parses Discount into its cascaded percentages.
func (l DocumentLine) Discounts() ([]decimal.Decimal, error) {
	if strings.TrimSpace(l.Discount) == "" {
		return nil, nil
	}
	var out []decimal.Decimal
	for part := range strings.SplitSeq(l.Discount, ";") {
		d, err := ParseDecimal(part)
		if err != nil {
			return nil, err
		}
		if d.Valid {
			out = append(out, d.Value)
		}
	}
	return out, nil
}

// DocRef refers to another document (linked offers, orders, bills).
type DocRef struct {
	MkID      string  `json:"mk_id,omitempty"`
	CountCode string  `json:"count_code,omitempty"`
	DocType   DocType `json:"doc_type,omitempty"`
}

// Payment marks a document paid (put_document's mark_paid).
type Payment struct {
	PaymentType  string  `json:"payment_type,omitempty"`
	Date         string  `json:"date,omitempty"`
	Amount       Decimal `json:"amount,omitzero"`
	CashRegister string  `json:"cashRegister,omitempty"`
	// PaymentTip is the kind of payment get_document answers ("Izdatek",
	// "Vračilo"); Notes the payment's note.
	PaymentTip string `json:"payment_tip,omitempty"`
	Notes      string `json:"notes,omitempty"`
}

// MetaData is a key/value attached to a document or a line.
type MetaData struct {
	Key          string `json:"key,omitempty"`
	ValueString  string `json:"value_string,omitempty"`
	DisplayKey   string `json:"display_key,omitempty"`
	DisplayValue string `json:"display_value,omitempty"`
}

// PutDocumentResult is what put_document returns.
type PutDocumentResult struct {
	MkID              string  `json:"mk_id"`
	CountCode         string  `json:"count_code"`
	DocumentTypeShort string  `json:"document_type_short,omitempty"`
	TotalPrice        Decimal `json:"total_price,omitzero"`
	// Partner carries the id of the partner the document was put on.
	Partner *Partner `json:"partner,omitempty"`
	// AttachmentList carries bill_mk_id when create_invoice was asked for.
	AttachmentList List[json.RawMessage] `json:"attachment_list,omitempty"`
}

// GetDocumentRequest selects one document by DocID (its mk_id) or
// BuyerOrder, and what extra data it carries.
type GetDocumentRequest struct {
	DocType    DocType `json:"doc_type"`
	DocID      string  `json:"doc_id,omitempty"`
	BuyerOrder string  `json:"buyer_order,omitempty"`

	ShowAttachments             Bool `json:"show_attachments,omitzero"`
	ShowProductMetadata         Bool `json:"show_product_metadata,omitzero"`
	ShowSumCredit               Bool `json:"show_sum_credit,omitzero"`
	ReturnDeliveryServiceEvents Bool `json:"return_delivery_service_events,omitzero"`
	ReturnDocumentInfo          Bool `json:"return_document_info,omitzero"`
}

// DocumentUpdate changes selected fields of a document in place
// (update_document), without replacing it. The document is identified by
// MkID or BuyerOrder; only set fields are sent.
type DocumentUpdate struct {
	DocType    DocType `json:"doc_type"`
	MkID       string  `json:"mk_id,omitempty"`
	BuyerOrder string  `json:"buyer_order,omitempty"`

	DeliveryType             string             `json:"delivery_type,omitempty"`
	StatusCode               string             `json:"status_code,omitempty"`
	TrackingCode             string             `json:"tracking_code,omitempty"`
	TrackingIntermediateCode string             `json:"tracking_intermediate_code,omitempty"`
	ShippedDate              string             `json:"shipped_date,omitempty"`
	DiscountValue            Decimal            `json:"discount_value,omitzero"`
	ParcelShopID             string             `json:"parcel_shop_id,omitempty"`
	NotesHeader              string             `json:"notes_header,omitempty"`
	Notes                    string             `json:"notes,omitempty"`
	Warehouse                string             `json:"warehouse,omitempty"`
	CountCodeNew             string             `json:"count_code_new,omitempty"`
	Partner                  *Partner           `json:"partner,omitempty"`
	Receiver                 *Partner           `json:"receiver,omitempty"`
	ProductList              List[DocumentLine] `json:"product_list,omitempty"`
	ProductAdd               List[DocumentLine] `json:"product_add,omitempty"`
	ProductRemove            List[DocumentLine] `json:"product_remove,omitempty"`
	ExtraColumn              List[ExtraColumn]  `json:"extra_column,omitempty"`
	// Clear lists fields to empty: "tracking_code", "notes", "notes_header".
	Clear         []string `json:"clear,omitempty"`
	CreateInvoice Bool     `json:"create_invoice,omitzero"`
}

// unsafe reports whether repeating u could apply it twice (adding lines,
// removing amounts, creating an invoice).
func (u DocumentUpdate) unsafe() bool {
	if len(u.ProductAdd) > 0 || len(u.ProductRemove) > 0 || u.CreateInvoice.True() {
		return true
	}
	for _, l := range u.ProductList {
		if l.MkRowID == "" {
			return true // a line without mk_row_id is added
		}
	}
	return false
}

var (
	mPutDocument    = method{name: "put_document"}
	mGetDocument    = method{name: "get_document"}
	mUpdateDocument = method{name: "update_document"}
	mDeleteDocument = method{name: "delete_document"}
)

// PutDocument creates d, or replaces the document d.MkID when set (the whole
// document: lines are deleted and re-added, see Document). Creating is not
// idempotent: the client repeats it only when Metakocka provably did not
// process it; after an ambiguous failure the caller should search by
// count_code or buyer_order before putting it again.
func (c *Client) PutDocument(ctx context.Context, d Document) (PutDocumentResult, error) {
	m := mPutDocument
	if d.DocType == "" {
		return PutDocumentResult{}, inputError(m, "doc_type is required")
	}
	if d.MkID == "" || d.Extra["create_invoice"] != nil || len(d.MarkPaid) > 0 {
		m.unsafe = true
	}
	var out PutDocumentResult
	err := c.call(ctx, m, d, &out)
	return out, err
}

// GetDocument returns one document. Errors: ENOTFOUND when Metakocka says it
// does not exist, EINVALID for a request it rejects.
func (c *Client) GetDocument(ctx context.Context, req GetDocumentRequest) (Document, error) {
	if req.DocType == "" || (req.DocID == "" && req.BuyerOrder == "") {
		return Document{}, inputError(mGetDocument, "doc_type and doc_id or buyer_order are required")
	}
	var out Document
	if err := c.call(ctx, mGetDocument, req, &out); err != nil {
		return Document{}, err
	}
	if out.MkID == "" && out.CountCode == "" {
		return Document{}, &Error{Method: mGetDocument.name, HTTPStatus: 200, code: mksync.ENOTFOUND, reason: "decode",
			Err: safeError(errEmptyAnswer, c.scrub)}
	}
	return out, nil
}

// UpdateDocument changes selected fields of a document in place.
func (c *Client) UpdateDocument(ctx context.Context, u DocumentUpdate) error {
	m := mUpdateDocument
	if u.DocType == "" || (u.MkID == "" && u.BuyerOrder == "") {
		return inputError(m, "doc_type and mk_id or buyer_order are required")
	}
	m.unsafe = u.unsafe()
	return c.call(ctx, m, u, nil)
}

// DeleteDocument deletes the document mkID of type docType.
func (c *Client) DeleteDocument(ctx context.Context, docType DocType, mkID string) error {
	if docType == "" || mkID == "" {
		return inputError(mDeleteDocument, "doc_type and mk_id are required")
	}
	return c.call(ctx, mDeleteDocument, struct {
		MkID    string  `json:"mk_id"`
		DocType DocType `json:"doc_type"`
	}{mkID, docType}, nil)
}
