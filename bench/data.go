package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// seedChunk is how many records Seed writes per store call or transaction.
const seedChunk = 1000

// Contacts returns n new contacts named after prefix (every tenth abroad,
// so documents of both bill types appear).
func Contacts(prefix string, n int) []mksync.Contact {
	cs := make([]mksync.Contact, n)
	for i := range cs {
		cs[i] = mksync.Contact{Name: fmt.Sprintf("%s contact %06d", prefix, i), Email: fmt.Sprintf("%s.c%06d@example.com", prefix, i),
			Street: fmt.Sprintf("Dunajska cesta %d", 1+i%300), PostNumber: "1000", City: "Ljubljana", Country: "SI"}
		if i%10 == 9 {
			cs[i].Country = "Italy"
		}
	}
	return cs
}

// Products returns n new products whose codes start with prefix.
func Products(prefix string, n int) []mksync.Product {
	ps := make([]mksync.Product, n)
	for i := range ps {
		ps[i] = mksync.Product{Code: fmt.Sprintf("%s-%06d", prefix, i), Name: fmt.Sprintf("%s product %06d", prefix, i), Unit: "kos",
			Price: decimal.New(int64(100+i%9000), -2), TaxRate: decimal.NewFromInt(22), Sales: true}
	}
	return ps
}

// Documents returns n new sales documents (offers, orders and invoices in
// turn) over the given contacts and products, two lines each.
func Documents(n int, cs []mksync.Contact, ps []mksync.Product) []mksync.SalesDocument {
	kinds := []mksync.DocumentKind{mksync.KindOffer, mksync.KindOrder, mksync.KindInvoice}
	ds := make([]mksync.SalesDocument, n)
	for i := range ds {
		p1, p2 := ps[i%len(ps)], ps[(i*13+5)%len(ps)]
		ds[i] = mksync.SalesDocument{Kind: kinds[i%3], Date: mksync.NewDate(2025, time.Month(1+i%12), 1+i%28), ContactID: cs[(i*7)%len(cs)].ID, Currency: "EUR",
			Lines: []mksync.DocumentLine{
				{ProductID: p1.ID, Quantity: decimal.NewFromInt(1), UnitPrice: p1.Price, TaxRate: decimal.NewFromInt(22)},
				{ProductID: p2.ID, Quantity: decimal.NewFromInt(2), UnitPrice: decimal.NewFromInt(3), TaxRate: decimal.RequireFromString("9.5")},
			}}
	}
	return ds
}

// Seed creates n new local records of et for the tenant. Documents need
// contacts and products in Metakocka: Seed creates one of each for every
// ten documents and pushes them with the company's faults cleared (they
// are set back afterwards).
func Seed(ctx context.Context, w *World, tenant, company string, et mksync.EntityType, n int) error {
	prefix := company
	switch et {
	case mksync.EntityContact:
		return inChunks(Contacts(prefix, n), func(cs []mksync.Contact) error {
			if err := w.Store.UpsertContacts(ctx, tenant, cs); err != nil {
				return fmt.Errorf("seed contacts: %w", err)
			}
			return nil
		})
	case mksync.EntityProduct:
		return inChunks(Products(prefix, n), func(ps []mksync.Product) error {
			if err := w.Store.UpsertProducts(ctx, tenant, ps); err != nil {
				return fmt.Errorf("seed products: %w", err)
			}
			return nil
		})
	case mksync.EntitySalesDocument:
		k := max(1, n/10)
		cs, ps := Contacts(prefix, k), Products(prefix, k)
		if err := w.Store.UpsertContacts(ctx, tenant, cs); err != nil {
			return fmt.Errorf("seed contacts of documents: %w", err)
		}
		if err := w.Store.UpsertProducts(ctx, tenant, ps); err != nil {
			return fmt.Errorf("seed products of documents: %w", err)
		}
		faults := w.Fake.Faults(company)
		w.Fake.SetFaults(company, mkfake.Faults{})
		for _, et := range []mksync.EntityType{mksync.EntityContact, mksync.EntityProduct} {
			res, err := Push(ctx, w, tenant, et)
			if err == nil && res.Run.Result.Failed > 0 {
				err = mksync.Errorf(mksync.EINTERNAL, "%d failed: %v", res.Run.Result.Failed, firstErrors(res.Run.Result))
			}
			if err != nil {
				return fmt.Errorf("push the %s of the documents: %w", et, err)
			}
		}
		w.Fake.SetFaults(company, faults)
		return inChunks(Documents(n, cs, ps), func(ds []mksync.SalesDocument) error {
			return w.Store.InTx(ctx, tenant, func(tx mksync.Store) error {
				for i := range ds {
					if err := tx.CreateSalesDocument(ctx, tenant, &ds[i]); err != nil {
						return fmt.Errorf("seed sales document: %w", err)
					}
				}
				return nil
			})
		})
	}
	return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
}

func inChunks[T any](items []T, fn func([]T) error) error {
	for len(items) > 0 {
		n := min(len(items), seedChunk)
		if err := fn(items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// ChangeInMetakocka changes every record of et the company holds through
// the Metakocka API (as a user of Metakocka would), with the company's
// current faults: a partner's and a product's name become tag and the
// record's mk_id, a document's status code becomes tag (update_document
// changes only the status of most types). 16 requests run at once.
func ChangeInMetakocka(ctx context.Context, w *World, tenant, company string, et mksync.EntityType, tag string) error {
	mk, err := w.Client(company)
	if err != nil {
		return err
	}
	switch et {
	case mksync.EntityContact:
		err = parallel(ctx, 16, w.Fake.PartnerIDs(company), func(id string) error {
			_, err := mk.UpdatePartner(ctx, metakocka.Partner{MkID: id, Customer: tag + " " + id})
			return err
		})
	case mksync.EntityProduct:
		err = parallel(ctx, 16, w.Fake.ProductIDs(company), func(id string) error {
			_, err := mk.ProductUpdate(ctx, metakocka.Product{MkID: id, Name: tag + " " + id})
			return err
		})
	case mksync.EntitySalesDocument:
		err = parallel(ctx, 16, w.Fake.DocumentIDs(company), func(d mkfake.DocumentID) error {
			return mk.UpdateDocument(ctx, metakocka.DocumentUpdate{DocType: metakocka.DocType(d.DocType), MkID: d.MkID, StatusCode: tag})
		})
	default:
		return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
	}
	if err != nil {
		return fmt.Errorf("change in Metakocka: %w", err)
	}
	return nil
}

// parallel calls fn for every item, conc at a time, and returns the first
// error.
func parallel[T any](ctx context.Context, conc int, items []T, fn func(T) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	ch := make(chan T)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		ch <- it
	}
	close(ch)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// SeedMetakocka fills the company with records made in Metakocka: n
// partners, n products and n sales orders, order i of partner i with
// product i and product (i*7)%n (without faults: they are set back
// afterwards). Partners reach the CRM only through the documents that
// name them (Metakocka has no partner listing), so every partner is on a
// document.
func SeedMetakocka(ctx context.Context, w *World, company string, n int) error {
	faults := w.Fake.Faults(company)
	w.Fake.SetFaults(company, mkfake.Faults{})
	defer w.Fake.SetFaults(company, faults)
	before := len(w.Fake.Partners(company))
	w.Fake.SeedPartners(company, n)
	w.Fake.SeedProducts(company, n)
	partners := w.Fake.Partners(company)[before:]
	var products []mkfake.Product
	for _, p := range w.Fake.Products(company) {
		if strings.HasPrefix(p.CountCode, "BULK-") {
			products = append(products, p)
		}
	}
	products = products[len(products)-n:]
	mk, err := w.Client(company)
	if err != nil {
		return err
	}
	orders := make([]int, n)
	for i := range orders {
		orders[i] = i
	}
	err = parallel(ctx, 16, orders, func(i int) error {
		_, err := mk.PutDocument(ctx, metakocka.Document{
			DocType: metakocka.DocSalesOrder, CountCode: fmt.Sprintf("MK-ORDER-%06d", i), DocDate: "2025-03-14+01:00",
			CurrencyCode: "EUR", Partner: &metakocka.Partner{MkID: partners[i].MkID},
			ProductList: metakocka.List[metakocka.DocumentLine]{
				{MkID: products[i].MkID, Amount: metakocka.NewDecimal(decimal.NewFromInt(1)), Price: metakocka.NewDecimal(decimal.NewFromInt(int64(10 + i%90))), Tax: "220"},
				{MkID: products[(i*7)%n].MkID, Amount: metakocka.NewDecimal(decimal.NewFromInt(2)), Price: metakocka.NewDecimal(decimal.RequireFromString("3.5")), Tax: "095"},
			},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("seed Metakocka orders: %w", err)
	}
	return nil
}
