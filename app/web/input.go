package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/web/edge"
)

// readHeaders are the request headers the store reads itself (the session
// cookie and forwarding headers are parsed by net/http and echo, which drop
// what they cannot read).
var readHeaders = []string{echo.HeaderAuthorization, CSRFHeader, "Idempotency-Key"}

// checkInput refuses, with a 400 naming it, a query parameter or header
// that is not text (see package edge) before any handler reads it. Form
// fields and JSON bodies are checked where they are decoded (decode, and
// the pages' form reading), so a refused form can be shown again.
func checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := edge.Query(c.QueryParams()); err != nil {
			return err
		}
		for _, h := range readHeaders {
			for _, v := range c.Request().Header.Values(h) {
				if err := edge.Text("header "+h, v, edge.MaxHeader); err != nil {
					return err
				}
			}
		}
		return next(c)
	}
}
