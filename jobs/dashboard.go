package jobs

import (
	"context"
	"fmt"
	"net/http"

	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"
)

// Dashboard returns River's job dashboard (riverqueue.com/riverui) for this
// Jobs' queue, to be mounted at prefix (e.g. "/admin/jobs"): its pages and
// API list, retry and cancel any tenant's jobs, and it checks no access of
// its own, so mount it behind an admin check. Its background services run
// until ctx ends. It works on an insert-only Jobs too (serve --no-workers).
func (j *Jobs) Dashboard(ctx context.Context, prefix string) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: j.client.uiEndpoints(),
		Logger:    riverLogger(j.log),
		Prefix:    prefix,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: dashboard: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("jobs: dashboard: start: %w", err)
	}
	return h, nil
}

// uiEndpoints are the dashboard's API endpoints on this client.
func (r *riverClient[TTx]) uiEndpoints() uiendpoints.Bundle {
	return riverui.NewEndpoints(r.c, nil)
}
