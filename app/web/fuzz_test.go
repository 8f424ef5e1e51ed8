package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/web"
	"github.com/tet-bookstore/bookstore/app/web/edge"
)

// The recording fakes keep the last input a handler passed to the domain,
// so a fuzz target can check it is exactly what the client sent.

type recorded struct{ in any }

type recAuth struct {
	auth.Service
	r *recorded
}

func (a recAuth) Authenticate(_ context.Context, token string) (auth.User, error) {
	if token == "good-token" {
		return auth.User{ID: 7, Name: "Seven", Role: bookstore.RoleUser}, nil
	}
	return auth.User{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "sign in again")
}

func (a recAuth) Register(_ context.Context, in auth.RegisterInput) (auth.User, error) {
	a.r.in = in
	return auth.User{ID: 8, Name: in.Name, Email: in.Email, Role: bookstore.RoleUser}, nil
}

func (a recAuth) Login(_ context.Context, in auth.LoginInput) (auth.Session, error) {
	in.RemoteAddr = "" // set by the handler, not the client
	a.r.in = in
	return auth.Session{Token: "t", User: auth.User{ID: 8, Email: in.Email}}, nil
}

type recCatalog struct {
	catalog.Service
	r *recorded
}

func (c recCatalog) CreateBook(_ context.Context, _ bookstore.Caller, in catalog.BookInput) (catalog.Book, error) {
	c.r.in = in
	return catalog.Book{ID: 1, Title: in.Title, Author: in.Author, Description: in.Description}, nil
}

func (c recCatalog) UpdateBook(_ context.Context, _ bookstore.Caller, id int64, p catalog.BookPatch) (catalog.Book, error) {
	c.r.in = p
	return catalog.Book{ID: id}, nil
}

type recPurchase struct {
	purchase.Service
	r *recorded
}

func (p recPurchase) Buy(_ context.Context, _ bookstore.Caller, in purchase.BuyInput) (purchase.Purchase, error) {
	p.r.in = in
	return purchase.Purchase{ID: 1, BookID: in.BookID, Quantity: in.Quantity}, nil
}

func (p recPurchase) Pay(_ context.Context, _ bookstore.Caller, id int64, in purchase.PaymentInput) (purchase.Purchase, error) {
	p.r.in = in
	return purchase.Purchase{ID: id}, nil
}

func (p recPurchase) ChooseDelivery(_ context.Context, _ bookstore.Caller, id int64, in purchase.DeliveryInput) (purchase.Purchase, error) {
	p.r.in = in
	return purchase.Purchase{ID: id}, nil
}

// apiWrite is one JSON write endpoint and the input type it decodes into.
type apiWrite struct {
	method, path string
	input        func() any // a pointer to a new zero input
}

var apiWrites = []apiWrite{
	{"POST", "/api/v1/auth/register", func() any { return new(auth.RegisterInput) }},
	{"POST", "/api/v1/auth/login", func() any { return new(auth.LoginInput) }},
	{"POST", "/api/v1/books", func() any { return new(catalog.BookInput) }},
	{"PUT", "/api/v1/books/3", func() any { return new(catalog.BookPatch) }},
	{"POST", "/api/v1/purchases", func() any { return new(purchase.BuyInput) }},
	{"POST", "/api/v1/purchases/3/payment", func() any { return new(purchase.PaymentInput) }},
	{"POST", "/api/v1/purchases/3/delivery", func() any { return new(purchase.DeliveryInput) }},
}

// FuzzAPIWrites sends any body (and Idempotency-Key) to every JSON write
// endpoint. Never a 5xx or a panic; what reaches the domain is text the
// edge accepts and exactly what encoding/json reads from the body (plus the
// header's key), so accepted input round-trips.
func FuzzAPIWrites(f *testing.F) {
	seeds := []string{
		`{"name":"Ana","email":"ana@example.com","password":"correct horse"}`,
		`{"title":"Dune","author":"Frank Herbert","description":"Spice","price_cents":1999,"stock":3}`,
		`{"title":"bad \xff"}`, `{"title":"nul \u0000"}`, `{"book_id":1,"quantity":2}`,
		`{"method":"card","card_number":"4242424242424242","card_holder":"Ana"}`,
		`{"provider_id":1,"address":"1 Main St"}`, `{"title":null,"stock":"3"}`, `[1,2]`, `{} {}`, ``,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s), "")
	}
	f.Add(uint8(4), []byte(`{"book_id":1,"quantity":1}`), "retry-1")
	f.Add(uint8(4), []byte(`{"book_id":1,"quantity":1}`), "k\xff")

	rec := &recorded{}
	srv := web.New(web.Options{}, web.Deps{
		Auth: recAuth{r: rec}, Catalog: recCatalog{r: rec}, Purchase: recPurchase{r: rec},
		Ready:  func(context.Context) error { return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	f.Fuzz(func(t *testing.T, which uint8, body []byte, key string) {
		ep := apiWrites[int(which)%len(apiWrites)]
		req := httptest.NewRequest(ep.method, ep.path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer good-token")
		if key != "" && validHeader(key) {
			req.Header.Set("Idempotency-Key", key)
		}
		rec.in = nil
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", ep.method, ep.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%s %s %q: status %d without a JSON error: %s", ep.method, ep.path, body, w.Code, w.Body)
			}
		}
		if rec.in == nil {
			return
		}
		if err := edge.Strings(rec.in); err != nil {
			t.Fatalf("%s %s %q: the domain got what the edge refuses: %v", ep.method, ep.path, body, err)
		}
		want := ep.input()
		if err := json.Unmarshal(body, want); err != nil {
			t.Fatalf("%s %s %q: accepted, but encoding/json refuses it: %v", ep.method, ep.path, body, err)
		}
		if b, ok := want.(*purchase.BuyInput); ok && req.Header.Get("Idempotency-Key") != "" {
			b.IdempotencyKey = key
		}
		if got := reflect.ValueOf(want).Elem().Interface(); !reflect.DeepEqual(got, rec.in) {
			t.Fatalf("%s %s %q: the domain got %+v, the body says %+v", ep.method, ep.path, body, rec.in, got)
		}
	})
}

// validHeader is what net/http lets a client send as a header value.
func validHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}

var _ = http.MethodPost
