package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// observe writes the access log line and the request metrics. It is the
// outermost middleware after the request id, and it hands errors to the
// central error handler itself, so both see the status the client got.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := routeLabel(c)
		s.metrics.observe(route, req.Method, res.Status, elapsed)

		level := slog.LevelInfo
		switch {
		case res.Status >= 500:
			level = slog.LevelError
		case isProbe(route):
			// Load balancers and Prometheus ask every few seconds; their
			// successes would drown the log.
			level = slog.LevelDebug
		}
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", webctx.RequestID(c)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("route", route),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("remote_ip", c.RealIP()),
			slog.Int64("user_id", webctx.Caller(c).UserID),
		)
		return nil
	}
}

// routeLabel is the matched route pattern, never the raw path: raw paths
// would give every book id its own time series.
func routeLabel(c echo.Context) string {
	p := c.Path()
	if p == "" || c.Response().Status == http.StatusNotFound && p == "/*" {
		return "unmatched"
	}
	return p
}

func isProbe(route string) bool {
	return route == "/healthz" || route == "/readyz" || route == "/metrics"
}
