package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// loginForm shows the sign-in form with a fresh double-submit token (there
// is no session to derive a CSRF token from yet).
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if s, _ := h.currentSession(r); s != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.showLogin(w, r, http.StatusOK, "")
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	tok, err := randomToken(24)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.setCookie(w, r, loginCookie, tok, time.Hour)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	p := LoginPage{Layout: Layout{Title: "Sign in"}, Next: localPath(next), Error: problem, LoginCSRF: tok}
	if r.Method == http.MethodGet && r.URL.Query().Get("signed_out") == "1" {
		p.Notice = "You are signed out."
	}
	h.renderPage(w, r, status, "login.html", p)
}

// login checks the API token and starts a session. Attempts are limited
// per client IP, so tokens cannot be guessed through the form either.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, err := r.Cookie(loginCookie)
	if err != nil || !equalToken(r.PostFormValue(csrfField), c.Value) {
		h.fail(w, r, nil, errCSRF())
		return
	}
	if !h.logins.Allow(clientIP(r), h.cfg.Now()) {
		h.showLogin(w, r, http.StatusTooManyRequests, "Too many sign-in attempts. Wait a minute and try again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if !strings.HasPrefix(token, mksync.TokenPrefix) || len(token) > 256 {
		h.showLogin(w, r, http.StatusUnauthorized, "That is not an mksync API token (they start with "+mksync.TokenPrefix+").")
		return
	}
	hash := mksync.HashToken(token)
	now := h.cfg.Now()
	tok, err := h.cfg.Store.AuthenticateAPIToken(r.Context(), hash, now)
	switch code := mksync.ErrorCode(err); {
	case err == nil:
	case code == mksync.EUNAUTHORIZED || code == mksync.ENOTFOUND:
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "sign-in refused", slog.String("remoteIp", clientIP(r)))
		h.showLogin(w, r, http.StatusUnauthorized, "This API token is unknown or revoked.")
		return
	default:
		h.fail(w, r, nil, err)
		return
	}
	nonce, err := randomToken(18)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	value, err := h.sess.encode(sessionPayload{Hash: hash, Generation: tok.SessionGeneration, Nonce: nonce, Expires: now.Add(h.sess.ttl).Unix()})
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.setCookie(w, r, sessionCookie, value, h.sess.ttl)
	h.setCookie(w, r, loginCookie, "", -1)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "signed in", slog.String("tenantId", tok.TenantID), slog.String("tokenId", tok.ID))
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout ends the session: the cookie is deleted here, and since a copy of
// it could have been saved, the token's session generation moves on, which
// ends every session signed in with the same API token (in any browser, on
// any instance). Revoking the token ends them too.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.cfg.Store.EndSessions(r.Context(), s.TenantID, s.TokenID); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	redirect(w, r, "/login?signed_out=1")
	return nil
}

// clientIP is the peer address; proxy headers are not trusted.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
