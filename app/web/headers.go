package web

import "github.com/labstack/echo/v4"

// contentSecurityPolicy allows nothing from elsewhere: the pages use only
// their own CSS, scripts and images (and data: URLs for inline SVG icons).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'self'"

// hstsValue is the app's own HSTS header, the same the TLS front sends.
const hstsValue = "max-age=31536000; includeSubDomains"

// securityHeaders are sent with every answer, errors included. HSTS only
// when asked (Options.HSTS): behind the TLS front, which sends its own, a
// second header would be one more value for browsers to pick from.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if hsts && c.Scheme() == "https" {
				h.Set("Strict-Transport-Security", hstsValue)
			}
			return next(c)
		}
	}
}
