package validate

import (
	"context"
	"fmt"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// localTenant is one tenant of the in-process world: its records in the
// store, synced by the engine.
type localTenant struct {
	store mksync.Store
	e     *engine.Engine
	app   *app.App
	id    string
	// pushed, when set, hears of every record a push created in Metakocka.
	pushed func(ctx context.Context, et mksync.EntityType, id, mkID string)
}

func (t *localTenant) Create(ctx context.Context, rec any) error {
	switch r := rec.(type) {
	case *mksync.Contact:
		return t.store.CreateContact(ctx, t.id, r)
	case *mksync.Product:
		return t.store.CreateProduct(ctx, t.id, r)
	case *mksync.SalesDocument:
		return t.store.CreateSalesDocument(ctx, t.id, r)
	}
	return fmt.Errorf("validate: cannot create a %T", rec)
}

func (t *localTenant) Get(ctx context.Context, et mksync.EntityType, id string) (any, error) {
	switch et {
	case mksync.EntityContact:
		c, err := t.store.FindContactByID(ctx, t.id, id)
		return &c, err
	case mksync.EntityProduct:
		p, err := t.store.FindProductByID(ctx, t.id, id)
		return &p, err
	}
	d, err := t.store.FindSalesDocumentByID(ctx, t.id, id)
	return &d, err
}

// Put is ENOTFOUND for another tenant's record before any validation of
// the record's references, as over the API.
func (t *localTenant) Put(ctx context.Context, rec any) error {
	et, id, _ := meta(rec)
	if _, err := t.Get(ctx, et, id); err != nil {
		return err
	}
	switch r := rec.(type) {
	case *mksync.Contact:
		c := *r
		return t.store.UpdateContact(ctx, t.id, &c)
	case *mksync.Product:
		p := *r
		return t.store.UpdateProduct(ctx, t.id, &p)
	case *mksync.SalesDocument:
		d := *r
		return t.store.UpdateSalesDocument(ctx, t.id, &d)
	}
	return fmt.Errorf("validate: cannot update a %T", rec)
}

func (t *localTenant) Delete(ctx context.Context, et mksync.EntityType, id string) error {
	switch et {
	case mksync.EntityContact:
		return t.store.DeleteContact(ctx, t.id, id)
	case mksync.EntityProduct:
		return t.store.DeleteProduct(ctx, t.id, id)
	}
	return t.store.DeleteSalesDocument(ctx, t.id, id)
}

func (t *localTenant) Push(ctx context.Context, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	res, err := t.e.SyncToMetakocka(ctx, t.id, et, id)
	if err == nil && res.Created > 0 && t.pushed != nil {
		if m, merr := t.e.Mapping(ctx, t.id, et, id); merr == nil {
			t.pushed(ctx, et, id, m.MetakockaID)
		}
	}
	return res, err
}

func (t *localTenant) Pull(ctx context.Context, et mksync.EntityType, mkID string) (mksync.SyncResult, error) {
	return t.e.SyncFromMetakocka(ctx, t.id, et, mkID)
}

func (t *localTenant) Run(ctx context.Context, et mksync.EntityType, ids []string) (mksync.SyncRun, error) {
	run := mksync.SyncRun{EntityType: et, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI}
	err := t.app.SyncAndWait(ctx, t.id, &run, ids, 0)
	return run, err
}

// Mapping is ENOTFOUND when the tenant has no record id, as over the API.
func (t *localTenant) Mapping(ctx context.Context, et mksync.EntityType, id string) (mksync.Mapping, bool, error) {
	if _, err := t.Get(ctx, et, id); err != nil {
		return mksync.Mapping{}, false, err
	}
	m, err := t.e.Mapping(ctx, t.id, et, id)
	if mksync.ErrorCode(err) == mksync.ENOTFOUND {
		return mksync.Mapping{}, false, nil
	}
	return m, err == nil, err
}

func (t *localTenant) NotInCRM(ctx context.Context, et mksync.EntityType) ([]mksync.RemoteRecord, error) {
	recs, _, err := t.e.ListNotInCRM(ctx, t.id, et, mksync.Page{})
	return recs, err
}

func (t *localTenant) ErrorRecord(ctx context.Context, errorID string) (mksync.ErrorRecord, error) {
	return t.store.FindErrorRecord(ctx, t.id, errorID)
}

func (t *localTenant) ErrorRecords(ctx context.Context, entityID string) ([]mksync.ErrorRecord, error) {
	ers, _, err := t.store.FindErrorRecords(ctx, t.id, mksync.ErrorFilter{EntityID: entityID})
	return ers, err
}

// simulator is the in-process world's Metakocka simulator, seen from the
// validated company.
type simulator struct {
	fake    *mkfake.Server
	company string
}

func (s *simulator) FailNextAdd(et mksync.EntityType) {
	s.fake.FailNextMethod(s.company, s.AddMethod(et), 1, mkfake.FaultCommitThenFail)
}

func (s *simulator) FailNextTransient() {
	s.fake.FailNext(s.company, 1, mkfake.FaultHTTP503)
	s.fake.FailNext(s.company, 1, mkfake.FaultRateLimit)
}

func (s *simulator) AddMethod(et mksync.EntityType) string {
	switch et {
	case mksync.EntityContact:
		return "add_partner"
	case mksync.EntityProduct:
		return "product_add"
	}
	return "put_document"
}

func (s *simulator) CountCodes(et mksync.EntityType) map[string]int {
	cc := map[string]int{}
	switch et {
	case mksync.EntityContact:
		for _, p := range s.fake.Partners(s.company) {
			cc[p.CountCode]++
		}
	case mksync.EntityProduct:
		for _, p := range s.fake.Products(s.company) {
			cc[p.CountCode]++
		}
	default:
		for _, d := range s.fake.Documents(s.company) {
			cc[d.DocType+"/"+d.CountCode]++
		}
	}
	return cc
}

func (s *simulator) Writes() int64 {
	st := s.fake.Stats()
	var n int64
	for _, m := range []string{"add_partner", "update_partner", "product_add", "product_update", "put_document", "update_document"} {
		n += st.Calls(m, mkfake.OutcomeOK) + st.Calls(m, mkfake.OutcomeCommitThenFail)
	}
	return n
}

func (s *simulator) Calls() int64 { return s.fake.Stats().Total }

// direct reaches the in-process world's store settings and the tenant's
// Metakocka account. The checked field is a partner's customer name, a
// product's name, a sales order's status code.
type direct struct {
	w      *world
	tenant string
}

func (d *direct) SetConflictPolicy(ctx context.Context, p mksync.ConflictPolicy) error {
	c, err := d.w.store.FindCredentials(ctx, d.tenant)
	if err != nil {
		return err
	}
	c.Settings.ConflictPolicy = p
	return d.w.store.SetCredentials(ctx, d.tenant, &c)
}

func (d *direct) SetRemote(ctx context.Context, et mksync.EntityType, mkID, value string) error {
	var err error
	switch et {
	case mksync.EntityContact:
		_, err = d.w.mk.UpdatePartner(ctx, metakocka.Partner{MkID: mkID, Customer: value})
	case mksync.EntityProduct:
		_, err = d.w.mk.ProductUpdate(ctx, metakocka.Product{MkID: mkID, Name: value})
	default:
		err = d.w.mk.UpdateDocument(ctx, metakocka.DocumentUpdate{DocType: metakocka.DocSalesOrder, MkID: mkID, StatusCode: value})
	}
	return err
}

func (d *direct) Remote(ctx context.Context, et mksync.EntityType, mkID string) (string, error) {
	switch et {
	case mksync.EntityContact:
		ps, err := d.w.mk.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: mkID})
		if err != nil || len(ps) == 0 {
			return "", fmt.Errorf("partner %s not found: %v", mkID, err)
		}
		return ps[0].Customer, nil
	case mksync.EntityProduct:
		page, err := d.w.mk.ProductList(ctx, metakocka.ProductListRequest{MkID: mkID, Limit: 1})
		if err != nil || len(page.Products) == 0 {
			return "", fmt.Errorf("product %s not found: %v", mkID, err)
		}
		return page.Products[0].Name, nil
	}
	doc, err := d.w.mk.GetDocument(ctx, metakocka.GetDocumentRequest{DocType: metakocka.DocSalesOrder, DocID: mkID})
	return doc.StatusCode, err
}

// AddRemote makes a record in the tenant's Metakocka account by hand, not
// through mksync (no count_code of mksync): a partner with the e-mail key,
// or a product with the code key. Partners cannot be deleted in Metakocka;
// a product is removed with DeleteRemote.
func (d *direct) AddRemote(ctx context.Context, et mksync.EntityType, key string) (string, error) {
	switch et {
	case mksync.EntityContact:
		res, err := d.w.mk.AddPartner(ctx, metakocka.Partner{Customer: key, Street: "Validation street 1", PostNumber: "1000",
			Place: "Ljubljana", Country: "SI", PartnerContact: &metakocka.Contact{Name: key, Email: key}})
		return res.MkID, err
	case mksync.EntityProduct:
		res, err := d.w.mk.ProductAdd(ctx, metakocka.Product{Code: key, Name: key, Unit: "kos"})
		return res.MkID, err
	}
	return "", fmt.Errorf("no record of kind %s is made by hand", et)
}

// DeleteRemote deletes a product AddRemote made.
func (d *direct) DeleteRemote(ctx context.Context, et mksync.EntityType, mkID string) error {
	if et != mksync.EntityProduct {
		return nil
	}
	_, err := d.w.mk.ProductDelete(ctx, metakocka.ProductKey{MkID: mkID})
	return err
}

// Preview runs a preview of a push of ids and reads its whole plan.
func (t *localTenant) Preview(ctx context.Context, et mksync.EntityType, ids []string) (mksync.SyncRun, []mksync.PlanItem, error) {
	run := mksync.SyncRun{EntityType: et, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerCLI, DryRun: true}
	if err := t.app.SyncAndWait(ctx, t.id, &run, ids, 0); err != nil {
		return run, nil, err
	}
	var plan []mksync.PlanItem
	for after := ""; ; {
		items, next, err := t.store.FindPlanItems(ctx, t.id, run.ID, mksync.Page{After: after, Limit: mksync.MaxPageLimit})
		if err != nil {
			return run, nil, err
		}
		plan = append(plan, items...)
		if next == "" {
			return run, plan, nil
		}
		after = next
	}
}
