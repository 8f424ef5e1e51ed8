// Package web is the HTTP adapter of the store: one echo server carrying the
// JSON API under /api/v1, the HTML pages (package pages), the uploaded covers
// and the operations endpoints, behind the middleware every request shares
// (request id, access log, metrics, security headers, sessions, CSRF, body
// limits). Handlers decode, call one domain method and encode; statuses come
// from webctx.Status.
package web

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/web/pages"
)

// Options tune the server.
type Options struct {
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Empty: nobody's.
	TrustedProxies []netip.Prefix
	// HTTPSOnly says browsers only ever reach the store over HTTPS, through
	// a TLS proxy whose scheme header a hop in between overwrites (an ALB
	// sets X-Forwarded-Proto to its own plain-HTTP listener's): every
	// request is then treated as HTTPS, so cookies are always Secure.
	HTTPSOnly bool
	// CSRFKey signs CSRF tokens: the same for every instance and service
	// (a page one serves posts to another), at least MinCSRFKey bytes;
	// shorter or nil, a random key good for this process only.
	CSRFKey []byte
	// HSTS makes the app send Strict-Transport-Security on HTTPS requests.
	// Off behind the TLS front, which sends the one header browsers get.
	HSTS bool
	// SeparateMetrics: /metrics is not on this handler but on
	// MetricsHandler, served on its own listener (BOOKSTORE_METRICS_ADDR)
	// that no proxy routes to.
	SeparateMetrics bool
}

// Deps are what the server serves.
type Deps struct {
	Auth     auth.Service
	Catalog  catalog.Service
	Purchase purchase.Service
	// Ready reports whether the server can do its work (the database
	// answers); /readyz is 503 while it returns an error.
	Ready func(ctx context.Context) error
	// DB is the connection pool whose statistics /metrics exports; nil for none.
	DB *sql.DB
	// CoversDir is the directory served at /covers/; "" serves nothing.
	CoversDir string
	// StaticDir holds files served at /static/ ahead of the embedded
	// assets (and favicon.ico at /favicon.ico); "" for none.
	StaticDir string
	// Logger receives the access log and errors; nil means slog.Default().
	Logger *slog.Logger
	// ErrorPage renders an error for browsers; nil means pages.ErrorPage.
	ErrorPage func(c echo.Context, status int, message string) error
}

// Server is the store's HTTP handler.
type Server struct {
	echo     *echo.Echo
	deps     Deps
	log      *slog.Logger
	metrics  *metrics
	draining atomic.Bool
	// separateMetrics: /metrics is served by MetricsHandler only.
	separateMetrics bool
}

// New builds the server and its routes.
func New(opt Options, d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.ErrorPage == nil {
		d.ErrorPage = pages.ErrorPage
	}
	s := &Server{deps: d, log: d.Logger, metrics: newMetrics(d.DB), separateMetrics: opt.SeparateMetrics}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{}) // everything worth saying goes through slog
	e.IPExtractor, e.SchemeExtractor = proxyExtractors(opt.TrustedProxies)
	if opt.HTTPSOnly {
		e.SchemeExtractor = func(*http.Request) string { return "https" }
	}
	e.HTTPErrorHandler = s.handleError
	s.echo = e

	// Pre middleware runs before routing, so it also sees unknown paths.
	e.Pre(requestID, s.observe, s.recoverPanics, securityHeaders(opt.HSTS))
	// The rest runs after routing: it knows the matched route.
	e.Use(bodyLimit, checkInput, s.authenticate, newCSRFGuard(opt.CSRFKey, d.Auth).check)

	s.routeOps(e)
	s.routeCovers(e)
	s.routeAPI(e.Group("/api/v1"))
	pages.Register(e, pages.Deps{Auth: d.Auth, Catalog: d.Catalog, Purchase: d.Purchase, StaticDir: d.StaticDir})
	return s
}

// Handler is the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// MetricsHandler serves /metrics (Prometheus) and nothing else, for the
// metrics listener.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler)
	return mux
}

// SetDraining makes /readyz answer 503 from now on, so load balancers stop
// sending new requests before the process stops listening.
func (s *Server) SetDraining() { s.draining.Store(true) }

// Draining reports whether SetDraining was called.
func (s *Server) Draining() bool { return s.draining.Load() }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
