package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mksync/mksync"
)

// Plan is one page of a preview's plan (GET /api/sync-runs/{id}/plan).
type Plan struct {
	Run mksync.SyncRun `json:"run"`
	// Totals counts the plan's records by action, skipped ones included.
	Totals     map[mksync.PlanAction]int `json:"totals"`
	Items      []mksync.PlanItem         `json:"items"`
	NextCursor string                    `json:"nextCursor"`
}

// PreviewManyToMetakocka queues a preview (a dry run) of a push of the
// records ids (every record when none) and returns its run id: it decides
// every record, writes nothing and keeps the plan (SyncRunPlan).
func (c *Client) PreviewManyToMetakocka(ctx context.Context, et mksync.EntityType, ids []string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var out runAccepted
	var body any
	if len(ids) > 0 {
		body = map[string][]string{p.idsField: ids}
	}
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-all-to-metakocka"),
		query: url.Values{"dryRun": {"true"}}, body: body, out: &out})
	return out.RunID, err
}

// PreviewToMetakocka queues the preview of an explicit push of the CRM
// record id and returns its run id: it decides the record as
// SyncToMetakocka would (an open conflict settled for the CRM), writes
// nothing and keeps the plan (SyncRunPlan).
func (c *Client) PreviewToMetakocka(ctx context.Context, et mksync.EntityType, id string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var out runAccepted
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-to-metakocka"),
		query: url.Values{"dryRun": {"true"}}, body: map[string]string{p.idField: id}, out: &out})
	return out.RunID, err
}

// PreviewFromMetakocka queues the preview of an explicit pull of the
// Metakocka record metakockaID (an open conflict settled for Metakocka).
func (c *Client) PreviewFromMetakocka(ctx context.Context, et mksync.EntityType, metakockaID string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var out runAccepted
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-from-metakocka"),
		query: url.Values{"dryRun": {"true"}}, body: map[string]string{"metakockaId": metakockaID}, out: &out})
	return out.RunID, err
}

// PreviewManyFromMetakocka queues a preview of a pull of the Metakocka
// records metakockaIDs (every record when none) and returns its run id.
func (c *Client) PreviewManyFromMetakocka(ctx context.Context, et mksync.EntityType, metakockaIDs []string) (string, error) {
	p, err := pathsOf(et)
	if err != nil {
		return "", err
	}
	var out runAccepted
	var body any
	if len(metakockaIDs) > 0 {
		body = map[string][]string{"metakockaIds": metakockaIDs}
	}
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "sync-all-from-metakocka"),
		query: url.Values{"dryRun": {"true"}}, body: body, out: &out})
	return out.RunID, err
}

// SyncRunPlan returns a page of the plan of the preview id with its totals.
func (c *Client) SyncRunPlan(ctx context.Context, id string, o PageOptions) (Plan, error) {
	var out Plan
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", "sync-runs", id, "plan"), query: o.values(), out: &out})
	return out, err
}

// ApplySyncRunPlan queues the run that applies the finished preview id's
// plan and returns its id; a record whose state moved since the preview is
// not written and fails with code conflict.
func (c *Client) ApplySyncRunPlan(ctx context.Context, id string) (string, error) {
	var out runAccepted
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("api", "sync-runs", id, "apply"), out: &out})
	return out.RunID, err
}
