package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// handleError is the one place errors become responses: JSON
// {"error": "..."} for the API, the store's error page for browsers. Domain
// errors get their status from webctx.Status; other errors are 500s whose
// details go to the log, never to the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := s.describe(err)
	if status >= 500 && c.Request().Context().Err() == context.Canceled {
		// The client hung up and its request's work was cancelled: nobody
		// saw an error, so it is no server error for logs and alarms.
		s.log.InfoContext(c.Request().Context(), "client closed request", "err", err,
			"request_id", webctx.RequestID(c), "method", c.Request().Method, "path", c.Request().URL.Path)
		c.Response().WriteHeader(StatusClientClosedRequest) // for the access log and metrics; the client is gone
		return
	}
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "err", err,
			"request_id", webctx.RequestID(c), "method", c.Request().Method, "path", c.Request().URL.Path)
	}
	webctx.SetRetryAfter(c, status, err)
	if status == http.StatusUnauthorized && isAPI(c) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="bookstore"`)
	}
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case isAPI(c) || c.Path() == "/metrics" || c.Path() == "/healthz" || c.Path() == "/readyz":
		werr = c.JSON(status, map[string]string{"error": msg})
	default:
		werr = s.deps.ErrorPage(c, status, msg)
	}
	if werr != nil {
		s.log.ErrorContext(c.Request().Context(), "write error response", "err", werr, "request_id", webctx.RequestID(c))
		if !c.Response().Committed {
			_ = c.String(status, msg)
		}
	}
}

// StatusClientClosedRequest is NGINX's 499: the client closed the
// connection before the answer.
const StatusClientClosedRequest = 499

// describe gives an error's status and the message a client may see.
func (s *Server) describe(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) && bookstore.ErrorCode(err) == bookstore.EINTERNAL {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" && he.Code < 500 {
			msg = m
		}
		switch he.Code {
		case http.StatusNotFound:
			msg = "not found"
		case http.StatusMethodNotAllowed:
			msg = "method not allowed"
		case http.StatusRequestEntityTooLarge:
			msg = "request body is too large"
		}
		if he.Code >= 500 {
			msg = "internal error"
		}
		return he.Code, msg
	}
	if tooLarge(err) {
		return http.StatusRequestEntityTooLarge, "request body is too large"
	}
	return webctx.Status(err), bookstore.ErrorMessage(err)
}

// badRequest is a 400 with a message, for input the handler itself rejects.
func badRequest(format string, args ...any) error {
	return bookstore.Errorf(bookstore.EINVALID, "%s", fmt.Sprintf(format, args...))
}
