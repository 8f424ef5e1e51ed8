package monolith_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	app := newApp(t, testConfig(t))
	h := app.Handler()
	if rec := do(h, "GET", "/healthz", "", nil, ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d", rec.Code)
	}
	if rec := do(h, "GET", "/readyz", "", nil, ""); rec.Code != http.StatusOK {
		t.Errorf("/readyz = %d, want 200 while the database answers", rec.Code)
	}
	app.SetDraining()
	if rec := do(h, "GET", "/readyz", "", nil, ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, want 503", rec.Code)
	}
	if rec := do(h, "GET", "/healthz", "", nil, ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz while draining = %d, want 200 (alive, just not taking traffic)", rec.Code)
	}
}

func TestReadinessFailsWhenTheDatabaseIsGone(t *testing.T) {
	app := newApp(t, testConfig(t))
	h := app.Handler()
	if err := app.DB().Close(); err != nil {
		t.Fatal(err)
	}
	rec := do(h, "GET", "/readyz", "", nil, "")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed = %d, want 503", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "sql") {
		t.Errorf("/readyz leaks details: %s", rec.Body)
	}
	if rec := do(h, "GET", "/healthz", "", nil, ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz with the database closed = %d, want 200", rec.Code)
	}
	// An API call that needs the database is a JSON 500 with no details.
	rec = do(h, "GET", "/api/v1/books", "", nil, "")
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != "{\"error\":\"internal error\"}\n" {
		t.Errorf("GET /api/v1/books with the database closed = %d %s", rec.Code, rec.Body)
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	app := newApp(t, testConfig(t))
	h := app.Handler()
	do(h, "GET", "/api/v1/books/12345", "", nil, "")
	do(h, "GET", "/api/v1/books/67890", "", nil, "")
	do(h, "GET", "/no/such/page", "", nil, "")
	body := do(h, "GET", "/metrics", "", nil, "").Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/api/v1/books/:id",status="404"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_bucket{route="/api/v1/books/:id",le="+Inf"} 2`,
		`go_sql_open_connections{db_name="bookstore"}`,
		`go_sql_max_open_connections{db_name="bookstore"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `route="/api/v1/books/12345"`) {
		t.Error("/metrics labels carry raw paths (one series per id)")
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	app := newApp(t, testConfig(t))
	h := app.Handler()
	for _, target := range []string{"/", "/books", "/api/v1/books", "/no/such/page", "/api/v1/nothing", "/healthz"} {
		rec := do(h, "GET", target, "", nil, "")
		hdr := rec.Header()
		csp := hdr.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "img-src 'self' data:", "style-src 'self'", "script-src 'self'",
			"frame-ancestors 'none'", "form-action 'self'", "base-uri 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: CSP %q lacks %q", target, csp, d)
			}
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("X-Frame-Options") != "DENY" || hdr.Get("Referrer-Policy") == "" {
			t.Errorf("GET %s: headers %v", target, hdr)
		}
	}
}

func TestUnknownPagesAreHTMLAndUnknownAPIPathsJSON(t *testing.T) {
	h := newApp(t, testConfig(t)).Handler()
	rec := do(h, "GET", "/no/such/page", "", nil, "")
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("unknown page = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = do(h, "GET", "/api/v1/no/such/thing", "", nil, "")
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("unknown API path = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestRequestIDIsEchoedOrMade(t *testing.T) {
	logs := &logBuffer{}
	cfg := testConfig(t)
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	h := newApp(t, cfg).Handler()

	rec := do(h, "GET", "/api/v1/books", "", http.Header{"X-Request-Id": {"proxy-abc-123456"}}, "")
	if got := rec.Header().Get("X-Request-Id"); got != "proxy-abc-123456" {
		t.Errorf("sane incoming id answered as %q", got)
	}
	rec = do(h, "GET", "/healthz", "", http.Header{"X-Request-Id": {"bad id\" with quotes"}}, "")
	made := rec.Header().Get("X-Request-Id")
	if made == "" || strings.Contains(made, " ") {
		t.Errorf("unsafe incoming id answered as %q, want a fresh one", made)
	}
	rec = do(h, "GET", "/healthz", "", nil, "")
	if other := rec.Header().Get("X-Request-Id"); other == "" || other == made {
		t.Errorf("request ids %q and %q", made, other)
	}
	// The access log carries the id, as JSON.
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "request" && rec["request_id"] == "proxy-abc-123456" && rec["route"] == "/api/v1/books" && rec["status"] == float64(200) {
			found = true
		}
	}
	if !found {
		t.Errorf("no access log line with the request id:\n%s", logs)
	}
}

// TestForwardedHeadersOnlyFromTrustedProxies: behind NGINX the app sees the
// proxy's address; X-Forwarded-Proto https must make cookies Secure and
// X-Forwarded-For give the client address, but only when the trusted proxy
// says so. Anyone else sending those headers is ignored.
func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	logs := &logBuffer{}
	cfg := testConfig(t)
	cfg.TrustedProxies = prefixes("10.0.0.0/8")
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	cfg.HSTS = true // the app sends HSTS itself only when told to (nothing in front does)
	h := newApp(t, cfg).Handler()
	fwd := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"198.51.100.7"}, "X-Request-Id": {"trusted-proxy-req"}}

	secure := func(rec interface{ Result() *http.Response }) (bool, bool) {
		for _, c := range rec.Result().Cookies() {
			if strings.HasSuffix(c.Name, "bookstore_csrf") { // __Host- prefixed over HTTPS
				return c.Secure, true
			}
		}
		return false, false
	}
	rec := do(h, "GET", "/login", "10.1.2.3:40000", fwd, "")
	if s, ok := secure(rec); !ok || !s {
		t.Errorf("behind the trusted proxy with X-Forwarded-Proto https: CSRF cookie Secure=%v (set=%v), want Secure", s, ok)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over (proxied) HTTPS")
	}
	fwd.Set("X-Request-Id", "spoofing-client-req")
	rec = do(h, "GET", "/login", "203.0.113.9:40000", fwd, "")
	if s, ok := secure(rec); !ok || s {
		t.Errorf("untrusted peer claiming https: CSRF cookie Secure=%v (set=%v), want not Secure", s, ok)
	}
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}

	var trustedIP, spoofIP string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var r map[string]any
		_ = json.Unmarshal([]byte(line), &r)
		switch r["request_id"] {
		case "trusted-proxy-req":
			trustedIP, _ = r["remote_ip"].(string)
		case "spoofing-client-req":
			spoofIP, _ = r["remote_ip"].(string)
		}
	}
	if trustedIP != "198.51.100.7" || spoofIP != "203.0.113.9" {
		t.Errorf("client address via trusted proxy = %q (want 198.51.100.7), via untrusted peer = %q (want 203.0.113.9)", trustedIP, spoofIP)
	}
}

// TestLoginLimitPerAddressUsesTheRealClient: failures from one client behind
// the proxy must not lock out another client behind the same proxy.
func TestLoginLimitPerAddressUsesTheRealClient(t *testing.T) {
	cfg := testConfig(t)
	cfg.TrustedProxies = prefixes("10.0.0.0/8")
	app := newApp(t, cfg)
	h := app.Handler()
	if _, err := app.Auth.Register(context.Background(), authInput("victim@example.com")); err != nil {
		t.Fatal(err)
	}
	login := func(client, password string) int {
		body := `{"email":"victim@example.com","password":"` + password + `"}`
		return do(h, "POST", "/api/v1/auth/login", "10.0.0.2:5000", http.Header{"X-Forwarded-For": {client}, "Content-Type": {"application/json"}}, body).Code
	}
	// 20 failures against other accounts from one client exhaust its address budget.
	for i := 0; i < 25; i++ {
		body := `{"email":"nobody` + string(rune('a'+i)) + `@example.com","password":"wrong-password"}`
		do(h, "POST", "/api/v1/auth/login", "10.0.0.2:5000", http.Header{"X-Forwarded-For": {"198.51.100.1"}, "Content-Type": {"application/json"}}, body)
	}
	if got := login("198.51.100.1", "correct horse battery"); got != http.StatusTooManyRequests {
		t.Errorf("login from the noisy client = %d, want 429", got)
	}
	if got := login("198.51.100.2", "correct horse battery"); got != http.StatusOK {
		t.Errorf("login from another client behind the same proxy = %d, want 200", got)
	}
}
