package web

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

func (a api) listBooks(c echo.Context) error {
	page, err := queryInt(c, "page")
	if err != nil {
		return err
	}
	perPage, err := queryInt(c, "per_page")
	if err != nil {
		return err
	}
	p, err := a.Catalog.ListBooks(c.Request().Context(), catalog.Query{Q: c.QueryParam("q"), Page: page, PerPage: perPage})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a api) getBook(c echo.Context) error {
	id, err := pathID(c, "book")
	if err != nil {
		return err
	}
	b, err := a.Catalog.GetBook(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (a api) createBook(c echo.Context) error {
	var in catalog.BookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	b, err := a.Catalog.CreateBook(c.Request().Context(), webctx.Caller(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, b)
}

func (a api) updateBook(c echo.Context) error {
	id, err := pathID(c, "book")
	if err != nil {
		return err
	}
	var p catalog.BookPatch
	if err := decode(c, &p); err != nil {
		return err
	}
	b, err := a.Catalog.UpdateBook(c.Request().Context(), webctx.Caller(c), id, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (a api) deleteBook(c echo.Context) error {
	id, err := pathID(c, "book")
	if err != nil {
		return err
	}
	if err := a.Catalog.DeleteBook(c.Request().Context(), webctx.Caller(c), id); err != nil {
		return err
	}
	return noContent(c)
}

// setCover takes the multipart field "cover". The catalog judges the bytes
// (type by content, size); the client's file name and type are ignored.
func (a api) setCover(c echo.Context) error {
	id, err := pathID(c, "book")
	if err != nil {
		return err
	}
	image, err := readCover(c)
	if err != nil {
		return err
	}
	b, err := a.Catalog.SetCover(c.Request().Context(), webctx.Caller(c), id, image)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

// readCover reads the "cover" file of a multipart body, at most one byte
// more than allowed so the catalog can tell "too large" from "just right".
func readCover(c echo.Context) ([]byte, error) {
	if err := c.Request().ParseMultipartForm(multipartMemory); err != nil {
		if tooLarge(err) {
			return nil, errTooLarge(c)
		}
		return nil, badRequest("send the cover as multipart/form-data with a file field named \"cover\"")
	}
	fh, err := c.FormFile("cover")
	if err != nil {
		return nil, badRequest("multipart field \"cover\" with the image file is required")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, badRequest("the uploaded cover could not be read")
	}
	defer f.Close()
	image, err := io.ReadAll(io.LimitReader(f, catalog.MaxCoverBytes+1))
	if err != nil {
		if tooLarge(err) {
			return nil, errTooLarge(c)
		}
		return nil, badRequest("the uploaded cover could not be read")
	}
	return image, nil
}
