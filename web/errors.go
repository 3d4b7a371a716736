package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// dateLayout is the value format of an <input type="date">.
const dateLayout = "2006-01-02"

// errors lists the tenant's error records, newest first, narrowed by
// category, operation and a range of days (?since=, ?until=, both
// inclusive, in UTC like the stored timestamps), or finds one by its
// errorId (?q=), which is how a person follows up an id they were shown.
func (h *Handler) errors(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := ErrorsPage{
		Layout: h.layout(r, s, "Errors", "/errors"), Query: strings.TrimSpace(q.Get("q")), Category: q.Get("category"),
		Operation: strings.TrimSpace(q.Get("operation")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
	}
	if utf8.RuneCountInString(p.Query) > 128 || utf8.RuneCountInString(p.Category) > 50 || utf8.RuneCountInString(p.Operation) > 200 {
		return mksync.Errorf(mksync.EINVALID, "the search text is too long")
	}
	f, err := p.filter()
	if err != nil {
		return err
	}
	cats := [][2]string{{"", "Any category"}}
	for _, c := range []string{observe.CatSync, observe.CatAPI, observe.CatMetakocka, observe.CatJobs, observe.CatClient, categoryUI} {
		cats = append(cats, [2]string{c, c})
	}
	p.Categories = options(p.Category, cats...)
	if p.Operations, err = h.operationOptions(r, s, p.Operation); err != nil {
		return err
	}
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
	f.Page = mksync.Page{After: after, Limit: h.cfg.PageSize}
	recs, next, err := h.cfg.Store.FindErrorRecords(ctx, s.TenantID, f)
	if err != nil {
		return fmt.Errorf("find error records: %w", err)
	}
	for _, e := range recs {
		p.Rows = append(p.Rows, newErrorRow(e))
	}
	if next != "" {
		// The next page keeps every filter, or "Older errors" would
		// wander out of what the person searched for.
		v := url.Values{"after": {next}}
		for k, val := range map[string]string{"category": p.Category, "operation": p.Operation, "since": p.Since, "until": p.Until} {
			if val != "" {
				v.Set(k, val)
			}
		}
		p.NextURL = "/errors?" + v.Encode()
	}
	h.renderPage(w, r, http.StatusOK, "errors.html", p)
	return nil
}

// filter turns the page's filter fields into a store filter. Until is a
// whole day, so the store's exclusive bound is the next midnight.
func (p *ErrorsPage) filter() (mksync.ErrorFilter, error) {
	f := mksync.ErrorFilter{Category: p.Category, Operation: p.Operation}
	problems := map[string]string{}
	for name, v := range map[string]string{"since": p.Since, "until": p.Until} {
		if v == "" {
			continue
		}
		d, err := time.Parse(dateLayout, v)
		if err != nil {
			problems[name] = "must be a date (YYYY-MM-DD)"
			continue
		}
		if name == "since" {
			f.Since = d
		} else {
			f.Until = d.AddDate(0, 0, 1)
		}
	}
	if len(problems) == 0 && !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		problems["until"] = "must not be before since"
	}
	if len(problems) > 0 {
		return f, &mksync.Error{Code: mksync.EINVALID, Message: "invalid date range", Details: problems}
	}
	return f, nil
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

// operationOptions offers the operations of the tenant's recent error
// records (the newest MaxPageLimit), so nobody has to know an internal
// name to filter by one; selected stays offered even when older.
func (h *Handler) operationOptions(r *http.Request, s *session, selected string) ([]Option, error) {
	recs, _, err := h.cfg.Store.FindErrorRecords(r.Context(), s.TenantID, mksync.ErrorFilter{Page: mksync.Page{Limit: mksync.MaxPageLimit}})
	if err != nil {
		return nil, fmt.Errorf("find error records: %w", err)
	}
	seen := map[string]bool{}
	if selected != "" {
		seen[selected] = true
	}
	for _, e := range recs {
		if e.Operation != "" {
			seen[e.Operation] = true
		}
	}
	ops := sortedKeys(seen)
	pairs := [][2]string{{"", "Any operation"}}
	for _, op := range ops {
		pairs = append(pairs, [2]string{op, operationLabel(op)})
	}
	return options(selected, pairs...), nil
}

// operationLabel names an error record's operation for people: the sync
// engine's "contacts.sync_to_metakocka" reads "Sync contacts to
// Metakocka"; a job's "jobs.sync_run" reads "Background job: sync run".
// Other operations (API routes, browser requests) read as they are.
func operationLabel(op string) string {
	noun, verb, ok := strings.Cut(op, ".")
	switch {
	case !ok:
		return op
	case noun == "jobs":
		return "Background job: " + strings.ReplaceAll(verb, "_", " ")
	case verb == "sync_"+string(mksync.ToMetakocka):
		return "Sync " + strings.ReplaceAll(noun, "_", " ") + " to Metakocka"
	case verb == "sync_"+string(mksync.FromMetakocka):
		return "Sync " + strings.ReplaceAll(noun, "_", " ") + " from Metakocka"
	}
	return op
}
