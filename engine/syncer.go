package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
)

// pushByID reads the local record id of type et and pushes it.
func (s *session) pushByID(ctx context.Context, et mksync.EntityType, id string, force bool) recordResult {
	o, ok := s.ops(et)
	if !ok {
		return s.fail(ctx, et, mksync.ToMetakocka, id, "", mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et))
	}
	return o.pushByID(ctx, id, force)
}

// pullByMkID reads the Metakocka record mkID of type et and pulls it.
func (s *session) pullByMkID(ctx context.Context, et mksync.EntityType, mkID string, force bool) recordResult {
	o, ok := s.ops(et)
	if !ok {
		return s.fail(ctx, et, mksync.FromMetakocka, mkID, "", mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et))
	}
	return o.pullByMkID(ctx, mkID, force)
}

// single runs one explicit record sync as a finished SyncRun and returns
// its result; a failed record is also returned as an error with the
// record's code and errorId.
func (e *Engine) single(ctx context.Context, tenantID string, et mksync.EntityType, dir mksync.Direction, id string) (mksync.SyncResult, error) {
	if err := checkEntity(et); err != nil {
		return mksync.SyncResult{}, err
	}
	s, err := e.productSession(ctx, tenantID, et)
	if err != nil {
		return mksync.SyncResult{}, err
	}
	return e.singleIn(ctx, s, et, dir, id)
}

// singleIn is single in the session s (which may carry a person's
// decision, such as createNew).
func (e *Engine) singleIn(ctx context.Context, s *session, et mksync.EntityType, dir mksync.Direction, id string) (mksync.SyncResult, error) {
	tenantID := s.tenantID
	now := e.clock.Now()
	run := mksync.SyncRun{EntityType: et, Direction: dir, Trigger: mksync.TriggerAPI, Status: mksync.RunRunning,
		Total: 1, StartedAt: &now, Checkpoint: checkpoint{IDs: []string{id}}.encode(),
		Result: mksync.SyncResult{Success: true, Errors: []mksync.RecordError{}}}
	if err := e.store.CreateSyncRun(ctx, tenantID, &run); err != nil {
		return mksync.SyncResult{}, fmt.Errorf("create sync run: %w", err)
	}
	var r recordResult
	if dir == mksync.ToMetakocka {
		r = s.pushByID(ctx, et, id, true)
	} else {
		r = s.pullByMkID(ctx, et, id, true)
	}
	if r.interrupted {
		// Nothing happened that counts: the run did not either.
		err := fmt.Errorf("sync %s %s %s interrupted: %w", et, id, dir, context.Cause(ctx))
		return run.Result, errors.Join(err, e.finish(ctx, tenantID, &run, mksync.RunCancelled, nil))
	}
	if mon := e.cfg.Monitor; mon != nil {
		mon.RecordSynced(observe.RecordEvent{TenantID: tenantID, Entity: et, Direction: dir, Outcome: r.out.recordOutcome(), Code: r.rec.Code})
	}
	run.Result = r.result()
	run.Processed = 1
	run.Checkpoint = checkpoint{IDs: []string{id}, Pos: 1}.encode()
	status := mksync.RunSucceeded
	if r.out == outFailed {
		status = mksync.RunPartial
	}
	if err := e.finish(ctx, tenantID, &run, status, nil); err != nil {
		return run.Result, err
	}
	if r.out == outFailed {
		return run.Result, &mksync.Error{
			Code:    r.rec.Code,
			Message: fmt.Sprintf("%s (errorId %s)", r.rec.Error, r.rec.ErrorID),
			Details: map[string]string{"errorId": r.rec.ErrorID},
		}
	}
	return run.Result, nil
}

func checkEntity(et mksync.EntityType) error {
	switch et {
	case mksync.EntityContact, mksync.EntityProduct, mksync.EntitySalesDocument:
		return nil
	}
	return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
}

// SyncToMetakocka pushes the tenant's record id of type et now: created
// (idempotently), updated, or skipped when unchanged. As an explicit sync
// of one record it settles an open conflict in favour of the CRM. The
// result is also kept as a finished SyncRun. A failed record returns the
// result and an error with the record's code (EINVALID: Metakocka rejected
// it; EUPSTREAM: Metakocka failed; ENOTFOUND: no such record) whose
// Details carry the errorId of its error record.
func (e *Engine) SyncToMetakocka(ctx context.Context, tenantID string, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	return e.single(ctx, tenantID, et, mksync.ToMetakocka, id)
}

// SyncFromMetakocka pulls the Metakocka record metakockaID of type et into
// the tenant's CRM now (see SyncToMetakocka; an open conflict is settled in
// favour of Metakocka). A document's partner and products are pulled first.
func (e *Engine) SyncFromMetakocka(ctx context.Context, tenantID string, et mksync.EntityType, metakockaID string) (mksync.SyncResult, error) {
	return e.single(ctx, tenantID, et, mksync.FromMetakocka, metakockaID)
}

// LocalRecord is a CRM record as listed by ListNotInMetakocka.
type LocalRecord struct {
	EntityType mksync.EntityType `json:"entityType"`
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	// State is the mapping's state, or "unsynced" when there is none.
	State mksync.SyncState `json:"state"`
}

// ListNotInMetakocka lists the tenant's records of et that are not in
// Metakocka yet (no mapping, or an unfinished create), a page at a time.
func (e *Engine) ListNotInMetakocka(ctx context.Context, tenantID string, et mksync.EntityType, p mksync.Page) ([]LocalRecord, string, error) {
	f := mksync.ListFilter{State: mksync.StateUnsynced, Page: p}
	var out []LocalRecord
	var next string
	var err error
	switch et {
	case mksync.EntityContact:
		var cs []mksync.Contact
		cs, next, err = e.store.FindContacts(ctx, tenantID, f)
		for _, c := range cs {
			out = append(out, LocalRecord{et, c.ID, c.Name, mksync.StateUnsynced})
		}
	case mksync.EntityProduct:
		var ps []mksync.Product
		ps, next, err = e.store.FindProducts(ctx, tenantID, f)
		for _, p := range ps {
			out = append(out, LocalRecord{et, p.ID, p.Code + " " + p.Name, mksync.StateUnsynced})
		}
	case mksync.EntitySalesDocument:
		var ds []mksync.SalesDocument
		ds, next, err = e.store.FindSalesDocuments(ctx, tenantID, f)
		for _, d := range ds {
			out = append(out, LocalRecord{et, d.ID, string(d.Kind) + " " + d.Number, mksync.StateUnsynced})
		}
	default:
		return nil, "", checkEntity(et)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list unsynced %s: %w", et, err)
	}
	return out, next, nil
}

// ListNotInCRM lists the Metakocka records of et that no CRM record is
// mapped to, a page at a time; the cursor is opaque. Products come from
// product_list windows; documents from search windows of each synced type;
// partners — Metakocka has no partner listing — from the partners of those
// documents (a partner named by several documents may appear on more than
// one page).
func (e *Engine) ListNotInCRM(ctx context.Context, tenantID string, et mksync.EntityType, p mksync.Page) ([]mksync.RemoteRecord, string, error) {
	if err := checkEntity(et); err != nil {
		return nil, "", err
	}
	s, err := e.session(ctx, tenantID)
	if err != nil {
		return nil, "", err
	}
	limit := p.EffectiveLimit()
	// The cursor is "<type index>:<offset>" (products: type index 0).
	t, off := 0, 0
	if p.After != "" {
		a, b, ok := strings.Cut(p.After, ":")
		var e1, e2 error
		t, e1 = strconv.Atoi(a)
		off, e2 = strconv.Atoi(b)
		if !ok || e1 != nil || e2 != nil || t < 0 || off < 0 || t >= len(syncedDocTypes) {
			return nil, "", mksync.Errorf(mksync.EINVALID, "malformed cursor")
		}
	}
	if et == mksync.EntityProduct {
		return s.unmappedProducts(ctx, off, limit)
	}
	out := []mksync.RemoteRecord{}
	seen := map[string]bool{}
	unmapped := func(et mksync.EntityType, mkID string) (bool, error) {
		_, ok, err := s.localIDByMkID(ctx, et, mkID)
		return !ok, err
	}
	for ; t < len(syncedDocTypes); t, off = t+1, 0 {
		for {
			page, err := s.mk.Search(ctx, metakocka.SearchRequest{DocType: syncedDocTypes[t], FullDocuments: true, Offset: off, OrderDirection: "asc"})
			if err != nil {
				return nil, "", fmt.Errorf("search Metakocka %s: %w", syncedDocTypes[t], err)
			}
			for i, d := range page.Results {
				if len(out) == limit {
					return out, fmt.Sprintf("%d:%d", t, off+i), nil
				}
				rec := mksync.RemoteRecord{EntityType: et, MetakockaID: d.MkID, CountCode: d.CountCode, Title: string(syncedDocTypes[t]) + " " + d.CountCode}
				if et == mksync.EntityContact {
					if d.Partner == nil || d.Partner.MkID == "" || seen[d.Partner.MkID] {
						continue
					}
					seen[d.Partner.MkID] = true
					rec = mksync.RemoteRecord{EntityType: et, MetakockaID: d.Partner.MkID, CountCode: d.Partner.CountCode, Title: d.Partner.Customer}
				}
				if ok, err := unmapped(et, rec.MetakockaID); err != nil {
					return nil, "", err
				} else if ok {
					out = append(out, rec)
				}
			}
			if len(page.Results) < page.Limit || len(page.Results) == 0 {
				break
			}
			off += len(page.Results)
		}
	}
	return out, "", nil
}

// unmappedProducts is ListNotInCRM of products: up to limit Metakocka
// products from offset off on that no CRM product is mapped to.
func (s *session) unmappedProducts(ctx context.Context, off, limit int) ([]mksync.RemoteRecord, string, error) {
	out := []mksync.RemoteRecord{}
	for len(out) < limit {
		page, err := s.mk.ProductList(ctx, metakocka.ProductListRequest{Offset: off, Limit: metakocka.MaxProductWindow})
		if err != nil {
			return nil, "", fmt.Errorf("list Metakocka products: %w", err)
		}
		for i, mp := range page.Products {
			if len(out) == limit {
				return out, fmt.Sprintf("0:%d", off+i), nil
			}
			if _, mapped, err := s.localIDByMkID(ctx, mksync.EntityProduct, mp.MkID); err != nil {
				return nil, "", err
			} else if !mapped {
				out = append(out, mksync.RemoteRecord{EntityType: mksync.EntityProduct, MetakockaID: mp.MkID, CountCode: mp.CountCode, Title: strings.TrimSpace(mp.Code + " " + mp.Name)})
			}
		}
		if len(page.Products) < page.Limit {
			return out, "", nil
		}
		off += len(page.Products)
	}
	return out, fmt.Sprintf("0:%d", off), nil
}
