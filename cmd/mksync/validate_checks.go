package main

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// vcheck is one validation check.
type vcheck struct {
	name     string
	fakeOnly bool
	skip     string // why the check does not apply, if it does not
	run      func(ctx context.Context) (string, error)
}

// subject is a record kind seen by the checks: how to make one locally,
// change it on each side and read its name back from Metakocka.
type subject struct {
	et         mksync.EntityType
	create     func(ctx context.Context) (string, error)
	setLocal   func(ctx context.Context, id, name string) error
	localName  func(ctx context.Context, id string) (string, error)
	setRemote  func(ctx context.Context, mkID, name string) error
	remoteName func(ctx context.Context, mkID string) (string, error)
	addMethod  string
}

func (v *validation) newContact(ctx context.Context) (mksync.Contact, error) {
	c := mksync.Contact{Name: v.name("contact"), Email: "validate@example.com", City: "Ljubljana", Country: "SI"}
	return c, v.store.CreateContact(ctx, v.tenant, &c)
}

func (v *validation) newProduct(ctx context.Context) (mksync.Product, error) {
	n := v.name("product")
	p := mksync.Product{Code: n, Name: n, Unit: "kos", Price: decimal.RequireFromString("9.99"), TaxRate: decimal.NewFromInt(22), Sales: true}
	return p, v.store.CreateProduct(ctx, v.tenant, &p)
}

func (v *validation) newDocument(ctx context.Context) (mksync.SalesDocument, error) {
	c, err := v.newContact(ctx)
	if err != nil {
		return mksync.SalesDocument{}, err
	}
	p, err := v.newProduct(ctx)
	if err != nil {
		return mksync.SalesDocument{}, err
	}
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2025, 6, 1), ContactID: c.ID, Currency: "EUR", Notes: v.name("document"),
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(2), UnitPrice: p.Price, TaxRate: p.TaxRate}}}
	return d, v.store.CreateSalesDocument(ctx, v.tenant, &d)
}

func (v *validation) subject(et mksync.EntityType) subject {
	switch et {
	case mksync.EntityContact:
		return subject{et: et, addMethod: "add_partner",
			create: func(ctx context.Context) (string, error) { c, err := v.newContact(ctx); return c.ID, err },
			setLocal: func(ctx context.Context, id, name string) error {
				c, err := v.store.FindContactByID(ctx, v.tenant, id)
				if err != nil {
					return err
				}
				c.Name = name
				return v.store.UpdateContact(ctx, v.tenant, &c)
			},
			localName: func(ctx context.Context, id string) (string, error) {
				c, err := v.store.FindContactByID(ctx, v.tenant, id)
				return c.Name, err
			},
			setRemote: func(ctx context.Context, mkID, name string) error {
				_, err := v.mk.UpdatePartner(ctx, metakocka.Partner{MkID: mkID, Customer: name})
				return err
			},
			remoteName: func(ctx context.Context, mkID string) (string, error) {
				ps, err := v.mk.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: mkID})
				if err != nil || len(ps) == 0 {
					return "", fmt.Errorf("partner %s not found: %v", mkID, err)
				}
				return ps[0].Customer, nil
			},
		}
	case mksync.EntityProduct:
		return subject{et: et, addMethod: "product_add",
			create: func(ctx context.Context) (string, error) { p, err := v.newProduct(ctx); return p.ID, err },
			setLocal: func(ctx context.Context, id, name string) error {
				p, err := v.store.FindProductByID(ctx, v.tenant, id)
				if err != nil {
					return err
				}
				p.Name = name
				return v.store.UpdateProduct(ctx, v.tenant, &p)
			},
			localName: func(ctx context.Context, id string) (string, error) {
				p, err := v.store.FindProductByID(ctx, v.tenant, id)
				return p.Name, err
			},
			setRemote: func(ctx context.Context, mkID, name string) error {
				_, err := v.mk.ProductUpdate(ctx, metakocka.Product{MkID: mkID, Name: name})
				return err
			},
			remoteName: func(ctx context.Context, mkID string) (string, error) {
				page, err := v.mk.ProductList(ctx, metakocka.ProductListRequest{MkID: mkID, Limit: 1})
				if err != nil || len(page.Products) == 0 {
					return "", fmt.Errorf("product %s not found: %v", mkID, err)
				}
				return page.Products[0].Name, nil
			},
		}
	}
	// Sales documents: the "name" is the status code (notes cannot be
	// changed on every document type by update_document).
	return subject{et: et, addMethod: "put_document",
		create: func(ctx context.Context) (string, error) { d, err := v.newDocument(ctx); return d.ID, err },
		setLocal: func(ctx context.Context, id, name string) error {
			d, err := v.store.FindSalesDocumentByID(ctx, v.tenant, id)
			if err != nil {
				return err
			}
			d.Status = name
			return v.store.UpdateSalesDocument(ctx, v.tenant, &d)
		},
		localName: func(ctx context.Context, id string) (string, error) {
			d, err := v.store.FindSalesDocumentByID(ctx, v.tenant, id)
			return d.Status, err
		},
		setRemote: func(ctx context.Context, mkID, name string) error {
			return v.mk.UpdateDocument(ctx, metakocka.DocumentUpdate{DocType: metakocka.DocSalesOrder, MkID: mkID, StatusCode: name})
		},
		remoteName: func(ctx context.Context, mkID string) (string, error) {
			d, err := v.mk.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: mkID})
			return d.StatusCode, err
		},
	}
}

// pushNew creates a record and pushes it; it returns its id and mk_id.
func (v *validation) pushNew(ctx context.Context, sub subject) (string, string, error) {
	id, err := sub.create(ctx)
	if err != nil {
		return "", "", err
	}
	if _, err := v.e.SyncToMetakocka(ctx, v.tenant, sub.et, id); err != nil {
		return id, "", err
	}
	m, err := v.e.Mapping(ctx, v.tenant, sub.et, id)
	if err != nil {
		return id, "", err
	}
	switch sub.et {
	case mksync.EntityProduct:
		v.createdProducts = append(v.createdProducts, m.MetakockaID)
	case mksync.EntitySalesDocument:
		v.createdDocs = append(v.createdDocs, [2]string{string(metakocka.DocSalesOrder), m.MetakockaID})
		d, _ := v.store.FindSalesDocumentByID(ctx, v.tenant, id)
		if len(d.Lines) > 0 {
			if pm, err := v.e.Mapping(ctx, v.tenant, mksync.EntityProduct, d.Lines[0].ProductID); err == nil {
				v.createdProducts = append(v.createdProducts, pm.MetakockaID)
			}
		}
	}
	return id, m.MetakockaID, nil
}

func (v *validation) checks(et mksync.EntityType) []vcheck {
	sub := v.subject(et)
	cs := []vcheck{
		{name: "create → push → mapping stored", run: func(ctx context.Context) (string, error) {
			id, mkID, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			m, err := v.store.FindMapping(ctx, v.tenant, et, id)
			if err != nil {
				return "", err
			}
			if m.State != mksync.StateSynced || m.MetakockaID == "" {
				return "", fmt.Errorf("mapping %+v is not synced", m)
			}
			return fmt.Sprintf("mk_id %s, count_code %s", mkID, m.CountCode), nil
		}},
		{name: "update → push → changed in Metakocka", run: func(ctx context.Context) (string, error) {
			id, mkID, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			want := v.name("upd")
			if err := sub.setLocal(ctx, id, want); err != nil {
				return "", err
			}
			res, err := v.e.SyncToMetakocka(ctx, v.tenant, et, id)
			if err != nil {
				return "", err
			}
			got, err := sub.remoteName(ctx, mkID)
			if err != nil {
				return "", err
			}
			if got != want || res.Updated != 1 {
				return "", fmt.Errorf("metakocka has %q (updated %d), want %q", got, res.Updated, want)
			}
			return "Metakocka now has " + got, nil
		}},
		{name: "change in Metakocka → pull → local updated", run: func(ctx context.Context) (string, error) {
			id, mkID, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			want := v.name("mk")
			if err := sub.setRemote(ctx, mkID, want); err != nil {
				return "", err
			}
			if _, err := v.e.SyncFromMetakocka(ctx, v.tenant, et, mkID); err != nil {
				return "", err
			}
			got, err := sub.localName(ctx, id)
			if err != nil {
				return "", err
			}
			if got != want {
				return "", fmt.Errorf("CRM has %q, want %q", got, want)
			}
			return "CRM now has " + got, nil
		}},
		{name: "unchanged resync makes zero writes", run: func(ctx context.Context) (string, error) {
			id, _, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			before := int64(0)
			if v.fake != nil {
				before = v.writes()
			}
			run := mksync.SyncRun{EntityType: et, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
			if err := v.e.Sync(ctx, v.tenant, &run, []string{id}); err != nil {
				return "", err
			}
			if run.Result.Skipped != 1 {
				return "", fmt.Errorf("result %+v, want 1 skipped", run.Result)
			}
			if v.fake != nil && v.writes() != before {
				return "", fmt.Errorf("%d write calls", v.writes()-before)
			}
			return "1 skipped, 0 write calls", nil
		}},
		{name: "no duplicate after commit-then-fail", fakeOnly: true, run: func(ctx context.Context) (string, error) {
			v.fake.FailNextMethod(v.company, sub.addMethod, 1, mkfake.FaultCommitThenFail)
			_, _, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			cc := map[string]int{}
			switch et {
			case mksync.EntityContact:
				for _, p := range v.fake.Partners(v.company) {
					cc[p.CountCode]++
				}
			case mksync.EntityProduct:
				for _, p := range v.fake.Products(v.company) {
					cc[p.CountCode]++
				}
			default:
				for _, d := range v.fake.Documents(v.company) {
					cc[d.DocType+"/"+d.CountCode]++
				}
			}
			for k, n := range cc {
				if n > 1 {
					return "", fmt.Errorf("count_code %s exists %d times", k, n)
				}
			}
			return fmt.Sprintf("1 record after a committed %s answered 503", sub.addMethod), nil
		}},
		{name: "transient faults retried", fakeOnly: true, run: func(ctx context.Context) (string, error) {
			v.fake.FailNext(v.company, 1, mkfake.FaultHTTP503)
			v.fake.FailNext(v.company, 1, mkfake.FaultRateLimit)
			_, mkID, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			return "synced as " + mkID + " after HTTP 503 and 429", nil
		}},
		{name: "bad input not retried, reported with errorId", skip: contactSkip(et), run: func(ctx context.Context) (string, error) {
			id, err := sub.create(ctx)
			if err != nil {
				return "", err
			}
			if err := v.breakRecord(ctx, et, id); err != nil {
				return "", err
			}
			before := int64(0)
			if v.fake != nil {
				before = v.fake.Stats().Total
			}
			res, err := v.e.SyncToMetakocka(ctx, v.tenant, et, id)
			if err == nil || len(res.Errors) != 1 || res.Errors[0].ErrorID == "" {
				return "", fmt.Errorf("want a failure with an errorId, got %+v, %v", res, err)
			}
			if mksync.ErrorCode(err) != mksync.EINVALID {
				return "", fmt.Errorf("code %s, want invalid", mksync.ErrorCode(err))
			}
			if _, ferr := v.store.FindErrorRecord(ctx, v.tenant, res.Errors[0].ErrorID); ferr != nil {
				return "", ferr
			}
			if v.fake != nil && v.fake.Stats().Total != before {
				return "", fmt.Errorf("%d Metakocka calls", v.fake.Stats().Total-before)
			}
			return "errorId " + res.Errors[0].ErrorID, nil
		}},
	}
	for _, p := range []mksync.ConflictPolicy{mksync.NewestWins, mksync.CRMWins, mksync.MetakockaWins} {
		cs = append(cs, vcheck{name: "conflict recorded under " + string(p), run: func(ctx context.Context) (string, error) {
			if err := v.setPolicy(ctx, p); err != nil {
				return "", err
			}
			defer func() { _ = v.setPolicy(ctx, mksync.NewestWins) }()
			id, mkID, err := v.pushNew(ctx, sub)
			if err != nil {
				return "", err
			}
			if err := sub.setLocal(ctx, id, v.name("crm")); err != nil {
				return "", err
			}
			if err := sub.setRemote(ctx, mkID, v.name("mk")); err != nil {
				return "", err
			}
			run := mksync.SyncRun{EntityType: et, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
			if err := v.e.Sync(ctx, v.tenant, &run, []string{id}); err != nil {
				return "", err
			}
			if run.Result.Conflicts != 1 {
				return "", fmt.Errorf("result %+v, want 1 conflict", run.Result)
			}
			ers, _, err := v.store.FindErrorRecords(ctx, v.tenant, mksync.ErrorFilter{EntityID: id})
			if err != nil || len(ers) == 0 || ers[0].Code != mksync.ECONFLICT {
				return "", fmt.Errorf("no conflict record: %v", err)
			}
			m, _ := v.store.FindMapping(ctx, v.tenant, et, id)
			return fmt.Sprintf("errorId %s, mapping %s", ers[0].ID, m.State), nil
		}})
	}
	cs = append(cs, vcheck{name: "second tenant sees nothing of the first", fakeOnly: true, run: func(ctx context.Context) (string, error) {
		id, _, err := v.pushNew(ctx, sub)
		if err != nil {
			return "", err
		}
		other, err := v.addTenant(ctx, "17", "other-secret")
		if err != nil {
			return "", err
		}
		recs, _, err := v.e.ListNotInCRM(ctx, other, et, mksync.Page{})
		if err != nil {
			return "", err
		}
		if len(recs) > 0 {
			return "", fmt.Errorf("the second tenant sees %d Metakocka records", len(recs))
		}
		if _, err := v.e.SyncToMetakocka(ctx, other, et, id); mksync.ErrorCode(err) != mksync.ENOTFOUND {
			return "", fmt.Errorf("the second tenant could reach the first's record: %v", err)
		}
		return "no remote records, the first tenant's record is not found", nil
	}})
	if et == mksync.EntitySalesDocument {
		cs = append(cs, vcheck{name: "document with missing product refused whole", run: func(ctx context.Context) (string, error) {
			d, err := v.newDocument(ctx)
			if err != nil {
				return "", err
			}
			p, err := v.store.FindProductByID(ctx, v.tenant, d.Lines[0].ProductID)
			if err != nil {
				return "", err
			}
			p.TaxRate = decimal.RequireFromString("12.34") // no Metakocka tax code
			if err := v.store.UpdateProduct(ctx, v.tenant, &p); err != nil {
				return "", err
			}
			res, err := v.e.SyncToMetakocka(ctx, v.tenant, et, d.ID)
			if err == nil || res.Failed != 1 {
				return "", fmt.Errorf("the document was not refused: %+v", res)
			}
			if m, err := v.store.FindMapping(ctx, v.tenant, et, d.ID); err == nil && m.MetakockaID != "" {
				return "", fmt.Errorf("the document reached Metakocka as %s", m.MetakockaID)
			}
			return res.Errors[0].Error, nil
		}})
	}
	return cs
}

// breakRecord makes a record Metakocka cannot take, without breaking the
// store's own validation.
func (v *validation) breakRecord(ctx context.Context, et mksync.EntityType, id string) error {
	switch et {
	case mksync.EntityProduct:
		p, err := v.store.FindProductByID(ctx, v.tenant, id)
		if err != nil {
			return err
		}
		p.TaxRate = decimal.RequireFromString("12.34")
		return v.store.UpdateProduct(ctx, v.tenant, &p)
	}
	d, err := v.store.FindSalesDocumentByID(ctx, v.tenant, id)
	if err != nil {
		return err
	}
	d.Lines[0].TaxRate = decimal.RequireFromString("12.34")
	return v.store.UpdateSalesDocument(ctx, v.tenant, &d)
}

// contactSkip explains why contacts have no bad-input check: the CRM
// validates contacts against Metakocka's partner limits, so no malformed
// contact can be stored to be pushed.
func contactSkip(et mksync.EntityType) string {
	if et == mksync.EntityContact {
		return "the CRM refuses any contact Metakocka would refuse"
	}
	return ""
}
