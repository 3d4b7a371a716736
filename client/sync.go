package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mksync/mksync"
)

// entityPaths are the URL segment and body field names of an entity type's
// sync routes (the names the original CRM routes use).
type entityPaths struct {
	segment, idField, idsField string
}

func pathsOf(et mksync.EntityType) (entityPaths, error) {
	switch et {
	case mksync.EntityContact:
		return entityPaths{"contacts", "contactId", "contactIds"}, nil
	case mksync.EntityProduct:
		return entityPaths{"products", "productId", "productIds"}, nil
	case mksync.EntitySalesDocument:
		return entityPaths{"sales-documents", "documentId", "documentIds"}, nil
	}
	return entityPaths{}, mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
}

func syncPath(p entityPaths, route string) string {
	return path("api", "integrations", "metakocka", p.segment, route)
}

// resultOf makes Errors non-nil, as the server answers it.
func resultOf(r mksync.SyncResult) mksync.SyncResult {
	if r.Errors == nil {
		r.Errors = []mksync.RecordError{}
	}
	return r
}

// SyncToMetakocka pushes the CRM record id of type et to Metakocka now and
// returns the outcome (created, updated, or skipped when unchanged).
// A per-record failure is in the result (Failed, Errors), not an error;
// errors are ENOTFOUND for an id the tenant does not have, ERATELIMITED
// (sync routes allow 10 calls a minute by default) and EUPSTREAM when
// Metakocka cannot be reached. Not retried on failure: a POST.
func (c *Client) SyncToMetakocka(ctx context.Context, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	p, err := pathsOf(et)
	if err != nil {
		return mksync.SyncResult{}, err
	}
	var out mksync.SyncResult
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-to-metakocka"),
		body: map[string]string{p.idField: id}, out: &out})
	return resultOf(out), err
}

// SyncManyToMetakocka queues a background push of the records ids
// (POST sync-to-metakocka?bulk=true) and returns the sync run's id; follow
// it with WaitSyncRun. ENOTFOUND (with the missing ids in Details) when
// any id is not the tenant's; nothing is queued then.
func (c *Client) SyncManyToMetakocka(ctx context.Context, et mksync.EntityType, ids []string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var out runAccepted
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-to-metakocka"),
		query: url.Values{"bulk": {"true"}}, body: map[string][]string{p.idsField: ids}, out: &out})
	return out.RunID, err
}

// SyncFromMetakocka pulls the Metakocka record metakockaID (its mk_id) of
// type et into the CRM now, creating or updating the local record.
func (c *Client) SyncFromMetakocka(ctx context.Context, et mksync.EntityType, metakockaID string) (mksync.SyncResult, error) {
	p, err := pathsOf(et)
	if err != nil {
		return mksync.SyncResult{}, err
	}
	var out mksync.SyncResult
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-from-metakocka"),
		body: map[string]string{"metakockaId": metakockaID}, out: &out})
	return resultOf(out), err
}

// ListNotInCRM returns one page of the Metakocka records of type et that no
// CRM record is mapped to (GET sync-from-metakocka). It reads Metakocka, so
// it counts against the sync rate limit.
func (c *Client) ListNotInCRM(ctx context.Context, et mksync.EntityType, o PageOptions) (Page[mksync.RemoteRecord], error) {
	p, err := pathsOf(et)
	if err != nil {
		return Page[mksync.RemoteRecord]{}, err
	}
	var out Page[mksync.RemoteRecord]
	_, err = c.do(ctx, request{method: http.MethodGet, path: syncPath(p, "sync-from-metakocka"), query: o.values(), out: &out})
	return out, err
}

// SyncAllToMetakocka queues a background push of every record of type et,
// or of ids only when given, and returns the sync run's id.
func (c *Client) SyncAllToMetakocka(ctx context.Context, et mksync.EntityType, ids ...string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var body any
	if len(ids) > 0 {
		body = map[string][]string{p.idsField: ids}
	}
	var out runAccepted
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-all-to-metakocka"), body: body, out: &out})
	return out.RunID, err
}

// SyncAllFromMetakocka queues a background pull of every Metakocka record
// of type et, or of metakockaIDs only when given, and returns the run's id.
func (c *Client) SyncAllFromMetakocka(ctx context.Context, et mksync.EntityType, metakockaIDs ...string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var body any
	if len(metakockaIDs) > 0 {
		body = map[string][]string{"metakockaIds": metakockaIDs}
	}
	var out runAccepted
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-all-from-metakocka"), body: body, out: &out})
	return out.RunID, err
}

type runAccepted struct {
	RunID string `json:"runId"`
}

// Mappings returns one page of the tenant's mappings of type et, in id
// order; o.Search matches mk_id or count_code.
func (c *Client) Mappings(ctx context.Context, et mksync.EntityType, o ListOptions) (Page[mksync.Mapping], error) {
	p, err := pathsOf(et)
	if err != nil {
		return Page[mksync.Mapping]{}, err
	}
	var out Page[mksync.Mapping]
	_, err = c.do(ctx, request{method: http.MethodGet, path: syncPath(p, "mappings"), query: o.query(), out: &out})
	return out, err
}

// Mapping returns the mapping of the CRM record id of type et; found is
// false when the record was never synced. ENOTFOUND when the tenant has no
// such record.
func (c *Client) Mapping(ctx context.Context, et mksync.EntityType, id string) (m mksync.Mapping, found bool, err error) {
	p, err := pathsOf(et)
	if err != nil {
		return mksync.Mapping{}, false, err
	}
	var out Page[mksync.Mapping]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: syncPath(p, "mappings"), query: url.Values{"id": {id}}, out: &out}); err != nil {
		return mksync.Mapping{}, false, err
	}
	if len(out.Items) == 0 {
		return mksync.Mapping{}, false, nil
	}
	return out.Items[0], true, nil
}

// SyncRunListOptions narrows a list of sync runs; zero fields keep all.
type SyncRunListOptions struct {
	EntityType mksync.EntityType
	Direction  mksync.Direction
	Status     mksync.RunStatus
	PageOptions
}

// SyncRuns returns one page of the tenant's sync runs, newest first.
func (c *Client) SyncRuns(ctx context.Context, o SyncRunListOptions) (Page[mksync.SyncRun], error) {
	q := o.values()
	if o.EntityType != "" {
		q.Set("entityType", string(o.EntityType))
	}
	if o.Direction != "" {
		q.Set("direction", string(o.Direction))
	}
	if o.Status != "" {
		q.Set("status", string(o.Status))
	}
	var out Page[mksync.SyncRun]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/sync-runs", query: q, out: &out})
	return out, err
}

// SyncRun returns a sync run with its progress and (partial) result.
func (c *Client) SyncRun(ctx context.Context, id string) (mksync.SyncRun, error) {
	var out mksync.SyncRun
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", "sync-runs", id), out: &out})
	out.Result = resultOf(out.Result)
	return out, err
}

// CancelSyncRun cancels a queued or running sync run
// (POST /api/sync-runs/{id}/cancel): a running run stops at its next batch
// boundary, its records so far accounted for. Cancelling a cancelled run
// does nothing; ECONFLICT for a run that already finished, ENOTFOUND for a
// run the tenant does not have. Read the run back with SyncRun or
// WaitSyncRun.
func (c *Client) CancelSyncRun(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("api", "sync-runs", id, "cancel")})
	return err
}

// WaitOptions tunes WaitSyncRun.
type WaitOptions struct {
	// Interval between polls; default 1 s. Each poll is one API call.
	Interval time.Duration
	// Progress, when set, is called with every polled state of the run.
	Progress func(mksync.SyncRun)
}

// WaitSyncRun polls the run until it reaches a final status (succeeded,
// partial, failed, cancelled) and returns it. The context bounds the wait:
// when it ends first, WaitSyncRun returns the last state read and the
// context's error. A partial or failed run is not an error: look at
// Status and Result.
func (c *Client) WaitSyncRun(ctx context.Context, id string, o WaitOptions) (mksync.SyncRun, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var last mksync.SyncRun
	for {
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("wait for sync run %s: %w", id, context.Cause(ctx))
		case <-t.C:
		}
		run, err := c.SyncRun(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return last, fmt.Errorf("wait for sync run %s: %w", id, context.Cause(ctx))
			}
			return last, err
		}
		last = run
		if o.Progress != nil {
			o.Progress(run)
		}
		if run.Status.Final() {
			return run, nil
		}
		t.Reset(o.Interval)
	}
}
