package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mksync/mksync"
)

// The first connect (mksync.FirstConnectCursor): when Metakocka credentials
// are saved for the first time and records exist on either side, the UI
// opens a guided path — preview the match, resolve the ambiguous records,
// apply — and scheduled syncs wait until a person marks it done here. The
// preview and apply are the bulk sync's own (its preview page); this page
// only links to them and keeps the flag.

// openFirstConnect opens the guided path of a tenant whose credentials were
// just saved for the first time, when it has records on either side. The
// Metakocka side is asked for one record per type; when that fails the path
// is opened anyway (better a needless guide than duplicates).
func (h *Handler) openFirstConnect(ctx context.Context, s *session) error {
	has := false
	for _, et := range mksync.EntityTypes {
		c, err := h.cfg.Store.CountLinks(ctx, s.TenantID, et)
		if err != nil {
			return fmt.Errorf("count %s records: %w", et, err)
		}
		if c.Linked+c.ToCreate+c.Ambiguous+c.DeletedInMetakocka > 0 {
			has = true
			break
		}
	}
	for _, et := range mksync.EntityTypes {
		if has || h.cfg.Syncer == nil {
			break
		}
		items, _, err := h.cfg.Syncer.ListNotInCRM(ctx, s.TenantID, et, mksync.Page{Limit: 1})
		has = err != nil || len(items) > 0
	}
	if !has {
		return nil
	}
	if err := h.cfg.Store.SetCursor(ctx, s.TenantID, mksync.FirstConnectCursor, mksync.FirstConnectOpen); err != nil {
		return fmt.Errorf("open first connect: %w", err)
	}
	return nil
}

// firstConnect is the guided page of the first connect.
func (h *Handler) firstConnect(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	open, err := mksync.FirstConnectPending(ctx, h.cfg.Store, s.TenantID)
	if err != nil {
		return err
	}
	p := FirstConnectPage{Layout: h.layout(r, s, "First connect", "/"), Open: open}
	for _, et := range mksync.EntityTypes {
		c, err := h.cfg.Store.CountLinks(ctx, s.TenantID, et)
		if err != nil {
			return fmt.Errorf("count %s links: %w", et, err)
		}
		p.Counts = append(p.Counts, EntityCounts{Entity: entityInfo(et), Links: c})
		p.Ambiguous += c.Ambiguous
	}
	h.renderPage(w, r, http.StatusOK, "firstconnect.html", p)
	return nil
}

// firstConnectDone marks the first connect done: scheduled syncs may start.
func (h *Handler) firstConnectDone(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.cfg.Store.SetCursor(r.Context(), s.TenantID, mksync.FirstConnectCursor, mksync.FirstConnectDone); err != nil {
		return fmt.Errorf("mark first connect done: %w", err)
	}
	redirect(w, r, "/")
	return nil
}
