package pages

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/web/edge"
)

// FuzzReadForm: any url-encoded body either reads back exactly as
// net/url parses it, every field text the edge accepts, or is refused;
// what a refused form shows again is text too.
func FuzzReadForm(f *testing.F) {
	for _, s := range []string{"title=Dune&stock=3", "title=%FF%FE", "a=%00", "x=1&x=2", "=%zz", strings.Repeat("a=b&", 70), "name=Jos%C3%A9"} {
		f.Add(s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/books/new", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		got, err := readForm(e.NewContext(req, httptest.NewRecorder()))
		for k, vs := range got {
			for _, v := range vs {
				if terr := edge.Text("value", v, edge.MaxField); terr != nil && err != nil {
					t.Fatalf("refused form %q shows back %q, not text: %v", body, v, terr)
				} else if terr != nil {
					t.Fatalf("form %q accepted with field %q = %q: %v", body, k, v, terr)
				}
			}
		}
		if err != nil {
			return
		}
		want, perr := url.ParseQuery(body)
		if perr != nil {
			t.Fatalf("form %q accepted, but net/url refuses it: %v", body, perr)
		}
		if len(want) != len(got) {
			t.Fatalf("form %q read as %v, want %v", body, got, want)
		}
		for k, vs := range want {
			if strings.Join(got[k], "\x00") != strings.Join(vs, "\x00") {
				t.Fatalf("form %q field %q read as %q, want %q", body, k, got[k], vs)
			}
		}
	})
}

// FuzzPageForms posts any text to the fields of every form. Never a 5xx
// or a panic; a field the edge refuses is answered with the form again
// (400) or a redirect with a message, and the domain is not called; an
// accepted payment and delivery keep the holder and address as typed.
func FuzzPageForms(f *testing.F) {
	for i, s := range [][2]string{{"Ana", "ana@example.com"}, {"ana@example.com", "wrong"}, {"Dune", "Herbert"},
		{"Dune \xff", "x"}, {"2", "note\x00"}, {"Ana Buyer", ""}, {"1 Main St", ""}, {strings.Repeat("x", 40<<10), ""}} {
		f.Add(uint8(i), s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, which uint8, a, b string) {
		s := newSite(t)
		ctx := context.Background()
		book := s.catalog.add(catalog.Book{Title: "Emma", SellerID: s.seller.ID, Stock: 100, PriceCents: 500})
		pending, err := s.purchase.Buy(ctx, s.buyer.Caller(), purchase.BuyInput{BookID: book.ID, Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		paid, err := s.purchase.Buy(ctx, s.buyer.Caller(), purchase.BuyInput{BookID: book.ID, Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.purchase.Pay(ctx, s.buyer.Caller(), paid.ID, purchase.PaymentInput{Method: "card", CardNumber: "4242424242424242", CardHolder: "Ana"}); err != nil {
			t.Fatal(err)
		}
		card := "4242424242424242"
		forms := []struct {
			target   string
			form     url.Values
			asBuyer  bool
			redirect bool // a refused field comes back as a redirect with a message
		}{
			{"/register", url.Values{"name": {a}, "email": {b}, "password": {"correct horse"}}, false, false},
			{"/login", url.Values{"email": {a}, "password": {b}}, false, false},
			{"/books/new", url.Values{"title": {a}, "author": {b}, "description": {a}, "price": {"1.00"}, "stock": {"1"}}, false, false},
			{bookURL(book.ID) + "/edit", url.Values{"title": {a}, "description": {b}, "price": {"5.00"}, "stock": {"100"}}, false, false},
			{bookURL(book.ID) + "/buy", url.Values{"quantity": {a}, "note": {b}}, true, true},
			{orderURL(pending.ID) + "/pay", url.Values{"card_number": {card}, "card_holder": {a}, "note": {b}}, true, true},
			{orderURL(paid.ID) + "/delivery", url.Values{"provider_id": {"1"}, "address": {a}, "note": {b}}, true, true},
		}
		i := int(which) % len(forms)
		fm := forms[i]
		user := &s.seller
		if fm.asBuyer {
			user = &s.buyer
		}
		books, orders := len(s.catalog.books), len(s.purchase.purchases)
		rec := s.do(http.MethodPost, fm.target, fm.form, user)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q %q: status %d", fm.target, a, b, rec.Code)
		}
		refused := edge.Text("a", a, edge.MaxField) != nil || edge.Text("b", b, edge.MaxField) != nil
		switch {
		case refused && fm.redirect:
			if rec.Code != http.StatusSeeOther || len(flashes(t, rec)) == 0 || flashes(t, rec)[0].Kind != "error" {
				t.Fatalf("POST %s %q %q: status %d without an error message", fm.target, a, b, rec.Code)
			}
		case refused:
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `flash-error`) {
				t.Fatalf("POST %s %q %q: status %d, want the form again with a message", fm.target, a, b, rec.Code)
			}
		}
		p, _ := s.purchase.GetPurchase(ctx, s.buyer.Caller(), pending.ID)
		d, _ := s.purchase.GetPurchase(ctx, s.buyer.Caller(), paid.ID)
		if refused && (len(s.catalog.books) != books || len(s.purchase.purchases) != orders ||
			p.Status != purchase.StatusPendingPayment || d.Status != purchase.StatusPaid) {
			t.Fatalf("POST %s %q %q: refused, but the domain changed", fm.target, a, b)
		}
		if p.Status == purchase.StatusPaid && p.Payment.CardHolder != a {
			t.Fatalf("card holder %q stored as %q", a, p.Payment.CardHolder)
		}
		if d.Status == purchase.StatusShipped && d.Delivery.Address != a {
			t.Fatalf("address %q stored as %q", a, d.Delivery.Address)
		}
	})
}
