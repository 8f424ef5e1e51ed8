package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web"
)

const csrfToken = "cccccccccccccccccccccccccccccccccccccccccc0" // 43 characters, like a real one

type env struct {
	srv     *web.Server
	catalog *fakeCatalog
	logs    *bytes.Buffer
	covers  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{catalog: &fakeCatalog{}, logs: &bytes.Buffer{}, covers: t.TempDir()}
	e.srv = web.New(web.Options{}, web.Deps{
		Auth:      fakeAuth{users: map[string]auth.User{"good-token": {ID: 7, Name: "Seven", Role: bookstore.RoleUser}}},
		Catalog:   e.catalog,
		Purchase:  fakePurchase{},
		Ready:     func(context.Context) error { return nil },
		CoversDir: e.covers,
		Logger:    slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	return e
}

type req struct {
	method, target, body, contentType string
	header                            http.Header
	cookies                           []*http.Cookie
	noLength                          bool
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	var body io.Reader = strings.NewReader(r.body)
	if r.noLength {
		body = io.MultiReader(strings.NewReader(r.body)) // hides the length: sent chunked
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	if r.noLength {
		hr.ContentLength = -1
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	for k, vs := range r.header {
		hr.Header[k] = vs
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, hr)
	return rec
}

func cookie(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }

func TestPanicsBecome500sWithoutDetails(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/api/v1/books?q=panic", "/books?q=panic"} {
		rec := e.do(req{method: "GET", target: target})
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("GET %s with a panicking catalog = %d, want 500", target, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "a bug in the catalog") || strings.Contains(rec.Body.String(), "goroutine") {
			t.Errorf("GET %s shows the panic to the client: %s", target, rec.Body)
		}
	}
	if rec := e.do(req{method: "GET", target: "/api/v1/books?q=panic"}); rec.Body.String() != "{\"error\":\"internal error\"}\n" {
		t.Errorf("API panic body = %q", rec.Body)
	}
	if rec := e.do(req{method: "GET", target: "/books?q=panic"}); !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("page panic answered %q, want the HTML error page", rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(e.logs.String(), "a bug in the catalog") || !strings.Contains(e.logs.String(), `"status":500`) {
		t.Errorf("the panic is not logged:\n%s", e.logs)
	}
	// The server still serves.
	if rec := e.do(req{method: "GET", target: "/api/v1/books"}); rec.Code != http.StatusOK {
		t.Errorf("after a panic: %d", rec.Code)
	}
}

func TestBearerAndCookieSessions(t *testing.T) {
	e := newEnv(t)
	// A bad bearer token on the API is 401, not an anonymous request.
	rec := e.do(req{method: "GET", target: "/api/v1/books", header: http.Header{"Authorization": {"Bearer stale"}}})
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("API with a bad bearer = %d (WWW-Authenticate %q), want 401", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = e.do(req{method: "GET", target: "/api/v1/books", header: http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}})
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("API with Basic auth = %d, want 401", rec.Code)
	}
	// A stale cookie on a page just means a visitor, and the cookie is cleared.
	rec = e.do(req{method: "GET", target: "/books", cookies: []*http.Cookie{cookie("bookstore_session", "stale")}})
	if rec.Code != http.StatusOK {
		t.Errorf("page with a stale cookie = %d, want 200", rec.Code)
	}
	cleared := false
	for _, c := range rec.Result().Cookies() {
		cleared = cleared || c.Name == "bookstore_session" && c.MaxAge < 0
	}
	if !cleared {
		t.Error("a stale session cookie is not cleared")
	}
	// A good bearer creates as that user, without any CSRF token.
	rec = e.do(req{method: "POST", target: "/api/v1/books", contentType: "application/json", body: `{"title":"Via bearer"}`,
		header: http.Header{"Authorization": {"Bearer good-token"}}})
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"seller_id":7`) {
		t.Errorf("bearer create = %d %s", rec.Code, rec.Body)
	}
}

func TestCSRFOnHTMLForms(t *testing.T) {
	e := newEnv(t)
	// The first page a browser loads gets the (signed nonce) cookie its token derives from.
	rec := e.do(req{method: "GET", target: "/login"})
	var nonce string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "bookstore_csrf" {
			nonce = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("CSRF cookie %+v, want HttpOnly, SameSite=Lax, Path=/", c)
			}
		}
	}
	if nonce == "" {
		t.Fatal("no CSRF cookie")
	}
	token := formToken(t, rec.Body.String())
	if len(token) != 43 || token == nonce {
		t.Fatalf("form token %q (cookie %q): want 43 characters, not the cookie's value", token, nonce)
	}
	ck := []*http.Cookie{cookie("bookstore_csrf", nonce)}
	form := "email=a%40example.com&password=whatever"
	for name, r := range map[string]req{
		"no token":     {cookies: ck, body: form},
		"wrong token":  {cookies: ck, body: form + "&_csrf=" + csrfToken},
		"no cookie":    {body: form + "&_csrf=" + token},
		"token in URL": {cookies: ck, body: form, method: "POST", target: "/login?_csrf=" + token},
	} {
		r.method, r.contentType = "POST", "application/x-www-form-urlencoded"
		if r.target == "" {
			r.target = "/login"
		}
		rec := e.do(r)
		if rec.Code != http.StatusForbidden || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: login POST = %d %s, want the 403 page", name, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	// With the token, the form reaches the handler (which then refuses the password).
	rec = e.do(req{method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded", cookies: ck, body: form + "&_csrf=" + token})
	if rec.Code == http.StatusForbidden {
		t.Errorf("login with the right token = 403")
	}
	// A cookie-authenticated API call needs the header; the form field is not read for JSON.
	// The signed-in token derives from the session; the browser's scripts read it from GET /api/v1/auth/me.
	signedIn := []*http.Cookie{cookie("bookstore_csrf", nonce), cookie("bookstore_session", "good-token")}
	token = sessionToken(t, e, "good-token")
	rec = e.do(req{method: "POST", target: "/api/v1/books", contentType: "application/json", body: `{"title":"x"}`, cookies: signedIn})
	if rec.Code != http.StatusForbidden || len(e.catalog.created) != 0 {
		t.Errorf("cookie API call without X-CSRF-Token = %d, created %d", rec.Code, len(e.catalog.created))
	}
	rec = e.do(req{method: "POST", target: "/api/v1/books", contentType: "application/json", body: `{"title":"x"}`, cookies: signedIn,
		header: http.Header{"X-Csrf-Token": {token}}})
	if rec.Code != http.StatusCreated {
		t.Errorf("cookie API call with X-CSRF-Token = %d %s", rec.Code, rec.Body)
	}
}

func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile("cover", "cover.png")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = w.Close()
	return buf.String(), w.FormDataContentType()
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	signedIn := []*http.Cookie{cookie("bookstore_session", "good-token")}
	huge := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 3<<20)...)
	body, ct := multipartBody(t, map[string]string{"_csrf": sessionToken(t, e, "good-token")}, huge)
	for _, chunked := range []bool{false, true} {
		// An oversized upload is 413 whether or not it declares its length,
		// on the page (not a CSRF 403: the token is in the body) and the API.
		rec := e.do(req{method: "POST", target: "/books/1/cover", body: body, contentType: ct, cookies: signedIn, noLength: chunked})
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("page upload of 3 MiB (chunked %v) = %d, want 413", chunked, rec.Code)
		}
		rec = e.do(req{method: "PUT", target: "/api/v1/books/1/cover", body: body, contentType: ct,
			header: http.Header{"Authorization": {"Bearer good-token"}}, noLength: chunked})
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("API upload of 3 MiB (chunked %v) = %d %s, want 413 JSON", chunked, rec.Code, rec.Body)
		}
	}
	// JSON bodies are small.
	big := `{"title":"` + strings.Repeat("x", 300<<10) + `"}`
	rec := e.do(req{method: "POST", target: "/api/v1/books", body: big, contentType: "application/json",
		header: http.Header{"Authorization": {"Bearer good-token"}}, noLength: true})
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("300 KiB JSON = %d, want 413", rec.Code)
	}
	// A fitting image passes.
	png := []byte("\x89PNG\r\n\x1a\n rest of a small image")
	body, ct = multipartBody(t, nil, png)
	rec = e.do(req{method: "PUT", target: "/api/v1/books/1/cover", body: body, contentType: ct, header: http.Header{"Authorization": {"Bearer good-token"}}})
	if rec.Code != http.StatusOK {
		t.Errorf("small cover = %d %s", rec.Code, rec.Body)
	}
}

func TestMalformedRequestsAre400WithAMessage(t *testing.T) {
	e := newEnv(t)
	bearer := http.Header{"Authorization": {"Bearer good-token"}}
	for _, r := range []req{
		{method: "POST", target: "/api/v1/books", body: `{"title":`},
		{method: "POST", target: "/api/v1/books", body: ``},
		{method: "POST", target: "/api/v1/books", body: `[1,2]`},
		{method: "POST", target: "/api/v1/books", body: `{"title":"a"} {"title":"b"}`},
		{method: "POST", target: "/api/v1/books", body: `{"title":"a","stock":"many"}`},
		{method: "GET", target: "/api/v1/books/0"},
		{method: "GET", target: "/api/v1/books/-3"},
		{method: "GET", target: "/api/v1/books/1e3"},
		{method: "GET", target: "/api/v1/books?per_page=lots"},
	} {
		r.header, r.contentType = bearer, "application/json"
		rec := e.do(r)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error":"`) {
			t.Errorf("%s %s %q = %d %s, want 400 with a message", r.method, r.target, r.body, rec.Code, rec.Body)
		}
	}
	if len(e.catalog.created) != 0 {
		t.Errorf("malformed requests created %d books", len(e.catalog.created))
	}
}

func TestCoversAreServedSafely(t *testing.T) {
	e := newEnv(t)
	img := []byte("\xff\xd8\xff\xe0 a jpeg")
	if err := os.WriteFile(filepath.Join(e.covers, "0123456789abcdef0123456789abcdef.jpg"), img, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(e.covers, ".upload-123.tmp"), []byte("half"), 0o600)
	rec := e.do(req{method: "GET", target: "/covers/0123456789abcdef0123456789abcdef.jpg"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/jpeg" || !bytes.Equal(rec.Body.Bytes(), img) {
		t.Errorf("cover = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("cover headers: Cache-Control %q, nosniff %q", cc, rec.Header().Get("X-Content-Type-Options"))
	}
	for _, target := range []string{"/covers/", "/covers/.upload-123.tmp", "/covers/../../etc/passwd", "/covers/%2e%2e%2fsecret.jpg", "/covers/ffffffffffffffff.png"} {
		if rec := e.do(req{method: "GET", target: target}); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, rec.Code)
		}
	}
}

// TestOpenAPIDescribesEveryRoute: the document and the router agree, both
// ways, on every API method and path.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(web.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			documented[strings.ToUpper(m)+" "+p] = true
			if o, _ := op.(map[string]any); o["responses"] == nil {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
	routed := map[string]bool{}
	for _, r := range newEnv(t).srv.Handler().(*echo.Echo).Routes() {
		p, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || strings.HasSuffix(p, "*") {
			continue
		}
		p = strings.ReplaceAll(p, ":id", "{id}")
		routed[r.Method+" "+p] = true
	}
	var missing, extra []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("routes not in openapi.yaml: %v; documented but not routed: %v", missing, extra)
	}
	if len(routed) < 19 {
		t.Errorf("only %d API routes found", len(routed))
	}
}

func TestReadyzReportsTheDependency(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	srv := web.New(web.Options{}, web.Deps{Auth: fakeAuth{}, Catalog: &fakeCatalog{}, Purchase: fakePurchase{},
		Ready: func(context.Context) error { return down }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "refused") {
		t.Errorf("/readyz with the database down = %d %s", rec.Code, rec.Body)
	}
}
