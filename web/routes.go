package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mksync/mksync"
)

// maxFormBytes caps a form or report body.
const maxFormBytes = 64 << 10

// pageFunc handles a request of a signed-in person; it writes its answer
// and returns an error for everything else, which becomes the problem page
// (or, for htmx, the flash message).
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session) error

func (h *Handler) routes(mux *http.ServeMux) error {
	static, err := staticHandler()
	if err != nil {
		return err
	}
	mux.Handle("GET /static/", static)
	// Browsers ask for /favicon.ico whatever the page links; answer with
	// the icon rather than a 404 on every first visit.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/static/favicon.svg"
		static.ServeHTTP(w, r2)
	})
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.authed(h.logout))
	mux.HandleFunc("GET /{$}", h.authed(h.dashboard))
	mux.HandleFunc("POST /connection/test", h.authed(h.limited(h.testConnection)))
	for _, k := range kinds() {
		base := "/" + k.info.Slug
		mux.HandleFunc("GET "+base, h.authed(h.list(k)))
		mux.HandleFunc("GET "+base+"/{id}", h.authed(h.detail(k)))
		mux.HandleFunc("POST "+base+"/{id}/sync-to-metakocka", h.authed(h.limited(h.syncOne(k, mksync.ToMetakocka))))
		mux.HandleFunc("POST "+base+"/{id}/sync-from-metakocka", h.authed(h.limited(h.syncOne(k, mksync.FromMetakocka))))
		mux.HandleFunc("POST "+base+"/sync", h.authed(h.limited(h.syncMany(k))))
		mux.HandleFunc("GET "+base+"/in-metakocka", h.authed(h.remote(k)))
		mux.HandleFunc("POST "+base+"/import", h.authed(h.limited(h.importRemote(k))))
		h.linkRoutes(mux, k)
		if k.info.Type == mksync.EntityContact {
			mux.HandleFunc("POST "+base+"/{id}/partner", h.authed(h.savePartner(k)))
		}
	}
	mux.HandleFunc("GET /runs", h.authed(h.runs))
	mux.HandleFunc("GET /runs/{id}", h.authed(h.run))
	mux.HandleFunc("GET /runs/{id}/progress", h.authed(h.runProgress))
	mux.HandleFunc("GET /previews/{id}", h.authed(h.preview))
	mux.HandleFunc("POST /previews/{id}/apply", h.authed(h.limited(h.applyPreview)))
	mux.HandleFunc("GET /errors", h.authed(h.errors))
	mux.HandleFunc("GET /errors/{id}", h.authed(h.errorRecord))
	mux.HandleFunc("GET /first-connect", h.authed(h.firstConnect))
	mux.HandleFunc("POST /first-connect/done", h.authed(h.firstConnectDone))
	mux.HandleFunc("GET /settings", h.authed(h.settings))
	mux.HandleFunc("POST /settings", h.authed(h.saveSettings))
	mux.HandleFunc("POST /client-errors", h.authed(h.clientError))
	mux.HandleFunc("/", h.notFound)
	return nil
}

// authed guards fn: no valid session sends the person to sign in; a
// state-changing request without the session's CSRF token is refused (403).
func (h *Handler) authed(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.currentSession(r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if s == nil {
			h.toLogin(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if !checkCSRF(r, s) {
				h.fail(w, r, s, errCSRF())
				return
			}
		}
		if err := fn(w, r, s); err != nil {
			h.fail(w, r, s, err)
		}
	}
}

// limited refuses fn with 429 when the tenant's sync budget is spent (see
// Config.SyncLimit).
func (h *Handler) limited(fn pageFunc) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if h.cfg.SyncLimit != nil {
			if ok, wait := h.cfg.SyncLimit(r.Context(), s.TenantID); !ok {
				secs := int((wait + time.Second - 1) / time.Second)
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				return mksync.Errorf(mksync.ERATELIMITED, "too many syncs in the last minute; try again in %d s", secs)
			}
		}
		return fn(w, r, s)
	}
}

func errCSRF() error {
	return mksync.Errorf(mksync.EFORBIDDEN, "this form has expired or was not sent from this site; reload the page and try again")
}

// toLogin redirects to the sign-in page, back to this page afterwards.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	next := "/"
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	target := "/login?next=" + url.QueryEscape(localPath(next))
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// redirect sends the browser to target after a successful form post: a 303
// for a plain form, HX-Redirect (a full navigation) for htmx.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// crossOriginDenied answers a request that http.CrossOriginProtection
// refused (a forged cross-site form post).
func (h *Handler) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, nil, mksync.Errorf(mksync.EFORBIDDEN, "cross-origin requests are not allowed"))
}

// notFound is the page of unknown paths.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := h.currentSession(r)
	h.fail(w, r, s, mksync.Errorf(mksync.ENOTFOUND, "there is no page at this address"))
}
