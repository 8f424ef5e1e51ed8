package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// sendRetryAfter tells a client refused by a limit when to come back: the
// error handler writes the refusal after this returns, with the header set.
// (Pages that show a refused form again set it themselves.)
func sendRetryAfter(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		webctx.SetRetryAfter(c, err)
		return err
	}
}
