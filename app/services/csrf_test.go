package services_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
)

// cookieBrowser is a browser without redirects, keeping cookies by hand so
// one request can go to any service (as the gateway routes them).
type cookieBrowser struct {
	t       *testing.T
	cookies map[string]string
}

func (b *cookieBrowser) do(method, url string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, url, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return res.StatusCode, string(page)
}

func pageToken(t *testing.T, page string) string {
	t.Helper()
	const field = `name="_csrf" value="`
	i := strings.Index(page, field)
	if i < 0 {
		t.Fatal("the page has no CSRF field")
	}
	rest := page[i+len(field):]
	return rest[:strings.IndexByte(rest, '"')]
}

// A page one service renders posts its form to another: the login form's
// anonymous token from the catalog passes at auth, and a signed-in token
// from the catalog's book page passes at purchase (the services share the
// key and name the session by its sid, not its renewable token), while
// another session's token is refused there.
func TestCSRFTokensWorkAcrossServices(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	authURL, catalogURL, purchaseURL := c.URL[config.AuthService], c.URL[config.CatalogService], c.URL[config.PurchaseService]
	seller := api{t: t, base: authURL}.signUp("Seller")
	seller.base = catalogURL
	bookID := seller.book(3)
	email := fmt.Sprintf("buyer-%d@test.local", time.Now().UnixNano())
	if st, out := (api{t: t, base: authURL}).do("POST", "/api/v1/auth/register", map[string]any{"name": "Buyer", "email": email, "password": "password-123"}); st != http.StatusCreated {
		t.Fatalf("register: %d %v", st, out)
	}

	b := &cookieBrowser{t: t, cookies: map[string]string{}}
	_, page := b.do("GET", catalogURL+"/login", nil)
	st, _ := b.do("POST", authURL+"/login", url.Values{"email": {email}, "password": {"password-123"}, "_csrf": {pageToken(t, page)}})
	if st != http.StatusSeeOther || b.cookies["bookstore_session"] == "" {
		t.Fatalf("login at auth with the catalog's form = %d, cookies %v", st, b.cookies)
	}
	_, page = b.do("GET", fmt.Sprintf("%s/books/%d", catalogURL, bookID), nil)
	token := pageToken(t, page)

	// Another browser's session: its token does not pass for this one.
	other := &cookieBrowser{t: t, cookies: map[string]string{}}
	_, page = other.do("GET", authURL+"/login", nil)
	other.do("POST", authURL+"/login", url.Values{"email": {email}, "password": {"password-123"}, "_csrf": {pageToken(t, page)}})
	_, page = other.do("GET", fmt.Sprintf("%s/books/%d", catalogURL, bookID), nil)
	if st, _ := b.do("POST", fmt.Sprintf("%s/books/%d/buy", purchaseURL, bookID), url.Values{"quantity": {"1"}, "_csrf": {pageToken(t, page)}}); st != http.StatusForbidden {
		t.Fatalf("buy with another session's token = %d, want 403", st)
	}
	if st, _ := b.do("POST", fmt.Sprintf("%s/books/%d/buy", purchaseURL, bookID), url.Values{"quantity": {"1"}, "_csrf": {token}}); st != http.StatusSeeOther {
		t.Fatalf("buy at purchase with the catalog page's token = %d, want 303", st)
	}
}
