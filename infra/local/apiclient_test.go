package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// apiClient speaks the store's JSON API to one base URL (an instance, the
// balancer or the TLS front), as one user.
type apiClient struct {
	http  *http.Client
	base  string // ends with "/"
	token string
}

func (a apiClient) at(base string) apiClient { a.base = base; return a }

func (a apiClient) as(token string) apiClient { a.token = token; return a }

// reply is an answer with its body read.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request; a JSON body is marshalled, an io.Reader sent as is.
func (a apiClient) do(ctx context.Context, method, path string, body any, header http.Header) (reply, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+strings.TrimPrefix(path, "/"), r)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// must sends a request that has to answer want, and decodes its JSON into out
// (when out is not nil).
func (a apiClient) must(t *testing.T, method, path string, body any, want int, out any) reply {
	t.Helper()
	res, err := a.do(context.Background(), method, path, body, nil)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, a.base, path, err)
	}
	if res.Status != want {
		t.Fatalf("%s %s%s: status %d, want %d; body: %.300s", method, a.base, path, res.Status, want, res.Body)
	}
	if out != nil {
		if err := json.Unmarshal(res.Body, out); err != nil {
			t.Fatalf("%s %s: decode %.300s: %v", method, path, res.Body, err)
		}
	}
	return res
}

type apiUser struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

type apiSession struct {
	Token string  `json:"token"`
	User  apiUser `json:"user"`
}

type apiBook struct {
	ID       int64  `json:"id"`
	Stock    int    `json:"stock"`
	CoverURL string `json:"cover_url"`
}

type apiPurchase struct {
	ID       int64  `json:"id"`
	BuyerID  int64  `json:"buyer_id"`
	BookID   int64  `json:"book_id"`
	Quantity int    `json:"quantity"`
	Status   string `json:"status"`
}

const testPassword = "rehearsal-password-1"

// signUp registers a user and logs in, returning the signed-in client.
func (a apiClient) signUp(t *testing.T, name string) (apiClient, apiUser) {
	t.Helper()
	email := fmt.Sprintf("%s-%s@example.com", name, randomHex(4))
	a.must(t, http.MethodPost, "api/v1/auth/register", map[string]string{"name": name, "email": email, "password": testPassword}, http.StatusCreated, nil)
	var s apiSession
	a.must(t, http.MethodPost, "api/v1/auth/login", map[string]string{"email": email, "password": testPassword}, http.StatusOK, &s)
	return a.as(s.Token), s.User
}

// uploadCover sends a PNG as the book's cover and returns the book.
func (a apiClient) uploadCover(t *testing.T, bookID int64, img []byte) apiBook {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="cover"; filename="cover.png"`)
	h.Set("Content-Type", "image/png")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(img)
	_ = w.Close()
	path := fmt.Sprintf("api/v1/books/%d/cover", bookID)
	res, err := a.do(context.Background(), http.MethodPut, path, &buf, http.Header{"Content-Type": {w.FormDataContentType()}})
	if err != nil {
		t.Fatalf("PUT %s%s: %v", a.base, path, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("PUT %s%s: status %d; body: %.300s", a.base, path, res.Status, res.Body)
	}
	var b apiBook
	if err := json.Unmarshal(res.Body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// pngImage is a small valid PNG, different for every seed.
func pngImage(t *testing.T, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 60))
	for x := 0; x < 40; x++ {
		for y := 0; y < 60; y++ {
			img.Set(x, y, color.RGBA{R: seed, G: byte(x * 6), B: byte(y * 4), A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
