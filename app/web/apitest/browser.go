package apitest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser speaks to the pages as a browser does: a cookie jar, redirects
// not followed, and the CSRF token read from the form it posts.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: strings.TrimRight(base, "/"), http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// in returns the browser reporting to t (a subtest), same cookies.
func (b *browser) in(t *testing.T) *browser {
	cp := *b
	cp.t = t
	return &cp
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	req.Header.Set("Accept", "text/html")
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// post fills in the CSRF token of the form on page and posts fields to action.
func (b *browser) post(page, action string, fields map[string]string) response {
	b.t.Helper()
	form := b.get(page)
	m := csrfInput.FindSubmatch(form.Body)
	if form.Status != http.StatusOK || m == nil {
		b.t.Fatalf("GET %s: status %d, no CSRF field in %.200s", page, form.Status, form.Body)
	}
	vals := url.Values{"_csrf": {html.UnescapeString(string(m[1]))}}
	for k, v := range fields {
		vals.Set(k, v)
	}
	req, err := http.NewRequest("POST", b.base+action, strings.NewReader(vals.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) login(email, password string) {
	b.t.Helper()
	if res := b.post("/login", "/login", map[string]string{"email": email, "password": password}); res.Status != http.StatusSeeOther {
		b.t.Fatalf("log in as %s: status %d", email, res.Status)
	}
}

var errorFlash = regexp.MustCompile(`class="flash flash-error"[^>]*>([^<]+)<`)

// refused posts a form that must be refused with a message: the form
// again with a 400 when back is "", else a redirect to back, which shows it.
func (b *browser) refused(page, action string, fields map[string]string, back string) {
	b.t.Helper()
	res := b.post(page, action, fields)
	if back == "" {
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "<form") {
			b.t.Fatalf("POST %s: status %d, want 400 and the form again; body: %.300s", action, res.Status, res.Body)
		}
	} else {
		if res.Status != http.StatusSeeOther || res.Header.Get("Location") != back {
			b.t.Fatalf("POST %s: status %d to %q, want 303 to %s; body: %.300s", action, res.Status, res.Header.Get("Location"), back, res.Body)
		}
		res = b.get(back)
	}
	if m := errorFlash.FindSubmatch(res.Body); m == nil || len(strings.TrimSpace(string(m[1]))) < 5 {
		b.t.Fatalf("POST %s: no error message shown; body: %.300s", action, res.Body)
	}
}
