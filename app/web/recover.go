package web

import (
	"fmt"
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// recoverPanics turns a panic in any handler into a logged 500, so a bug
// answers one request with an error page instead of dropping the connection
// or showing a stack trace.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler { // the client went away; nothing to answer
				panic(r)
			}
			stack := make([]byte, 8<<10)
			stack = stack[:runtime.Stack(stack, false)]
			s.log.ErrorContext(c.Request().Context(), "panic while serving a request",
				"request_id", webctx.RequestID(c), "path", c.Request().URL.Path,
				"panic", fmt.Sprint(r), "stack", string(stack))
			err = echo.NewHTTPError(http.StatusInternalServerError, "internal error")
		}()
		return next(c)
	}
}
