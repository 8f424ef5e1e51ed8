// Package pages is the HTML face of the store for people in browsers:
// server-rendered templates, usable without JavaScript.
package pages

import (
	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// Deps are the domain services the pages call.
type Deps struct {
	Auth     auth.Service
	Catalog  catalog.Service
	Purchase purchase.Service
}

// Register mounts the HTML pages and their static assets on e.
// Session, CSRF and security middleware are installed by package web.
func Register(e *echo.Echo, d Deps) {
}
