// Package apitest is a black-box test suite of the JSON API contract in
// issue 2: every path, body and status, spoken over plain HTTP to a running
// server. The monolith runs it in-process; objective 3 runs the same suite
// against the gateway of the microservices.
package apitest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

type user struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

type session struct {
	Token string `json:"token"`
	User  user   `json:"user"`
}

type book struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	Author      string `json:"author"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       int    `json:"stock"`
	SellerID    int64  `json:"seller_id"`
	CoverURL    string `json:"cover_url"`
}

type bookPage struct {
	Items   []book `json:"items"`
	Total   int64  `json:"total"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
}

type payment struct {
	ID          int64  `json:"id"`
	AmountCents int64  `json:"amount_cents"`
	CardLast4   string `json:"card_last4"`
}

type delivery struct {
	ProviderID int64  `json:"provider_id"`
	Address    string `json:"address"`
	CostCents  int64  `json:"cost_cents"`
}

type purchase struct {
	ID             int64     `json:"id"`
	BuyerID        int64     `json:"buyer_id"`
	BookID         int64     `json:"book_id"`
	BookTitle      string    `json:"book_title"`
	Quantity       int       `json:"quantity"`
	UnitPriceCents int64     `json:"unit_price_cents"`
	TotalCents     int64     `json:"total_cents"`
	Status         string    `json:"status"`
	PayBy          string    `json:"pay_by"`
	Payment        *payment  `json:"payment"`
	Delivery       *delivery `json:"delivery"`
}

type provider struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	CoverageArea string `json:"coverage_area"`
	CostCents    int64  `json:"cost_cents"`
}

type items[T any] struct {
	Items []T `json:"items"`
}

// Card numbers of the simulated processor.
const (
	goodCard     = "4242424242424242"
	declinedCard = "4000000000000002"
	luhnFails    = "4242424242424241"
)

// suite is the state the checks share: an admin and the API's base URL.
type suite struct {
	base  string
	admin session
}

// Run checks the whole contract against the server at baseURL. It registers
// its own users with unique e-mails, so it can run against a server with
// data; adminEmail/adminPassword must be the server's admin account.
func Run(t *testing.T, baseURL, adminEmail, adminPassword string) {
	anon := newClient(t, baseURL)
	s := &suite{base: baseURL}
	s.admin = decodeInto[session](t, anon.call("POST", "/api/v1/auth/login",
		map[string]string{"email": adminEmail, "password": adminPassword}, http.StatusOK))
	if s.admin.User.Role != "admin" {
		t.Fatalf("%s is not an admin: %+v", adminEmail, s.admin.User)
	}

	t.Run("Register", s.testRegister)
	t.Run("LoginLogoutMe", s.testLoginLogoutMe)
	t.Run("BooksListSearchPaging", s.testBooksList)
	t.Run("BookCreate", s.testBookCreate)
	t.Run("BookUpdateDelete", s.testBookUpdateDelete)
	t.Run("Cover", s.testCover)
	t.Run("CoverReencoded", s.testCoverReencoded)
	t.Run("Purchase", s.testPurchase)
	t.Run("PurchaseIdempotencyKey", s.testPurchaseIdempotencyKey)
	t.Run("PurchasePrivacy", s.testPurchasePrivacy)
	t.Run("CancelRestoresStock", s.testCancel)
	t.Run("OpenOrderLimit", s.testOpenOrderLimit)
	t.Run("PaymentAndDelivery", s.testPaymentAndDelivery)
	t.Run("DeliveryProviders", s.testProviders)
	t.Run("AdminUsers", s.testAdminUsers)
	t.Run("DeletedBookKeepsHistory", s.testDeletedBookKeepsHistory)
	t.Run("CSRF", s.testCSRF)
	t.Run("ErrorsAreJSON", s.testErrorsAreJSON)
	t.Run("OpenAPI", s.testOpenAPI)
	// Last: failed logins count against this client's address too.
	t.Run("LoginRateLimit", s.testLoginRateLimit)
}

// signUp registers and logs in a fresh user.
func (s *suite) signUp(t *testing.T, name string) (*client, session) {
	t.Helper()
	anon := newClient(t, s.base)
	email := unique(strings.ToLower(name)+"-") + "@example.com"
	creds := map[string]string{"name": name, "email": email, "password": "correct horse battery"}
	anon.call("POST", "/api/v1/auth/register", creds, http.StatusCreated)
	sess := decodeInto[session](t, anon.call("POST", "/api/v1/auth/login", creds, http.StatusOK))
	return anon.as(sess.Token), sess
}

func (s *suite) adminClient(t *testing.T) *client { return newClient(t, s.base).as(s.admin.Token) }

func (s *suite) newBook(t *testing.T, c *client, title string, price int64, stock int) book {
	t.Helper()
	return decodeInto[book](t, c.call("POST", "/api/v1/books", map[string]any{
		"title": title, "author": "Test Author", "description": "A test copy.", "price_cents": price, "stock": stock,
	}, http.StatusCreated))
}

func (s *suite) getBook(t *testing.T, id int64) book {
	t.Helper()
	return decodeInto[book](t, newClient(t, s.base).call("GET", fmt.Sprintf("/api/v1/books/%d", id), nil, http.StatusOK))
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func (s *suite) testRegister(t *testing.T) {
	anon := newClient(t, s.base)
	email := unique("reg-") + "@example.com"
	u := decodeInto[user](t, anon.call("POST", "/api/v1/auth/register",
		map[string]string{"name": "Ada", "email": email, "password": "long enough"}, http.StatusCreated))
	if u.ID == 0 || u.Name != "Ada" || u.Email != email || u.Role != "user" {
		t.Errorf("registered user = %+v", u)
	}
	if strings.Contains(string(anon.call("POST", "/api/v1/auth/login",
		map[string]string{"email": email, "password": "long enough"}, http.StatusOK).Body), "password_hash") {
		t.Error("login answer leaks the password hash")
	}
	anon.call("POST", "/api/v1/auth/register", map[string]string{"name": "Ada again", "email": email, "password": "long enough"}, http.StatusConflict)
	anon.call("POST", "/api/v1/auth/register", map[string]string{"name": "  ", "email": unique("r-") + "@example.com", "password": "long enough"}, http.StatusBadRequest)
	anon.call("POST", "/api/v1/auth/register", map[string]string{"name": "Bob", "email": "not-an-email", "password": "long enough"}, http.StatusBadRequest)
	anon.call("POST", "/api/v1/auth/register", map[string]string{"name": "Bob", "email": unique("r-") + "@example.com", "password": "short"}, http.StatusBadRequest)
	anon.call("POST", "/api/v1/auth/register", `{"name": "Bob",`, http.StatusBadRequest)
}

func (s *suite) testLoginLogoutMe(t *testing.T) {
	c, sess := s.signUp(t, "Logan")
	if sess.Token == "" || sess.User.ID == 0 {
		t.Fatalf("login answer = %+v", sess)
	}
	anon := newClient(t, s.base)
	anon.call("POST", "/api/v1/auth/login", map[string]string{"email": sess.User.Email, "password": "wrong password"}, http.StatusUnauthorized)

	me := decodeInto[user](t, c.call("GET", "/api/v1/auth/me", nil, http.StatusOK))
	if me.ID != sess.User.ID || me.Email != sess.User.Email {
		t.Errorf("me = %+v, want %+v", me, sess.User)
	}
	anon.call("GET", "/api/v1/auth/me", nil, http.StatusUnauthorized)
	anon.as("not-a-real-token").call("GET", "/api/v1/auth/me", nil, http.StatusUnauthorized)

	c.call("POST", "/api/v1/auth/logout", nil, http.StatusNoContent)
	c.call("GET", "/api/v1/auth/me", nil, http.StatusUnauthorized)
	c.call("POST", "/api/v1/books", map[string]any{"title": "After logout", "price_cents": 1, "stock": 1}, http.StatusUnauthorized)
}

func (s *suite) testBooksList(t *testing.T) {
	seller, _ := s.signUp(t, "Lister")
	tag := unique("zq")
	for i := 1; i <= 3; i++ {
		s.newBook(t, seller, fmt.Sprintf("%s volume %d", tag, i), 500, 1)
	}
	anon := newClient(t, s.base)
	all := decodeInto[bookPage](t, anon.call("GET", "/api/v1/books", nil, http.StatusOK))
	if all.Page != 1 || all.PerPage < 1 || all.Total < 3 || len(all.Items) == 0 {
		t.Errorf("GET /books = page %d per_page %d total %d with %d items", all.Page, all.PerPage, all.Total, len(all.Items))
	}
	for _, k := range []string{`"items"`, `"total"`, `"page"`, `"per_page"`} {
		if !bytes.Contains(anon.call("GET", "/api/v1/books?per_page=1", nil, http.StatusOK).Body, []byte(k)) {
			t.Errorf("book page has no %s", k)
		}
	}
	for _, k := range []string{"id", "title", "author", "description", "price_cents", "stock", "seller_id", "cover_url"} {
		if !bytes.Contains(anon.call("GET", "/api/v1/books?per_page=1", nil, http.StatusOK).Body, []byte(`"`+k+`"`)) {
			t.Errorf("book has no %q field", k)
		}
	}

	p1 := decodeInto[bookPage](t, anon.call("GET", "/api/v1/books?q="+strings.ToUpper(tag)+"&per_page=2&page=1", nil, http.StatusOK))
	p2 := decodeInto[bookPage](t, anon.call("GET", "/api/v1/books?q="+tag+"&per_page=2&page=2", nil, http.StatusOK))
	if p1.Total != 3 || len(p1.Items) != 2 || p1.Page != 1 || p1.PerPage != 2 {
		t.Errorf("search page 1 = total %d, %d items, page %d, per_page %d; want 3, 2, 1, 2", p1.Total, len(p1.Items), p1.Page, p1.PerPage)
	}
	if p2.Total != 3 || len(p2.Items) != 1 || p2.Page != 2 {
		t.Errorf("search page 2 = total %d, %d items, page %d; want 3, 1, 2", p2.Total, len(p2.Items), p2.Page)
	}
	seen := map[int64]bool{}
	for _, b := range append(p1.Items, p2.Items...) {
		if !strings.HasPrefix(b.Title, tag) || seen[b.ID] {
			t.Errorf("search for %s gave %q (or a repeat)", tag, b.Title)
		}
		seen[b.ID] = true
	}
	byAuthor := decodeInto[bookPage](t, anon.call("GET", "/api/v1/books?q=test+author&per_page=1", nil, http.StatusOK))
	if byAuthor.Total < 3 {
		t.Errorf("search by author found %d books, want ≥ 3", byAuthor.Total)
	}
	none := decodeInto[bookPage](t, anon.call("GET", "/api/v1/books?q="+unique("nothing"), nil, http.StatusOK))
	if none.Total != 0 || none.Items == nil || len(none.Items) != 0 {
		t.Errorf("search with no match = %s, want an empty items array", anon.call("GET", "/api/v1/books?q=zzzznothing", nil, http.StatusOK).Body)
	}
	anon.call("GET", "/api/v1/books?page=abc", nil, http.StatusBadRequest)

	b := p1.Items[0]
	got := s.getBook(t, b.ID)
	if got != b {
		t.Errorf("GET /books/%d = %+v, want %+v", b.ID, got, b)
	}
	anon.call("GET", "/api/v1/books/999999999", nil, http.StatusNotFound)
	anon.call("GET", "/api/v1/books/abc", nil, http.StatusBadRequest)
}

func (s *suite) testBookCreate(t *testing.T) {
	seller, sess := s.signUp(t, "Seller")
	b := s.newBook(t, seller, "  Dune  ", 1999, 3)
	if b.ID == 0 || b.SellerID != sess.User.ID || b.Title != "Dune" || b.PriceCents != 1999 || b.Stock != 3 || b.CoverURL != "" {
		t.Errorf("created book = %+v (seller %d)", b, sess.User.ID)
	}
	// seller_id in the body does not choose the seller.
	b2 := decodeInto[book](t, seller.call("POST", "/api/v1/books",
		map[string]any{"title": "Spoofed", "price_cents": 1, "stock": 1, "seller_id": s.admin.User.ID}, http.StatusCreated))
	if b2.SellerID != sess.User.ID {
		t.Errorf("seller_id in the body chose seller %d", b2.SellerID)
	}
	seller.call("POST", "/api/v1/books", map[string]any{"author": "No Title", "price_cents": 1, "stock": 1}, http.StatusBadRequest)
	seller.call("POST", "/api/v1/books", map[string]any{"title": "Negative price", "price_cents": -1, "stock": 1}, http.StatusBadRequest)
	seller.call("POST", "/api/v1/books", map[string]any{"title": "Negative stock", "price_cents": 1, "stock": -1}, http.StatusBadRequest)
	seller.call("POST", "/api/v1/books", map[string]any{"title": "Price as text", "price_cents": "ten", "stock": 1}, http.StatusBadRequest)
	newClient(t, s.base).call("POST", "/api/v1/books", map[string]any{"title": "Anonymous", "price_cents": 1, "stock": 1}, http.StatusUnauthorized)
}

func (s *suite) testBookUpdateDelete(t *testing.T) {
	seller, _ := s.signUp(t, "Owner")
	other, _ := s.signUp(t, "Other")
	admin := s.adminClient(t)
	b := s.newBook(t, seller, "Emma", 800, 2)
	u := decodeInto[book](t, seller.call("PUT", path("/api/v1/books/%d", b.ID), map[string]any{"price_cents": 900, "description": "Now with notes"}, http.StatusOK))
	if u.PriceCents != 900 || u.Description != "Now with notes" || u.Title != "Emma" || u.Stock != 2 {
		t.Errorf("updated book = %+v", u)
	}
	other.call("PUT", path("/api/v1/books/%d", b.ID), map[string]any{"price_cents": 1}, http.StatusForbidden)
	seller.call("PUT", path("/api/v1/books/%d", b.ID), map[string]any{"price_cents": -5}, http.StatusBadRequest)
	seller.call("PUT", "/api/v1/books/999999999", map[string]any{"price_cents": 1}, http.StatusNotFound)
	newClient(t, s.base).call("PUT", path("/api/v1/books/%d", b.ID), map[string]any{"price_cents": 1}, http.StatusUnauthorized)
	if got := s.getBook(t, b.ID); got.PriceCents != 900 {
		t.Errorf("refused updates changed the price to %d", got.PriceCents)
	}
	// An admin may manage anyone's book.
	a := decodeInto[book](t, admin.call("PUT", path("/api/v1/books/%d", b.ID), map[string]any{"title": "Emma (moderated)"}, http.StatusOK))
	if a.Title != "Emma (moderated)" || a.SellerID != b.SellerID {
		t.Errorf("admin update = %+v", a)
	}

	other.call("DELETE", path("/api/v1/books/%d", b.ID), nil, http.StatusForbidden)
	seller.call("DELETE", "/api/v1/books/999999999", nil, http.StatusNotFound)
	seller.call("DELETE", path("/api/v1/books/%d", b.ID), nil, http.StatusNoContent)
	newClient(t, s.base).call("GET", path("/api/v1/books/%d", b.ID), nil, http.StatusNotFound)
	seller.call("DELETE", path("/api/v1/books/%d", b.ID), nil, http.StatusNotFound)

	b2 := s.newBook(t, seller, "Persuasion", 800, 2)
	admin.call("DELETE", path("/api/v1/books/%d", b2.ID), nil, http.StatusNoContent)
}

func pngImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 4))
	img.Set(1, 1, color.RGBA{200, 30, 30, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (s *suite) testCover(t *testing.T) {
	seller, _ := s.signUp(t, "Illustrator")
	other, _ := s.signUp(t, "Vandal")
	b := s.newBook(t, seller, "Alice in Wonderland", 1200, 1)
	img := pngImage(t)
	route := path("/api/v1/books/%d/cover", b.ID)

	// The client's name and type are ignored: a PNG called cover.txt is fine.
	got := decodeInto[book](t, seller.upload("PUT", route, "cover", "cover.txt", "text/plain", img, http.StatusOK))
	if !strings.HasPrefix(got.CoverURL, "/covers/") || strings.Contains(got.CoverURL, "cover.txt") {
		t.Fatalf("cover_url = %q", got.CoverURL)
	}
	if s.getBook(t, b.ID).CoverURL != got.CoverURL {
		t.Error("GET book does not show the new cover_url")
	}
	res := newClient(t, s.base).send("GET", got.CoverURL, "", nil)
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(res.Body, img) {
		t.Errorf("GET %s = %d %q (%d bytes), want the PNG", got.CoverURL, res.Status, res.Header.Get("Content-Type"), len(res.Body))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("covers are served without X-Content-Type-Options: nosniff")
	}

	// Text named .jpg and declared image/jpeg is still text.
	seller.upload("PUT", route, "cover", "photo.jpg", "image/jpeg", []byte("<html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType)
	// Over 2 MiB: just over (judged by the catalog) and far over (refused by the body limit).
	big := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2<<20)...)
	seller.upload("PUT", route, "cover", "big.png", "image/png", big, http.StatusRequestEntityTooLarge)
	seller.upload("PUT", route, "cover", "huge.png", "image/png", append(big, make([]byte, 1<<20)...), http.StatusRequestEntityTooLarge)
	seller.upload("PUT", route, "image", "cover.png", "image/png", img, http.StatusBadRequest)
	other.upload("PUT", route, "cover", "cover.png", "image/png", img, http.StatusForbidden)
	seller.upload("PUT", "/api/v1/books/999999999/cover", "cover", "cover.png", "image/png", img, http.StatusNotFound)
	if s.getBook(t, b.ID).CoverURL != got.CoverURL {
		t.Error("a refused upload changed the cover")
	}
}

func (s *suite) buy(t *testing.T, c *client, bookID int64, qty int) purchase {
	t.Helper()
	return decodeInto[purchase](t, c.call("POST", "/api/v1/purchases", map[string]any{"book_id": bookID, "quantity": qty}, http.StatusCreated))
}

func (s *suite) testPurchase(t *testing.T) {
	seller, _ := s.signUp(t, "Bookseller")
	buyer, bsess := s.signUp(t, "Buyer")
	b := s.newBook(t, seller, "War and Peace", 2550, 5)

	// Price tampering: the body's prices are ignored.
	p := decodeInto[purchase](t, buyer.call("POST", "/api/v1/purchases",
		map[string]any{"book_id": b.ID, "quantity": 2, "price_cents": 1, "unit_price_cents": 1, "total_cents": 2}, http.StatusCreated))
	if p.ID == 0 || p.BookID != b.ID || p.Quantity != 2 || p.UnitPriceCents != 2550 || p.TotalCents != 5100 ||
		p.Status != "pending_payment" || p.BuyerID != bsess.User.ID {
		t.Errorf("purchase = %+v, want 2 × 2550 = 5100 pending_payment", p)
	}
	if got := s.getBook(t, b.ID).Stock; got != 3 {
		t.Errorf("stock after buying 2 of 5 = %d, want 3", got)
	}
	buyer.call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 4}, http.StatusConflict)
	buyer.call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 0}, http.StatusBadRequest)
	buyer.call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": -1}, http.StatusBadRequest)
	buyer.call("POST", "/api/v1/purchases", map[string]any{"book_id": 999999999, "quantity": 1}, http.StatusNotFound)
	buyer.call("POST", "/api/v1/purchases", `{"book_id": "one"}`, http.StatusBadRequest)
	newClient(t, s.base).call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 1}, http.StatusUnauthorized)
	if got := s.getBook(t, b.ID).Stock; got != 3 {
		t.Errorf("refused purchases changed the stock to %d, want 3", got)
	}
}

// A client that lost the answer to a purchase retries with the same
// Idempotency-Key and gets the same purchase, not a second one.
func (s *suite) testPurchaseIdempotencyKey(t *testing.T) {
	seller, _ := s.signUp(t, "Bookseller")
	buyer, _ := s.signUp(t, "Buyer")
	b := s.newBook(t, seller, "Middlemarch", 1800, 5)
	keyed := *buyer
	keyed.headers = map[string]string{"Idempotency-Key": unique("order")}
	body := map[string]any{"book_id": b.ID, "quantity": 2}
	first := decodeInto[purchase](t, keyed.call("POST", "/api/v1/purchases", body, http.StatusCreated))
	again := decodeInto[purchase](t, keyed.call("POST", "/api/v1/purchases", body, http.StatusCreated))
	if again.ID != first.ID {
		t.Errorf("retry with the same Idempotency-Key made purchase %d, want %d", again.ID, first.ID)
	}
	if got := s.getBook(t, b.ID).Stock; got != 3 {
		t.Errorf("stock after a retried purchase of 2 of 5 = %d, want 3", got)
	}
	keyed.call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 1}, http.StatusConflict)
	bad := *buyer
	bad.headers = map[string]string{"Idempotency-Key": "has spaces in it"}
	bad.call("POST", "/api/v1/purchases", body, http.StatusBadRequest)
	if got := s.getBook(t, b.ID).Stock; got != 3 {
		t.Errorf("refused purchases changed the stock to %d, want 3", got)
	}
}

func (s *suite) testPurchasePrivacy(t *testing.T) {
	seller, _ := s.signUp(t, "Merchant")
	buyer, _ := s.signUp(t, "Reader")
	stranger, _ := s.signUp(t, "Stranger")
	b := s.newBook(t, seller, "Ulysses", 1800, 3)
	p := s.buy(t, buyer, b.ID, 1)

	mine := decodeInto[items[purchase]](t, buyer.call("GET", "/api/v1/purchases", nil, http.StatusOK))
	if len(mine.Items) != 1 || mine.Items[0].ID != p.ID {
		t.Errorf("buyer's purchases = %+v, want just %d", mine.Items, p.ID)
	}
	theirs := decodeInto[items[purchase]](t, stranger.call("GET", "/api/v1/purchases", nil, http.StatusOK))
	if theirs.Items == nil || len(theirs.Items) != 0 {
		t.Errorf("a stranger's purchase list = %s, want an empty items array", stranger.call("GET", "/api/v1/purchases", nil, http.StatusOK).Body)
	}
	got := decodeInto[purchase](t, buyer.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusOK))
	if got.ID != p.ID || got.TotalCents != 1800 {
		t.Errorf("GET purchase = %+v", got)
	}
	stranger.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusNotFound)
	seller.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusNotFound)
	stranger.call("POST", path("/api/v1/purchases/%d/cancel", p.ID), nil, http.StatusNotFound)
	stranger.call("POST", path("/api/v1/purchases/%d/payment", p.ID), map[string]string{"method": "card", "card_number": goodCard, "card_holder": "Thief"}, http.StatusNotFound)
	s.adminClient(t).call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusOK)
	buyer.call("GET", "/api/v1/purchases/999999999", nil, http.StatusNotFound)
	newClient(t, s.base).call("GET", "/api/v1/purchases", nil, http.StatusUnauthorized)
	if st := decodeInto[purchase](t, buyer.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusOK)).Status; st != "pending_payment" {
		t.Errorf("a stranger's attempts changed the status to %s", st)
	}
}

func (s *suite) testCancel(t *testing.T) {
	seller, _ := s.signUp(t, "Stocker")
	buyer, _ := s.signUp(t, "Changer")
	b := s.newBook(t, seller, "The Idiot", 1000, 4)
	p := s.buy(t, buyer, b.ID, 3)
	if got := s.getBook(t, b.ID).Stock; got != 1 {
		t.Fatalf("stock after buying 3 of 4 = %d", got)
	}
	c := decodeInto[purchase](t, buyer.call("POST", path("/api/v1/purchases/%d/cancel", p.ID), nil, http.StatusOK))
	if c.Status != "cancelled" {
		t.Errorf("cancelled purchase status = %s", c.Status)
	}
	if got := s.getBook(t, b.ID).Stock; got != 4 {
		t.Errorf("stock after cancelling = %d, want 4 again", got)
	}
	// Cancelling twice gives nothing back twice.
	buyer.call("POST", path("/api/v1/purchases/%d/cancel", p.ID), nil, http.StatusOK)
	if got := s.getBook(t, b.ID).Stock; got != 4 {
		t.Errorf("stock after cancelling twice = %d, want 4", got)
	}
	buyer.call("POST", path("/api/v1/purchases/%d/payment", p.ID), map[string]string{"card_number": goodCard, "card_holder": "Late"}, http.StatusConflict)

	paid := s.buy(t, buyer, b.ID, 1)
	buyer.call("POST", path("/api/v1/purchases/%d/payment", paid.ID), map[string]string{"method": "card", "card_number": goodCard, "card_holder": "Ann Reader"}, http.StatusOK)
	buyer.call("POST", path("/api/v1/purchases/%d/cancel", paid.ID), nil, http.StatusConflict)
	if got := s.getBook(t, b.ID).Stock; got != 3 {
		t.Errorf("stock after a refused cancel = %d, want 3", got)
	}
}

func (s *suite) testPaymentAndDelivery(t *testing.T) {
	seller, _ := s.signUp(t, "Shipper")
	buyer, _ := s.signUp(t, "Payer")
	b := s.newBook(t, seller, "Dracula", 1234, 5)
	p := s.buy(t, buyer, b.ID, 2)
	pay := path("/api/v1/purchases/%d/payment", p.ID)
	deliver := path("/api/v1/purchases/%d/delivery", p.ID)
	provs := decodeInto[items[provider]](t, newClient(t, s.base).call("GET", "/api/v1/delivery-providers", nil, http.StatusOK)).Items
	if len(provs) == 0 {
		t.Fatal("no delivery providers")
	}

	buyer.call("POST", deliver, map[string]any{"provider_id": provs[0].ID, "address": "1 Main St"}, http.StatusConflict)
	buyer.call("POST", pay, map[string]string{"method": "card", "card_number": luhnFails, "card_holder": "Ann Reader"}, http.StatusBadRequest)
	buyer.call("POST", pay, map[string]string{"method": "card", "card_number": declinedCard, "card_holder": "Ann Reader"}, http.StatusPaymentRequired)
	buyer.call("POST", pay, map[string]string{"method": "card", "card_number": goodCard, "card_holder": " "}, http.StatusBadRequest)
	if st := decodeInto[purchase](t, buyer.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusOK)).Status; st != "pending_payment" {
		t.Fatalf("status after refused payments = %s", st)
	}
	first := decodeInto[purchase](t, buyer.call("POST", pay, map[string]string{"method": "card", "card_number": "4242 4242 4242 4242", "card_holder": "Ann Reader"}, http.StatusOK))
	if first.Status != "paid" || first.Payment == nil || first.Payment.ID == 0 || first.Payment.AmountCents != 2468 || first.Payment.CardLast4 != "4242" {
		t.Fatalf("paid purchase = %+v payment %+v", first, first.Payment)
	}
	if bytes.Contains(buyer.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusOK).Body, []byte(goodCard)) {
		t.Error("the purchase shows the full card number")
	}
	again := decodeInto[purchase](t, buyer.call("POST", pay, map[string]string{"method": "card", "card_number": goodCard, "card_holder": "Ann Reader"}, http.StatusOK))
	if again.Payment == nil || again.Payment.ID != first.Payment.ID || again.Status != "paid" {
		t.Errorf("paying twice gave payment %+v, want the same payment %d", again.Payment, first.Payment.ID)
	}

	buyer.call("POST", deliver, map[string]any{"provider_id": provs[0].ID, "address": "  "}, http.StatusBadRequest)
	buyer.call("POST", deliver, map[string]any{"provider_id": 999999999, "address": "1 Main St"}, http.StatusNotFound)
	shipped := decodeInto[purchase](t, buyer.call("POST", deliver, map[string]any{"provider_id": provs[0].ID, "address": "1 Main St, Springfield"}, http.StatusOK))
	if shipped.Status != "shipped" || shipped.Delivery == nil || shipped.Delivery.ProviderID != provs[0].ID ||
		shipped.Delivery.Address != "1 Main St, Springfield" || shipped.Delivery.CostCents != provs[0].CostCents {
		t.Errorf("shipped purchase = %+v delivery %+v", shipped, shipped.Delivery)
	}
}

func (s *suite) testProviders(t *testing.T) {
	provs := decodeInto[items[provider]](t, newClient(t, s.base).call("GET", "/api/v1/delivery-providers", nil, http.StatusOK)).Items
	want := map[string]provider{
		"DHL":          {Name: "DHL", CoverageArea: "international", CostCents: 5000},
		"FedEx":        {Name: "FedEx", CoverageArea: "international", CostCents: 4500},
		"Envia":        {Name: "Envia", CoverageArea: "national", CostCents: 2000},
		"Servientrega": {Name: "Servientrega", CoverageArea: "national", CostCents: 1500},
	}
	if len(provs) != len(want) {
		t.Fatalf("providers = %+v, want the 4 defaults", provs)
	}
	for _, p := range provs {
		w, ok := want[p.Name]
		if !ok || p.ID == 0 || p.CoverageArea != w.CoverageArea || p.CostCents != w.CostCents {
			t.Errorf("provider %+v, want %+v", p, w)
		}
	}
}

func (s *suite) testAdminUsers(t *testing.T) {
	c, sess := s.signUp(t, "Curious")
	list := decodeInto[items[user]](t, s.adminClient(t).call("GET", "/api/v1/admin/users", nil, http.StatusOK))
	found := false
	for _, u := range list.Items {
		found = found || u.ID == sess.User.ID && u.Email == sess.User.Email
	}
	if !found {
		t.Errorf("admin user list (%d users) lacks %s", len(list.Items), sess.User.Email)
	}
	if bytes.Contains(s.adminClient(t).call("GET", "/api/v1/admin/users", nil, http.StatusOK).Body, []byte("$2a$")) {
		t.Error("the user list shows password hashes")
	}
	c.call("GET", "/api/v1/admin/users", nil, http.StatusForbidden)
	newClient(t, s.base).call("GET", "/api/v1/admin/users", nil, http.StatusUnauthorized)
}

func (s *suite) testDeletedBookKeepsHistory(t *testing.T) {
	seller, _ := s.signUp(t, "Closer")
	buyer, _ := s.signUp(t, "Keeper")
	b := s.newBook(t, seller, "The Castle", 1450, 2)
	p := s.buy(t, buyer, b.ID, 1)
	buyer.call("POST", path("/api/v1/purchases/%d/payment", p.ID), map[string]string{"card_number": goodCard, "card_holder": "K"}, http.StatusOK)
	pending := s.buy(t, buyer, b.ID, 1)
	seller.call("DELETE", path("/api/v1/books/%d", b.ID), nil, http.StatusNoContent)

	got := decodeInto[purchase](t, buyer.call("GET", path("/api/v1/purchases/%d", p.ID), nil, http.StatusOK))
	if got.BookTitle != "The Castle" || got.UnitPriceCents != 1450 || got.TotalCents != 1450 || got.Status != "paid" || got.Payment == nil {
		t.Errorf("purchase of a deleted book = %+v", got)
	}
	list := decodeInto[items[purchase]](t, buyer.call("GET", "/api/v1/purchases", nil, http.StatusOK))
	if len(list.Items) != 2 {
		t.Errorf("buyer has %d purchases after the book's deletion, want 2", len(list.Items))
	}
	// The paid one can still be shipped, the pending one still cancelled.
	provs := decodeInto[items[provider]](t, buyer.call("GET", "/api/v1/delivery-providers", nil, http.StatusOK)).Items
	buyer.call("POST", path("/api/v1/purchases/%d/delivery", p.ID), map[string]any{"provider_id": provs[0].ID, "address": "2 Side St"}, http.StatusOK)
	buyer.call("POST", path("/api/v1/purchases/%d/cancel", pending.ID), nil, http.StatusOK)
}

// testCSRF: a browser's session cookie alone must not change anything; the
// request must repeat the session's CSRF token (the X-CSRF-Token header of
// GET /auth/me) in X-CSRF-Token. A planted bookstore_csrf cookie repeated
// in the header is refused: the token derives from the session.
func (s *suite) testCSRF(t *testing.T) {
	_, sess := s.signUp(t, "Browser")
	planted := strings.Repeat("A", 43) // a cookie someone planted, repeated in the header
	browser := newClient(t, s.base).as("")
	browser.cookies = map[string]string{"bookstore_session": sess.Token, "bookstore_csrf": planted}

	res := browser.call("GET", "/api/v1/auth/me", nil, http.StatusOK)
	me := decodeInto[user](t, res)
	if me.ID != sess.User.ID {
		t.Fatalf("cookie session is user %d, want %d", me.ID, sess.User.ID)
	}
	csrf := res.Header.Get("X-CSRF-Token")
	if len(csrf) != 43 || csrf == planted {
		t.Fatalf("GET /auth/me with a session cookie gave X-CSRF-Token %q", csrf)
	}
	title := unique("csrf-")
	body := map[string]any{"title": title, "price_cents": 100, "stock": 1}
	browser.call("POST", "/api/v1/books", body, http.StatusForbidden)
	browser.headers = map[string]string{"X-CSRF-Token": strings.Repeat("B", 43)}
	browser.call("POST", "/api/v1/books", body, http.StatusForbidden)
	browser.headers = map[string]string{"X-CSRF-Token": planted}
	browser.call("POST", "/api/v1/books", body, http.StatusForbidden)
	browser.headers = nil
	browser.call("POST", "/api/v1/auth/logout", nil, http.StatusForbidden)
	if n := decodeInto[bookPage](t, browser.call("GET", "/api/v1/books?q="+title, nil, http.StatusOK)).Total; n != 0 {
		t.Fatalf("a request without the CSRF token created %d books", n)
	}
	browser.call("GET", "/api/v1/auth/me", nil, http.StatusOK) // the refused logout did not sign out

	browser.headers = map[string]string{"X-CSRF-Token": csrf}
	b := decodeInto[book](t, browser.call("POST", "/api/v1/books", body, http.StatusCreated))
	if b.SellerID != sess.User.ID {
		t.Errorf("cookie-authenticated book has seller %d", b.SellerID)
	}
}

func (s *suite) testErrorsAreJSON(t *testing.T) {
	anon := newClient(t, s.base)
	anon.call("GET", "/api/v1/no-such-thing", nil, http.StatusNotFound)
	anon.call("DELETE", "/api/v1/books", nil, http.StatusMethodNotAllowed)
	anon.call("POST", "/api/v1/auth/login", "not json", http.StatusBadRequest)
	anon.call("POST", "/api/v1/auth/login", "", http.StatusBadRequest)
	anon.as("forged").call("GET", "/api/v1/books", nil, http.StatusUnauthorized)
	res := anon.send("POST", "/api/v1/books", "application/json", strings.NewReader(strings.Repeat(" ", 1<<20)+"{}"))
	anon.check("POST", "/api/v1/books (1 MiB)", res, http.StatusRequestEntityTooLarge)
}

func (s *suite) testOpenAPI(t *testing.T) {
	res := newClient(t, s.base).call("GET", "/api/v1/openapi.yaml", nil, http.StatusOK)
	for _, want := range []string{"openapi: 3.", "/auth/register", "/books/{id}/cover", "/purchases/{id}/delivery", "/delivery-providers", "/admin/users"} {
		if !bytes.Contains(res.Body, []byte(want)) {
			t.Errorf("openapi.yaml lacks %q", want)
		}
	}
}

// testLoginRateLimit: an account's failed logins are limited; past the
// limit even the right password is refused with 429.
func (s *suite) testLoginRateLimit(t *testing.T) {
	_, sess := s.signUp(t, "Target")
	anon := newClient(t, s.base)
	wrong := map[string]string{"email": sess.User.Email, "password": "guess-number-x"}
	limited := false
	for i := 0; i < 10 && !limited; i++ {
		wrong["password"] = "guess-number-" + strconv.Itoa(i)
		res := anon.send("POST", "/api/v1/auth/login", "application/json", strings.NewReader(mustJSON(wrong)))
		switch res.Status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			mustBeErrorJSON(t, "login", res)
			limited = true
		default:
			t.Fatalf("failed login %d: status %d", i+1, res.Status)
		}
	}
	if !limited {
		t.Fatal("10 failed logins were never refused with 429")
	}
	anon.call("POST", "/api/v1/auth/login", map[string]string{"email": sess.User.Email, "password": "correct horse battery"}, http.StatusTooManyRequests)
}
