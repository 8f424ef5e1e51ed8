package monolith_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// browser keeps cookies for requests sent straight to a handler.
type browser struct {
	t       *testing.T
	h       http.Handler
	https   bool // through the trusted proxy, which says the client used HTTPS
	cookies map[string]string
	set     []*http.Cookie // the last answer's cookies
}

func (b *browser) do(method, target string, form url.Values) *http.Response {
	b.t.Helper()
	hdr := http.Header{}
	remote := "192.0.2.10:4000"
	if b.https {
		hdr.Set("X-Forwarded-Proto", "https")
		remote = "10.0.0.2:4000"
	}
	for k, v := range b.cookies {
		hdr.Add("Cookie", k+"="+v)
	}
	body := ""
	if form != nil {
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		body = form.Encode()
	}
	res := do(b.h, method, target, remote, hdr, body).Result()
	b.set = res.Cookies()
	for _, c := range b.set {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return res
}

// page loads a page and returns its form's CSRF token.
func (b *browser) page(target string) string {
	b.t.Helper()
	res := b.do("GET", target, nil)
	page, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s = %d", target, res.StatusCode)
	}
	return hiddenCSRF(b.t, string(page))
}

// The CSRF token changes at login (a new session) and at logout (a fresh
// anonymous nonce), so no token seen before either works after it; over
// HTTPS both cookies carry the __Host- prefix.
func TestCSRFTokenRotatesAtLoginAndLogout(t *testing.T) {
	for _, https := range []bool{false, true} {
		cfg := testConfig(t)
		cfg.TrustedProxies = prefixes("10.0.0.0/8")
		app := newApp(t, cfg)
		if _, err := app.Auth.Register(context.Background(), authInput("rota@example.com")); err != nil {
			t.Fatal(err)
		}
		b := &browser{t: t, h: app.Handler(), https: https, cookies: map[string]string{}}
		session, anon := "bookstore_session", "bookstore_csrf"
		if https {
			session, anon = "__Host-"+session, "__Host-"+anon
		}
		login := func(token string) {
			t.Helper()
			res := b.do("POST", "/login", url.Values{"email": {"rota@example.com"}, "password": {"correct horse battery"}, "_csrf": {token}})
			if res.StatusCode != http.StatusSeeOther || b.cookies[session] == "" {
				t.Fatalf("https %v: login = %d, cookies %v", https, res.StatusCode, b.cookies)
			}
		}

		beforeLogin := b.page("/login")
		if _, ok := b.cookies[anon]; !ok {
			t.Fatalf("https %v: the login page set cookies %v, want %s", https, b.set, anon)
		}
		for _, c := range b.set {
			if https && (!c.Secure || c.Path != "/" || c.Domain != "") {
				t.Errorf("cookie %+v over HTTPS: a __Host- cookie must be Secure, Path=/ and have no Domain", c)
			}
		}
		login(beforeLogin)
		if _, ok := b.cookies[anon]; ok {
			t.Errorf("https %v: the anonymous CSRF cookie outlived the login", https)
		}
		signedIn := b.page("/books/new")
		if signedIn == beforeLogin {
			t.Fatalf("https %v: the CSRF token did not change at login", https)
		}
		oldSession := b.cookies[session]
		if res := b.do("POST", "/logout", url.Values{"_csrf": {signedIn}}); res.StatusCode != http.StatusSeeOther || b.cookies[session] != "" {
			t.Fatalf("https %v: logout = %d, cookies %v", https, res.StatusCode, b.cookies)
		}
		afterLogout := b.page("/login")
		if afterLogout == signedIn || afterLogout == beforeLogin {
			t.Fatalf("https %v: the CSRF token did not change at logout", https)
		}
		// The signed-out session's token no longer passes, even with its cookie.
		b.cookies[session] = oldSession
		if res := b.do("POST", "/logout", url.Values{"_csrf": {signedIn}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("https %v: the signed-out session's token = %d, want 403", https, res.StatusCode)
		}
		delete(b.cookies, session)
		login(afterLogout)
		if again := b.page("/books/new"); again == signedIn {
			t.Errorf("https %v: a second login has the first session's CSRF token", https)
		}
	}
}
