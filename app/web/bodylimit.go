package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// Body limits. Covers may be catalog.MaxCoverBytes plus what multipart
// framing and the other form fields take; everything else is small JSON or
// a form.
const (
	coverBodyLimit   = catalog.MaxCoverBytes + 64<<10
	defaultBodyLimit = 256 << 10
	// multipartMemory is how much of a parsed upload stays in memory; it is
	// more than coverBodyLimit, so no temporary files are written.
	multipartMemory = coverBodyLimit + 1<<20
)

// bodyLimit refuses bodies over the route's limit with 413: at once when
// Content-Length says so, otherwise when reading passes the limit.
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		limit := int64(defaultBodyLimit)
		if strings.HasSuffix(c.Path(), "/:id/cover") {
			limit = coverBodyLimit
		}
		if req.ContentLength > limit {
			return errTooLarge(c)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		return next(c)
	}
}

func errTooLarge(c echo.Context) error {
	if strings.HasSuffix(c.Path(), "/:id/cover") {
		return bookstore.Errorf(bookstore.ETOOLARGE, "cover must be at most 2 MiB")
	}
	return bookstore.Errorf(bookstore.ETOOLARGE, "request body must be at most %s", fmt.Sprintf("%d KiB", defaultBodyLimit>>10))
}
