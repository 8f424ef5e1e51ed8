package pages

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

const testCSRF = "csrf-test-token"

// site is the pages mounted on echo with stand-ins for the web package's
// middleware: the CSRF token and the session cookie → user lookup.
type site struct {
	t        *testing.T
	e        *echo.Echo
	auth     *fakeAuth
	catalog  *fakeCatalog
	purchase *fakePurchase
	seller   auth.User
	buyer    auth.User
	admin    auth.User
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{t: t, e: echo.New(), auth: newFakeAuth(), catalog: newFakeCatalog()}
	s.purchase = &fakePurchase{inventory: s.catalog, purchases: map[int64]purchase.Purchase{}}
	s.seller = s.auth.add("Sally Seller", "sally@example.com", bookstore.RoleUser)
	s.buyer = s.auth.add("Bob Buyer", "bob@example.com", bookstore.RoleUser)
	s.admin = s.auth.add("Ada Admin", "ada@example.com", bookstore.RoleAdmin)
	s.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			webctx.SetCSRFToken(c, testCSRF)
			if ck, err := c.Cookie(webctx.SessionCookie); err == nil {
				if u, err := s.auth.Authenticate(c.Request().Context(), ck.Value); err == nil {
					webctx.SetUser(c, u, ck.Value)
				}
			}
			return next(c)
		}
	})
	s.e.HTTPErrorHandler = func(err error, c echo.Context) {
		status := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status = he.Code
		}
		_ = ErrorPage(c, status, "")
	}
	Register(s.e, Deps{Auth: s.auth, Catalog: s.catalog, Purchase: s.purchase})
	return s
}

func token(u *auth.User) string {
	if u == nil {
		return ""
	}
	return "tok-" + jsonNum(u.ID)
}

func jsonNum(n int64) string { return strconv.FormatInt(n, 10) }

// do sends a request as user (nil: a visitor). A non-nil form is posted
// url-encoded with the CSRF field.
func (s *site) do(method, target string, form url.Values, user *auth.User) *httptest.ResponseRecorder {
	s.t.Helper()
	var body *strings.Reader
	if form != nil {
		form.Set("_csrf", testCSRF)
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	}
	if user != nil {
		req.AddCookie(&http.Cookie{Name: webctx.SessionCookie, Value: token(user)})
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return rec
}

func (s *site) get(target string, user *auth.User) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.do(http.MethodGet, target, nil, user)
}

// flashes decodes the flash messages a response queued for the next page.
func flashes(t *testing.T, rec *httptest.ResponseRecorder) []webctx.Flash {
	t.Helper()
	for _, ck := range rec.Result().Cookies() {
		if ck.Name != "bookstore_flash" || ck.Value == "" {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(ck.Value)
		if err != nil {
			t.Fatalf("flash cookie: %v", err)
		}
		var fs []webctx.Flash
		if err := json.Unmarshal(b, &fs); err != nil {
			t.Fatalf("flash cookie: %v", err)
		}
		return fs
	}
	return nil
}

func wantFlash(t *testing.T, rec *httptest.ResponseRecorder, kind, substr string) {
	t.Helper()
	for _, f := range flashes(t, rec) {
		if f.Kind == kind && strings.Contains(f.Message, substr) {
			return
		}
	}
	t.Errorf("want a %s flash containing %q, got %+v", kind, substr, flashes(t, rec))
}

func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; body:\n%s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Location"); got != location {
		t.Fatalf("Location = %q, want %q", got, location)
	}
}

func wantBody(t *testing.T, rec *httptest.ResponseRecorder, status int, substrs ...string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body:\n%s", rec.Code, status, rec.Body.String())
	}
	body := rec.Body.String()
	for _, s := range substrs {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q:\n%s", s, body)
		}
	}
}

var (
	formRe   = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	methodRe = regexp.MustCompile(`(?i)method="post"`)
)

// wantCSRFInForms checks that every POST form in a rendered page carries the
// request's CSRF token, the field the web middleware checks.
func wantCSRFInForms(t *testing.T, body string) {
	t.Helper()
	field := `<input type="hidden" name="_csrf" value="` + testCSRF + `">`
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		if methodRe.MatchString(m[1]) && !strings.Contains(m[2], field) {
			t.Errorf("POST form without the CSRF field: <form%s>", m[1])
		}
	}
}

func (s *site) addBook(title string, seller auth.User) catalog.Book {
	return s.catalog.add(catalog.Book{Title: title, Author: "Some Author", Description: "A good read.", PriceCents: 1250, Stock: 3, SellerID: seller.ID})
}

func TestPagesRender(t *testing.T) {
	s := newSite(t)
	book := s.addBook("Dune", s.seller)
	s.addBook("Emma", s.seller)
	p, err := s.purchase.Buy(t.Context(), s.buyer.Caller(), purchase.BuyInput{BookID: book.ID, Quantity: 2})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		target string
		user   *auth.User
		want   []string
	}{
		{"home", "/", nil, []string{"Find your next favourite book", "Dune", "Emma", "$12.50", "Log in", "Register"}},
		{"catalog", "/books", nil, []string{"Catalog", "Dune", "Emma", "Showing 1–2 of 2 books", `href="/login?next=%2fbooks"`}},
		{"search", "/books?q=dun", nil, []string{"Results for “dun”", "Dune", "Showing 1–1 of 1 book"}},
		{"book for a visitor", "/books/1", nil, []string{"Dune", "by Some Author", "$12.50", "1 copy available", "Log in to buy", "/login?next=/books/1"}},
		{"book for a buyer", "/books/1", &s.buyer, []string{`action="/books/1/buy"`, `name="quantity"`, "Hi Bob Buyer"}},
		{"book for its seller", "/books/1", &s.seller, []string{"You are selling this book", `action="/books/1/cover"`, `enctype="multipart/form-data"`, `action="/books/1/delete"`, `href="/books/1/edit"`}},
		{"new book", "/books/new", &s.seller, []string{"Sell a book", `action="/books/new"`, `name="price"`}},
		{"edit book", "/books/1/edit", &s.seller, []string{"Edit your listing", `value="12.50"`, `value="Dune"`, `action="/books/1/edit"`}},
		{"my books", "/my/books", &s.seller, []string{"My books", "Dune", "Emma", "You are selling 2 books"}},
		{"my orders", "/orders", &s.buyer, []string{"My orders", "Dune", "$25.00", "Awaiting payment"}},
		{"order", "/orders/" + jsonNum(p.ID), &s.buyer, []string{"Order #1", "Awaiting payment", "$25.00", `action="/orders/1/pay"`, `name="card_number"`, `action="/orders/1/cancel"`}},
		{"admin users", "/admin/users", &s.admin, []string{"sally@example.com", "bob@example.com", "Admin"}},
		{"login", "/login?next=/orders", nil, []string{"Welcome back", `name="next" value="/orders"`}},
		{"register", "/register", nil, []string{"Create your account", `name="password"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.get(tc.target, tc.user)
			wantBody(t, rec, http.StatusOK, tc.want...)
			wantCSRFInForms(t, rec.Body.String())
			if strings.Contains(rec.Body.String(), "bookstore-cards") {
				t.Error("the card slot marker leaked into the page")
			}
			if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if tc.user != nil && !strings.Contains(rec.Body.String(), `action="/logout"`) {
				t.Error("signed-in page lacks the log out form")
			}
		})
	}
}

func TestAdminLinkOnlyForAdmins(t *testing.T) {
	s := newSite(t)
	if body := s.get("/", &s.buyer).Body.String(); strings.Contains(body, `href="/admin/users"`) {
		t.Error("a plain user sees the Admin link")
	}
	if body := s.get("/", &s.admin).Body.String(); !strings.Contains(body, `href="/admin/users"`) {
		t.Error("an admin does not see the Admin link")
	}
}

func TestUserTextIsEscaped(t *testing.T) {
	s := newSite(t)
	evil := `<script>alert("x")</script>`
	b := s.catalog.add(catalog.Book{Title: evil, Author: `"><img src=x onerror=alert(1)>`, Description: evil, PriceCents: 100, Stock: 1, SellerID: s.seller.ID})
	for _, target := range []string{"/", "/books", "/books/" + jsonNum(b.ID), "/books?q=" + url.QueryEscape(evil), "/my/books"} {
		body := s.get(target, &s.seller).Body.String()
		if strings.Contains(body, "<script>") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s renders user text unescaped", target)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s does not show the escaped title", target)
		}
	}
}

// Every POST form in every template must carry the CSRF field; this reads the
// template sources, so a form on a page no test renders is checked too.
func TestTemplatePostFormsCarryCSRF(t *testing.T) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	forms := 0
	for _, f := range files {
		src, err := templateFS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range formRe.FindAllStringSubmatch(string(src), -1) {
			if !methodRe.MatchString(m[1]) {
				continue
			}
			forms++
			if !regexp.MustCompile(`<input type="hidden" name="_csrf" value="\{\{(\$|\.)\.CSRF\}\}">|<input type="hidden" name="_csrf" value="\{\{\.CSRF\}\}">`).MatchString(m[2]) {
				t.Errorf("%s: POST form without the CSRF field: <form%s>", f, m[1])
			}
		}
	}
	if forms < 10 {
		t.Errorf("found only %d POST forms; is the form pattern still right?", forms)
	}
}

func TestParsePrice(t *testing.T) {
	good := map[string]int64{"12.50": 1250, "12": 1200, "12.5": 1250, "0": 0, "0.29": 29, "0.07": 7, " 7.10 ": 710, "$12.50": 1250, "1000000": 100000000}
	for in, want := range good {
		got, err := ParsePrice(in)
		if err != nil || got != want {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "abc", "12.345", "", " ", "12.", ".5", "1e3", "12,50", "1,000", "+5", "12.5.0", "0x10", "１２", "9999999999999"} {
		if got, err := ParsePrice(in); err == nil {
			t.Errorf("ParsePrice(%q) = %d, want an error", in, got)
		} else if bookstore.ErrorCode(err) != bookstore.EINVALID {
			t.Errorf("ParsePrice(%q) error code = %s, want invalid", in, bookstore.ErrorCode(err))
		}
	}
}

func TestFormatPrice(t *testing.T) {
	for cents, want := range map[int64]string{0: "$0.00", 5: "$0.05", 1250: "$12.50", 100000: "$1,000.00", 123456789: "$1,234,567.89", -250: "-$2.50"} {
		if got := FormatPrice(cents); got != want {
			t.Errorf("FormatPrice(%d) = %q, want %q", cents, got, want)
		}
	}
	for _, cents := range []int64{0, 7, 1250, 99999} {
		if got, err := ParsePrice(plainPrice(cents)); err != nil || got != cents {
			t.Errorf("plainPrice(%d) = %q reads back as %d, %v", cents, plainPrice(cents), got, err)
		}
	}
}

func TestMembersPagesRedirectToLogin(t *testing.T) {
	s := newSite(t)
	s.addBook("Dune", s.seller)
	for _, target := range []string{"/books/new", "/books/1/edit", "/my/books", "/orders", "/orders/1", "/admin/users", "/orders?x=1&y=2"} {
		rec := s.get(target, nil)
		wantRedirect(t, rec, "/login?next="+url.QueryEscape(target))
	}
	for _, target := range []string{"/books/new", "/books/1/edit", "/books/1/delete", "/books/1/cover", "/books/1/buy", "/orders/1/pay", "/orders/1/delivery", "/orders/1/cancel"} {
		rec := s.do(http.MethodPost, target, url.Values{}, nil)
		wantRedirect(t, rec, "/login")
	}
	if _, err := s.catalog.GetBook(t.Context(), 1); err != nil {
		t.Error("a visitor's delete went through")
	}
}

func TestLoginRedirectsOnlyToLocalPaths(t *testing.T) {
	s := newSite(t)
	cases := map[string]string{
		"/orders/7?tab=1":        "/orders/7?tab=1",
		"":                       "/",
		"//evil.example":         "/",
		"//evil.example/path":    "/",
		"https://evil.example/":  "/",
		"/\\evil.example":        "/",
		"\\\\evil.example":       "/",
		"javascript:alert(1)":    "/",
		"evil.example":           "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"/%0d%0aSet-Cookie:x":    "/%0d%0aSet-Cookie:x",
		"/login":                 "/",
	}
	for next, want := range cases {
		rec := s.do(http.MethodPost, "/login", url.Values{"email": {"bob@example.com"}, "password": {"password123"}, "next": {next}}, nil)
		wantRedirect(t, rec, want)
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestLoginAndLogout(t *testing.T) {
	s := newSite(t)
	rec := s.do(http.MethodPost, "/login", url.Values{"email": {"bob@example.com"}, "password": {"wrong-password"}}, nil)
	wantBody(t, rec, http.StatusUnauthorized, "Wrong e-mail or password.", `value="bob@example.com"`)
	if strings.Contains(rec.Body.String(), "wrong-password") {
		t.Error("the login form echoes the password")
	}

	rec = s.do(http.MethodPost, "/login", url.Values{"email": {"bob@example.com"}, "password": {"password123"}}, nil)
	wantRedirect(t, rec, "/")
	wantFlash(t, rec, "success", "Welcome back, Bob Buyer")
	var session *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == webctx.SessionCookie {
			session = ck
		}
	}
	if session == nil || session.Value == "" || !session.HttpOnly {
		t.Fatalf("login set no HttpOnly session cookie: %+v", session)
	}

	req := httptest.NewRequest(http.MethodPost, "/logout", strings.NewReader("_csrf="+testCSRF))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.AddCookie(session)
	out := httptest.NewRecorder()
	s.e.ServeHTTP(out, req)
	wantRedirect(t, out, "/")
	cleared := false
	for _, ck := range out.Result().Cookies() {
		if ck.Name == webctx.SessionCookie && ck.MaxAge < 0 {
			cleared = true
		}
	}
	if !cleared {
		t.Error("logout did not clear the session cookie")
	}
	if _, err := s.auth.Authenticate(t.Context(), session.Value); err == nil {
		t.Error("logout did not revoke the session")
	}
}

func TestRegister(t *testing.T) {
	s := newSite(t)
	rec := s.do(http.MethodPost, "/register", url.Values{"name": {"Carol <b>"}, "email": {"carol@example.com"}, "password": {"short"}}, nil)
	wantBody(t, rec, http.StatusBadRequest, "Password must be at least 8 characters.", `value="Carol &lt;b&gt;"`, `value="carol@example.com"`)
	if strings.Contains(rec.Body.String(), `value="short"`) {
		t.Error("the register form echoes the password")
	}
	rec = s.do(http.MethodPost, "/register", url.Values{"name": {"Bob"}, "email": {"bob@example.com"}, "password": {"password123"}}, nil)
	wantBody(t, rec, http.StatusConflict, "already registered")

	rec = s.do(http.MethodPost, "/register", url.Values{"name": {"Carol"}, "email": {"carol@example.com"}, "password": {"password123"}, "next": {"/books/1"}}, nil)
	wantRedirect(t, rec, "/login?next=%2Fbooks%2F1")
	wantFlash(t, rec, "success", "Welcome, Carol")
}

func TestAdminUsersForbiddenForOthers(t *testing.T) {
	s := newSite(t)
	rec := s.get("/admin/users", &s.buyer)
	wantBody(t, rec, http.StatusForbidden, "Not allowed", "Only admins can list users.")
	if strings.Contains(rec.Body.String(), "sally@example.com") {
		t.Error("the 403 page leaks the user list")
	}
	wantBody(t, s.get("/admin/users", &s.admin), http.StatusOK, "sally@example.com")
}

func TestSellBook(t *testing.T) {
	s := newSite(t)
	form := url.Values{"title": {"My <Novel>"}, "author": {"Me"}, "description": {"Mint."}, "price": {"12.345"}, "stock": {"4"}}
	rec := s.do(http.MethodPost, "/books/new", form, &s.seller)
	wantBody(t, rec, http.StatusBadRequest, "Price must be an amount like 12.50", `value="My &lt;Novel&gt;"`, `value="12.345"`, `value="4"`, "Mint.")
	if len(s.catalog.books) != 0 {
		t.Fatal("an invalid form created a book")
	}

	form.Set("price", "12.5")
	form.Set("stock", "many")
	wantBody(t, s.do(http.MethodPost, "/books/new", form, &s.seller), http.StatusBadRequest, "Stock must be a whole number.")

	form.Set("stock", "4")
	form.Set("title", "  ")
	wantBody(t, s.do(http.MethodPost, "/books/new", form, &s.seller), http.StatusBadRequest, "Title is required.")

	form.Set("title", "My Novel")
	rec = s.do(http.MethodPost, "/books/new", form, &s.seller)
	wantRedirect(t, rec, "/books/1")
	wantFlash(t, rec, "success", "“My Novel” is in the catalog")
	b, err := s.catalog.GetBook(t.Context(), 1)
	if err != nil || b.PriceCents != 1250 || b.Stock != 4 || b.SellerID != s.seller.ID {
		t.Fatalf("created %+v, %v", b, err)
	}

	form.Set("price", "9.99")
	form.Set("title", "My Novel, 2nd ed.")
	rec = s.do(http.MethodPost, "/books/1/edit", form, &s.seller)
	wantRedirect(t, rec, "/books/1")
	if b, _ := s.catalog.GetBook(t.Context(), 1); b.PriceCents != 999 || b.Title != "My Novel, 2nd ed." {
		t.Fatalf("edit gave %+v", b)
	}

	// Someone else may neither open the edit form nor change or delete the book.
	wantBody(t, s.get("/books/1/edit", &s.buyer), http.StatusForbidden, "Only the seller or an admin")
	wantBody(t, s.do(http.MethodPost, "/books/1/edit", form, &s.buyer), http.StatusForbidden)
	wantBody(t, s.do(http.MethodPost, "/books/1/delete", url.Values{}, &s.buyer), http.StatusForbidden)

	rec = s.do(http.MethodPost, "/books/1/delete", url.Values{}, &s.seller)
	wantRedirect(t, rec, "/my/books")
	if _, err := s.catalog.GetBook(t.Context(), 1); err == nil {
		t.Fatal("the book was not deleted")
	}
	wantBody(t, s.get("/books/1", nil), http.StatusNotFound, "Page not found", "Book 1 not found.")
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 6))
	img.Set(1, 1, color.RGBA{200, 30, 30, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (s *site) upload(target string, field string, content []byte, user *auth.User) *httptest.ResponseRecorder {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", testCSRF)
	if field != "" {
		part, _ := w.CreateFormFile(field, "cover.png")
		_, _ = part.Write(content)
	}
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, target, &body)
	req.Header.Set(echo.HeaderContentType, w.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: webctx.SessionCookie, Value: token(user)})
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return rec
}

func TestCoverUpload(t *testing.T) {
	s := newSite(t)
	s.addBook("Dune", s.seller)

	rec := s.upload("/books/1/cover", "cover", []byte("GIF89a not accepted"), &s.seller)
	wantRedirect(t, rec, "/books/1")
	wantFlash(t, rec, "error", "Cover must be a JPEG, PNG or WebP image.")

	rec = s.upload("/books/1/cover", "", nil, &s.seller)
	wantRedirect(t, rec, "/books/1")
	wantFlash(t, rec, "error", "Choose an image file")

	rec = s.upload("/books/1/cover", "cover", bytes.Repeat([]byte{0xFF, 0xD8, 0xFF}, catalog.MaxCoverBytes), &s.seller)
	wantFlash(t, rec, "error", "at most 2 MiB")

	wantBody(t, s.upload("/books/1/cover", "cover", pngBytes(t), &s.buyer), http.StatusForbidden)

	rec = s.upload("/books/1/cover", "cover", pngBytes(t), &s.seller)
	wantRedirect(t, rec, "/books/1")
	wantFlash(t, rec, "success", "Cover updated")
	wantBody(t, s.get("/books/1", nil), http.StatusOK, `<img class="cover" src="/covers/cover-1.png"`)
	// Lists load the 400 px thumbnail, the full cover only for screens that need it.
	for _, list := range []string{"/", "/books"} {
		wantBody(t, s.get(list, nil), http.StatusOK, `<img class="cover" src="/covers/cover-1-thumb.png" srcset="/covers/cover-1-thumb.png 400w, /covers/cover-1.png 1200w" sizes=`)
	}
}

func TestBuyPayDeliver(t *testing.T) {
	s := newSite(t)
	s.addBook("Dune", s.seller) // stock 3, $12.50

	for _, q := range []string{"0", "x", "4"} {
		rec := s.do(http.MethodPost, "/books/1/buy", url.Values{"quantity": {q}}, &s.buyer)
		wantRedirect(t, rec, "/books/1")
		if len(flashes(t, rec)) != 1 || flashes(t, rec)[0].Kind != "error" {
			t.Errorf("quantity %q: flashes %+v", q, flashes(t, rec))
		}
	}
	rec := s.do(http.MethodPost, "/books/1/buy", url.Values{"quantity": {"2"}, "price_cents": {"1"}}, &s.buyer)
	wantRedirect(t, rec, "/orders/1")
	if p := s.purchase.purchases[1]; p.TotalCents != 2500 || p.Quantity != 2 {
		t.Fatalf("bought %+v", p)
	}

	// Another user's order does not exist for them.
	wantBody(t, s.get("/orders/1", &s.seller), http.StatusNotFound)
	wantBody(t, s.do(http.MethodPost, "/orders/1/pay", url.Values{"card_number": {"4242424242424242"}, "card_holder": {"X"}}, &s.seller), http.StatusNotFound)

	rec = s.do(http.MethodPost, "/orders/1/pay", url.Values{"card_number": {"4000000000000002"}, "card_holder": {"Bob"}}, &s.buyer)
	wantRedirect(t, rec, "/orders/1")
	wantFlash(t, rec, "error", "The card was declined.")
	rec = s.do(http.MethodPost, "/orders/1/pay", url.Values{"card_number": {"1234"}, "card_holder": {"Bob"}}, &s.buyer)
	wantFlash(t, rec, "error", "Card number is not valid.")

	rec = s.do(http.MethodPost, "/orders/1/pay", url.Values{"card_number": {"4242424242424242"}, "card_holder": {"Bob"}}, &s.buyer)
	wantRedirect(t, rec, "/orders/1")
	wantFlash(t, rec, "success", "Payment received")
	wantBody(t, s.get("/orders/1", &s.buyer), http.StatusOK, "Paid", "ending in 4242", `action="/orders/1/delivery"`,
		"DHL", "International", "$50.00", "Servientrega", "National", "$15.00", `name="address"`)

	rec = s.do(http.MethodPost, "/orders/1/delivery", url.Values{"provider_id": {""}, "address": {"1 Main St"}}, &s.buyer)
	wantFlash(t, rec, "error", "Choose one of the delivery providers")
	rec = s.do(http.MethodPost, "/orders/1/delivery", url.Values{"provider_id": {"4"}, "address": {" "}}, &s.buyer)
	wantFlash(t, rec, "error", "Delivery address is required.")
	rec = s.do(http.MethodPost, "/orders/1/delivery", url.Values{"provider_id": {"4"}, "address": {"1 Main St\nSpringfield"}}, &s.buyer)
	wantRedirect(t, rec, "/orders/1")
	wantFlash(t, rec, "success", "ships with Servientrega")

	wantBody(t, s.get("/orders/1", &s.buyer), http.StatusOK, "Shipped", "Servientrega", "1 Main St\nSpringfield")
	wantBody(t, s.get("/orders", &s.buyer), http.StatusOK, `badge-shipped">Shipped`)

	rec = s.do(http.MethodPost, "/orders/1/cancel", url.Values{}, &s.buyer)
	wantFlash(t, rec, "error", "cannot be cancelled")
}

func TestCancelOrder(t *testing.T) {
	s := newSite(t)
	s.addBook("Dune", s.seller)
	wantRedirect(t, s.do(http.MethodPost, "/books/1/buy", url.Values{"quantity": {"1"}}, &s.buyer), "/orders/1")
	rec := s.do(http.MethodPost, "/orders/1/cancel", url.Values{}, &s.buyer)
	wantRedirect(t, rec, "/orders/1")
	wantFlash(t, rec, "success", "Order cancelled")
	body := s.get("/orders/1", &s.buyer).Body.String()
	if !strings.Contains(body, "Cancelled") || strings.Contains(body, `action="/orders/1/pay"`) {
		t.Error("a cancelled order still offers payment")
	}
}

func TestCatalogPagination(t *testing.T) {
	s := newSite(t)
	for i := range 45 {
		s.addBook("Book "+jsonNum(int64(i+1)), s.seller)
	}
	rec := s.get("/books?page=2", nil)
	wantBody(t, rec, http.StatusOK, "Showing 21–40 of 45 books", `href="/books" rel="prev"`, `href="/books?page=3" rel="next"`,
		`aria-current="page">2<`, `href="/books?page=3">3<`, "Book 25")
	if strings.Contains(rec.Body.String(), ">Book 45<") {
		t.Error("page 2 shows a book of page 1")
	}

	rec = s.get("/books?per_page=10&page=3&q=book", nil)
	wantBody(t, rec, http.StatusOK, "Showing 21–30 of 45 books", `href="/books?page=4&amp;per_page=10&amp;q=book" rel="next"`)
	rec = s.get("/books?per_page=5&page=5", nil)
	wantBody(t, rec, http.StatusOK, `href="/books?per_page=5">1<`, `<span class="pager-gap">…</span><a class="pager-num" href="/books?page=3&amp;per_page=5">3<`,
		`href="/books?page=7&amp;per_page=5">7</a><span class="pager-gap">…</span><a class="pager-num" href="/books?page=9&amp;per_page=5">9<`)

	rec = s.get("/books?per_page=500", nil)
	wantBody(t, rec, http.StatusOK, "Showing 1–45 of 45 books")
	if strings.Contains(rec.Body.String(), `rel="next"`) {
		t.Error("one page of everything still links to a next page")
	}
	wantBody(t, s.get("/books?page=abc&per_page=-3", nil), http.StatusOK, "Showing 1–20 of 45 books")
	wantBody(t, s.get("/books?page=9", nil), http.StatusOK, "There are no books on this page")
}

// Cards are cached; a changed book must never show its old card.
func TestCardsFollowBookChanges(t *testing.T) {
	s := newSite(t)
	b := s.addBook("Dune", s.seller)
	wantBody(t, s.get("/books", nil), http.StatusOK, "$12.50", "3 left")
	price, stock, title := int64(999), 0, "Dune Messiah"
	if _, err := s.catalog.UpdateBook(t.Context(), s.seller.Caller(), b.ID, catalog.BookPatch{Title: &title, Author: &b.Author,
		Description: &b.Description, PriceCents: &price, Stock: &stock}); err != nil {
		t.Fatal(err)
	}
	rec := s.get("/books", nil)
	wantBody(t, rec, http.StatusOK, "$9.99", "Sold out", "Dune Messiah")
	if strings.Contains(rec.Body.String(), "$12.50") {
		t.Error("the catalog shows the old price")
	}
}

func TestErrorPagesUseTheLayout(t *testing.T) {
	s := newSite(t)
	wantBody(t, s.get("/books/999", nil), http.StatusNotFound, "Page not found", `href="/books"`, "TET")
	wantBody(t, s.get("/books/abc", nil), http.StatusNotFound, "Page not found")
	wantBody(t, s.get("/no/such/page", nil), http.StatusNotFound, "Page not found", `<body data-page="error">`)
}

func TestStaticAssets(t *testing.T) {
	s := newSite(t)
	rec := s.get(assetURL("app.css"), nil)
	wantBody(t, rec, http.StatusOK, ".btn-primary")
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("app.css Content-Type = %q", ct)
	}
	if cc := rec.Header().Get(echo.HeaderCacheControl); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned app.css Cache-Control = %q", cc)
	}
	if cc := s.get("/static/app.css?v=old", nil).Header().Get(echo.HeaderCacheControl); strings.Contains(cc, "immutable") {
		t.Errorf("an outdated version is cached for good: %q", cc)
	}
	if ct := s.get("/static/favicon.svg", nil).Header().Get(echo.HeaderContentType); ct != "image/svg+xml" {
		t.Errorf("favicon Content-Type = %q", ct)
	}
	for _, target := range []string{"/static/", "/static/nope.css", "/static/../pages.go"} {
		if rec := s.get(target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, rec.Code)
		}
	}
	// The CSP allows no inline style or script, so the templates must have none.
	files, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range files {
		src, _ := templateFS.ReadFile(f)
		if regexp.MustCompile(`(?i)<script|<style|\sstyle="|\son[a-z]+="`).Match(src) {
			t.Errorf("%s has inline script or style, which the CSP blocks", f)
		}
	}
}

func BenchmarkCatalog200(b *testing.B) {
	s := newSite(&testing.T{})
	for i := range 200 {
		s.catalog.add(catalog.Book{Title: "A fairly long book title number " + jsonNum(int64(i)), Author: "Some Author",
			PriceCents: int64(1000 + i), Stock: i % 5, SellerID: s.seller.ID})
	}
	req := httptest.NewRequest(http.MethodGet, "/books?per_page=200", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// Pending orders show their payment deadline, in UTC, readable by people
// and machine-readable in <time>; paid ones do not.
func TestPendingOrdersShowThePaymentDeadline(t *testing.T) {
	s := newSite(t)
	book := s.addBook("Dune", s.seller)
	p, err := s.purchase.Buy(t.Context(), s.buyer.Caller(), purchase.BuyInput{BookID: book.ID, Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	deadline := []string{"Pay by", `<time datetime="2025-03-14T10:00:00Z">14 Mar 2025, 10:00 UTC</time>`}
	wantBody(t, s.get("/orders/"+jsonNum(p.ID), &s.buyer), http.StatusOK, deadline...)
	wantBody(t, s.get("/orders", &s.buyer), http.StatusOK, "pay by", deadline[1])
	if _, err := s.purchase.Pay(t.Context(), s.buyer.Caller(), p.ID, purchase.PaymentInput{CardNumber: "4242424242424242", CardHolder: "Bob"}); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/orders/" + jsonNum(p.ID), "/orders"} {
		if body := s.get(target, &s.buyer).Body.String(); strings.Contains(body, deadline[1]) {
			t.Errorf("%s shows a deadline for a paid order", target)
		}
	}
}
