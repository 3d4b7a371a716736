package httpapi

import (
	"net/http"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// adminRealm is the HTTP Basic realm of admin pages.
const adminRealm = "mksync admin"

// RequireAdmin guards an admin page (such as River's job dashboard) that a
// browser opens: it passes requests carrying the admin token, either as
// "Authorization: Bearer <token>" or, since a browser cannot add that
// header, as the password of HTTP Basic auth (any user name). Without a
// token, or with a wrong one, it answers 401 with a Basic challenge; a
// tenant's API token gets 403. Tokens are compared in constant time and
// never logged.
func (s *Server) RequireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := adminPageToken(r)
		switch {
		case !ok:
			s.denyAdminPage(w, r, errBadToken())
		case s.isAdminToken(r, tok):
			next.ServeHTTP(w, r)
		case s.isTenantToken(r, tok):
			s.writeError(w, r, mksync.Errorf(mksync.EFORBIDDEN, "admin pages need the admin token"))
		default:
			s.denyAdminPage(w, r, errBadToken())
		}
	})
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
