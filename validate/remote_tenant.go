package validate

import (
	"context"
	"fmt"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/client"
)

// apiTenant is one tenant of a running deployment, reached through its
// REST API with the tenant's token.
type apiTenant struct {
	c *client.Client
	// created, when set, hears of every record Create made.
	created func(et mksync.EntityType, id string)
}

func (t *apiTenant) Create(ctx context.Context, rec any) error {
	var et mksync.EntityType
	switch r := rec.(type) {
	case *mksync.Contact:
		got, err := t.c.CreateContact(ctx, *r)
		if err != nil {
			return err
		}
		*r, et = got.Contact, mksync.EntityContact
	case *mksync.Product:
		got, err := t.c.CreateProduct(ctx, *r)
		if err != nil {
			return err
		}
		*r, et = got.Product, mksync.EntityProduct
	case *mksync.SalesDocument:
		got, err := t.c.CreateSalesDocument(ctx, *r)
		if err != nil {
			return err
		}
		*r, et = got.SalesDocument, mksync.EntitySalesDocument
	default:
		return fmt.Errorf("validate: cannot create a %T", rec)
	}
	if t.created != nil {
		t.created(et, idOf(rec))
	}
	return nil
}

func (t *apiTenant) Get(ctx context.Context, et mksync.EntityType, id string) (any, error) {
	switch et {
	case mksync.EntityContact:
		r, err := t.c.Contact(ctx, id)
		return &r.Contact, err
	case mksync.EntityProduct:
		r, err := t.c.Product(ctx, id)
		return &r.Product, err
	}
	r, err := t.c.SalesDocument(ctx, id)
	return &r.SalesDocument, err
}

func (t *apiTenant) Put(ctx context.Context, rec any) error {
	var err error
	switch r := rec.(type) {
	case *mksync.Contact:
		_, err = t.c.UpdateContact(ctx, *r)
	case *mksync.Product:
		_, err = t.c.UpdateProduct(ctx, *r)
	case *mksync.SalesDocument:
		_, err = t.c.UpdateSalesDocument(ctx, *r)
	default:
		err = fmt.Errorf("validate: cannot update a %T", rec)
	}
	return err
}

func (t *apiTenant) Delete(ctx context.Context, et mksync.EntityType, id string) error {
	switch et {
	case mksync.EntityContact:
		return t.c.DeleteContact(ctx, id)
	case mksync.EntityProduct:
		return t.c.DeleteProduct(ctx, id)
	}
	return t.c.DeleteSalesDocument(ctx, id)
}

func (t *apiTenant) Push(ctx context.Context, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	return t.c.SyncToMetakocka(ctx, et, id)
}

func (t *apiTenant) Pull(ctx context.Context, et mksync.EntityType, mkID string) (mksync.SyncResult, error) {
	return t.c.SyncFromMetakocka(ctx, et, mkID)
}

// Run queues a sync run by id and waits for it.
func (t *apiTenant) Run(ctx context.Context, et mksync.EntityType, ids []string) (mksync.SyncRun, error) {
	runID, err := t.c.SyncManyToMetakocka(ctx, et, ids)
	if err != nil {
		return mksync.SyncRun{}, fmt.Errorf("queue: %w", err)
	}
	return t.c.WaitSyncRun(ctx, runID, client.WaitOptions{Interval: 250 * time.Millisecond})
}

func (t *apiTenant) Mapping(ctx context.Context, et mksync.EntityType, id string) (mksync.Mapping, bool, error) {
	return t.c.Mapping(ctx, et, id)
}

func (t *apiTenant) NotInCRM(ctx context.Context, et mksync.EntityType) ([]mksync.RemoteRecord, error) {
	p, err := t.c.ListNotInCRM(ctx, et, client.PageOptions{})
	return p.Items, err
}

func (t *apiTenant) ErrorRecord(ctx context.Context, errorID string) (mksync.ErrorRecord, error) {
	return t.c.ErrorRecord(ctx, errorID)
}

func (t *apiTenant) ErrorRecords(ctx context.Context, entityID string) ([]mksync.ErrorRecord, error) {
	p, err := t.c.ErrorRecords(ctx, client.ErrorListOptions{EntityID: entityID})
	return p.Items, err
}

// Preview queues a preview of a push of ids, waits for it and reads its
// whole plan.
func (t *apiTenant) Preview(ctx context.Context, et mksync.EntityType, ids []string) (mksync.SyncRun, []mksync.PlanItem, error) {
	runID, err := t.c.PreviewManyToMetakocka(ctx, et, ids)
	if err != nil {
		return mksync.SyncRun{}, nil, fmt.Errorf("queue preview: %w", err)
	}
	run, err := t.c.WaitSyncRun(ctx, runID, client.WaitOptions{Interval: 250 * time.Millisecond})
	if err != nil {
		return run, nil, err
	}
	var plan []mksync.PlanItem
	for after := ""; ; {
		p, err := t.c.SyncRunPlan(ctx, runID, client.PageOptions{Cursor: after, Limit: mksync.MaxPageLimit})
		if err != nil {
			return run, nil, err
		}
		plan = append(plan, p.Items...)
		if p.NextCursor == "" {
			return run, plan, nil
		}
		after = p.NextCursor
	}
}
