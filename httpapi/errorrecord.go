package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// RunCanceller cancels sync runs; jobs.Jobs implements it.
type RunCanceller interface {
	// Cancel marks the tenant's run cancelled and drops its queued work; a
	// slice that is running stops at its next batch boundary. Errors:
	// ENOTFOUND for a run the tenant does not have, ECONFLICT for a run
	// that already finished (succeeded, partial or failed). Cancelling a
	// cancelled run is no error.
	Cancel(ctx context.Context, tenantID, runID string) error
}

// registerRunRoutes adds the sync run routes.
func (s *Server) registerRunRoutes() {
	s.handle("GET /api/sync-runs", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		page, err := pageParams(r)
		problems := detailsOf(err)
		q := r.URL.Query()
		f := mksync.SyncRunFilter{Page: page,
			EntityType: mksync.EntityType(q.Get("entityType")),
			Direction:  mksync.Direction(q.Get("direction")),
			Status:     mksync.RunStatus(q.Get("status")),
		}
		if f.EntityType != "" && !oneOf(f.EntityType, mksync.EntityTypes...) {
			problems["entityType"] = "must be one of contact, product, sales_document"
		}
		if f.Direction != "" && !oneOf(f.Direction, mksync.ToMetakocka, mksync.FromMetakocka) {
			problems["direction"] = "must be to_metakocka or from_metakocka"
		}
		if f.Status != "" && !oneOf(f.Status, mksync.RunQueued, mksync.RunRunning, mksync.RunSucceeded, mksync.RunPartial, mksync.RunFailed, mksync.RunCancelled) {
			problems["status"] = "must be one of queued, running, succeeded, partial, failed, cancelled"
		}
		if len(problems) > 0 {
			return invalid(problems)
		}
		runs, next, err := s.cfg.Store.FindSyncRuns(r.Context(), p.TenantID, f)
		if err != nil {
			return fmt.Errorf("find sync runs: %w", err)
		}
		for i := range runs {
			runs[i].Result = syncResultView(runs[i].Result)
		}
		writeJSON(w, http.StatusOK, list[mksync.SyncRun]{Items: nonNil(runs), NextCursor: next})
		return nil
	})
	s.handle("GET /api/sync-runs/{id}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		run, err := s.cfg.Store.FindSyncRun(r.Context(), p.TenantID, id)
		if err != nil {
			return fmt.Errorf("find sync run: %w", err)
		}
		run.Result = syncResultView(run.Result)
		writeJSON(w, http.StatusOK, run)
		return nil
	})
	s.handle("POST /api/sync-runs/{id}/cancel", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		ctx := r.Context()
		before, err := s.cfg.Store.FindSyncRun(ctx, p.TenantID, id)
		if err != nil {
			return fmt.Errorf("find sync run: %w", err)
		}
		if before.Status != mksync.RunCancelled {
			if err := s.cancelRun(ctx, p.TenantID, id); err != nil {
				return err
			}
		}
		run, err := s.cfg.Store.FindSyncRun(ctx, p.TenantID, id)
		if err != nil {
			return fmt.Errorf("find sync run: %w", err)
		}
		run.Result = syncResultView(run.Result)
		code := http.StatusOK
		if before.Status == mksync.RunRunning {
			code = http.StatusAccepted // its current batch still finishes
		}
		writeJSON(w, code, run)
		return nil
	})
}

// cancelRun cancels the tenant's run through Config.Canceller, or, without
// one, marks it cancelled in the Store (unless it is final: ECONFLICT); the
// engine stops a run between batches when it finds it cancelled.
func (s *Server) cancelRun(ctx context.Context, tenantID, runID string) error {
	if s.cfg.Canceller != nil {
		if err := s.cfg.Canceller.Cancel(ctx, tenantID, runID); err != nil {
			return fmt.Errorf("cancel sync run: %w", err)
		}
		return nil
	}
	err := s.cfg.Store.InTx(ctx, tenantID, func(tx mksync.Store) error {
		run, err := tx.FindSyncRun(ctx, tenantID, runID)
		switch {
		case err != nil:
			return fmt.Errorf("find sync run: %w", err)
		case run.Status == mksync.RunCancelled:
			return nil
		case run.Status.Final():
			return mksync.Errorf(mksync.ECONFLICT, "sync run %s already %s", runID, run.Status)
		}
		now := s.cfg.Now().UTC()
		run.Status, run.FinishedAt = mksync.RunCancelled, &now
		if err := tx.UpdateSyncRun(ctx, tenantID, &run); err != nil {
			return fmt.Errorf("mark sync run cancelled: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cancel sync run: %w", err)
	}
	return nil
}

// registerErrorRoutes adds error records, alerts and the browser's reports.
func (s *Server) registerErrorRoutes() {
	s.handle("GET /api/errors", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		page, err := pageParams(r)
		problems := detailsOf(err)
		q := r.URL.Query()
		f := mksync.ErrorFilter{Page: page, Category: q.Get("category"), Operation: q.Get("operation"), EntityID: q.Get("entityId")}
		for name, v := range map[string]string{"category": f.Category, "operation": f.Operation, "entityId": f.EntityID} {
			if len(v) > 200 || !utf8.ValidString(v) {
				problems[name] = "must be valid text of at most 200 characters"
			}
		}
		for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
			if v := q.Get(name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					problems[name] = "must be an RFC 3339 timestamp"
				}
				*dst = t
			}
		}
		if len(problems) > 0 {
			return invalid(problems)
		}
		recs, next, err := s.cfg.Store.FindErrorRecords(r.Context(), p.TenantID, f)
		if err != nil {
			return fmt.Errorf("find error records: %w", err)
		}
		writeJSON(w, http.StatusOK, list[mksync.ErrorRecord]{Items: nonNil(recs), NextCursor: next})
		return nil
	})
	s.handle("GET /api/errors/{errorId}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "errorId")
		if err != nil {
			return err
		}
		rec, err := s.cfg.Store.FindErrorRecord(r.Context(), p.TenantID, id)
		if err != nil {
			return fmt.Errorf("find error record: %w", err)
		}
		writeJSON(w, http.StatusOK, rec)
		return nil
	})
	s.handle("GET /api/alerts", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		page, err := pageParams(r)
		problems := detailsOf(err)
		st := mksync.AlertStatus(r.URL.Query().Get("status"))
		if st != "" && !oneOf(st, mksync.AlertOpen, mksync.AlertResolved) {
			problems["status"] = "must be open or resolved"
		}
		if len(problems) > 0 {
			return invalid(problems)
		}
		alerts, next, err := s.cfg.Store.FindAlerts(r.Context(), p.TenantID, st, page)
		if err != nil {
			return fmt.Errorf("find alerts: %w", err)
		}
		writeJSON(w, http.StatusOK, list[mksync.Alert]{Items: nonNil(alerts), NextCursor: next})
		return nil
	})
	s.handleRoute(route{pattern: "POST /api/client-errors", access: tenantOnly, class: classClient, bodyLimit: s.cfg.MaxClientErrorBytes},
		func(w http.ResponseWriter, r *http.Request, p principal) error {
			var in httperr.ClientReport
			if err := decodeJSON(r, &in); err != nil {
				return err
			}
			if err := in.Validate(); err != nil {
				return err
			}
			rec := in.Record(s.cfg.Now(), "")
			if err := s.cfg.Store.CreateErrorRecord(r.Context(), p.TenantID, &rec); err != nil {
				return fmt.Errorf("store client error: %w", err)
			}
			writeJSON(w, http.StatusAccepted, clientErrorAccepted{ErrorID: rec.ID})
			return nil
		})
}

type clientErrorAccepted struct {
	ErrorID string `json:"errorId"`
}

// detailsOf returns err's details as a fresh map to add problems to.
func detailsOf(err error) map[string]string {
	out := map[string]string{}
	for k, v := range mksync.ErrorDetails(err) {
		out[k] = v
	}
	return out
}

func oneOf[T comparable](v T, allowed ...T) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// nonNil makes an empty list a JSON array rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
