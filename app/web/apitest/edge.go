package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Values that are not text, or too long: each must be a 400 with a
// message at every field of every write endpoint, never a 500 (MySQL
// refuses invalid UTF-8 and values longer than their column).
const (
	badUTF8 = "bad \xff\xfe text"
	control = "nul \x00 inside"
)

var (
	tooLongForDomain = strings.Repeat("x", 6000)   // past every domain rule of these fields
	absurd           = strings.Repeat("x", 40<<10) // past the edge's limit for any field
)

// edgeValue is one bad value, named for the subtest (invalid UTF-8 is
// written into JSON bodies as raw bytes, see rawJSON).
type edgeValue struct {
	name, value string
}

func edgeValues() []edgeValue {
	return []edgeValue{{"invalid UTF-8", badUTF8}, {"control character", control},
		{"too long for the domain", tooLongForDomain}, {"absurdly long", absurd}}
}

// rawJSON is fields as a JSON object with field set to value byte for
// byte: encoding/json would replace invalid UTF-8 by U+FFFD.
func rawJSON(fields map[string]any, field, value string) string {
	const mark = "\u2603EDGE\u2603"
	cp := map[string]any{}
	for k, v := range fields {
		cp[k] = v
	}
	cp[field] = mark
	b, err := json.Marshal(cp)
	if err != nil {
		panic(err)
	}
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\x00", `\u0000`).Replace(value)
	return strings.Replace(string(b), `"`+mark+`"`, `"`+esc+`"`, 1)
}

// Edge checks that every JSON field, form field, header and query
// parameter the store reads refuses what is not text, or is too long, with
// a 400 and a message (JSON on the API; the form again, or the page the form
// was on, with the message for browsers), on the server at baseURL.
func Edge(t *testing.T, baseURL string) {
	s := &suite{base: baseURL}
	seller, sellerSess := s.signUp(t, "EdgeSeller")
	buyer, buyerSess := s.signUp(t, "EdgeBuyer")
	b := s.newBook(t, seller, unique("edge-"), 700, 50)
	pending := s.buy(t, buyer, b.ID, 1)
	paid := s.buy(t, buyer, b.ID, 1)
	buyer.call("POST", path("/api/v1/purchases/%d/payment", paid.ID), map[string]string{"method": "card", "card_number": goodCard, "card_holder": "Edge Buyer"}, http.StatusOK)

	t.Run("API", func(t *testing.T) {
		anon := newClient(t, baseURL)
		seller, buyer := seller.in(t), buyer.in(t)
		endpoints := []struct {
			who         *client
			method, url string
			fields      map[string]any
			// domainStatus is the answer to a value too long for the
			// domain, where it is not a 400.
			domainStatus map[string]int
		}{
			{anon, "POST", "/api/v1/auth/register", map[string]any{"name": "Edge", "email": unique("edge-") + "@example.com", "password": "correct horse battery"}, nil},
			{anon, "POST", "/api/v1/auth/login", map[string]any{"email": buyerSess.User.Email, "password": "correct horse battery"}, map[string]int{"password": http.StatusUnauthorized}},
			{seller, "POST", "/api/v1/books", map[string]any{"title": "Edge", "author": "A", "description": "D", "price_cents": 100, "stock": 1}, nil},
			{seller, "PUT", path("/api/v1/books/%d", b.ID), map[string]any{"title": "Edge", "author": "A", "description": "D"}, nil},
			{buyer, "POST", path("/api/v1/purchases/%d/payment", pending.ID), map[string]any{"method": "card", "card_number": goodCard, "card_holder": "Edge"}, nil},
			{buyer, "POST", path("/api/v1/purchases/%d/delivery", paid.ID), map[string]any{"provider_id": 1, "address": "1 Edge Road"}, nil},
		}
		for _, ep := range endpoints {
			for field := range ep.fields {
				if _, isText := ep.fields[field].(string); !isText {
					continue
				}
				for _, v := range edgeValues() {
					t.Run(fmt.Sprintf("%s %s %s %s", ep.method, ep.url, field, v.name), func(t *testing.T) {
						want := http.StatusBadRequest
						if st, ok := ep.domainStatus[field]; ok && v.value == tooLongForDomain {
							want = st
						}
						ep.who.call(ep.method, ep.url, rawJSON(ep.fields, field, v.value), want)
					})
				}
			}
		}
		// A body that is not UTF-8 outside any string, and a header.
		buyer.call("POST", "/api/v1/purchases", "{\"book_id\": 1, \"quantity\": 1, \"x\xff\": 1}", http.StatusBadRequest)
		// (net/http refuses control characters in headers by itself.)
		for _, v := range []string{badUTF8, strings.Repeat("k", 8<<10)} {
			req := buyer.as(buyer.token)
			req.headers = map[string]string{"Idempotency-Key": v}
			req.call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 1}, http.StatusBadRequest)
		}
		for _, q := range []string{"%FF%FE", "a%00b", strings.Repeat("q", 40<<10)} {
			anon.call("GET", "/api/v1/books?q="+q, nil, http.StatusBadRequest)
		}
		if got := s.getBook(t, b.ID); got.Title != b.Title || got.Stock != 48 {
			t.Errorf("refused writes changed the book: %+v", got)
		}
	})

	t.Run("Pages", func(t *testing.T) {
		anon := newBrowser(t, baseURL)
		sellerB := newBrowser(t, baseURL)
		sellerB.login(sellerSess.User.Email, "correct horse battery")
		buyerB := newBrowser(t, baseURL)
		buyerB.login(buyerSess.User.Email, "correct horse battery")
		forms := []struct {
			who       *browser
			page, url string
			fields    map[string]string
			// back is where a refused form sends the browser with the
			// message; "" means the form itself comes back with a 400.
			back string
		}{
			{anon, "/register", "/register", map[string]string{"name": "Edge", "email": unique("edge-") + "@example.com", "password": "correct horse battery"}, ""},
			{anon, "/login", "/login", map[string]string{"email": buyerSess.User.Email, "password": "wrong password"}, ""},
			{sellerB, "/books/new", "/books/new", map[string]string{"title": "Edge", "author": "A", "description": "D", "price": "1.00", "stock": "1"}, ""},
			{sellerB, path("/books/%d/edit", b.ID), path("/books/%d/edit", b.ID), map[string]string{"title": "Edge", "author": "A", "description": "D", "price": "7.00", "stock": "48"}, ""},
			{buyerB, path("/books/%d", b.ID), path("/books/%d/buy", b.ID), map[string]string{"quantity": "1", "note": "x"}, path("/books/%d", b.ID)},
			{buyerB, path("/orders/%d", pending.ID), path("/orders/%d/pay", pending.ID), map[string]string{"card_number": goodCard, "card_holder": "Edge"}, path("/orders/%d", pending.ID)},
			{buyerB, path("/orders/%d", paid.ID), path("/orders/%d/delivery", paid.ID), map[string]string{"provider_id": "1", "address": "1 Edge Road"}, path("/orders/%d", paid.ID)},
			{buyerB, path("/orders/%d", pending.ID), path("/orders/%d/cancel", pending.ID), map[string]string{"note": "x"}, path("/orders/%d", pending.ID)},
		}
		for _, f := range forms {
			for field := range f.fields {
				for _, v := range edgeValues() {
					if v.value == tooLongForDomain && (field == "password" || field == "note" || field == "quantity" || field == "price" || field == "stock" || field == "card_number" || field == "provider_id") {
						continue // not text the domain keeps: judged by other rules
					}
					t.Run(fmt.Sprintf("POST %s %s %s", f.url, field, v.name), func(t *testing.T) {
						vals := map[string]string{}
						for k, x := range f.fields {
							vals[k] = x
						}
						vals[field] = v.value
						f.who.in(t).refused(f.page, f.url, vals, f.back)
					})
				}
			}
		}
		for _, q := range []string{"%FF%FE", "a%00b", strings.Repeat("q", 40<<10)} {
			if res := anon.get("/books?q=" + q); res.Status != http.StatusBadRequest {
				t.Errorf("GET /books?q=%.20s: status %d, want 400", q, res.Status)
			}
		}
		buyer := buyer.in(t)
		got := s.getBook(t, b.ID)
		p := decodeInto[purchase](t, buyer.call("GET", path("/api/v1/purchases/%d", pending.ID), nil, http.StatusOK))
		if got.Title != b.Title || got.Stock != 48 || p.Status != "pending_payment" {
			t.Errorf("refused forms changed the book (%+v) or the order (%s)", got, p.Status)
		}
	})
}
