package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds the database ping behind /readyz: a probe that hangs
// is as bad as one that fails.
const readyTimeout = 2 * time.Second

func (s *Server) routeOps(e *echo.Echo) {
	noStore := func(c echo.Context) { c.Response().Header().Set(echo.HeaderCacheControl, "no-store") }
	// healthz: the process is alive and serving. It does not touch the
	// database, so a database outage does not get every instance restarted.
	e.GET("/healthz", func(c echo.Context) error {
		noStore(c)
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	// readyz: send me traffic. No while draining for shutdown, nor when the
	// database does not answer.
	e.GET("/readyz", func(c echo.Context) error {
		noStore(c)
		if s.Draining() {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "draining", "error": "shutting down"})
		}
		if s.deps.Ready != nil {
			ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
			defer cancel()
			if err := s.deps.Ready(ctx); err != nil {
				s.log.WarnContext(ctx, "not ready", "err", err)
				return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable"})
			}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	if !s.separateMetrics {
		e.GET("/metrics", echo.WrapHandler(s.metrics.handler))
	}
}
