package local_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/local"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// Through the local TLS front, objective 1: the front and the app agree.
func TestObjective1FrontAndAppAgree(t *testing.T) {
	nginxBin := testenv.Tool(t, "nginx")
	bin := appBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, err := local.Start(ctx, local.Options{
		Objective: 1, Binary: bin, NginxBin: nginxBin, HTTPSPort: freePort(t), HTTPPort: freePort(t),
		Dir: t.TempDir(), Environ: append(os.Environ(), "BOOKSTORE_BCRYPT_COST=4"), Log: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Stop()
	front := apiClient{http: topo.Client(), base: topo.URL}
	testFrontHeaders(t, front)
	testFrontOverwritesForwardedFor(t, front)
}

// testFrontHeaders checks, through the TLS front: exactly one HSTS header
// (the front's), and /metrics refused.
func testFrontHeaders(t *testing.T, front apiClient) {
	t.Helper()
	for _, path := range []string{"healthz", "login", "api/v1/books"} {
		res, err := front.do(context.Background(), http.MethodGet, path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := res.Header.Values("Strict-Transport-Security"); len(v) != 1 || v[0] != "max-age=31536000; includeSubDomains" {
			t.Errorf("/%s: Strict-Transport-Security %q, want exactly the front's one", path, v)
		}
	}
	res, err := front.do(context.Background(), http.MethodGet, "metrics", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusNotFound || strings.Contains(string(res.Body), "http_requests_total") {
		t.Errorf("/metrics through the front = %d %.80s, want 404", res.Status, res.Body)
	}
}

// testFrontOverwritesForwardedFor: a client's own X-Forwarded-For is
// ignored, so it cannot pick the address its failed logins count against.
// It uses up this machine's login budget for a while: run it last.
func testFrontOverwritesForwardedFor(t *testing.T, front apiClient) {
	t.Helper()
	// Each failed login claims another client address; the per-address
	// budget must run out all the same, since every one came from here.
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		hdr := http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i+1)}}
		res, err := front.do(context.Background(), http.MethodPost, "api/v1/auth/login",
			map[string]string{"email": fmt.Sprintf("nobody-%d-%d@example.com", time.Now().UnixNano(), i), "password": "wrong-password"}, hdr)
		if err != nil {
			t.Fatal(err)
		}
		switch res.Status {
		case http.StatusTooManyRequests:
			limited = true
		case http.StatusUnauthorized:
		default:
			t.Fatalf("login attempt %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	if !limited {
		t.Error("40 failed logins, each claiming its own X-Forwarded-For, were never limited: the claims picked the address")
	}
}
