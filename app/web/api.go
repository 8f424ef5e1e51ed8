package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/edge"
)

// api holds the JSON handlers: decode, one domain call, encode.
type api struct{ Deps }

func (s *Server) routeAPI(g *echo.Group) {
	a := api{s.deps}
	g.GET("/openapi.yaml", serveOpenAPI)

	g.POST("/auth/register", a.register)
	g.POST("/auth/login", a.login)
	g.POST("/auth/logout", a.logout)
	g.GET("/auth/me", a.me)

	g.GET("/books", a.listBooks)
	g.POST("/books", a.createBook)
	g.GET("/books/:id", a.getBook)
	g.PUT("/books/:id", a.updateBook)
	g.DELETE("/books/:id", a.deleteBook)
	g.PUT("/books/:id/cover", a.setCover)

	g.POST("/purchases", a.buy)
	g.GET("/purchases", a.listPurchases)
	g.GET("/purchases/:id", a.getPurchase)
	g.POST("/purchases/:id/cancel", a.cancel)
	g.POST("/purchases/:id/payment", a.pay)
	g.POST("/purchases/:id/delivery", a.chooseDelivery)
	g.GET("/delivery-providers", a.providers)

	g.GET("/admin/users", a.listUsers)
}

// list is the envelope of every collection the API returns.
type list[T any] struct {
	Items []T `json:"items"`
}

// decode reads one JSON value from the body into v. Unknown fields are
// ignored on purpose: a price sent with a purchase must change nothing, and
// decoding into the domain's input type makes sure it cannot. The body must
// be UTF-8 (encoding/json would quietly turn bad bytes into U+FFFD) and
// every string in it text of a sane size (package edge).
func decode(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if tooLarge(err) {
			return errTooLarge(c)
		}
		return badRequest("request body could not be read")
	}
	if !utf8.Valid(body) {
		return badRequest("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("request body must be a JSON object")
		case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("request body is not valid JSON")
		case errors.As(err, &typ) && typ.Field != "":
			return badRequest("field %q must be a %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		default:
			return badRequest("request body must be a JSON object")
		}
	}
	if dec.More() {
		return badRequest("request body must hold one JSON object")
	}
	return edge.Strings(v)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "uint", "uint64":
		return "whole number"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	}
	return "value of another type"
}

// pathID reads the positive integer id in the path.
func pathID(c echo.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest("%s id must be a positive whole number", what)
	}
	return id, nil
}

// queryInt reads an optional whole-number query parameter.
func queryInt(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("query parameter %s must be a whole number", name)
	}
	return n, nil
}

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

// requireUser is the 401 for handlers whose domain call takes no caller.
func requireUser(c echo.Context) error {
	if _, ok := userOf(c); !ok {
		return bookstore.Errorf(bookstore.EUNAUTHORIZED, "sign in first")
	}
	return nil
}
