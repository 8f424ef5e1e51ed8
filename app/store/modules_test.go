package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/uploads"
)

// modules wires the real domain modules over the store, as the monolith does.
func modules(t testing.TB, db *store.DB) (*catalog.Catalog, *purchase.Checkout) {
	t.Helper()
	covers, err := uploads.NewCoverDir(t.TempDir())
	must(t, err)
	cat := catalog.New(store.NewCatalogStore(db), covers)
	return cat, purchase.New(store.NewPurchaseStore(db), cat, purchase.NewSimulatedProcessor())
}

var seller = bookstore.Caller{UserID: 1, Role: bookstore.RoleUser}

// 50 buyers race for the 10 copies of a book: exactly 10 get one, the other
// 40 are told there is not enough stock, and the stock ends at 0.
func (s suite) testConcurrentBuyers(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	cat, checkout := modules(t, db)
	book, err := cat.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 10})
	must(t, err)

	const buyers = 50
	errs := make([]error, buyers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			buyer := bookstore.Caller{UserID: int64(100 + i), Role: bookstore.RoleUser}
			_, errs[i] = checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 1})
		}()
	}
	close(start)
	wg.Wait()
	sold, refused := 0, 0
	for _, err := range errs {
		switch bookstore.ErrorCode(err) {
		case "":
			sold++
		case bookstore.ECONFLICT:
			refused++
		default:
			t.Errorf("unexpected error (never a locked database): %v", err)
		}
	}
	if sold != 10 || refused != 40 {
		t.Fatalf("%d sold and %d refused, want 10 and 40", sold, refused)
	}
	got, err := cat.GetBook(ctx, book.ID)
	must(t, err)
	if got.Stock != 0 {
		t.Fatalf("stock = %d, want 0", got.Stock)
	}
	if n := count(t, db, "stock_reservations", "book_id = ?", book.ID); n != 10 {
		t.Fatalf("%d reservations, want 10", n)
	}
	if n := count(t, db, "purchases", "book_id = ? AND status = ?", book.ID, string(purchase.StatusPendingPayment)); n != 10 {
		t.Fatalf("%d purchases, want 10", n)
	}
}

// Deleting a book keeps its purchases whole: title and unit price were
// copied, and cancelling one afterwards still works.
func (s suite) testDeleteBookKeepsHistory(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	cat, checkout := modules(t, db)
	book, err := cat.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 5})
	must(t, err)
	buyer := bookstore.Caller{UserID: 2, Role: bookstore.RoleUser}
	paid, err := checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 2})
	must(t, err)
	paid, err = checkout.Pay(ctx, buyer, paid.ID, purchase.PaymentInput{Method: "card", CardNumber: "4242424242424242", CardHolder: "Bob"})
	must(t, err)
	pending, err := checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 1})
	must(t, err)

	must(t, cat.DeleteBook(ctx, seller, book.ID))

	got, err := checkout.GetPurchase(ctx, buyer, paid.ID)
	must(t, err)
	if got.BookTitle != "Dune" || got.UnitPriceCents != 1999 || got.TotalCents != 3998 || got.Status != purchase.StatusPaid || got.Payment == nil {
		t.Fatalf("paid purchase after the book was deleted: %+v", got)
	}
	list, err := checkout.ListPurchases(ctx, buyer)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d purchases listed after the book was deleted, want 2", len(list))
	}
	cancelled, err := checkout.Cancel(ctx, buyer, pending.ID)
	must(t, err)
	if cancelled.Status != purchase.StatusCancelled {
		t.Fatalf("cancel after delete: %+v", cancelled)
	}
	_, err = cat.GetBook(ctx, book.ID)
	wantCode(t, err, bookstore.ENOTFOUND)
}

// Times go in from any zone and come back as the same instant in UTC.
func (s suite) testTimesUTC(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	bogota := time.FixedZone("COT", -5*3600)
	at := time.Date(2025, 3, 1, 7, 30, 15, 123456789, bogota)

	as := store.NewAuthStore(db)
	u := auth.User{Name: "Ada", Email: "utc@example.com", Role: bookstore.RoleUser, PasswordHash: "h", CreatedAt: at}
	must(t, as.CreateUser(ctx, &u))
	gotU, err := as.UserByID(ctx, u.ID)
	must(t, err)

	cs := store.NewCatalogStore(db)
	b := catalog.Book{Title: "T", PriceCents: 1, Stock: 1, SellerID: 1, CreatedAt: at, UpdatedAt: at}
	must(t, cs.CreateBook(ctx, &b))
	gotB, err := cs.GetBook(ctx, b.ID)
	must(t, err)

	ps := store.NewPurchaseStore(db)
	p := newPurchase(1, b.ID, "utc", at)
	must(t, ps.CreatePurchase(ctx, &p, 0))
	gotP, err := ps.GetPurchase(ctx, p.ID)
	must(t, err)

	for name, got := range map[string]time.Time{"user": gotU.CreatedAt, "book created": gotB.CreatedAt,
		"book updated": gotB.UpdatedAt, "purchase": gotP.CreatedAt} {
		if got.Location() != time.UTC || !got.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("%s time = %v, want %v in UTC", name, got, at)
		}
	}
	// What the caller holds after a write is what it reads back.
	if u.CreatedAt != gotU.CreatedAt || b.CreatedAt != gotB.CreatedAt || p.CreatedAt != gotP.CreatedAt {
		t.Errorf("written times differ from read ones: %v/%v %v/%v %v/%v", u.CreatedAt, gotU.CreatedAt, b.CreatedAt, gotB.CreatedAt, p.CreatedAt, gotP.CreatedAt)
	}
}
