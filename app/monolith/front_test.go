package monolith_test

import (
	"net/http"
	"strings"
	"testing"
)

// Behind the TLS front, which sends the one HSTS header browsers get, the
// app sends none of its own (BOOKSTORE_HSTS is off by default), and with
// BOOKSTORE_METRICS_ADDR set /metrics is not on the public handler at all.
func TestBehindTheFront(t *testing.T) {
	cfg := testConfig(t)
	cfg.TrustedProxies = prefixes("10.0.0.0/8")
	cfg.MetricsAddr = "off"
	h := newApp(t, cfg).Handler()
	rec := do(h, "GET", "/login", "10.1.2.3:40000", http.Header{"X-Forwarded-Proto": {"https"}}, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("/login = %d", rec.Code)
	}
	if v := rec.Header().Values("Strict-Transport-Security"); len(v) != 0 {
		t.Errorf("the app sends HSTS %q behind the front, which sends its own", v)
	}
	rec = do(h, "GET", "/metrics", "", nil, "")
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "http_requests_total") {
		t.Errorf("/metrics on the public handler = %d %.100s, want 404", rec.Code, rec.Body)
	}
}
