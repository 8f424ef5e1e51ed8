package pages

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/edge"
)

// formMemory is how much of a multipart form stays in memory; the body
// limit (package web) keeps every form below it.
const formMemory = 8 << 20

// readForm is how every form handler reads what was posted: all fields
// (and the query) checked by package edge. The values come back cleaned
// for showing again even when err is set, so a refused form can be
// re-rendered with its message; a handler must not call the domain then.
func readForm(c echo.Context) (url.Values, error) {
	req := c.Request()
	ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	var err error
	if ct == echo.MIMEMultipartForm {
		err = req.ParseMultipartForm(formMemory)
	} else {
		err = req.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return url.Values{}, bookstore.Errorf(bookstore.ETOOLARGE, "the form is too large")
		}
		return url.Values{}, bookstore.Errorf(bookstore.EINVALID, "the form could not be read")
	}
	verr := edge.Form(req.Form)
	if verr == nil {
		return req.Form, nil
	}
	clean := make(url.Values, len(req.Form))
	for k, vs := range req.Form {
		for _, v := range vs {
			clean.Add(edge.Clean(k), edge.Clean(v))
		}
	}
	return clean, verr
}
