package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/web"
)

// Behind a TLS proxy and an ALB that rewrites X-Forwarded-Proto to "http",
// HTTPSOnly still marks cookies Secure; without it they follow the scheme.
func TestHTTPSOnlyMakesCookiesSecure(t *testing.T) {
	for _, httpsOnly := range []bool{false, true} {
		srv := web.New(web.Options{HTTPSOnly: httpsOnly}, web.Deps{Auth: fakeAuth{}, Catalog: &fakeCatalog{}, Purchase: fakePurchase{},
			Ready: func(context.Context) error { return nil }})
		r := httptest.NewRequest(http.MethodGet, "/login", nil)
		r.Header.Set("X-Forwarded-Proto", "http")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		found := false
		for _, c := range rec.Result().Cookies() {
			if strings.HasSuffix(c.Name, "bookstore_csrf") {
				found = true
				if c.Secure != httpsOnly {
					t.Errorf("HTTPSOnly=%v: CSRF cookie Secure=%v", httpsOnly, c.Secure)
				}
				if strings.HasPrefix(c.Name, "__Host-") != httpsOnly {
					t.Errorf("HTTPSOnly=%v: CSRF cookie named %q", httpsOnly, c.Name)
				}
			}
		}
		if !found {
			t.Fatalf("HTTPSOnly=%v: no CSRF cookie on the login page", httpsOnly)
		}
	}
}
