package httpapi

import (
	"fmt"
	"net/http"

	"github.com/mksync/mksync"
)

// planPage is a page of a preview's plan with the preview and its totals.
type planPage struct {
	Run mksync.SyncRun `json:"run"`
	// Totals counts the plan's records by action, skipped ones included
	// (those are counted, not listed).
	Totals     map[mksync.PlanAction]int `json:"totals"`
	Items      []mksync.PlanItem         `json:"items"`
	NextCursor string                    `json:"nextCursor"`
}

// registerPlanRoutes adds the routes of previews: their plan, paged, and
// applying it.
func (s *Server) registerPlanRoutes() {
	s.handle("GET /api/sync-runs/{id}/plan", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		page, err := pageParams(r)
		if err != nil {
			return err
		}
		ctx := r.Context()
		run, err := s.cfg.Store.FindSyncRun(ctx, p.TenantID, id)
		if err != nil {
			return fmt.Errorf("find sync run: %w", err)
		}
		if !run.DryRun {
			return mksync.Errorf(mksync.EINVALID, "sync run %s is not a preview: only a run started with dryRun=true has a plan", id)
		}
		totals, err := s.cfg.Store.CountPlanItems(ctx, p.TenantID, id)
		if err != nil {
			return fmt.Errorf("count plan: %w", err)
		}
		totals[mksync.PlanSkip] += run.Result.Skipped
		items, next, err := s.cfg.Store.FindPlanItems(ctx, p.TenantID, id, page)
		if err != nil {
			return fmt.Errorf("read plan: %w", err)
		}
		run.Result = syncResultView(run.Result)
		writeJSON(w, http.StatusOK, planPage{Run: run, Totals: totals, Items: nonNil(items), NextCursor: next})
		return nil
	})
	s.handle("POST /api/sync-runs/{id}/apply", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		ctx := r.Context()
		run, ids, err := mksync.PrepareApply(ctx, s.cfg.Store, p.TenantID, id)
		if err != nil {
			return fmt.Errorf("apply preview %s: %w", id, err)
		}
		if s.cfg.Runs == nil {
			return errNoSyncer()
		}
		run.Trigger = mksync.TriggerAPI
		if err := s.cfg.Runs.StartSync(ctx, p.TenantID, &run, ids); err != nil {
			return syncerError(fmt.Sprintf("apply preview %s", id), err)
		}
		w.Header().Set("Location", "/api/sync-runs/"+run.ID)
		writeJSON(w, http.StatusAccepted, runAccepted{RunID: run.ID})
		return nil
	})
}
