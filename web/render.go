package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// templates holds one parsed set per page: the layout, the shared partials
// and the page's own "content".
type templates struct {
	pages map[string]*template.Template
}

// pageNames are the page templates under templates/ besides the shared
// layout.html and partials.html.
var pageNames = []string{
	"login.html", "dashboard.html", "list.html", "detail.html", "syncresult.html",
	"remote.html", "runs.html", "run.html", "errors.html", "error.html",
	"settings.html", "problem.html", "decisions.html", "firstconnect.html", "preview.html",
}

func parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"time":     formatTime,
		"stateOf":  stateLabel,
		"dirLabel": directionLabel,
		"sentence": sentence,
		"lower":    strings.ToLower,
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		p, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		t.pages[name] = p
	}
	if _, err := fs.Stat(staticFS, "static/htmx.min.js"); err != nil {
		return nil, fmt.Errorf("embedded htmx: %w", err)
	}
	return t, nil
}

// render executes template name of page set page into a buffer and writes
// it with status, so a template failure never sends half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	t, ok := h.tmpl.pages[page]
	if !ok {
		h.renderBroken(w, r, fmt.Errorf("no page template %q", page))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		h.renderBroken(w, r, fmt.Errorf("execute template %s/%s: %w", page, name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderPage renders a full page (layout + content).
func (h *Handler) renderPage(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	h.render(w, r, status, page, "layout", data)
}

// renderBroken is the last resort when a template fails: a plain page that
// still names the failure's errorId.
func (h *Handler) renderBroken(w http.ResponseWriter, r *http.Request, err error) {
	id := httperr.NewID()
	h.log.LogAttrs(r.Context(), slog.LevelError, "render page", slog.String("errorId", id), slog.String("err", err.Error()))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprintf(w, "<!doctype html><title>Error</title><h1>Something went wrong</h1><p>Error id: <code>%s</code></p><p><a href=\"/\">Back to the dashboard</a></p>", template.HTMLEscapeString(id))
}

// isHTMX reports whether r was sent by htmx (and wants a fragment).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true"
}

// failure is an error as the UI shows it.
type failure struct {
	Status  int
	Flash   Flash
	Details []Field
}

// describe turns err into what a person sees: a status, a safe message,
// the code and an errorId. The errorId is the one the sync engine gave the
// failure, or, for server and Metakocka failures, that of a new error
// record stored now; other client mistakes (not found, invalid) have none.
func (h *Handler) describe(r *http.Request, s *session, op, entityID string, err error) failure {
	status := httperr.Status(err)
	code := mksync.ErrorCode(err)
	msg := mksync.ErrorMessage(err)
	details := mksync.ErrorDetails(err)
	errorID := details["errorId"]
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		code, msg = mksync.EINVALID, "the form is too large"
	case status == httperr.StatusClientClosedRequest:
		msg = "the request was cancelled"
	case code == mksync.EINTERNAL:
		msg = "internal error"
		details = nil
	}
	if errorID == "" && (status >= 500 || code == mksync.EUPSTREAM) {
		errorID = h.recordFailure(r, s, op, entityID, code, msg, status, err)
	}
	// The engine's messages end with "(errorId …)"; the page shows the id
	// on its own line, as a link.
	msg = strings.TrimSuffix(msg, " (errorId "+errorID+")")
	f := failure{Status: status, Flash: Flash{Kind: "error", Message: msg, Code: code, ErrorID: errorID}}
	for _, k := range sortedKeys(details) {
		if k != "errorId" {
			f.Details = append(f.Details, Field{Label: k, Value: details[k]})
		}
	}
	return f
}

// recordFailure stores an error record of the failure (when the tenant is
// known) and logs it; it returns the errorId.
func (h *Handler) recordFailure(r *http.Request, s *session, op, entityID, code, msg string, status int, cause error) string {
	id := httperr.NewID()
	attrs := []slog.Attr{slog.String("errorId", id), slog.String("operation", op), slog.Int("status", status), slog.String("err", cause.Error())}
	if s == nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "ui request failed", attrs...)
		return id
	}
	attrs = append(attrs, slog.String("tenantId", s.TenantID))
	h.log.LogAttrs(r.Context(), slog.LevelError, "ui request failed", attrs...)
	rec := mksync.ErrorRecord{
		ID: id, Category: categoryUI, Operation: op, EntityID: entityID, Code: code, Message: msg,
		Details:   map[string]any{"method": r.Method, "route": r.Pattern, "status": status},
		CreatedAt: h.cfg.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := h.cfg.Store.CreateErrorRecord(ctx, s.TenantID, &rec); err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "store ui error record", slog.String("errorId", id), slog.String("err", err.Error()))
	}
	return id
}

// fail answers a request whose handler returned err: the error fragment for
// htmx (swapped into the flash area), else the full problem page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.showFailure(w, r, s, h.describe(r, s, operation(r), r.PathValue("id"), err))
}

// showFailure answers a described failure.
func (h *Handler) showFailure(w http.ResponseWriter, r *http.Request, s *session, f failure) {
	setErrorID(w, f)
	if isHTMX(r) {
		w.Header().Set("HX-Retarget", "#flash")
		w.Header().Set("HX-Reswap", "innerHTML")
		h.render(w, r, f.Status, "problem.html", "flash", f.Flash)
		return
	}
	p := ProblemPage{Layout: h.layout(r, s, problemTitle(f.Status), ""), Status: f.Status, Heading: problemTitle(f.Status), Problem: f.Flash, Details: f.Details}
	h.renderPage(w, r, f.Status, "problem.html", p)
}

// setErrorID exposes a failure's errorId to scripts (the client logger
// links its report to it).
func setErrorID(w http.ResponseWriter, f failure) {
	if f.Flash.ErrorID != "" {
		w.Header().Set("X-Error-Id", f.Flash.ErrorID)
	}
}

// sentence starts s with a capital letter: domain messages are written to
// be embedded ("invalid contact: …"), pages show them on their own.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// operation names a UI request for error records: its route pattern.
func operation(r *http.Request) string {
	if r.Pattern != "" {
		return "ui " + r.Pattern
	}
	return "ui " + r.Method + " (unmatched)"
}

func problemTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusBadRequest:
		return "Please check your input"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return "Too many requests"
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return "Metakocka is not available"
	}
	return "Something went wrong"
}

// layout returns the common page data for a request.
func (h *Handler) layout(r *http.Request, s *session, title, nav string) Layout {
	l := Layout{Title: title, Nav: nav}
	if s != nil {
		l.SignedIn = true
		l.CSRF = s.CSRF
		if t, err := h.cfg.Store.FindTenantByID(r.Context(), s.TenantID); err == nil {
			l.TenantName = t.Name
		}
	}
	return l
}

// formatTime shows a time in UTC to the minute, or "—" for none.
func formatTime(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// localPath returns next as a path of this site, or "/" when it is not
// one: sign-in redirects never leave the site. It refuses what a browser
// could read as another origin once cleaned (http.Redirect cleans the
// path, so "/x/../\evil" would become "/\evil", which browsers take for
// "//evil"): anything but one leading slash, backslashes, control
// characters and invalid UTF-8 anywhere, schemes, hosts and user info.
// The answer is already clean, so cleaning it again changes nothing.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || !utf8.ValidString(next) || strings.ContainsFunc(next, unsafeInPath) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		!utf8.ValidString(u.Path) || strings.ContainsFunc(u.Path, unsafeInPath) {
		return "/"
	}
	p := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	return (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
}

// unsafeInPath reports the runes a redirect target may not hold: browsers
// treat a backslash as a slash and drop tabs and newlines.
func unsafeInPath(r rune) bool {
	return r == '\\' || unicode.IsControl(r)
}
