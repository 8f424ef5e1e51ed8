package web

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// proxyExtractors decide a request's client address and scheme. Behind NGINX
// the peer is the proxy, so the client is in X-Forwarded-For and HTTPS in
// X-Forwarded-Proto; those headers are believed only from the trusted
// proxies, since anyone else can send them to spoof an address (and dodge
// the login limiter) or claim HTTPS.
func proxyExtractors(trusted []netip.Prefix) (echo.IPExtractor, echo.SchemeExtractor) {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{
			IP:   net.IP(p.Addr().AsSlice()),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		}))
	}
	return echo.ExtractIPFromXFFHeader(opts...), echo.ExtractSchemeFromHeaders(opts...)
}
