package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// dashboard shows the connection, per-type sync state counts, the last runs
// and the open alerts.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := h.dashboardPage(r, s)
	if err != nil {
		return err
	}
	h.renderPage(w, r, http.StatusOK, "dashboard.html", p)
	return nil
}

func (h *Handler) dashboardPage(r *http.Request, s *session) (DashboardPage, error) {
	ctx := r.Context()
	p := DashboardPage{Layout: h.layout(r, s, "Dashboard", "/")}
	conn, err := h.connection(ctx, s)
	if err != nil {
		return p, err
	}
	p.Connection = conn
	if p.FirstConnect, err = mksync.FirstConnectPending(ctx, h.cfg.Store, s.TenantID); err != nil {
		return p, err
	}
	for _, et := range mksync.EntityTypes {
		counts, err := h.cfg.Store.CountMappingsByState(ctx, s.TenantID, et)
		if err != nil {
			return p, fmt.Errorf("count %s records: %w", et, err)
		}
		c := EntityCounts{Entity: entityInfo(et),
			Synced: counts[mksync.StateSynced], Pending: counts[mksync.StatePending], Conflict: counts[mksync.StateConflict],
			Failed: counts[mksync.StateFailed], Unsynced: counts[mksync.StateUnsynced],
			Ambiguous: counts[mksync.StateAmbiguous], Deleted: counts[mksync.StateDeletedInMetakocka]}
		c.Total = c.Synced + c.Pending + c.Conflict + c.Failed + c.Unsynced + c.Ambiguous + c.Deleted
		if c.Links, err = h.cfg.Store.CountLinks(ctx, s.TenantID, et); err != nil {
			return p, fmt.Errorf("count %s links: %w", et, err)
		}
		p.Counts = append(p.Counts, c)
	}
	runs, _, err := h.cfg.Store.FindSyncRuns(ctx, s.TenantID, mksync.SyncRunFilter{Page: mksync.Page{Limit: 5}})
	if err != nil {
		return p, fmt.Errorf("find sync runs: %w", err)
	}
	for _, run := range runs {
		p.Runs = append(p.Runs, newRunRow(run))
	}
	alerts, _, err := h.cfg.Store.FindAlerts(ctx, s.TenantID, mksync.AlertOpen, mksync.Page{Limit: 10})
	if err != nil {
		return p, fmt.Errorf("find alerts: %w", err)
	}
	for _, a := range alerts {
		p.Alerts = append(p.Alerts, AlertRow{Severity: a.Severity, Message: a.Message, Count: a.Count, Opened: formatTime(a.OpenedAt)})
	}
	return p, nil
}

// connection describes the tenant's stored Metakocka credentials.
func (h *Handler) connection(ctx context.Context, s *session) (ConnectionView, error) {
	v := ConnectionView{CSRF: s.CSRF}
	c, err := h.cfg.Store.FindCredentials(ctx, s.TenantID)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		return v, nil
	case err != nil:
		return v, fmt.Errorf("find credentials: %w", err)
	}
	v.Configured, v.CompanyID, v.MetakockaURL, v.UpdatedAt = true, c.CompanyID, c.BaseURL, formatTime(c.UpdatedAt)
	return v, nil
}

// testConnection makes one call to Metakocka with the stored credentials
// and shows the outcome in the connection box.
func (h *Handler) testConnection(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	conn, err := h.connection(ctx, s)
	if err != nil {
		return err
	}
	status := http.StatusOK
	switch {
	case !conn.Configured:
		status = http.StatusBadRequest
		conn.Result = &Flash{Kind: "error", Code: mksync.ENOTFOUND, Message: "No Metakocka credentials yet: enter them under Settings."}
	case h.cfg.Syncer == nil:
		f := h.describe(r, s, operation(r), "", httperr.NoSyncer())
		status, conn.Result = f.Status, &f.Flash
		setErrorID(w, f)
	default:
		if err := h.cfg.Syncer.TestConnection(ctx, s.TenantID); err != nil {
			f := h.describe(r, s, operation(r), "", fmt.Errorf("test Metakocka connection: %w", err))
			status, conn.Result = f.Status, &f.Flash
			setErrorID(w, f)
		} else {
			conn.Result = &Flash{Kind: "ok", Message: "Connected: Metakocka accepted the credentials of company " + conn.CompanyID + "."}
		}
	}
	if isHTMX(r) {
		h.render(w, r, status, "dashboard.html", "connection", conn)
		return nil
	}
	p, err := h.dashboardPage(r, s)
	if err != nil {
		return err
	}
	p.Connection = conn
	h.renderPage(w, r, status, "dashboard.html", p)
	return nil
}
