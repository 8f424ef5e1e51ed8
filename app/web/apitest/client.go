package apitest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// client is a plain net/http client of the API, signed in as one user (or
// nobody when token is "").
type client struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
	// cookies are sent as a Cookie header instead of a bearer token, the way
	// a browser would send them.
	cookies map[string]string
	headers map[string]string
}

// response is an answer with its body read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func newClient(t *testing.T, base string) *client {
	return &client{t: t, base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}
}

// in returns the client reporting to t (a subtest).
func (c *client) in(t *testing.T) *client {
	cp := *c
	cp.t = t
	return &cp
}

// as returns a client of the same server with another identity.
func (c *client) as(token string) *client {
	cp := *c
	cp.token, cp.cookies, cp.headers = token, nil, nil
	return &cp
}

func (c *client) send(method, path, contentType string, body io.Reader) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	var parts []string
	for k, v := range c.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		req.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// call sends body as JSON (a string is sent as it is) and checks the status.
// Every error must be JSON {"error": "..."}.
func (c *client) call(method, path string, body any, want int) response {
	c.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ct = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r, ct = bytes.NewReader(j), "application/json"
	}
	return c.check(method, path, c.send(method, path, ct, r), want)
}

func (c *client) check(method, path string, res response, want int) response {
	c.t.Helper()
	if res.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d; body: %.300s", method, path, res.Status, want, res.Body)
	}
	if res.Status >= 400 {
		mustBeErrorJSON(c.t, method+" "+path, res)
	}
	return res
}

func mustBeErrorJSON(t *testing.T, what string, res response) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: error with Content-Type %q, want JSON; body: %.200s", what, ct, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("%s: error body is not JSON: %.200s", what, res.Body)
	}
	if msg, _ := e["error"].(string); msg == "" {
		t.Fatalf(`%s: error body has no "error" message: %s`, what, res.Body)
	}
}

// upload sends a multipart body with one file field.
func (c *client) upload(method, path, field, filename, contentType string, data []byte, want int) response {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", contentType)
	part, err := w.CreatePart(h)
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = part.Write(data)
	_ = w.Close()
	return c.check(method, path, c.send(method, path, w.FormDataContentType(), &buf), want)
}

func decodeInto[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("decode %T from %.300s: %v", v, res.Body, err)
	}
	return v
}

func unique(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
