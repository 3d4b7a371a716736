package validate

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

// pricelistChecks are the price list checks of a record kind: products
// only (issue: the tenant's price list, chosen or discovered from the
// company, is the one both directions use).
func pricelistChecks(et mksync.EntityType) []check {
	if et != mksync.EntityProduct {
		return nil
	}
	return []check{pricelistCheck()}
}

// pricelistCheck pushes a product with a price, changes the price in the
// CRM and pushes again, then pulls the product back: the price must come
// back as it was sent. It fails when the push and the pull use different
// price lists (the pull then reads another list's price, or none), and
// when a price edit is overwritten by what Metakocka held before. A price
// list left undecided (several lists, none clearly the default) syncs no
// price either way, which this check cannot see from the CRM: Settings and
// the error record say so.
func pricelistCheck() check {
	return check{name: "price list: a CRM price goes to Metakocka and comes back", run: func(ctx context.Context, e *env) (string, error) {
		id, mkID, err := e.pushNew(ctx, mksync.EntityProduct)
		if err != nil {
			return "", err
		}
		rec, err := e.Get(ctx, mksync.EntityProduct, id)
		if err != nil {
			return "", fmt.Errorf("read product: %w", err)
		}
		p, ok := rec.(*mksync.Product)
		if !ok {
			return "", fmt.Errorf("read product: got %T", rec)
		}
		want := p.Price.Add(decimal.RequireFromString("1.25"))
		p.Price = want
		if err := e.Put(ctx, p); err != nil {
			return "", fmt.Errorf("change the price: %w", err)
		}
		if _, err := e.Push(ctx, mksync.EntityProduct, id); err != nil {
			return "", fmt.Errorf("push the price: %w", err)
		}
		if _, err := e.Pull(ctx, mksync.EntityProduct, mkID); err != nil {
			return "", fmt.Errorf("pull: %w", err)
		}
		rec, err = e.Get(ctx, mksync.EntityProduct, id)
		if err != nil {
			return "", fmt.Errorf("read product: %w", err)
		}
		if got, ok := rec.(*mksync.Product); !ok || !got.Price.Equal(want) {
			return "", fmt.Errorf("price %v after the pull, want %s: the push and the pull do not use the same price list", priceOf(rec), want)
		}
		return fmt.Sprintf("price %s kept through push and pull (mk_id %s)", want, mkID), nil
	}}
}

func priceOf(rec any) string {
	if p, ok := rec.(*mksync.Product); ok {
		return p.Price.String()
	}
	return fmt.Sprintf("(%T)", rec)
}
