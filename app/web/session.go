package web

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// viaBearerKey marks requests authenticated by an Authorization header,
// which browsers never add on their own, so CSRF cannot forge them.
const viaBearerKey = "web.via_bearer"

// authenticate resolves the session, from "Authorization: Bearer TOKEN" or
// the session cookie, into webctx.User. A stale cookie just makes a visitor
// (the browser keeps browsing, signed out), but a script sending a bad
// bearer token to the API must hear 401 rather than silently act anonymously.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !needsSession(c.Path()) {
			return next(c)
		}
		// The identity module counts sign-ups by the client's address.
		c.SetRequest(c.Request().WithContext(auth.WithClientAddr(c.Request().Context(), c.RealIP())))
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			token = strings.TrimSpace(token)
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				if isAPI(c) {
					return bookstore.Errorf(bookstore.EUNAUTHORIZED, "Authorization header must be \"Bearer TOKEN\"")
				}
				return next(c)
			}
			u, err := s.authenticateToken(c, token)
			if err != nil {
				if isAPI(c) || bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
					return err
				}
				return next(c)
			}
			webctx.SetUser(c, u, token)
			c.Set(viaBearerKey, true)
			return next(c)
		}
		ck, err := webctx.Cookie(c, webctx.SessionCookie)
		if err != nil || ck.Value == "" {
			return next(c)
		}
		u, err := s.authenticateToken(c, ck.Value)
		switch {
		case err == nil:
			webctx.SetUser(c, u, ck.Value)
			s.renewSession(c, u, ck.Value)
		case bookstore.ErrorCode(err) == bookstore.EUNAUTHORIZED:
			webctx.ClearSessionCookie(c) // expired or signed out elsewhere: forget it
		default:
			return err // the database is down: say so rather than pretend the visitor is signed out
		}
		return next(c)
	}
}

// authenticateToken checks a token offline for safe requests and, where the
// identity service can (auth.OnlineAuthenticator), with the issuer for
// requests that change state.
func (s *Server) authenticateToken(c echo.Context, token string) (auth.User, error) {
	ctx := c.Request().Context()
	if online, ok := s.deps.Auth.(auth.OnlineAuthenticator); ok && !safeMethod(c.Request().Method) {
		return online.AuthenticateOnline(ctx, token)
	}
	return s.deps.Auth.Authenticate(ctx, token)
}

// renewSession keeps an active browser signed in where tokens are
// short-lived (deps.Auth is an auth.Renewer, as in the microservices): once
// half the cookie's token life has passed, the cookie gets a fresh token of
// the same session. Bearer tokens are never renewed: API scripts log in again
// when theirs expires. The monolith's sessions last as long as their token,
// so it renews nothing.
func (s *Server) renewSession(c echo.Context, u auth.User, token string) {
	r, ok := s.deps.Auth.(auth.Renewer)
	if !ok {
		return
	}
	issued, expires, ok := r.TokenLifetime(token)
	if !ok || time.Now().Before(issued.Add(expires.Sub(issued)/2)) {
		return
	}
	fresh, err := r.Renew(c.Request().Context(), token)
	if err != nil {
		// The current token still works until it expires, so the request
		// goes on and a later one retries. EUNAUTHORIZED means signed out,
		// which the next authentication will tell.
		if bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
			s.log.Warn("session renewal failed", "request_id", webctx.RequestID(c), "error", err.Error())
		}
		return
	}
	if fresh.User.ID != u.ID || fresh.Token == "" {
		s.log.Error("session renewal returned another user's session; ignored", "request_id", webctx.RequestID(c))
		return
	}
	webctx.SetSessionCookie(c, fresh)
	webctx.SetUser(c, fresh.User, fresh.Token)
}

func viaBearer(c echo.Context) bool { v, _ := c.Get(viaBearerKey).(bool); return v }

// needsSession is false for routes that never depend on who asks, so static
// files, covers and probes cost no database lookup.
func needsSession(route string) bool {
	switch {
	case strings.HasPrefix(route, "/static/"), strings.HasPrefix(route, "/covers/"),
		route == "/healthz", route == "/readyz", route == "/metrics", route == "/favicon.ico",
		route == "/api/v1/openapi.yaml":
		return false
	}
	return true
}

// isAPI reports whether the request is for the JSON API (errors are JSON).
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}
