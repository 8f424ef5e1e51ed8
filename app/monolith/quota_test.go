package monolith_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/auth"
)

// One account lists at most BOOKSTORE_MAX_BOOKS_PER_HOUR books and uploads
// at most BOOKSTORE_MAX_UPLOAD_BYTES_PER_HOUR of covers an hour: then 429
// with a message and Retry-After. Admins are not limited.
func TestListingAndUploadQuotas(t *testing.T) {
	cover := func() []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 30, 40))); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}()
	cfg := testConfig(t)
	cfg.MaxBooksPerHour = 3
	cfg.MaxUploadBytesPerHour = int64(2*len(cover) + 10)
	app := newApp(t, cfg)
	h := app.Handler()
	ctx := context.Background()
	if _, err := app.Auth.Register(ctx, authInput("seller@example.com")); err != nil {
		t.Fatal(err)
	}
	token := func(email, password string) http.Header {
		s, err := app.Auth.Login(ctx, auth.LoginInput{Email: email, Password: password, RemoteAddr: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Authorization": {"Bearer " + s.Token}, "Content-Type": {"application/json"}}
	}
	seller, admin := token("seller@example.com", "correct horse battery"), token(adminEmail, adminPassword)
	book := `{"title":"Quota","author":"A","description":"d","price_cents":100,"stock":1}`
	for i := 0; i < 3; i++ {
		if rec := do(h, "POST", "/api/v1/books", "192.0.2.1:1", seller, book); rec.Code != http.StatusCreated {
			t.Fatalf("book %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := do(h, "POST", "/api/v1/books", "192.0.2.1:1", seller, book)
	wantTooMany(t, "4th book", rec, "you can list at most 3 books an hour")
	if rec := do(h, "POST", "/api/v1/books", "192.0.2.1:1", admin, book); rec.Code != http.StatusCreated {
		t.Errorf("admin's book: %d, want 201 (admins have no quota)", rec.Code)
	}

	upload := func(hdr http.Header) *httptest.ResponseRecorder {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		part, _ := w.CreateFormFile("cover", "c.png")
		part.Write(cover)
		w.Close()
		return do(h, "PUT", "/api/v1/books/1/cover", "192.0.2.1:1",
			http.Header{"Authorization": hdr["Authorization"], "Content-Type": {w.FormDataContentType()}}, body.String())
	}
	for i := 0; i < 2; i++ {
		if rec := upload(seller); rec.Code != http.StatusOK {
			t.Fatalf("cover %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	wantTooMany(t, "3rd cover", upload(seller), "of covers an hour")
}

func wantTooMany(t *testing.T, what string, rec *httptest.ResponseRecorder, msg string) {
	t.Helper()
	res := rec.Result()
	var body bytes.Buffer
	body.ReadFrom(res.Body)
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body.String(), msg) {
		t.Fatalf("%s: %d %s, want 429 saying %q", what, res.StatusCode, body.String(), msg)
	}
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 3500 || secs > 3600 {
		t.Errorf("%s: Retry-After %q, want about an hour", what, res.Header.Get("Retry-After"))
	}
}
