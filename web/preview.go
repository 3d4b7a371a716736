package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// The bulk sync buttons ("Sync all to/from Metakocka", "Sync selected
// to/from Metakocka") never start a sync
// at once: they start a preview (a dry-run run, which writes nothing), show
// what it would do, and a person confirms it, which applies exactly that
// plan (mksync.PrepareApply).

// PreviewPage is the page of a preview.
type PreviewPage struct {
	Layout
	Preview PreviewView
}

// PreviewView is the live part of a preview's page, polled while it runs.
type PreviewView struct {
	ID        string
	Entity    EntityInfo
	Direction string
	Status    mksync.RunStatus
	Final     bool
	Processed int
	// Summary says what applying the plan would do, in one sentence.
	Summary string
	Counts  []PlanCount
	Rows    []PlanRow
	NextURL string
	// CanApply: finished, with something to apply.
	CanApply bool
	PollURL  string
	CSRF     string
}

// PlanCount is one total of a plan.
type PlanCount struct {
	Label string
	N     int
}

// PlanRow is one record of a plan.
type PlanRow struct {
	Key, Action, Detail, URL string
	Changes                  []mksync.FieldChange
}

// startPreview queues a preview of a sync in dir of the records ids of k
// (mk_ids when pulling; none: every record) and sends the browser to its
// page.
func (h *Handler) startPreview(w http.ResponseWriter, r *http.Request, s *session, k kind, dir mksync.Direction, ids []string) error {
	if h.cfg.Runs == nil {
		return httperr.NoSyncer()
	}
	run := mksync.SyncRun{EntityType: k.info.Type, Direction: dir, Trigger: mksync.TriggerUI, DryRun: true}
	if err := h.cfg.Runs.StartSync(r.Context(), s.TenantID, &run, ids); err != nil {
		return fmt.Errorf("start %s preview: %w", k.info.Singular, err)
	}
	redirect(w, r, "/previews/"+url.PathEscape(run.ID))
	return nil
}

// preview shows a preview: its progress while it runs, then its totals,
// its records a page at a time and the button that applies it. htmx polls
// the same URL for the "preview" fragment.
func (h *Handler) preview(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	run, err := h.cfg.Store.FindSyncRun(ctx, s.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find preview: %w", err)
	}
	if !run.DryRun {
		http.Redirect(w, r, "/runs/"+url.PathEscape(run.ID), http.StatusSeeOther)
		return nil
	}
	after, err := cursorParam(r)
	if err != nil {
		return err
	}
	v := PreviewView{ID: run.ID, Entity: entityInfo(run.EntityType), Direction: string(run.Direction), Status: run.Status,
		Final: run.Status.Final(), Processed: run.Processed, CSRF: s.CSRF}
	if !v.Final {
		v.PollURL = "/previews/" + url.PathEscape(run.ID)
	} else if err := h.fillPlan(r, s, run, after, &v); err != nil {
		return err
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "preview" {
		h.render(w, r, http.StatusOK, "preview.html", "preview", v)
		return nil
	}
	p := PreviewPage{Layout: h.layout(r, s, "Preview", "/runs"), Preview: v}
	p.Refresh = !v.Final
	h.renderPage(w, r, http.StatusOK, "preview.html", p)
	return nil
}

// fillPlan adds a finished preview's totals and a page of its records.
func (h *Handler) fillPlan(r *http.Request, s *session, run mksync.SyncRun, after string, v *PreviewView) error {
	ctx := r.Context()
	items, next, err := h.cfg.Store.FindPlanItems(ctx, s.TenantID, run.ID, mksync.Page{After: after, Limit: h.cfg.PageSize})
	if err != nil {
		return fmt.Errorf("read the plan: %w", err)
	}
	res := run.Result
	here := "in Metakocka"
	if run.Direction == mksync.FromMetakocka {
		here = "in the CRM"
	}
	v.Summary = fmt.Sprintf("Will create %d %s, link %d, update %d; %d need a decision.",
		res.Created, here, res.Linked, res.Updated, res.Conflicts+res.Ambiguous)
	v.Counts = []PlanCount{{"Create " + here, res.Created}, {"Link", res.Linked}, {"Update", res.Updated},
		{"Conflicts", res.Conflicts}, {"Ambiguous", res.Ambiguous}, {"Unchanged", res.Skipped}, {"Would fail", res.Failed}}
	for _, it := range items {
		row := PlanRow{Key: it.Key, Action: planLabel(it.Action), Detail: planDetail(it), Changes: it.Changes}
		if it.LocalID != "" && v.Entity.Slug != "" {
			row.URL = "/" + v.Entity.Slug + "/" + url.PathEscape(it.LocalID)
		}
		v.Rows = append(v.Rows, row)
	}
	if next != "" {
		v.NextURL = "/previews/" + url.PathEscape(run.ID) + "?after=" + url.QueryEscape(next)
	}
	v.CanApply = (run.Status == mksync.RunSucceeded || run.Status == mksync.RunPartial) &&
		res.Created+res.Linked+res.Updated+res.Conflicts+res.Ambiguous+res.Failed > 0
	return nil
}

// planLabel names an action for a person.
func planLabel(a mksync.PlanAction) string {
	return map[mksync.PlanAction]string{
		mksync.PlanLink: "link", mksync.PlanCreateThere: "create in Metakocka", mksync.PlanCreateHere: "create in the CRM",
		mksync.PlanUpdateThere: "update in Metakocka", mksync.PlanUpdateHere: "update in the CRM",
		mksync.PlanConflict: "conflict: needs a decision", mksync.PlanAmbiguous: "ambiguous: needs a decision",
		mksync.PlanSkip: "unchanged", mksync.PlanFail: "would fail",
	}[a]
}

// planDetail says which record and why.
func planDetail(it mksync.PlanItem) string {
	var parts []string
	if it.MetakockaID != "" {
		s := "mk_id " + it.MetakockaID
		if it.MatchedBy != "" {
			s += " (by " + it.MatchedBy + ")"
		}
		parts = append(parts, s)
	}
	if len(it.Candidates) > 0 {
		parts = append(parts, "candidates "+strings.Join(it.Candidates, ", "))
	}
	if it.Reason != "" {
		parts = append(parts, it.Reason)
	}
	return strings.Join(parts, " · ")
}

// applyPreview applies a finished preview's plan and goes to the run that
// applies it.
func (h *Handler) applyPreview(w http.ResponseWriter, r *http.Request, s *session) error {
	if h.cfg.Runs == nil {
		return httperr.NoSyncer()
	}
	ctx := r.Context()
	run, ids, err := mksync.PrepareApply(ctx, h.cfg.Store, s.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	run.Trigger = mksync.TriggerUI
	if err := h.cfg.Runs.StartSync(ctx, s.TenantID, &run, ids); err != nil {
		return fmt.Errorf("apply preview: %w", err)
	}
	redirect(w, r, "/runs/"+url.PathEscape(run.ID))
	return nil
}
