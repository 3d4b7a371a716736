package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// errors lists the tenant's error records, newest first, or finds one by
// its errorId (?q=), which is how a person follows up an id they were shown.
func (h *Handler) errors(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := ErrorsPage{Layout: h.layout(r, s, "Errors", "/errors"), Query: strings.TrimSpace(q.Get("q")), Category: q.Get("category")}
	if utf8.RuneCountInString(p.Query) > 128 || utf8.RuneCountInString(p.Category) > 50 {
		return mksync.Errorf(mksync.EINVALID, "the search text is too long")
	}
	cats := [][2]string{{"", "Any category"}}
	for _, c := range []string{observe.CatSync, observe.CatAPI, observe.CatMetakocka, observe.CatJobs, observe.CatClient, categoryUI} {
		cats = append(cats, [2]string{c, c})
	}
	p.Categories = options(p.Category, cats...)
	if p.Query != "" {
		rec, err := h.cfg.Store.FindErrorRecord(ctx, s.TenantID, p.Query)
		switch {
		case err == nil:
			http.Redirect(w, r, "/errors/"+url.PathEscape(rec.ID), http.StatusSeeOther)
			return nil
		case mksync.ErrorCode(err) == mksync.ENOTFOUND:
			p.NotFound = true
			h.renderPage(w, r, http.StatusNotFound, "errors.html", p)
			return nil
		default:
			return fmt.Errorf("find error record: %w", err)
		}
	}
	after, err := cursorParam(r)
	if err != nil {
		return err
	}
	recs, next, err := h.cfg.Store.FindErrorRecords(ctx, s.TenantID, mksync.ErrorFilter{Category: p.Category, Page: mksync.Page{After: after, Limit: h.cfg.PageSize}})
	if err != nil {
		return fmt.Errorf("find error records: %w", err)
	}
	for _, e := range recs {
		p.Rows = append(p.Rows, newErrorRow(e))
	}
	if next != "" {
		v := url.Values{"after": {next}}
		if p.Category != "" {
			v.Set("category", p.Category)
		}
		p.NextURL = "/errors?" + v.Encode()
	}
	h.renderPage(w, r, http.StatusOK, "errors.html", p)
	return nil
}

// errorRecord shows one error record with its details.
func (h *Handler) errorRecord(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	rec, err := h.cfg.Store.FindErrorRecord(ctx, s.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find error record: %w", err)
	}
	p := ErrorPage{Layout: h.layout(r, s, "Error "+rec.ID, "/errors"), Error: newErrorRow(rec)}
	for _, k := range sortedKeys(rec.Details) {
		p.Details = append(p.Details, Field{Label: k, Value: detailText(rec.Details[k])})
	}
	if rec.EntityID != "" {
		p.RecordURL = h.recordURL(r, s, rec.EntityID)
	}
	h.renderPage(w, r, http.StatusOK, "error.html", p)
	return nil
}

// recordURL finds which record type id is a record of, for a link.
func (h *Handler) recordURL(r *http.Request, s *session, id string) string {
	for _, k := range kinds() {
		if _, err := k.find(r.Context(), h.cfg.Store, s.TenantID, id); err == nil {
			return "/" + k.info.Slug + "/" + url.PathEscape(id)
		}
	}
	return ""
}

// detailText shows a detail value: text as is, anything else as JSON.
func detailText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
