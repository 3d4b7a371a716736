package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

// entityInfo names et for pages; the zero EntityInfo for an unknown type.
func entityInfo(et mksync.EntityType) EntityInfo {
	switch et {
	case mksync.EntityContact:
		return EntityInfo{Slug: "contacts", Label: "Contacts", Singular: "contact", Type: et}
	case mksync.EntityProduct:
		return EntityInfo{Slug: "products", Label: "Products", Singular: "product", Type: et}
	case mksync.EntitySalesDocument:
		return EntityInfo{Slug: "sales-documents", Label: "Sales documents", Singular: "sales document", Type: et}
	}
	return EntityInfo{Label: string(et), Singular: string(et), Type: et}
}

// record is what the pages show of any CRM record.
type record struct {
	ID       string
	Title    string
	Subtitle string
	Fields   []Field
	// Stock is a product's stock per Metakocka warehouse (its page only).
	Stock      []StockRow
	StockTotal string
	// contact is the record when it is a contact (its page edits the
	// partner fields).
	contact *mksync.Contact
}

// StockRow is a product's stock in one Metakocka warehouse.
type StockRow struct {
	Warehouse, Mark, Amount string
}

// kind reads one entity type's records from the store, scoped to a tenant.
type kind struct {
	info EntityInfo
	list func(ctx context.Context, st mksync.Store, tenantID string, f mksync.ListFilter) ([]record, string, error)
	find func(ctx context.Context, st mksync.Store, tenantID, id string) (record, error)
}

// kinds are the three record types, in navigation order.
func kinds() []kind {
	return []kind{
		{info: entityInfo(mksync.EntityContact),
			list: func(ctx context.Context, st mksync.Store, tenantID string, f mksync.ListFilter) ([]record, string, error) {
				cs, next, err := st.FindContacts(ctx, tenantID, f)
				out := make([]record, len(cs))
				for i := range cs {
					out[i] = contactRecord(cs[i])
				}
				return out, next, wrap("find contacts", err)
			},
			find: func(ctx context.Context, st mksync.Store, tenantID, id string) (record, error) {
				c, err := st.FindContactByID(ctx, tenantID, id)
				return contactRecord(c), wrap("find contact", err)
			}},
		{info: entityInfo(mksync.EntityProduct),
			list: func(ctx context.Context, st mksync.Store, tenantID string, f mksync.ListFilter) ([]record, string, error) {
				ps, next, err := st.FindProducts(ctx, tenantID, f)
				out := make([]record, len(ps))
				for i := range ps {
					out[i] = productRecord(ps[i])
				}
				return out, next, wrap("find products", err)
			},
			find: func(ctx context.Context, st mksync.Store, tenantID, id string) (record, error) {
				p, err := st.FindProductByID(ctx, tenantID, id)
				if err != nil {
					return record{}, wrap("find product", err)
				}
				if p.Warehouses, err = st.WarehouseStock(ctx, tenantID, id); err != nil {
					return record{}, wrap("read the product's stock per warehouse", err)
				}
				return productRecord(p), nil
			}},
		{info: entityInfo(mksync.EntitySalesDocument),
			list: func(ctx context.Context, st mksync.Store, tenantID string, f mksync.ListFilter) ([]record, string, error) {
				ds, next, err := st.FindSalesDocuments(ctx, tenantID, f)
				out := make([]record, len(ds))
				for i := range ds {
					out[i] = documentRecord(ds[i])
				}
				return out, next, wrap("find sales documents", err)
			},
			find: func(ctx context.Context, st mksync.Store, tenantID, id string) (record, error) {
				d, err := st.FindSalesDocumentByID(ctx, tenantID, id)
				return documentRecord(d), wrap("find sales document", err)
			}},
	}
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func contactRecord(c mksync.Contact) record {
	sub := c.Email
	if sub == "" {
		sub = c.Phone
	}
	kind := "Person"
	if c.BusinessEntity {
		kind = "Company"
	}
	due := "Metakocka's default"
	if c.PaymentDueDays > 0 {
		due = strconv.Itoa(c.PaymentDueDays) + " days"
	}
	return record{ID: c.ID, Title: c.Name, Subtitle: sub, contact: &c, Fields: nonEmpty(
		Field{"Name", c.Name}, Field{"Type", kind}, Field{"Tax ID", c.TaxID},
		Field{"Registration number", c.RegistrationNumber}, Field{"Contact person", c.ContactPerson},
		Field{"E-mail", c.Email}, Field{"Phone", c.Phone}, Field{"Mobile", c.Mobile},
		Field{"Address", joinNonEmpty(", ", c.Street, strings.TrimSpace(c.PostNumber+" "+c.City), c.Province, c.Country)},
		Field{"Delivery address", joinNonEmpty(", ", c.DeliveryStreet, strings.TrimSpace(c.DeliveryPostNumber+" "+c.DeliveryCity), c.DeliveryCountry)},
		Field{"Buyer", yesNo(c.Buyer, "not said")}, Field{"Taxpayer", yesNo(&c.Taxpayer, "")},
		Field{"Payment due", due},
		Field{"Updated", formatTime(c.UpdatedAt)}, Field{"Version", strconv.FormatInt(c.Version, 10)},
	)}
}

// yesNo is a flag for people; unset when b is nil.
func yesNo(b *bool, unset string) string {
	switch {
	case b == nil:
		return unset
	case *b:
		return "Yes"
	}
	return "No"
}

func productRecord(p mksync.Product) record {
	rec := record{ID: p.ID, Title: p.Code + " · " + p.Name, Subtitle: p.Price.StringFixed(2) + " / " + orDash(p.Unit), Fields: nonEmpty(
		Field{"Code", p.Code}, Field{"Name", p.Name}, Field{"Description", p.Description}, Field{"Unit", p.Unit},
		Field{"Price", p.Price.StringFixed(2) + priceForm(p.PriceIncludesTax)}, Field{"Tax rate", p.TaxRate.String() + " %"},
		Field{"Barcode", p.Barcode}, Field{"Stock (from Metakocka)", p.StockAmount.String()},
		Field{"Updated", formatTime(p.UpdatedAt)}, Field{"Version", strconv.FormatInt(p.Version, 10)},
	)}
	for _, w := range p.Warehouses {
		name := w.Name
		if name == "" {
			name = "Warehouse " + w.WarehouseID
		}
		rec.Stock = append(rec.Stock, StockRow{Warehouse: name, Mark: w.Mark, Amount: w.Amount.String()})
	}
	if len(rec.Stock) > 0 {
		rec.StockTotal = p.StockAmount.String()
	}
	return rec
}

// priceForm says how a price was entered: " gross" (tax included) or
// " net".
func priceForm(gross bool) string {
	if gross {
		return " gross"
	}
	return " net"
}

func documentRecord(d mksync.SalesDocument) record {
	num := d.Number
	if num == "" {
		num = "(number from Metakocka)"
	}
	title := documentKindLabel(d.Kind) + " " + num
	money := func(v decimal.Decimal) string { return v.StringFixed(2) + " " + d.Currency }
	fields := []Field{
		{"Kind", documentKindLabel(d.Kind)}, {"Number", d.Number}, {"Date", d.Date.String()},
		{"Title", d.Title}, {"Buyer's order", d.BuyerOrder},
		{"Contact", d.ContactID}, {"Status", d.Status}, {"Payment method", d.PaymentMethod},
	}
	if a := d.DeliveryAddress; a != nil {
		fields = append(fields, Field{"Delivery address", joinNonEmpty(", ", a.Name, a.Street, strings.TrimSpace(a.PostNumber+" "+a.City), a.Country)})
	}
	fields = append(fields, Field{"Lines", strconv.Itoa(len(d.Lines))})
	for i, l := range d.Lines {
		fields = append(fields, Field{fmt.Sprintf("Line %d", i+1), lineSummary(l)})
	}
	if !d.DiscountValue.IsZero() {
		fields = append(fields, Field{"Coupon (off the gross total)", money(d.DiscountValue)})
	}
	fields = append(fields, Field{"Net", money(d.TotalNet)}, Field{"Tax", money(d.TotalTax)}, Field{"Gross", money(d.TotalGross)},
		Field{"Updated", formatTime(d.UpdatedAt)}, Field{"Version", strconv.FormatInt(d.Version, 10)})
	return record{ID: d.ID, Title: title, Subtitle: d.Date.String() + " · " + money(d.TotalGross), Fields: nonEmpty(fields...)}
}

// lineSummary is one document line as the detail page shows it: what it
// is, quantity × the price as entered (net or gross), discount and tax.
func lineSummary(l mksync.DocumentLine) string {
	what := l.ProductID
	if what == "" {
		what = l.Description
	}
	s := fmt.Sprintf("%s: %s %s × %s%s", what, l.Quantity, l.Unit, l.UnitPrice.StringFixed(2), priceForm(l.PriceIncludesTax))
	if !l.DiscountPercent.IsZero() {
		s += fmt.Sprintf(" − %s %%", l.DiscountPercent)
	}
	s += fmt.Sprintf(" · tax %s %%", l.TaxRate)
	if l.TaxCode != "" {
		s += " (" + l.TaxCode + ")"
	}
	return strings.Join(strings.Fields(s), " ")
}

func documentKindLabel(k mksync.DocumentKind) string {
	switch k {
	case mksync.KindOffer:
		return "Offer"
	case mksync.KindOrder:
		return "Order"
	case mksync.KindInvoice:
		return "Invoice"
	case mksync.KindCreditNote:
		return "Credit note"
	case mksync.KindPrepaymentInvoice:
		return "Prepayment invoice"
	}
	return string(k)
}

func nonEmpty(fs ...Field) []Field {
	out := fs[:0]
	for _, f := range fs {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
