package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web"
)

// formToken returns a page's hidden _csrf value.
func formToken(t *testing.T, page string) string {
	t.Helper()
	const field = `name="_csrf" value="`
	i := strings.Index(page, field)
	if i < 0 {
		t.Fatal("the page has no CSRF field")
	}
	rest := page[i+len(field):]
	return rest[:strings.IndexByte(rest, '"')]
}

// sessionToken is the CSRF token of a cookie session, as the browser's
// scripts learn it: the X-CSRF-Token header of GET /api/v1/auth/me.
func sessionToken(t *testing.T, e *env, session string) string {
	t.Helper()
	rec := e.do(req{method: "GET", target: "/api/v1/auth/me", cookies: []*http.Cookie{cookie("bookstore_session", session)}})
	tok := rec.Header().Get("X-CSRF-Token")
	if rec.Code != http.StatusOK || len(tok) != 43 {
		t.Fatalf("GET /api/v1/auth/me with session %q = %d, X-CSRF-Token %q", session, rec.Code, tok)
	}
	return tok
}

func twoUserEnv(t *testing.T, key []byte) *env {
	t.Helper()
	e := newEnv(t)
	e.srv = web.New(web.Options{CSRFKey: key}, web.Deps{
		Auth: fakeAuth{users: map[string]auth.User{
			"victim-session":   {ID: 7, Name: "Victim", Role: bookstore.RoleUser},
			"attacker-session": {ID: 8, Name: "Attacker", Role: bookstore.RoleUser},
			"victim-other":     {ID: 7, Name: "Victim", Role: bookstore.RoleUser},
		}},
		Catalog: e.catalog, Purchase: fakePurchase{}, Ready: func(context.Context) error { return nil },
	})
	return e
}

// The finding: whoever could plant a cookie passed CSRF. Now a signed-in
// browser's token derives from its session, so a planted CSRF cookie plus
// the token of another session (the attacker's, or the same user's other
// session) is refused, and so is a well-formed cookie the server never signed.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	e := twoUserEnv(t, nil)
	attackerPage := e.do(req{method: "GET", target: "/books/new", cookies: []*http.Cookie{cookie("bookstore_session", "attacker-session")}})
	attackerToken := formToken(t, attackerPage.Body.String())
	victimToken := sessionToken(t, e, "victim-session")
	if attackerToken == victimToken || sessionToken(t, e, "victim-other") == victimToken {
		t.Fatal("two sessions have the same CSRF token")
	}
	book := url.Values{"title": {"Planted"}, "price": {"1.00"}, "stock": {"1"}}
	for name, r := range map[string]struct {
		cookies []*http.Cookie
		token   string
	}{
		"attacker's token and planted cookie": {[]*http.Cookie{cookie("bookstore_session", "victim-session"), cookie("bookstore_csrf", attackerToken)}, attackerToken},
		"the user's other session's token":    {[]*http.Cookie{cookie("bookstore_session", "victim-session")}, sessionToken(t, e, "victim-other")},
		"an unsigned planted cookie":          {[]*http.Cookie{cookie("bookstore_session", "victim-session"), cookie("bookstore_csrf", strings.Repeat("A", 43))}, strings.Repeat("A", 43)},
	} {
		for _, api := range []bool{false, true} {
			rq := req{method: "POST", target: "/books", contentType: "application/x-www-form-urlencoded", cookies: r.cookies,
				body: book.Encode() + "&_csrf=" + url.QueryEscape(r.token)}
			if api {
				rq = req{method: "POST", target: "/api/v1/books", contentType: "application/json", cookies: r.cookies,
					body: `{"title":"Planted"}`, header: http.Header{"X-Csrf-Token": {r.token}}}
			}
			if rec := e.do(rq); rec.Code != http.StatusForbidden {
				t.Errorf("%s (API %v): %d, want 403", name, api, rec.Code)
			}
		}
	}
	if len(e.catalog.created) != 0 {
		t.Fatalf("%d books created with another session's token", len(e.catalog.created))
	}
	rec := e.do(req{method: "POST", target: "/api/v1/books", contentType: "application/json", body: `{"title":"Mine"}`,
		cookies: []*http.Cookie{cookie("bookstore_session", "victim-session")}, header: http.Header{"X-Csrf-Token": {victimToken}}})
	if rec.Code != http.StatusCreated {
		t.Fatalf("the session's own token = %d %s", rec.Code, rec.Body)
	}
}

// A visitor's cookie is signed: one the server did not make, or made with
// another key, gets no token that passes, and is replaced on pages.
func TestAnonymousCSRFCookieIsSigned(t *testing.T) {
	e := twoUserEnv(t, []byte(strings.Repeat("k", 32)))
	page := e.do(req{method: "GET", target: "/login"})
	good := page.Result().Cookies()[0]
	token := formToken(t, page.Body.String())
	login := func(ck *http.Cookie, token string) int {
		return e.do(req{method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded",
			cookies: []*http.Cookie{ck}, body: "email=a%40b.co&password=x&_csrf=" + token}).Code
	}
	if got := login(good, token); got == http.StatusForbidden {
		t.Fatal("the page's own cookie and token are refused")
	}
	nonce, _, _ := strings.Cut(good.Value, ".")
	for name, v := range map[string]string{
		"nonce without signature": nonce,
		"forged signature":        nonce + "." + strings.Repeat("A", 43),
		"the token as the cookie": token,
	} {
		if got := login(cookie(good.Name, v), token); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, got)
		}
	}
	other := twoUserEnv(t, []byte(strings.Repeat("o", 32)))
	if got := other.do(req{method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded",
		cookies: []*http.Cookie{good}, body: "email=a%40b.co&password=x&_csrf=" + token}).Code; got != http.StatusForbidden {
		t.Errorf("an instance with another key accepted the token: %d", got)
	}
	// An instance with the same key (another replica, another service) accepts it.
	same := twoUserEnv(t, []byte(strings.Repeat("k", 32)))
	if got := same.do(req{method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded",
		cookies: []*http.Cookie{good}, body: "email=a%40b.co&password=x&_csrf=" + token}).Code; got == http.StatusForbidden {
		t.Error("an instance with the same key refused the token")
	}
}

// Over HTTPS the cookies are __Host- prefixed (Secure, Path=/, no Domain),
// and only the prefixed names are read: an unprefixed cookie planted over
// plain HTTP or by a sibling subdomain is ignored.
func TestHostPrefixOverHTTPS(t *testing.T) {
	srv := web.New(web.Options{HTTPSOnly: true}, web.Deps{Auth: fakeAuth{users: map[string]auth.User{"good-token": {ID: 7, Name: "Seven"}}},
		Catalog: &fakeCatalog{}, Purchase: fakePurchase{}, Ready: func(context.Context) error { return nil }})
	do := func(method, target string, cookies ...*http.Cookie) *http.Response {
		r, _ := http.NewRequest(method, target, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		return rec.Result()
	}
	res := do("GET", "/login")
	cks := res.Cookies()
	if len(cks) != 1 || cks[0].Name != "__Host-bookstore_csrf" || !cks[0].Secure || cks[0].Path != "/" || cks[0].Domain != "" {
		t.Fatalf("cookies over HTTPS = %+v, want one __Host-bookstore_csrf, Secure, Path=/", cks)
	}
	// A planted unprefixed session cookie is not a session over HTTPS.
	if got := do("GET", "/api/v1/auth/me", cookie("bookstore_session", "good-token")).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("unprefixed session cookie over HTTPS = %d, want 401", got)
	}
	if got := do("GET", "/api/v1/auth/me", cookie("__Host-bookstore_session", "good-token")).StatusCode; got != http.StatusOK {
		t.Errorf("prefixed session cookie over HTTPS = %d, want 200", got)
	}
	// A planted unprefixed CSRF cookie does not count: the page makes a prefixed one.
	res = do("GET", "/login", cookie("bookstore_csrf", cks[0].Value))
	if got := res.Cookies(); len(got) != 1 || got[0].Name != "__Host-bookstore_csrf" || got[0].Value == cks[0].Value {
		t.Errorf("with only an unprefixed CSRF cookie the page set %+v, want a fresh __Host- cookie", got)
	}
}

// sidAuth names sessions like the services' signed tokens: several tokens
// (renewals) of one session share its sid.
type sidAuth struct {
	fakeAuth
	sids map[string]string
}

func (a sidAuth) SessionID(token string) (string, bool) { s, ok := a.sids[token]; return s, ok }

// A renewed token keeps its session's CSRF token, so forms open in other
// tabs still pass; another session's token differs.
func TestCSRFTokenFollowsTheSessionNotTheToken(t *testing.T) {
	e := newEnv(t)
	users := map[string]auth.User{"old": {ID: 7}, "renewed": {ID: 7}, "other": {ID: 7}}
	e.srv = web.New(web.Options{}, web.Deps{
		Auth:    sidAuth{fakeAuth: fakeAuth{users: users}, sids: map[string]string{"old": "sid-1", "renewed": "sid-1", "other": "sid-2"}},
		Catalog: e.catalog, Purchase: fakePurchase{}, Ready: func(context.Context) error { return nil },
	})
	if sessionToken(t, e, "old") != sessionToken(t, e, "renewed") {
		t.Error("a renewed token of the same session has another CSRF token")
	}
	if sessionToken(t, e, "old") == sessionToken(t, e, "other") {
		t.Error("two sessions share a CSRF token")
	}
}
