package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// documentForms are the checks that documents entered in Metakocka the way
// its docs show them come through the CRM to the cent and go back without
// a write: gross prices with a decimal comma (put_document_sales_order.md),
// a coupon line (amount -1 of a service, documents_concept.md) and a
// document discount (discount_value, the web shop's coupon on the gross
// total). Each puts a sales order into the tenant's Metakocka company,
// pulls it, compares the CRM's totals with Metakocka's sums, pushes it back
// expecting no write, and deletes what it put (delete_document on the
// order, product_delete on the products its rows created).
func documentForms() []check {
	return []check{
		documentFormCheck("gross prices", nil, func(code func(string) string) []any {
			return []any{
				row("code", code("chair"), "name", "Chair", "unit", "kos", "amount", "2", "price_with_tax", "119,99", "tax", "220"),
				row("code", code("book"), "name", "Book", "unit", "kos", "amount", "1", "price_with_tax", "24,90", "tax", "095"),
			}
		}),
		documentFormCheck("coupon line", nil, func(code func(string) string) []any {
			return []any{
				row("code", code("chair"), "name", "Chair", "unit", "kos", "amount", "1", "price_with_tax", "100", "tax", "220"),
				row("code", code("coupon"), "name", "Coupon for 10 EUR", "unit", "kos", "amount", "-1", "price_with_tax", "10", "tax", "220",
					"service", "true", "sales", "true"),
			}
		}),
		documentFormCheck("document discount", map[string]any{"discount_value": "5,50"}, func(code func(string) string) []any {
			return []any{
				row("code", code("chair"), "name", "Chair", "unit", "kos", "amount", "1", "price_with_tax", "100", "tax", "220"),
				row("code", code("book"), "name", "Book", "unit", "kos", "amount", "3", "price", "12,5", "discount", "10", "tax", "095"),
			}
		}),
	}
}

// row is a document row as the docs write it: attribute, value, ….
func row(kv ...string) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// documentPutter is what the document form checks need beyond Direct:
// putting a sales order into the tenant's Metakocka company as the docs
// write it (JSON attributes, numbers as text with a decimal comma), its
// sums, deleting it, and the local document a pull made of it.
type documentPutter interface {
	PutOrder(ctx context.Context, doc map[string]any) (mkID string, err error)
	OrderSums(ctx context.Context, mkID string) (sumAll, sumBasic string, err error)
	DeleteOrder(ctx context.Context, mkID string) error
	LocalDocument(ctx context.Context, mkID string) (mksync.SalesDocument, error)
}

func documentFormCheck(name string, head map[string]any, rows func(code func(string) string) []any) check {
	return check{name: name, run: func(ctx context.Context, e *env) (string, error) {
		dp, ok := e.Direct().(documentPutter)
		if !ok {
			return "", skip(needsDirect)
		}
		doc := map[string]any{"doc_type": "sales_order", "doc_date": time.Now().Format("2006-01-02-07:00"),
			"title": e.name("order"), "currency_code": "EUR", "product_list": rows(e.name),
			"partner": map[string]any{"customer": e.name("buyer"), "street": "Validation street 1", "post_number": "1000", "place": "Ljubljana", "country": "Slovenia"}}
		for k, v := range head {
			doc[k] = v
		}
		mkID, err := dp.PutOrder(ctx, doc)
		if err != nil {
			return "", fmt.Errorf("put the documented order: %w", err)
		}
		defer func() { _ = dp.DeleteOrder(context.WithoutCancel(ctx), mkID) }()
		return compareDocumentForm(ctx, e, dp, mkID)
	}}
}

// compareDocumentForm pulls the Metakocka order mkID, compares the CRM's
// totals with its sums and pushes it back, expecting no write and the same
// sums.
func compareDocumentForm(ctx context.Context, e *env, dp documentPutter, mkID string) (string, error) {
	sumAll, sumBasic, err := dp.OrderSums(ctx, mkID)
	if err != nil {
		return "", fmt.Errorf("read it back: %w", err)
	}
	if res, err := e.Pull(ctx, mksync.EntitySalesDocument, mkID); err != nil {
		return "", fmt.Errorf("pull: %s: %w", describeResult(res), err)
	}
	d, err := dp.LocalDocument(ctx, mkID)
	if err != nil {
		return "", err
	}
	if !sameAmount(sumAll, d.TotalGross) || sumBasic != "" && !sameAmount(sumBasic, d.TotalNet) {
		return "", fmt.Errorf("CRM totals %s gross / %s net, Metakocka sum_all %s / sum_basic %s", d.TotalGross, d.TotalNet, sumAll, sumBasic)
	}
	var before int64
	sim := e.Simulator()
	if sim != nil {
		before = sim.Writes()
	}
	res, err := e.Push(ctx, mksync.EntitySalesDocument, d.ID)
	if err != nil {
		return "", fmt.Errorf("push back: %s: %w", describeResult(res), err)
	}
	if res.Created+res.Updated+res.Failed+res.Conflicts != 0 {
		return "", fmt.Errorf("push back of the unchanged document: %s, want nothing written", describeResult(res))
	}
	if sim != nil && sim.Writes() != before {
		return "", fmt.Errorf("push back of the unchanged document made %d writes", sim.Writes()-before)
	}
	if after, _, err := dp.OrderSums(ctx, mkID); err != nil || after != sumAll {
		return "", fmt.Errorf("sum_all in Metakocka moved from %s to %s (%v)", sumAll, after, err)
	}
	return fmt.Sprintf("sum_all %s = CRM %s, sum_basic %s = CRM %s, push back 0 writes", sumAll, d.TotalGross, sumBasic, d.TotalNet), nil
}

// sameAmount reports whether Metakocka's amount s ("90", "73,77") is v.
func sameAmount(s string, v decimal.Decimal) bool {
	d, err := decimal.NewFromString(strings.Replace(s, ",", ".", 1))
	return err == nil && d.Equal(v)
}

// The methods below are the in-process driver's side of documentPutter
// (the only code here that uses the Metakocka client).

// PutOrder puts the sales order doc, written as the docs write it, into
// the tenant's Metakocka company and returns its mk_id.
func (d *direct) PutOrder(ctx context.Context, doc map[string]any) (string, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	var md metakocka.Document
	if err := json.Unmarshal(b, &md); err != nil {
		return "", err
	}
	res, err := d.w.mk.PutDocument(ctx, md)
	return res.MkID, err
}

// OrderSums reads the sales order mkID's sum_all and sum_basic.
func (d *direct) OrderSums(ctx context.Context, mkID string) (string, string, error) {
	doc, err := d.w.mk.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: mkID})
	return doc.SumAll.String(), doc.SumBasic.String(), err
}

// DeleteOrder deletes the sales order mkID (delete_document is documented
// for sales orders) and then the products its rows made.
func (d *direct) DeleteOrder(ctx context.Context, mkID string) error {
	doc, err := d.w.mk.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: mkID})
	if err != nil {
		return err
	}
	err = d.w.mk.DeleteDocument(ctx, metakocka.DocSalesOrder, mkID)
	for _, row := range doc.ProductList {
		if row.MkID != "" {
			_, perr := d.w.mk.ProductDelete(ctx, metakocka.ProductKey{MkID: row.MkID})
			err = errors.Join(err, perr)
		}
	}
	return err
}

// LocalDocument is the CRM document mapped to the Metakocka document mkID.
func (d *direct) LocalDocument(ctx context.Context, mkID string) (mksync.SalesDocument, error) {
	m, err := d.w.store.FindMappingByMetakockaID(ctx, d.tenant, mksync.EntitySalesDocument, mkID)
	if err != nil {
		return mksync.SalesDocument{}, fmt.Errorf("mapping of %s: %w", mkID, err)
	}
	return d.w.store.FindSalesDocumentByID(ctx, d.tenant, m.EntityID)
}
