package webctx

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
)

// SessionCookie holds the session token for browsers: the monolith's opaque
// token, whose session is in the database, or the microservices' signed
// token, which any service verifies with the public key. Either way any
// instance behind a load balancer accepts it. Over HTTPS it is named
// "__Host-bookstore_session" (see CookieName).
const SessionCookie = "bookstore_session"

// CSRFCookie holds a visitor's signed anonymous CSRF nonce (package web);
// signed-in browsers need none, their token derives from the session.
const CSRFCookie = "bookstore_csrf"

// hostPrefix makes browsers refuse the cookie unless it is Secure, for
// Path=/ and without Domain: a sibling subdomain or a plain-HTTP man in the
// middle cannot plant one.
const hostPrefix = "__Host-"

// CookieName is the name of cookie base for this request: with the __Host-
// prefix over HTTPS (directly, through a trusted proxy, or BOOKSTORE_HTTPS_ONLY),
// plain over HTTP (development), where browsers would refuse the prefix.
// Only that name is read, so over HTTPS a planted unprefixed cookie is ignored.
func CookieName(c echo.Context, base string) string {
	if IsTLS(c) {
		return hostPrefix + base
	}
	return base
}

// Cookie reads cookie base under its name for this request (CookieName).
// Over plain HTTP the prefixed name is read too when the plain one is
// missing: browsers never send a Secure cookie over HTTP, so only a client
// that got it over HTTPS (a test, a script calling an instance directly)
// has it there. Over HTTPS the unprefixed name is never read.
func Cookie(c echo.Context, base string) (*http.Cookie, error) {
	ck, err := c.Cookie(CookieName(c, base))
	if err != nil && !IsTLS(c) {
		ck, err = c.Cookie(hostPrefix + base)
	}
	return ck, err
}

// SetSessionCookie hands a fresh session to the browser. The cookie expires
// with its token; a short-lived signed token is renewed by the session
// middleware while the browser keeps using it. A visitor's anonymous CSRF
// cookie is dropped: the signed-in token derives from the session, and the
// next anonymous one (after logout) starts from a fresh nonce.
func SetSessionCookie(c echo.Context, s auth.Session) {
	c.SetCookie(&http.Cookie{Name: CookieName(c, SessionCookie), Value: s.Token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(c)})
	if _, err := c.Cookie(CookieName(c, CSRFCookie)); err == nil {
		c.SetCookie(&http.Cookie{Name: CookieName(c, CSRFCookie), Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(c)})
	}
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: CookieName(c, SessionCookie), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(c)})
}

// IsTLS reports whether the browser reached us over HTTPS, directly or
// through the trusted proxy (X-Forwarded-Proto; the web server only lets that
// header through from trusted proxies).
func IsTLS(c echo.Context) bool { return c.Scheme() == "https" }
