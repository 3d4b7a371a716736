package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// adminRealm is the HTTP Basic realm of admin pages.
const adminRealm = "mksync admin"

// adminPageCSP is the Content Security Policy of admin pages: scripts from
// this origin only, no framing (River's dashboard sets inline styles, so
// styles may be inline).
const adminPageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// RequireAdmin guards an admin page (such as River's job dashboard) that a
// browser opens: it passes requests carrying the admin token, either as
// "Authorization: Bearer <token>" or, since a browser cannot add that
// header, as the password of HTTP Basic auth (any user name). Without a
// token, or with a wrong one, it answers 401 with a Basic challenge; a
// tenant's API token gets 403. Tokens are compared in constant time and
// never logged.
//
// As the web UI, it refuses cross-origin unsafe requests with 403 (the
// browser re-sends Basic credentials to any site's form, so a cross-site
// POST would otherwise act with them), sets a Content Security Policy and
// forbids framing, and answers 429 to a client IP after
// Config.AdminAttemptsPerMinute wrong tokens (counted in this process).
func (s *Server) RequireAdmin(next http.Handler) http.Handler {
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if wait := s.adminFails.Wait(ip, s.cfg.Now()); wait > 0 {
			s.tooManyAdminAttempts(w, r, wait)
			return
		}
		tok, ok := adminPageToken(r)
		switch {
		case !ok:
			s.denyAdminPage(w, r, errBadToken())
		case s.isAdminToken(r, tok):
			next.ServeHTTP(w, r)
		case s.isTenantToken(r, tok):
			s.writeError(w, r, mksync.Errorf(mksync.EFORBIDDEN, "admin pages need the admin token"))
		default:
			s.adminFails.Allow(ip, s.cfg.Now()) // spends one attempt
			s.denyAdminPage(w, r, errBadToken())
		}
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, mksync.Errorf(mksync.EFORBIDDEN, "cross-origin request refused: admin pages accept changes from this site only"))
	}))
	protected := cop.Handler(guarded)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", adminPageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		protected.ServeHTTP(w, r)
	})
}

// RequireMetricsToken guards GET /metrics on the API's listener (the
// metrics name tenants' activity, record counts and error rates): it passes
// "Authorization: Bearer <metricsToken>" (Prometheus' authorization
// credentials; compared in constant time) and otherwise asks for the admin
// token as RequireAdmin does, with the same limit on wrong tokens. An empty
// metricsToken accepts the admin token only.
func (s *Server) RequireMetricsToken(metricsToken string, next http.Handler) http.Handler {
	admin := s.RequireAdmin(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, err := bearerToken(r); err == nil && metricsToken != "" &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(metricsToken)) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		admin.ServeHTTP(w, r)
	})
}

// tooManyAdminAttempts answers 429 with Retry-After.
func (s *Server) tooManyAdminAttempts(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	retry := max(1, ceilSeconds(wait))
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	s.writeError(w, r, &mksync.Error{Code: mksync.ERATELIMITED,
		Message: "too many wrong admin tokens from this address; retry in " + strconv.Itoa(retry) + " s",
		Details: map[string]string{"retryAfter": strconv.Itoa(retry)}})
}

// denyAdminPage answers 401 with a Basic challenge (offered first, so that
// a browser asks for the token) and the usual error body.
func (s *Server) denyAdminPage(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+adminRealm+`", charset="UTF-8"`)
	w.Header().Add("WWW-Authenticate", `Bearer realm="mksync"`)
	writeJSON(w, http.StatusUnauthorized, httperr.Body{Error: mksync.ErrorMessage(err), Code: httperr.WireCode(err, http.StatusUnauthorized),
		ErrorID: httperr.NewID(), Details: map[string]string{}})
}

// isTenantToken reports whether tok is a live tenant API token.
func (s *Server) isTenantToken(r *http.Request, tok string) bool {
	if !strings.HasPrefix(tok, mksync.TokenPrefix) {
		return false
	}
	_, err := s.cfg.Store.AuthenticateAPIToken(r.Context(), mksync.HashToken(tok), s.cfg.Now())
	return err == nil
}

// adminPageToken is the token of a Bearer header or the password of Basic
// auth; ok is false when there is none.
func adminPageToken(r *http.Request) (tok string, ok bool) {
	if _, pass, basic := r.BasicAuth(); basic {
		tok = pass
	} else if t, err := bearerToken(r); err == nil {
		tok = t
	}
	if tok == "" || len(tok) > 256 {
		return "", false
	}
	return tok, true
}
