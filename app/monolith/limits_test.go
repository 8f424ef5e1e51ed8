package monolith_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Through HTTP: failures from other clients no longer lock an account (the
// finding: 5 wrong passwords from 5 addresses, then the right one was 429),
// while one client's own failures are refused with Retry-After.
func TestLoginFailuresElsewhereDoNotLockTheOwnerOut(t *testing.T) {
	cfg := testConfig(t)
	cfg.TrustedProxies = prefixes("10.0.0.0/8")
	app := newApp(t, cfg)
	h := app.Handler()
	if _, err := app.Auth.Register(context.Background(), authInput("owner@example.com")); err != nil {
		t.Fatal(err)
	}
	login := func(client, password string) *http.Response {
		body := `{"email":"owner@example.com","password":"` + password + `"}`
		return do(h, "POST", "/api/v1/auth/login", "10.0.0.2:5000", http.Header{"X-Forwarded-For": {client}, "Content-Type": {"application/json"}}, body).Result()
	}
	for i := 0; i < 5; i++ {
		if got := login("198.51.100."+strconv.Itoa(i+1), "wrong-password").StatusCode; got != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, got)
		}
	}
	if got := login("192.0.2.7", "correct horse battery").StatusCode; got != http.StatusOK {
		t.Fatalf("the owner from a new address after 5 failures elsewhere = %d, want 200", got)
	}
	for i := 0; i < 5; i++ {
		login("203.0.113.1", "wrong-password")
	}
	res := login("203.0.113.1", "correct horse battery")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "900" {
		t.Fatalf("the client past its own limit = %d Retry-After %q, want 429 after 900s", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// Sign-ups are limited per address, on the API and the form, with Retry-After.
func TestSignupsLimitedPerAddress(t *testing.T) {
	cfg := testConfig(t)
	cfg.SignupsPerAddress = 2
	h := newApp(t, cfg).Handler()
	register := func(from, email string) *http.Response {
		body := `{"name":"N","email":"` + email + `","password":"correct horse battery"}`
		return do(h, "POST", "/api/v1/auth/register", from, http.Header{"Content-Type": {"application/json"}}, body).Result()
	}
	for i, want := range []int{http.StatusCreated, http.StatusCreated, http.StatusTooManyRequests} {
		res := register("192.0.2.1:4000", "user"+strconv.Itoa(i)+"@example.com")
		if res.StatusCode != want {
			t.Fatalf("sign-up %d = %d, want %d", i+1, res.StatusCode, want)
		}
		if want == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Error("the refused sign-up has no Retry-After")
		}
	}
	if got := register("192.0.2.2:4000", "other@example.com").StatusCode; got != http.StatusCreated {
		t.Fatalf("sign-up from another address = %d", got)
	}

	// The HTML form shows the refusal, with Retry-After, from the same address.
	page := do(h, "GET", "/register", "192.0.2.1:4000", nil, "")
	token := hiddenCSRF(t, page.Body.String())
	form := url.Values{"name": {"N"}, "email": {"form@example.com"}, "password": {"correct horse battery"}, "_csrf": {token}}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, ck := range page.Result().Cookies() {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	res := do(h, "POST", "/register", "192.0.2.1:4000", hdr, form.Encode()).Result()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("form sign-up past the limit = %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// hiddenCSRF returns the value of a page's hidden _csrf field.
func hiddenCSRF(t *testing.T, page string) string {
	t.Helper()
	const field = `name="_csrf" value="`
	i := strings.Index(page, field)
	if i < 0 {
		t.Fatal("the page has no CSRF field")
	}
	rest := page[i+len(field):]
	return rest[:strings.IndexByte(rest, '"')]
}
