// Package pages is the HTML face of the store for people in browsers:
// server-rendered templates, usable without JavaScript. Each handler decodes
// a form, calls one domain method and renders or redirects; domain errors
// become statuses through webctx.Status only.
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
	// StaticDir holds files served at /static/ ahead of the embedded
	// assets, and favicon.ico at /favicon.ico; "" for none.
	StaticDir string
}

type handlers struct{ Deps }

// Register mounts the HTML pages and their static assets on e.
// Session, CSRF and security middleware are installed by package web.
func Register(e *echo.Echo, d Deps) {
	h := handlers{d}

	e.GET("/", h.home)
	e.GET("/register", h.registerForm)
	e.POST("/register", h.register)
	e.GET("/login", h.loginForm)
	e.POST("/login", h.login)
	e.POST("/logout", h.logout)

	e.GET("/books", h.catalog)
	e.GET("/books/:id", h.book)
	e.GET("/books/new", h.newBookForm, requireUser)
	e.POST("/books/new", h.createBook, requireUser)
	e.GET("/books/:id/edit", h.editBookForm, requireUser)
	e.POST("/books/:id/edit", h.updateBook, requireUser)
	e.POST("/books/:id/delete", h.deleteBook, requireUser)
	e.POST("/books/:id/cover", h.uploadCover, requireUser)
	e.GET("/my/books", h.myBooks, requireUser)

	e.POST("/books/:id/buy", h.buy, requireUser)
	e.GET("/orders", h.orders, requireUser)
	e.GET("/orders/:id", h.order, requireUser)
	e.POST("/orders/:id/pay", h.pay, requireUser)
	e.POST("/orders/:id/delivery", h.delivery, requireUser)
	e.POST("/orders/:id/cancel", h.cancel, requireUser)

	e.GET("/admin/users", h.adminUsers, requireUser)

	routeStatic(e, d.StaticDir)
}
