package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// Cookie names. The session cookie is the sign-in; the login cookie is the
// double-submit CSRF token of the sign-in form (there is no session yet).
const (
	sessionCookie = "mksync_session"
	loginCookie   = "mksync_login"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// session is a signed-in person: the tenant their API token belongs to, and
// the nonce of this sign-in, from which the CSRF token is derived.
type session struct {
	TenantID string
	TokenID  string
	Nonce    string
	Expires  time.Time
	// CSRF is the token every state-changing request of this session must
	// carry (form field csrf or header X-CSRF-Token).
	CSRF string
}

// sessionPayload is what the cookie carries, signed: the token's hash
// (never the token), the token's session generation at sign-in (signing
// out moves it on, which ends the session everywhere), the sign-in nonce
// and the expiry (Unix seconds).
type sessionPayload struct {
	Hash       []byte `json:"h"`
	Generation int64  `json:"g"`
	Nonce      string `json:"n"`
	Expires    int64  `json:"e"`
}

// sessions signs and checks session cookies and CSRF tokens with one key.
type sessions struct {
	key []byte
	ttl time.Duration
}

// mac returns the HMAC-SHA256 of purpose|msg, so that a value signed for one
// purpose (a cookie) is never valid for another (a CSRF token).
func (s *sessions) mac(purpose, msg string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (s *sessions) csrfFor(nonce string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", nonce))
}

// encode returns the cookie value for a sign-in with the token hash.
func (s *sessions) encode(p sessionPayload) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", body)), nil
}

// decode checks the cookie's signature and expiry and returns its payload.
func (s *sessions) decode(value string, now time.Time) (sessionPayload, error) {
	var p sessionPayload
	body, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 1024 {
		return p, errors.New("malformed session cookie")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", body)) {
		return p, errors.New("bad session signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return p, fmt.Errorf("session body: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("session body: %w", err)
	}
	if !now.Before(time.Unix(p.Expires, 0)) {
		return p, errors.New("session expired")
	}
	return p, nil
}

// randomToken returns n random bytes, base64url.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", mksync.WrapError(mksync.EINTERNAL, "generate random token", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// equalToken compares two tokens in constant time; empty never matches.
func equalToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secure reports whether cookies must be Secure and HSTS sent: under TLS,
// or always when the operator says a TLS proxy fronts the server.
func (h *Handler) secure(r *http.Request) bool {
	return h.cfg.SecureCookies || r.TLS != nil
}

// setCookie writes an HttpOnly, SameSite=Strict cookie for the whole site;
// maxAge < 0 deletes it.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r),
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// currentSession returns the request's valid session, or nil. A cookie that
// is forged, expired, whose token was revoked, or that was signed in before
// a sign-out with its token (another session generation) is no session.
func (h *Handler) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	now := h.cfg.Now()
	p, err := h.sess.decode(c.Value, now)
	if err != nil {
		return nil, nil
	}
	tok, err := h.cfg.Store.AuthenticateAPIToken(r.Context(), p.Hash, now)
	switch code := mksync.ErrorCode(err); {
	case err == nil:
	case code == mksync.EUNAUTHORIZED || code == mksync.ENOTFOUND:
		return nil, nil
	default:
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	if tok.SessionGeneration != p.Generation {
		return nil, nil
	}
	return &session{TenantID: tok.TenantID, TokenID: tok.ID, Nonce: p.Nonce,
		Expires: time.Unix(p.Expires, 0), CSRF: h.sess.csrfFor(p.Nonce)}, nil
}

// checkCSRF reports whether r carries the session's CSRF token in the form
// field or the header.
func checkCSRF(r *http.Request, s *session) bool {
	if equalToken(r.Header.Get(csrfHeader), s.CSRF) {
		return true
	}
	return equalToken(r.PostFormValue(csrfField), s.CSRF)
}
