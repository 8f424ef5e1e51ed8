package webctx

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
)

// SessionCookie holds the session token for browsers: the monolith's opaque
// token, whose session is in the database, or the microservices' signed
// token, which any service verifies with the public key. Either way any
// instance behind a load balancer accepts it.
const SessionCookie = "bookstore_session"

// SetSessionCookie hands a fresh session to the browser. The cookie expires
// with its token; a short-lived signed token is renewed by the session
// middleware while the browser keeps using it.
func SetSessionCookie(c echo.Context, s auth.Session) {
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: s.Token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(c)})
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(c)})
}

// IsTLS reports whether the browser reached us over HTTPS, directly or
// through the trusted proxy (X-Forwarded-Proto; the web server only lets that
// header through from trusted proxies).
func IsTLS(c echo.Context) bool { return c.Scheme() == "https" }
