package pages

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// requireUser sends signed-out visitors to the login page. A page they asked
// for (GET) is where the login brings them back to.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := webctx.User(c); ok {
			return next(c)
		}
		return toLogin(c)
	}
}

func toLogin(c echo.Context) error {
	target := "/login"
	if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
		target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	webctx.AddFlash(c, "error", "Please log in to continue.")
	return c.Redirect(http.StatusSeeOther, target)
}

// safeNext returns where to go after logging in: only a path on this site.
// Anything that a browser could read as another host ("//evil.example",
// "/\evil.example", "https://…") falls back to the home page.
func safeNext(raw string) string {
	if raw == "" || len(raw) > 2048 || raw[0] != '/' || strings.HasPrefix(raw, "//") {
		return "/"
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	if u.Path == "/login" || u.Path == "/logout" || u.Path == "/register" {
		return "/"
	}
	return raw
}

// fail answers a page whose domain call failed: the error page with the
// mapped status.
func fail(c echo.Context, err error) error {
	status := webctx.Status(err)
	if status == http.StatusUnauthorized {
		return toLogin(c)
	}
	if status >= 500 && errors.Is(c.Request().Context().Err(), context.Canceled) {
		return err // the client left: the server's error handler counts a 499
	}
	if status >= 500 {
		slog.ErrorContext(c.Request().Context(), "page failed", "err", err, "method", c.Request().Method,
			"path", c.Request().URL.Path, "request_id", webctx.RequestID(c))
	}
	webctx.SetRetryAfter(c, status, err)
	return ErrorPage(c, status, bookstore.ErrorMessage(err))
}

// failBack answers a form action that failed. What the person can fix (bad
// input, no stock, a declined card) comes back as a message on the page they
// were on; what they cannot (not found, not allowed, a bug) is an error page.
func failBack(c echo.Context, err error, back string) error {
	switch status := webctx.Status(err); {
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound, status >= 500:
		return fail(c, err)
	}
	webctx.AddFlash(c, "error", sentence(bookstore.ErrorMessage(err)))
	return c.Redirect(http.StatusSeeOther, back)
}

func done(c echo.Context, message, to string) error {
	webctx.AddFlash(c, "success", message)
	return c.Redirect(http.StatusSeeOther, to)
}

// idParam reads a positive id from the path; anything else is a 404, like a
// missing record.
func idParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, bookstore.Errorf(bookstore.ENOTFOUND, "page not found")
	}
	return id, nil
}

// intQuery reads an optional positive integer query parameter.
func intQuery(c echo.Context, name string, def int) int {
	n, err := strconv.Atoi(c.QueryParam(name))
	if err != nil || n < 1 {
		return def
	}
	return n
}

// formInt reads a whole number typed in a field of a form from readForm.
func formInt(f url.Values, name, label string) (int, error) {
	s := strings.TrimSpace(f.Get(name))
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, bookstore.Errorf(bookstore.EINVALID, "%s must be a whole number", label)
	}
	return n, nil
}
