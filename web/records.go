package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// maxSelected caps the records of one bulk sync started from a page.
const maxSelected = 10_000

// row returns the list row of rec: the record with its mapping.
func (h *Handler) row(ctx context.Context, s *session, k kind, rec record) (RecordRow, error) {
	m, err := h.cfg.Store.FindMapping(ctx, s.TenantID, k.info.Type, rec.ID)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		return newRow(s, k, rec, nil), nil
	case err != nil:
		return RecordRow{}, fmt.Errorf("find mapping of %s %s: %w", k.info.Singular, rec.ID, err)
	}
	return newRow(s, k, rec, &m), nil
}

// rows returns the list rows of recs, with their mappings read in one query.
func (h *Handler) rows(ctx context.Context, s *session, k kind, recs []record) ([]RecordRow, error) {
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	ms, err := h.cfg.Store.FindMappingsOf(ctx, s.TenantID, k.info.Type, ids)
	if err != nil {
		return nil, fmt.Errorf("find mappings of %s: %w", k.info.Label, err)
	}
	out := make([]RecordRow, len(recs))
	for i, rec := range recs {
		var mp *mksync.Mapping
		if m, ok := ms[rec.ID]; ok {
			mp = &m
		}
		out[i] = newRow(s, k, rec, mp)
	}
	return out, nil
}

// newRow is the list row of rec and its mapping m (nil: not synced).
func newRow(s *session, k kind, rec record, m *mksync.Mapping) RecordRow {
	row := RecordRow{Entity: k.info, CSRF: s.CSRF, ID: rec.ID, Title: rec.Title, Subtitle: rec.Subtitle,
		State: string(mksync.StateUnsynced), LastSynced: formatTime(nil)}
	if m != nil {
		row.State, row.MetakockaID, row.CountCode = string(m.State), m.MetakockaID, m.CountCode
		row.LastSynced, row.LastErrorID = formatTime(m.LastSyncedAt), m.LastError
	}
	return row
}

// stateOptions are the choices of the sync-state filter.
func stateOptions(selected string) []Option {
	return options(selected,
		[2]string{"", "Any state"}, [2]string{"synced", "Synced"}, [2]string{"pending", "Pending"},
		[2]string{"conflict", "Conflict"}, [2]string{"failed", "Failed"}, [2]string{"unsynced", "Not synced"},
		[2]string{"ambiguous", "Needs a decision"}, [2]string{"deleted_in_metakocka", "Deleted in Metakocka"})
}

func validState(s string) bool {
	if s == "" || mksync.SyncState(s) == mksync.StateUnsynced {
		return true
	}
	for _, v := range mksync.SyncStates {
		if mksync.SyncState(s) == v {
			return true
		}
	}
	return false
}

// cursorParam reads the opaque page cursor ?after=.
func cursorParam(r *http.Request) (string, error) {
	after := r.URL.Query().Get("after")
	if len(after) > 512 {
		return "", mksync.Errorf(mksync.EINVALID, "the page link is broken; start from the first page")
	}
	return after, nil
}

// list is the searchable, paginated table of one record type.
func (h *Handler) list(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		q := r.URL.Query()
		p := ListPage{Layout: h.layout(r, s, k.info.Label, "/"+k.info.Slug), Entity: k.info,
			Query: q.Get("q"), State: q.Get("state")}
		if !validState(p.State) {
			return &mksync.Error{Code: mksync.EINVALID, Message: "unknown sync state " + strconv.Quote(p.State), Details: map[string]string{"state": "must be one of synced, pending, conflict, failed, unsynced, ambiguous, deleted_in_metakocka"}}
		}
		if utf8.RuneCountInString(p.Query) > 200 || !utf8.ValidString(p.Query) {
			return mksync.Errorf(mksync.EINVALID, "the search text must be at most 200 characters")
		}
		after, err := cursorParam(r)
		if err != nil {
			return err
		}
		p.States = stateOptions(p.State)
		recs, next, err := k.list(r.Context(), h.cfg.Store, s.TenantID, mksync.ListFilter{
			State: mksync.SyncState(p.State), Search: p.Query, Page: mksync.Page{After: after, Limit: h.cfg.PageSize}})
		if err != nil {
			return err
		}
		if p.Rows, err = h.rows(r.Context(), s, k, recs); err != nil {
			return err
		}
		base := url.Values{}
		if p.Query != "" {
			base.Set("q", p.Query)
		}
		if p.State != "" {
			base.Set("state", p.State)
		}
		p.FirstURL = "/" + k.info.Slug + querySuffix(base)
		if next != "" {
			base.Set("after", next)
			p.NextURL = "/" + k.info.Slug + querySuffix(base)
		}
		p.Paged = after != ""
		h.renderPage(w, r, http.StatusOK, "list.html", p)
		return nil
	}
}

func querySuffix(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// detail shows one record, its mapping (with the link actions) and its
// recent errors. Another tenant's id is not found.
func (h *Handler) detail(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		rec, err := k.find(r.Context(), h.cfg.Store, s.TenantID, r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := h.detailPage(r, s, k, rec)
		if err != nil {
			return err
		}
		h.renderPage(w, r, http.StatusOK, "detail.html", p)
		return nil
	}
}

// detailPage is the record page of rec.
func (h *Handler) detailPage(r *http.Request, s *session, k kind, rec record) (DetailPage, error) {
	ctx := r.Context()
	row, err := h.row(ctx, s, k, rec)
	if err != nil {
		return DetailPage{}, err
	}
	p := DetailPage{Layout: h.layout(r, s, rec.Title, "/"+k.info.Slug), Row: row, Fields: rec.Fields,
		Stock: rec.Stock, StockTotal: rec.StockTotal}
	if rec.contact != nil {
		f := newPartnerForm(s, *rec.contact)
		p.Partner = &f
	}
	if p.Link, err = h.linkBox(ctx, s, k, rec); err != nil {
		return p, err
	}
	errs, _, err := h.cfg.Store.FindErrorRecords(ctx, s.TenantID, mksync.ErrorFilter{EntityID: rec.ID, Page: mksync.Page{Limit: 10}})
	if err != nil {
		return p, fmt.Errorf("find errors of %s %s: %w", k.info.Singular, rec.ID, err)
	}
	for _, e := range errs {
		p.Errors = append(p.Errors, newErrorRow(e))
	}
	if p.Conflict, err = h.conflict(ctx, s, errs, row.LastErrorID); err != nil {
		return p, err
	}
	return p, nil
}

// conflict is the record's conflict to show: its newest error when that is
// a conflict, else the open conflict its mapping names (read when it is
// older than the recent errors).
func (h *Handler) conflict(ctx context.Context, s *session, recent []mksync.ErrorRecord, lastError string) (*ConflictView, error) {
	if v := conflictOf(recent, lastError); v != nil || lastError == "" {
		return v, nil
	}
	for _, e := range recent {
		if e.ID == lastError {
			return nil, nil
		}
	}
	e, err := h.cfg.Store.FindErrorRecord(ctx, s.TenantID, lastError)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		return nil, nil // pruned: the errors list says what remains
	case err != nil:
		return nil, fmt.Errorf("find the last error %s: %w", lastError, err)
	}
	return conflictOf([]mksync.ErrorRecord{e}, lastError), nil
}

// syncOne syncs one record now, in dir. htmx gets the record's row again
// (with its new state) and the outcome in the flash area; a plain form
// gets the result page. A failure carries the engine's errorId.
func (h *Handler) syncOne(k kind, dir mksync.Direction) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		rec, err := k.find(ctx, h.cfg.Store, s.TenantID, r.PathValue("id"))
		if err != nil {
			return err
		}
		res, syncErr := h.syncRecord(ctx, s, k, dir, rec.ID)
		row, err := h.row(ctx, s, k, rec)
		if err != nil {
			return err
		}
		status, flash := http.StatusOK, Flash{Kind: "ok", Message: syncMessage(k, dir, rec.Title, res)}
		if syncErr != nil {
			f := h.describe(r, s, operation(r), rec.ID, syncErr)
			status, flash = f.Status, f.Flash
			flash.Message = "Sync of " + rec.Title + " failed: " + flash.Message
			setErrorID(w, f)
		}
		if isHTMX(r) {
			h.render(w, r, status, "list.html", "rowResult", RowResult{Row: row, Flash: flash})
			return nil
		}
		p := SyncResultPage{Layout: h.layout(r, s, "Sync result", "/"+k.info.Slug), Row: row, Direction: string(dir),
			Result: newResultView(res, k.info.Type, dir)}
		p.Flash = &flash
		h.renderPage(w, r, status, "syncresult.html", p)
		return nil
	}
}

// RowResult is a re-rendered row with the outcome of its action.
type RowResult struct {
	Row   RecordRow
	Flash Flash
}

// syncRecord runs the single-record sync; pulling needs the record's mk_id.
func (h *Handler) syncRecord(ctx context.Context, s *session, k kind, dir mksync.Direction, id string) (mksync.SyncResult, error) {
	if h.cfg.Syncer == nil {
		return mksync.SyncResult{}, httperr.NoSyncer()
	}
	if dir == mksync.ToMetakocka {
		res, err := h.cfg.Syncer.SyncToMetakocka(ctx, s.TenantID, k.info.Type, id)
		return res, wrap("sync to Metakocka", err)
	}
	mkID, err := h.metakockaID(ctx, s, k, id)
	if err != nil {
		return mksync.SyncResult{}, err
	}
	res, err := h.cfg.Syncer.SyncFromMetakocka(ctx, s.TenantID, k.info.Type, mkID)
	return res, wrap("sync from Metakocka", err)
}

// metakockaID returns the mk_id a record is mapped to; EINVALID when it is
// not in Metakocka yet.
func (h *Handler) metakockaID(ctx context.Context, s *session, k kind, id string) (string, error) {
	m, err := h.cfg.Store.FindMapping(ctx, s.TenantID, k.info.Type, id)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND || err == nil && m.MetakockaID == "":
		return "", mksync.Errorf(mksync.EINVALID, "this %s is not in Metakocka yet: sync it to Metakocka first", k.info.Singular)
	case err != nil:
		return "", fmt.Errorf("find mapping: %w", err)
	}
	return m.MetakockaID, nil
}

func syncMessage(k kind, dir mksync.Direction, title string, res mksync.SyncResult) string {
	what := "unchanged"
	switch {
	case res.Created > 0:
		what = "created"
	case res.Updated > 0:
		what = "updated"
	case res.Conflicts > 0:
		what = "in conflict (see its errors)"
	}
	if dir == mksync.ToMetakocka {
		return fmt.Sprintf("%s synced to Metakocka: %s.", title, what)
	}
	return fmt.Sprintf("%s synced from Metakocka: %s.", title, what)
}

// syncMany starts a preview of a sync of the selected records, or of all
// records, and goes to its page: a bulk sync writes nothing until a person
// confirms its plan (startPreview, applyPreview).
func (h *Handler) syncMany(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		dir := mksync.Direction(r.PostFormValue("direction"))
		if dir != mksync.ToMetakocka && dir != mksync.FromMetakocka {
			return &mksync.Error{Code: mksync.EINVALID, Message: "choose a direction", Details: map[string]string{"direction": "must be to_metakocka or from_metakocka"}}
		}
		if r.PostFormValue("scope") == "all" {
			return h.startPreview(w, r, s, k, dir, nil) // a bulk sync is previewed and confirmed first
		}
		var ids []string
		selected := dedupe(r.PostForm["id"])
		switch {
		case len(selected) == 0:
			return mksync.Errorf(mksync.EINVALID, "select at least one %s, or use “Sync all”", k.info.Singular)
		case len(selected) > maxSelected:
			return mksync.Errorf(mksync.EINVALID, "select at most %d records at once", maxSelected)
		}
		for _, id := range selected {
			if _, err := k.find(ctx, h.cfg.Store, s.TenantID, id); err != nil {
				return err
			}
			if dir == mksync.FromMetakocka {
				mkID, err := h.metakockaID(ctx, s, k, id)
				if err != nil {
					return err
				}
				id = mkID
			}
			ids = append(ids, id)
		}
		return h.startPreview(w, r, s, k, dir, ids)
	}
}

// startRun queues a background run and sends the browser to its page.
func (h *Handler) startRun(w http.ResponseWriter, r *http.Request, s *session, k kind, dir mksync.Direction, ids []string) error {
	if h.cfg.Runs == nil {
		return httperr.NoSyncer()
	}
	run := mksync.SyncRun{EntityType: k.info.Type, Direction: dir, Trigger: mksync.TriggerUI}
	if err := h.cfg.Runs.StartSync(r.Context(), s.TenantID, &run, ids); err != nil {
		return fmt.Errorf("start %s sync: %w", k.info.Singular, err)
	}
	redirect(w, r, "/runs/"+url.PathEscape(run.ID))
	return nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// remote lists the Metakocka records no CRM record is mapped to yet.
func (h *Handler) remote(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if h.cfg.Syncer == nil {
			return httperr.NoSyncer()
		}
		after, err := cursorParam(r)
		if err != nil {
			return err
		}
		items, next, err := h.cfg.Syncer.ListNotInCRM(r.Context(), s.TenantID, k.info.Type, mksync.Page{After: after, Limit: h.cfg.PageSize})
		if err != nil {
			return fmt.Errorf("list %s in Metakocka only: %w", k.info.Label, err)
		}
		p := RemotePage{Layout: h.layout(r, s, k.info.Label+" only in Metakocka", "/"+k.info.Slug), Entity: k.info}
		for _, it := range items {
			p.Rows = append(p.Rows, RemoteRow{Entity: k.info, CSRF: s.CSRF, MetakockaID: it.MetakockaID, CountCode: it.CountCode, Title: it.Title})
		}
		if next != "" {
			p.NextURL = "/" + k.info.Slug + "/in-metakocka?after=" + url.QueryEscape(next)
		}
		h.renderPage(w, r, http.StatusOK, "remote.html", p)
		return nil
	}
}

// importRemote pulls Metakocka records into the CRM: one (mkId) now, or the
// selected ones (id) as a background run.
func (h *Handler) importRemote(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		mkID := r.PostFormValue("mkId")
		if mkID == "" {
			ids := dedupe(r.PostForm["id"])
			switch {
			case len(ids) == 0:
				return mksync.Errorf(mksync.EINVALID, "select at least one record to import")
			case len(ids) > maxSelected:
				return mksync.Errorf(mksync.EINVALID, "select at most %d records at once", maxSelected)
			}
			return h.startRun(w, r, s, k, mksync.FromMetakocka, ids)
		}
		if len(mkID) > 128 {
			return mksync.Errorf(mksync.EINVALID, "that is not a Metakocka id")
		}
		if h.cfg.Syncer == nil {
			return httperr.NoSyncer()
		}
		row := RemoteRow{Entity: k.info, CSRF: s.CSRF, MetakockaID: mkID, Title: r.PostFormValue("title")}
		status, flash := http.StatusOK, Flash{Kind: "ok"}
		var failed *failure
		res, err := h.cfg.Syncer.SyncFromMetakocka(ctx, s.TenantID, k.info.Type, mkID)
		if err != nil {
			f := h.describe(r, s, operation(r), mkID, fmt.Errorf("import from Metakocka: %w", err))
			failed = &f
			setErrorID(w, f)
			status, flash = f.Status, f.Flash
			flash.Message = "Import failed: " + flash.Message
		} else {
			flash.Message = fmt.Sprintf("Imported %s %s (created %d, updated %d).", k.info.Singular, mkID, res.Created, res.Updated)
			if m, err := h.cfg.Store.FindMappingByMetakockaID(ctx, s.TenantID, k.info.Type, mkID); err == nil {
				row.LocalURL = "/" + k.info.Slug + "/" + url.PathEscape(m.EntityID)
			}
		}
		if isHTMX(r) {
			h.render(w, r, status, "remote.html", "remoteResult", RemoteResult{Row: row, Flash: flash})
			return nil
		}
		if failed != nil {
			h.showFailure(w, r, s, *failed)
			return nil
		}
		target := row.LocalURL
		if target == "" {
			target = "/" + k.info.Slug + "/in-metakocka"
		}
		redirect(w, r, target)
		return nil
	}
}

// RemoteResult is a re-rendered Metakocka row with the outcome of its import.
type RemoteResult struct {
	Row   RemoteRow
	Flash Flash
}
