package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// maxRefLen bounds an mk_id or count_code typed into a link form.
const maxRefLen = 128

// Where a link action was started, so that its answer fits that page: the
// record's page (its link box), or a row of the decisions page.
const (
	fromRecord    = ""
	fromDecisions = "decisions"
)

// linkRoutes adds the routes of linking by hand for one record type: the
// record page's Link / Unlink / Re-link, the decisions page (ambiguous
// records with their candidates, records deleted in Metakocka, tombstones)
// and their actions. They call the engine's Linker, as the REST API does.
func (h *Handler) linkRoutes(mux *http.ServeMux, k kind) {
	base := "/" + k.info.Slug
	mux.HandleFunc("GET "+base+"/decisions", h.authed(h.decisions(k)))
	mux.HandleFunc("POST "+base+"/{id}/link", h.authed(h.limited(h.linkRecord(k))))
	mux.HandleFunc("POST "+base+"/{id}/unlink", h.authed(h.unlinkRecord(k)))
	mux.HandleFunc("POST "+base+"/{id}/create-new", h.authed(h.limited(h.createNew(k, false))))
	mux.HandleFunc("POST "+base+"/{id}/recreate", h.authed(h.limited(h.createNew(k, true))))
	mux.HandleFunc("POST "+base+"/tombstones/{mkId}/forget", h.authed(h.forgetTombstone(k, false)))
	mux.HandleFunc("POST "+base+"/tombstones/{mkId}/recreate", h.authed(h.limited(h.forgetTombstone(k, true))))
}

// linker is the configured Syncer as a Linker (the sync engine is one).
func (h *Handler) linker() (mksync.Linker, error) {
	l, ok := h.cfg.Syncer.(mksync.Linker)
	if !ok {
		return nil, httperr.NoSyncer()
	}
	return l, nil
}

// linkBox is the record page's link box for rec: its mapping, with the
// candidates when it is ambiguous.
func (h *Handler) linkBox(ctx context.Context, s *session, k kind, rec record) (LinkBox, error) {
	b := LinkBox{Entity: k.info, CSRF: s.CSRF, ID: rec.ID, Title: rec.Title, State: string(mksync.StateUnsynced)}
	m, err := h.cfg.Store.FindMapping(ctx, s.TenantID, k.info.Type, rec.ID)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		return b, nil
	case err != nil:
		return b, fmt.Errorf("find mapping of %s %s: %w", k.info.Singular, rec.ID, err)
	}
	b.Mapped, b.State, b.MetakockaID, b.CountCode = true, string(m.State), m.MetakockaID, m.CountCode
	b.LastSynced, b.LastErrorID = formatTime(m.LastSyncedAt), m.LastError
	if m.State == mksync.StateAmbiguous {
		if b.Candidates, err = h.candidates(ctx, s, m.LastError); err != nil {
			return b, err
		}
	}
	return b, nil
}

// candidates reads the candidates of an ambiguous record from the error
// record the engine wrote (details candidates, keys and titles).
func (h *Handler) candidates(ctx context.Context, s *session, errorID string) ([]Candidate, error) {
	if errorID == "" {
		return nil, nil
	}
	er, err := h.cfg.Store.FindErrorRecord(ctx, s.TenantID, errorID)
	switch {
	case mksync.ErrorCode(err) == mksync.ENOTFOUND:
		return nil, nil // pruned by retention: a person links by mk_id
	case err != nil:
		return nil, fmt.Errorf("find error record %s: %w", errorID, err)
	}
	ids, keys, titles := detailStrings(er.Details["candidates"]), detailStrings(er.Details["keys"]), detailStrings(er.Details["titles"])
	out := make([]Candidate, 0, len(ids))
	for i, id := range ids {
		c := Candidate{MetakockaID: id}
		if i < len(keys) {
			c.Key = keyLabel(keys[i])
		}
		if i < len(titles) {
			c.Title = titles[i]
		}
		out = append(out, c)
	}
	return out, nil
}

// detailStrings reads an error record's detail that is a list of strings
// (it comes back from the store as []any).
func detailStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// keyLabel names a matching key for people.
func keyLabel(k string) string {
	switch k {
	case "tax_number":
		return "tax number"
	case "registration_number":
		return "registration number"
	case "email":
		return "e-mail"
	case "count_code":
		return "count code"
	}
	return k
}

// linkRecord links the record to the Metakocka record typed (or picked)
// as ref: its mk_id or count_code.
func (h *Handler) linkRecord(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		rec, err := k.find(r.Context(), h.cfg.Store, s.TenantID, r.PathValue("id"))
		if err != nil {
			return err
		}
		ref := strings.TrimSpace(r.PostFormValue("ref"))
		var m mksync.Mapping
		switch {
		case ref == "":
			err = &mksync.Error{Code: mksync.EINVALID, Message: "enter the Metakocka mk_id or count code to link to",
				Details: map[string]string{"ref": "is required"}}
		case len(ref) > maxRefLen || strings.ContainsFunc(ref, isControl):
			err = &mksync.Error{Code: mksync.EINVALID, Message: "that is not a Metakocka mk_id or count code",
				Details: map[string]string{"ref": fmt.Sprintf("must be at most %d characters", maxRefLen)}}
		default:
			var l mksync.Linker
			if l, err = h.linker(); err == nil {
				m, err = l.Link(r.Context(), s.TenantID, k.info.Type, rec.ID, ref)
				err = wrap("link", err)
			}
		}
		msg := fmt.Sprintf("%s is linked to Metakocka record %s; the next sync compares them.", rec.Title, m.MetakockaID)
		return h.answerLink(w, r, s, k, rec, ref, msg, err)
	}
}

// unlinkRecord removes the record's link; nothing is written to Metakocka.
func (h *Handler) unlinkRecord(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		rec, err := k.find(r.Context(), h.cfg.Store, s.TenantID, r.PathValue("id"))
		if err != nil {
			return err
		}
		l, err := h.linker()
		if err == nil {
			err = wrap("unlink", l.Unlink(r.Context(), s.TenantID, k.info.Type, rec.ID))
		}
		msg := rec.Title + " is unlinked; the next push matches it again, or creates it when nothing matches."
		return h.answerLink(w, r, s, k, rec, "", msg, err)
	}
}

// createNew creates the record in Metakocka now on purpose, without
// matching: "none of these" for an ambiguous record. With relink (a record
// deleted in Metakocka) it is unlinked first.
func (h *Handler) createNew(k kind, relink bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		rec, err := k.find(ctx, h.cfg.Store, s.TenantID, r.PathValue("id"))
		if err != nil {
			return err
		}
		l, err := h.linker()
		if err == nil && relink {
			if err = l.Unlink(ctx, s.TenantID, k.info.Type, rec.ID); mksync.ErrorCode(err) == mksync.ENOTFOUND {
				err = nil
			}
			err = wrap("unlink", err)
		}
		if err == nil {
			_, err = l.CreateNew(ctx, s.TenantID, k.info.Type, rec.ID)
			err = wrap("create in Metakocka", err)
		}
		msg := rec.Title + " is created in Metakocka as a new record."
		if err == nil {
			if m, ferr := h.cfg.Store.FindMapping(ctx, s.TenantID, k.info.Type, rec.ID); ferr == nil && m.MetakockaID != "" {
				msg = fmt.Sprintf("%s is created in Metakocka as a new record (%s).", rec.Title, m.MetakockaID)
			}
		}
		return h.answerLink(w, r, s, k, rec, "", msg, err)
	}
}

// answerLink answers a link action on rec: with htmx the fragment of the
// page it came from (the record's link box, or the decisions page's row),
// with the outcome; a plain form goes back to that page on success and
// shows the record page with the problem otherwise. actErr is the
// action's error (nil: done, okMsg says what happened).
func (h *Handler) answerLink(w http.ResponseWriter, r *http.Request, s *session, k kind, rec record, ref, okMsg string, actErr error) error {
	status, flash := http.StatusOK, Flash{Kind: "ok", Message: okMsg}
	var problems []Field
	if actErr != nil {
		f := h.describe(r, s, operation(r), rec.ID, actErr)
		status, flash, problems = f.Status, f.Flash, f.Details
		setErrorID(w, f)
	}
	from := r.PostFormValue("from")
	if from == fromDecisions {
		if isHTMX(r) {
			h.render(w, r, status, "decisions.html", "decisionResult", DecisionResult{ID: rec.ID, Title: rec.Title, Entity: k.info, Flash: flash})
			return nil
		}
		if actErr != nil {
			h.showFailure(w, r, s, failure{Status: status, Flash: flash, Details: problems})
			return nil
		}
		redirect(w, r, "/"+k.info.Slug+"/decisions")
		return nil
	}
	box, err := h.linkBox(r.Context(), s, k, rec)
	if err != nil {
		return err
	}
	box.Flash, box.Problems = &flash, problems
	if actErr != nil {
		box.Ref = ref
	}
	if isHTMX(r) {
		h.render(w, r, status, "detail.html", "linkBox", box)
		return nil
	}
	if actErr == nil {
		redirect(w, r, "/"+k.info.Slug+"/"+url.PathEscape(rec.ID))
		return nil
	}
	p, err := h.detailPage(r, s, k, rec)
	if err != nil {
		return err
	}
	p.Link = box
	h.renderPage(w, r, status, "detail.html", p)
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// forgetTombstone forgets the tombstone of a CRM record deleted on
// purpose; with recreate it then pulls the Metakocka record, which creates
// the CRM record again, linked.
func (h *Handler) forgetTombstone(k kind, recreate bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		mkID := r.PathValue("mkId")
		if len(mkID) > maxRefLen {
			return mksync.Errorf(mksync.EINVALID, "that is not a Metakocka id")
		}
		if recreate && h.cfg.Syncer == nil {
			return httperr.NoSyncer()
		}
		t, err := h.cfg.Store.FindTombstone(ctx, s.TenantID, k.info.Type, mkID)
		if err != nil {
			return fmt.Errorf("find tombstone %s: %w", mkID, err)
		}
		if err := h.cfg.Store.DeleteTombstone(ctx, s.TenantID, k.info.Type, mkID); err != nil {
			return fmt.Errorf("forget tombstone %s: %w", mkID, err)
		}
		status := http.StatusOK
		flash := Flash{Kind: "ok", Message: fmt.Sprintf("Forgotten: the next pull may bring Metakocka record %s back.", mkID)}
		if recreate {
			_, serr := h.cfg.Syncer.SyncFromMetakocka(ctx, s.TenantID, k.info.Type, mkID)
			if serr != nil {
				f := h.describe(r, s, operation(r), mkID, fmt.Errorf("recreate from Metakocka: %w", serr))
				status, flash = f.Status, f.Flash
				setErrorID(w, f)
			} else {
				flash.Message = fmt.Sprintf("Metakocka record %s is in the CRM again, linked.", mkID)
			}
		}
		if isHTMX(r) {
			h.render(w, r, status, "decisions.html", "decisionResult", DecisionResult{ID: "tomb-" + t.MetakockaID, Title: t.MetakockaID, Entity: k.info, Flash: flash})
			return nil
		}
		if status != http.StatusOK {
			h.showFailure(w, r, s, failure{Status: status, Flash: flash})
			return nil
		}
		redirect(w, r, "/"+k.info.Slug+"/decisions")
		return nil
	}
}

// decisions lists what a person decides on for one record type: the
// ambiguous records with their candidates inline, the records deleted in
// Metakocka, and the tombstones (records deleted in the CRM on purpose).
// Each list pages on its own (?amb=, ?del=, ?tomb= cursors).
func (h *Handler) decisions(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		q := r.URL.Query()
		for _, c := range []string{"amb", "del", "tomb"} {
			if len(q.Get(c)) > 512 {
				return mksync.Errorf(mksync.EINVALID, "the page link is broken; start from the first page")
			}
		}
		p := DecisionsPage{Layout: h.layout(r, s, k.info.Label+": decisions", "/"+k.info.Slug), Entity: k.info, CSRF: s.CSRF}
		page := func(after string) mksync.Page { return mksync.Page{After: after, Limit: h.cfg.PageSize} }
		var err error
		var next string
		if p.Ambiguous, next, err = h.decisionRows(ctx, s, k, mksync.StateAmbiguous, page(q.Get("amb"))); err != nil {
			return err
		}
		p.AmbiguousNext = moreURL(k, q, "amb", next)
		if p.Deleted, next, err = h.decisionRows(ctx, s, k, mksync.StateDeletedInMetakocka, page(q.Get("del"))); err != nil {
			return err
		}
		p.DeletedNext = moreURL(k, q, "del", next)
		ts, next, err := h.cfg.Store.FindTombstones(ctx, s.TenantID, k.info.Type, page(q.Get("tomb")))
		if err != nil {
			return fmt.Errorf("find tombstones: %w", err)
		}
		for _, t := range ts {
			p.Tombstones = append(p.Tombstones, TombstoneRow{MetakockaID: t.MetakockaID, CountCode: t.CountCode, EntityID: t.EntityID, Deleted: formatTime(t.DeletedAt)})
		}
		p.TombstonesNext = moreURL(k, q, "tomb", next)
		h.renderPage(w, r, http.StatusOK, "decisions.html", p)
		return nil
	}
}

// moreURL is the link to the next page of one list of the decisions page
// (the others stay where they are); "" when there is none.
func moreURL(k kind, q url.Values, param, next string) string {
	if next == "" {
		return ""
	}
	v := url.Values{}
	for _, c := range []string{"amb", "del", "tomb"} {
		if q.Get(c) != "" {
			v.Set(c, q.Get(c))
		}
	}
	v.Set(param, next)
	return "/" + k.info.Slug + "/decisions?" + v.Encode()
}

// decisionRows lists the records of k whose mapping is in state st, with
// their candidates (ambiguous ones).
func (h *Handler) decisionRows(ctx context.Context, s *session, k kind, st mksync.SyncState, p mksync.Page) ([]DecisionRow, string, error) {
	ms, next, err := h.cfg.Store.FindMappings(ctx, s.TenantID, k.info.Type, mksync.ListFilter{State: st, Page: p})
	if err != nil {
		return nil, "", fmt.Errorf("find %s mappings: %w", st, err)
	}
	out := make([]DecisionRow, 0, len(ms))
	for _, m := range ms {
		rec, err := k.find(ctx, h.cfg.Store, s.TenantID, m.EntityID)
		if err != nil {
			if mksync.ErrorCode(err) == mksync.ENOTFOUND {
				continue // deleted since the list was read
			}
			return nil, "", err
		}
		row := DecisionRow{Entity: k.info, CSRF: s.CSRF, ID: rec.ID, Title: rec.Title, Subtitle: rec.Subtitle,
			MetakockaID: m.MetakockaID, CountCode: m.CountCode, LastErrorID: m.LastError}
		if st == mksync.StateAmbiguous {
			if row.Candidates, err = h.candidates(ctx, s, m.LastError); err != nil {
				return nil, "", err
			}
		}
		out = append(out, row)
	}
	return out, next, nil
}
