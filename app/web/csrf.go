package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// CSRF protection by tokens bound to who is asking. A signed-in browser's
// token is an HMAC, under the server's key, of its session's id: it changes
// with every login (a new session) and logout, and a cookie someone planted
// (a sibling subdomain, a man in the middle of plain HTTP) cannot produce
// another session's token. A visitor (the login and register forms) gets a
// random nonce in a cookie signed with the same key, and a token derived
// from that nonce; it is dropped at login (webctx.SetSessionCookie). Cookies
// get the __Host- prefix over HTTPS. A state-changing request repeats the
// token in the "_csrf" form field or the X-CSRF-Token header; another site
// can make a browser send cookies but cannot read the token.
const (
	CSRFCookie = webctx.CSRFCookie
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// MinCSRFKey is the shortest CSRF key Options accepts (shorter: a random
// key of this process only).
const MinCSRFKey = 32

// csrfGuard holds the key every instance shares (Options.CSRFKey) and how
// to name a token's session.
type csrfGuard struct {
	key       []byte
	sessionID func(token string) string
}

func newCSRFGuard(key []byte, a auth.Service) *csrfGuard {
	if len(key) < MinCSRFKey {
		// One process alone (tests, tools): tokens of another instance, or of
		// this one before a restart, are refused.
		key = make([]byte, MinCSRFKey)
		_, _ = rand.Read(key)
	}
	g := &csrfGuard{key: key, sessionID: auth.HashToken}
	if si, ok := a.(auth.SessionIdentifier); ok {
		// The services' signed tokens change when renewed; their session does not.
		g.sessionID = func(token string) string {
			if sid, ok := si.SessionID(token); ok {
				return sid
			}
			return auth.HashToken(token)
		}
	}
	return g
}

func (g *csrfGuard) mac(parts ...string) string {
	h := hmac.New(sha256.New, g.key)
	h.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// sessionToken and anonymousToken are what forms repeat; the anonymous
// cookie carries its nonce with a MAC of another purpose, so the cookie's
// value is never itself a valid token.
func (g *csrfGuard) sessionToken(sid string) string {
	return g.mac("bookstore-csrf-v1", "session", sid)
}
func (g *csrfGuard) anonymousToken(nonce string) string {
	return g.mac("bookstore-csrf-v1", "anonymous", nonce)
}
func (g *csrfGuard) sealNonce(nonce string) string {
	return nonce + "." + g.mac("bookstore-csrf-cookie-v1", nonce)
}

func (g *csrfGuard) openNonce(v string) (string, bool) {
	nonce, sig, ok := strings.Cut(v, ".")
	if !ok || len(nonce) != 24 || subtle.ConstantTimeCompare([]byte(sig), []byte(g.mac("bookstore-csrf-cookie-v1", nonce))) != 1 {
		return "", false
	}
	return nonce, true
}

// token is the request's CSRF token, handing a visitor's browser a signed
// nonce cookie when it has none. "" for an anonymous API call, which CSRF
// does not apply to.
func (g *csrfGuard) token(c echo.Context) string {
	if _, signedIn := webctx.User(c); signedIn && webctx.Token(c) != "" {
		return g.sessionToken(g.sessionID(webctx.Token(c)))
	}
	if ck, err := webctx.Cookie(c, CSRFCookie); err == nil {
		if nonce, ok := g.openNonce(ck.Value); ok {
			return g.anonymousToken(nonce)
		}
	}
	if isAPI(c) {
		return ""
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: webctx.CookieName(c, CSRFCookie), Value: g.sealNonce(nonce), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: webctx.IsTLS(c)})
	return g.anonymousToken(nonce)
}

func (g *csrfGuard) check(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !needsSession(c.Path()) {
			return next(c)
		}
		token := g.token(c)
		webctx.SetCSRFToken(c, token)
		if safeMethod(c.Request().Method) {
			if _, signedIn := webctx.User(c); signedIn && isAPI(c) && !viaBearer(c) {
				// A browser's own scripts learn the token here (GET /api/v1/auth/me);
				// other sites cannot read another origin's headers.
				c.Response().Header().Set(CSRFHeader, token)
			}
			return next(c)
		}
		if !csrfApplies(c) {
			return next(c)
		}
		sent, err := sentCSRFToken(c)
		if err != nil {
			return err
		}
		if sent == "" || token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return bookstore.Errorf(bookstore.EFORBIDDEN, "the form expired or did not come from this site (CSRF check failed); reload the page and try again")
		}
		return next(c)
	}
}

// csrfApplies: every HTML form post (log-in forms too, against login CSRF);
// API calls only when a browser's session cookie authenticated them. Bearer
// calls are exempt (no browser adds that header by itself), and anonymous API
// calls carry no identity to abuse.
func csrfApplies(c echo.Context) bool {
	if viaBearer(c) {
		return false
	}
	if isAPI(c) {
		_, signedIn := webctx.User(c)
		return signedIn
	}
	return true
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// sentCSRFToken reads the header, or else the form field. Reading a form
// reads the body, so an oversized upload is reported as such here.
func sentCSRFToken(c echo.Context) (string, error) {
	if h := c.Request().Header.Get(CSRFHeader); h != "" {
		return h, nil
	}
	req := c.Request()
	ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	var err error
	switch ct {
	case echo.MIMEMultipartForm:
		err = req.ParseMultipartForm(multipartMemory)
	case echo.MIMEApplicationForm:
		err = req.ParseForm()
	default:
		return "", nil
	}
	if err != nil {
		if tooLarge(err) {
			return "", errTooLarge(c)
		}
		return "", bookstore.Errorf(bookstore.EINVALID, "the form could not be read")
	}
	return req.PostFormValue(CSRFField), nil
}

func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
