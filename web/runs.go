package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/mksync/mksync"
)

// runs is the sync run history, filtered by entity, direction and status.
func (h *Handler) runs(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	f := mksync.SyncRunFilter{EntityType: mksync.EntityType(q.Get("entity")), Direction: mksync.Direction(q.Get("direction")),
		Status: mksync.RunStatus(q.Get("status"))}
	problems := map[string]string{}
	if f.EntityType != "" && entityInfo(f.EntityType).Slug == "" {
		problems["entity"] = "must be contact, product or sales_document"
	}
	if f.Direction != "" && f.Direction != mksync.ToMetakocka && f.Direction != mksync.FromMetakocka {
		problems["direction"] = "must be to_metakocka or from_metakocka"
	}
	statuses := []mksync.RunStatus{mksync.RunQueued, mksync.RunRunning, mksync.RunSucceeded, mksync.RunPartial, mksync.RunFailed, mksync.RunCancelled}
	if f.Status != "" && !contains(statuses, f.Status) {
		problems["status"] = "must be queued, running, succeeded, partial, failed or cancelled"
	}
	if len(problems) > 0 {
		return &mksync.Error{Code: mksync.EINVALID, Message: "unknown filter value", Details: problems}
	}
	after, err := cursorParam(r)
	if err != nil {
		return err
	}
	f.Page = mksync.Page{After: after, Limit: h.cfg.PageSize}
	list, next, err := h.cfg.Store.FindSyncRuns(r.Context(), s.TenantID, f)
	if err != nil {
		return fmt.Errorf("find sync runs: %w", err)
	}
	p := RunsPage{Layout: h.layout(r, s, "Sync runs", "/runs"),
		Entities: options(string(f.EntityType), [2]string{"", "Any record type"}, [2]string{"contact", "Contacts"},
			[2]string{"product", "Products"}, [2]string{"sales_document", "Sales documents"}),
		Directions: options(string(f.Direction), [2]string{"", "Either direction"},
			[2]string{"to_metakocka", directionLabel("to_metakocka")}, [2]string{"from_metakocka", directionLabel("from_metakocka")}),
	}
	p.Statuses = []Option{{Value: "", Label: "Any status", Selected: f.Status == ""}}
	for _, st := range statuses {
		p.Statuses = append(p.Statuses, Option{Value: string(st), Label: string(st), Selected: st == f.Status})
	}
	for _, run := range list {
		p.Rows = append(p.Rows, newRunRow(run))
	}
	if next != "" {
		v := q
		v.Set("after", next)
		p.NextURL = "/runs?" + v.Encode()
	}
	h.renderPage(w, r, http.StatusOK, "runs.html", p)
	return nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// run shows one run: live progress while it runs, the result when done.
func (h *Handler) run(w http.ResponseWriter, r *http.Request, s *session) error {
	run, err := h.cfg.Store.FindSyncRun(r.Context(), s.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find sync run: %w", err)
	}
	p := RunPage{Layout: h.layout(r, s, "Sync run", "/runs"), Progress: h.runProgressOf(s, run)}
	p.Refresh = !p.Progress.Final
	h.renderPage(w, r, http.StatusOK, "run.html", p)
	return nil
}

// runProgress is the fragment htmx polls; once the run is final the
// fragment no longer asks to be polled.
func (h *Handler) runProgress(w http.ResponseWriter, r *http.Request, s *session) error {
	run, err := h.cfg.Store.FindSyncRun(r.Context(), s.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find sync run: %w", err)
	}
	prog := h.runProgressOf(s, run)
	if !isHTMX(r) {
		http.Redirect(w, r, "/runs/"+url.PathEscape(run.ID), http.StatusSeeOther)
		return nil
	}
	h.render(w, r, http.StatusOK, "run.html", "progress", prog)
	return nil
}

// liveProgress is offered by a Syncer that executes runs in this process
// (the sync engine): how far a run has got, record by record.
type liveProgress interface {
	LiveProgress(tenantID, runID string) (mksync.LiveProgress, bool)
}

// runProgressOf shows run now, with its live count when this process
// executes it (otherwise the progress of its committed batches).
func (h *Handler) runProgressOf(s *session, run mksync.SyncRun) RunProgress {
	var live *mksync.LiveProgress
	if lp, ok := h.cfg.Syncer.(liveProgress); ok && !run.Status.Final() {
		if p, ok := lp.LiveProgress(s.TenantID, run.ID); ok {
			live = &p
		}
	}
	return newRunProgress(run, live, h.cfg.Now(), pollTrigger(h.cfg.PollInterval))
}
