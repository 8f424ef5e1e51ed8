package services_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/token"
)

// serviceToken signs as service from the cluster's keys, for audience.
func (c *cluster) serviceToken(t *testing.T, service config.Role, audience config.Role, now func() time.Time) string {
	t.Helper()
	key, err := token.LoadServicePrivateKey(string(service), filepath.Join(c.Keys, token.ServicePrivateKeyFile(string(service))))
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: string(service), Key: key, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Token(string(audience))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// internal posts an internal call to service r with the given headers.
func (c *cluster) internal(t *testing.T, r config.Role, method, body string, headers map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.URL[r]+"/internal/v1/"+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// Each service admits the others only with their own valid token for it,
// and each method only the services it lists.
func TestServicesAuthenticateOneAnother(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	seller := api{t: t, base: c.URL[config.CatalogService]}.signUp("Seller")
	book := seller.book(4)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	past := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	reserve := `{"key":"stolen","book_id":` + jsonInt(book) + `,"quantity":4}`
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"the old shared secret", bearer("service-token-for-tests-0123456789abcdef"), http.StatusUnauthorized},
		{"wrong audience", bearer(c.serviceToken(t, config.PurchaseService, config.AuthService, nil)), http.StatusUnauthorized},
		{"expired", bearer(c.serviceToken(t, config.PurchaseService, config.CatalogService, past)), http.StatusUnauthorized},
		{"the catalog's own key", bearer(c.serviceToken(t, config.CatalogService, config.CatalogService, nil)), http.StatusUnauthorized},
		{"auth, not on the allow-list", bearer(c.serviceToken(t, config.AuthService, config.CatalogService, nil)), http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, out := c.internal(t, config.CatalogService, "catalog.reserve_stock", reserve, tc.headers)
			if st != tc.status || out["error"] == nil {
				t.Fatalf("status %d %v, want %d with an error", st, out, tc.status)
			}
		})
	}
	if got := seller.stock(book); got != 4 {
		t.Fatalf("stock = %d after refused reservations, want 4", got)
	}
	// The purchase service, with its own token, may.
	st, out := c.internal(t, config.CatalogService, "catalog.reserve_stock", reserve,
		bearer(c.serviceToken(t, config.PurchaseService, config.CatalogService, nil)))
	if st != http.StatusOK {
		t.Fatalf("purchase reserving: %d %v", st, out)
	}
}

// A service holding a valid credential still cannot claim to be a user: a
// caller header is ignored, only a user's own signed token counts, and no
// service can reach ensure_admin to reset the admin's password.
func TestNoServiceCanSpeakForAUser(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	user := api{t: t, base: c.URL[config.AuthService]}.signUp("Victim")
	asCatalog := map[string]string{"Authorization": "Bearer " + c.serviceToken(t, config.CatalogService, config.AuthService, nil)}

	forged := map[string]string{"X-Bookstore-Caller": "999999 admin"}
	for k, v := range asCatalog {
		forged[k] = v
	}
	if st, out := c.internal(t, config.AuthService, "auth.list_users", "{}", forged); st != http.StatusUnauthorized || out["items"] != nil {
		t.Fatalf("list_users with a forged caller header: %d %v, want 401", st, out)
	}
	withUser := map[string]string{"X-Bookstore-User-Token": user.token}
	for k, v := range asCatalog {
		withUser[k] = v
	}
	if st, out := c.internal(t, config.AuthService, "auth.list_users", "{}", withUser); st != http.StatusForbidden {
		t.Fatalf("list_users with a plain user's token: %d %v, want 403", st, out)
	}
	withUser["X-Bookstore-User-Token"] = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI5OTk5OTkifQ.forged"
	if st, out := c.internal(t, config.AuthService, "auth.list_users", "{}", withUser); st != http.StatusUnauthorized {
		t.Fatalf("list_users with a forged user token: %d %v, want 401", st, out)
	}
	// A user's token signs the user in, through any service: the admin's
	// list through the catalog reaches auth as the admin's own token.
	admin := api{t: t, base: c.URL[config.CatalogService]}
	st, out := admin.do("POST", "/api/v1/auth/login", map[string]any{"email": adminEmail, "password": adminPassword})
	if st != http.StatusOK {
		t.Fatalf("admin login: %d %v", st, out)
	}
	admin.token = out["token"].(string)
	if st, out := admin.do("GET", "/api/v1/admin/users", nil); st != http.StatusOK || len(out["items"].([]any)) < 2 {
		t.Fatalf("admin users via catalog: %d %v", st, out)
	}

	st, out = c.internal(t, config.AuthService, "auth.ensure_admin",
		`{"name":"Mallory","email":"`+adminEmail+`","password":"mallory-owns-it"}`, asCatalog)
	if st != http.StatusNotFound {
		t.Fatalf("ensure_admin with the catalog's token: %d %v, want 404", st, out)
	}
	st, _ = admin.do("POST", "/api/v1/auth/login", map[string]any{"email": adminEmail, "password": adminPassword})
	if st != http.StatusOK {
		t.Fatalf("the admin's password no longer works: %d", st)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
