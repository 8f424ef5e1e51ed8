package store_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/store"
)

func createBook(t testing.TB, st catalog.Store, title, author string, price int64, stock int, seller int64) catalog.Book {
	t.Helper()
	now := time.Now().UTC()
	b := catalog.Book{Title: title, Author: author, Description: "About " + title, PriceCents: price, Stock: stock,
		SellerID: seller, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateBook(ctxT(t), &b))
	return b
}

func (s suite) testBooks(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewCatalogStore(s.fresh(t))
	b := createBook(t, st, "Dune", "Frank Herbert", 1999, 3, 7)
	if b.ID == 0 {
		t.Fatal("no ID")
	}
	got, err := st.GetBook(ctx, b.ID)
	must(t, err)
	if got != b {
		t.Fatalf("GetBook = %+v, want %+v", got, b)
	}
	_, err = st.GetBook(ctx, b.ID+1000)
	wantCode(t, err, bookstore.ENOTFOUND)

	b.Title, b.Author, b.Description, b.PriceCents, b.Stock, b.CoverURL = "Dune Messiah", "F. Herbert", "", 2500, 0, "/covers/x.png"
	b.UpdatedAt = time.Now().UTC().Add(time.Minute).Truncate(time.Microsecond)
	must(t, st.UpdateBook(ctx, &b, -3))
	must(t, st.UpdateBook(ctx, &b, 0)) // same values again: still found
	got, _ = st.GetBook(ctx, b.ID)
	if got != b {
		t.Fatalf("after update = %+v, want %+v", got, b)
	}
	ghost := b
	ghost.ID = b.ID + 1000
	wantCode(t, st.UpdateBook(ctx, &ghost, 0), bookstore.ENOTFOUND)
	// Stock never goes below zero through an edit.
	wantCode(t, st.UpdateBook(ctx, &b, -1), bookstore.ECONFLICT)

	must(t, st.DeleteBook(ctx, b.ID))
	_, err = st.GetBook(ctx, b.ID)
	wantCode(t, err, bookstore.ENOTFOUND)
	wantCode(t, st.DeleteBook(ctx, b.ID), bookstore.ENOTFOUND)
}

func ids(books []catalog.Book) []int64 {
	out := make([]int64, len(books))
	for i, b := range books {
		out[i] = b.ID
	}
	return out
}

func (s suite) testListBooks(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewCatalogStore(s.fresh(t))
	list := func(q catalog.Query) ([]catalog.Book, int64) {
		t.Helper()
		if q.Page == 0 {
			q.Page = 1
		}
		if q.PerPage == 0 {
			q.PerPage = 50
		}
		items, total, err := st.ListBooks(ctx, q)
		must(t, err)
		return items, total
	}
	empty, total := list(catalog.Query{})
	if len(empty) != 0 || total != 0 {
		t.Fatalf("empty catalog lists %d books, total %d", len(empty), total)
	}

	dune := createBook(t, st, "Dune", "Frank Herbert", 1999, 1, 1)
	gatsby := createBook(t, st, "The Great Gatsby", "F. Scott Fitzgerald", 999, 1, 2)
	pct := createBook(t, st, "100% Cotton", "Ann Knit", 500, 1, 1)
	under := createBook(t, st, "snake_case handbook", "Gopher", 500, 1, 2)
	herb := createBook(t, st, "Herbs and spices", "Jane Cook", 700, 1, 2)

	items, total := list(catalog.Query{})
	if total != 5 || fmt.Sprint(ids(items)) != fmt.Sprint([]int64{herb.ID, under.ID, pct.ID, gatsby.ID, dune.ID}) {
		t.Fatalf("all books newest first = %v (total %d)", ids(items), total)
	}
	for _, c := range []struct {
		q    string
		want []int64
	}{
		{"herb", []int64{herb.ID, dune.ID}}, // title of one, author of the other, any case
		{"  GREAT ", []int64{gatsby.ID}},    // trimmed, case-insensitive
		{"%", []int64{pct.ID}},              // LIKE wildcards are literal
		{"_", []int64{under.ID}},            //
		{"e_c", []int64{under.ID}},          // "_" is not "any character"
		{"!", nil},                          // the escape character itself
		{"' OR 1=1 --", nil},                // parameters, not SQL
		{"zzz", nil},                        //
		{"fitzgerald", []int64{gatsby.ID}},  //
	} {
		items, total := list(catalog.Query{Q: c.q})
		if len(items) != len(c.want) || len(c.want) > 0 && fmt.Sprint(ids(items)) != fmt.Sprint(c.want) || total != int64(len(c.want)) {
			t.Errorf("search %q = %v (total %d), want %v", c.q, ids(items), total, c.want)
		}
	}
	items, total = list(catalog.Query{SellerID: 2})
	if total != 3 || fmt.Sprint(ids(items)) != fmt.Sprint([]int64{herb.ID, under.ID, gatsby.ID}) {
		t.Fatalf("seller 2's books = %v (total %d)", ids(items), total)
	}
	items, total = list(catalog.Query{SellerID: 2, Q: "herb"})
	if total != 1 || len(items) != 1 || items[0].ID != herb.ID {
		t.Fatalf("seller 2 searching herb = %v (total %d)", ids(items), total)
	}

	// Pages: total counts every match, items only the page.
	p1, total := list(catalog.Query{Page: 1, PerPage: 2})
	p2, _ := list(catalog.Query{Page: 2, PerPage: 2})
	p3, _ := list(catalog.Query{Page: 3, PerPage: 2})
	p4, _ := list(catalog.Query{Page: 4, PerPage: 2})
	if total != 5 || fmt.Sprint(ids(p1), ids(p2), ids(p3)) != fmt.Sprint([]int64{herb.ID, under.ID}, []int64{pct.ID, gatsby.ID}, []int64{dune.ID}) || len(p4) != 0 {
		t.Fatalf("pages = %v %v %v %v (total %d)", ids(p1), ids(p2), ids(p3), ids(p4), total)
	}
	if far, total := list(catalog.Query{Page: 1 << 40, PerPage: 200}); len(far) != 0 || total != 5 {
		t.Fatalf("a page far past the end = %v (total %d)", ids(far), total)
	}
}

func (s suite) testReserveStock(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewCatalogStore(s.fresh(t))
	b := createBook(t, st, "Dune", "Frank Herbert", 1999, 5, 1)

	r, err := st.ReserveStock(ctx, "key-1", b.ID, 2)
	must(t, err)
	want := catalog.Reservation{Key: "key-1", BookID: b.ID, Quantity: 2, Title: "Dune", UnitPriceCents: 1999, CreatedAt: r.CreatedAt}
	if r != want || r.CreatedAt.IsZero() {
		t.Fatalf("reservation = %+v, want %+v", r, want)
	}
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 3 {
		t.Fatalf("stock after reserving 2 of 5 = %d", got.Stock)
	}

	// The same key again returns the same reservation and takes nothing more,
	// even if asked for a different quantity or after a price change.
	b.PriceCents = 5000
	cur, err := st.GetBook(ctx, b.ID)
	must(t, err)
	must(t, st.UpdateBook(ctx, &b, 3-cur.Stock))
	again, err := st.ReserveStock(ctx, "key-1", b.ID, 3)
	must(t, err)
	if again != want {
		t.Fatalf("second reservation with the same key = %+v, want %+v", again, want)
	}
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 3 {
		t.Fatalf("stock after repeating a key = %d, want 3", got.Stock)
	}

	// New reservations copy the current title and price.
	r2, err := st.ReserveStock(ctx, "key-2", b.ID, 3)
	must(t, err)
	if r2.UnitPriceCents != 5000 || r2.Quantity != 3 {
		t.Fatalf("reservation after price change = %+v", r2)
	}
	_, err = st.ReserveStock(ctx, "key-3", b.ID, 1)
	wantCode(t, err, bookstore.ECONFLICT)
	if !strings.Contains(bookstore.ErrorMessage(err), "0 left") {
		t.Fatalf("short-stock message %q does not say how many are left", bookstore.ErrorMessage(err))
	}
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 0 {
		t.Fatalf("stock = %d, want 0", got.Stock)
	}
	_, err = st.ReserveStock(ctx, "key-4", b.ID+1000, 1)
	wantCode(t, err, bookstore.ENOTFOUND)
	_, err = st.ReserveStock(ctx, "key-5", b.ID, 0)
	wantCode(t, err, bookstore.EINVALID)
	_, err = st.ReserveStock(ctx, "key-6", b.ID, -5) // never a way to add stock
	wantCode(t, err, bookstore.EINVALID)
}

// The same key reserved by many goroutines at once takes stock once.
func (s suite) testReserveSameKeyConcurrently(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	st := store.NewCatalogStore(db)
	b := createBook(t, st, "Dune", "Frank Herbert", 1999, 10, 1)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.ReserveStock(ctx, "same-key", b.ID, 2)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 8 {
		t.Fatalf("stock = %d, want 8 (one reservation of 2)", got.Stock)
	}
	if n := count(t, db, "stock_reservations", ""); n != 1 {
		t.Fatalf("%d reservation rows, want 1", n)
	}
}

func (s suite) testReleaseStock(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewCatalogStore(s.fresh(t))
	b := createBook(t, st, "Dune", "Frank Herbert", 1999, 5, 1)
	_, err := st.ReserveStock(ctx, "rel", b.ID, 4)
	must(t, err)

	must(t, st.ReleaseStock(ctx, "rel"))
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 5 {
		t.Fatalf("stock after release = %d, want 5", got.Stock)
	}
	// Releasing twice gives the units back once.
	must(t, st.ReleaseStock(ctx, "rel"))
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 5 {
		t.Fatalf("stock after a second release = %d, want 5", got.Stock)
	}
	// A released key stays released: reserving it again takes nothing.
	r, err := st.ReserveStock(ctx, "rel", b.ID, 4)
	must(t, err)
	if !r.Released {
		t.Fatalf("released reservation = %+v", r)
	}
	if got, _ := st.GetBook(ctx, b.ID); got.Stock != 5 {
		t.Fatalf("stock after re-reserving a released key = %d, want 5", got.Stock)
	}
	must(t, st.ReleaseStock(ctx, "never-reserved"))

	// Releasing after the book was deleted is fine.
	_, err = st.ReserveStock(ctx, "gone", b.ID, 1)
	must(t, err)
	must(t, st.DeleteBook(ctx, b.ID))
	must(t, st.ReleaseStock(ctx, "gone"))
}

// Every write to books shows in the next page read, whatever caching the
// store does.
func (s suite) testListBooksSeesEveryWrite(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewCatalogStore(s.fresh(t))
	page := func() []catalog.Book {
		t.Helper()
		items, _, err := st.ListBooks(ctx, catalog.Query{Page: 1, PerPage: 10})
		must(t, err)
		return items
	}
	b := createBook(t, st, "Dune", "Frank Herbert", 1999, 5, 1)
	if p := page(); len(p) != 1 || p[0].Stock != 5 {
		t.Fatalf("page = %+v", p)
	}
	p := page()
	p[0].Title = "changed by the caller" // callers own what they get
	if p := page(); p[0].Title != "Dune" {
		t.Fatalf("a caller's change leaked into the next page: %+v", p)
	}
	_, err := st.ReserveStock(ctx, "k", b.ID, 2)
	must(t, err)
	if p := page(); p[0].Stock != 3 {
		t.Fatalf("after reserving 2: stock %d, want 3", p[0].Stock)
	}
	must(t, st.ReleaseStock(ctx, "k"))
	if p := page(); p[0].Stock != 5 {
		t.Fatalf("after releasing: stock %d, want 5", p[0].Stock)
	}
	b.PriceCents = 100
	must(t, st.UpdateBook(ctx, &b, 0))
	if p := page(); p[0].PriceCents != 100 {
		t.Fatalf("after update: price %d, want 100", p[0].PriceCents)
	}
	c := createBook(t, st, "Emma", "Jane Austen", 900, 1, 1)
	if p := page(); len(p) != 2 || p[0].ID != c.ID {
		t.Fatalf("after create: %v", ids(p))
	}
	must(t, st.DeleteBook(ctx, c.ID))
	if p := page(); len(p) != 1 || p[0].ID != b.ID {
		t.Fatalf("after delete: %v", ids(p))
	}
}

// A seller's edit made from a stale read must not give back units sold in
// between: the stock changes only by the edit's delta.
func TestEditAfterPurchaseKeepsSoldStock(t *testing.T) {
	db, err := store.Open(ctxT(t), "sqlite:"+t.TempDir()+"/edit.db")
	must(t, err)
	t.Cleanup(func() { _ = db.Close() })
	must(t, db.Migrate(ctxT(t), store.CatalogModule))
	st := store.NewCatalogStore(db)
	stale := createBook(t, st, "Emma", "Jane Austen", 900, 5, 1) // the seller's form shows stock 5
	_, err = st.ReserveStock(ctxT(t), "buy-1", stale.ID, 2)      // a buyer takes 2 meanwhile
	must(t, err)
	stale.Title = "Emma (annotated)"
	must(t, st.UpdateBook(ctxT(t), &stale, +1)) // the seller adds one copy
	got, err := st.GetBook(ctxT(t), stale.ID)
	must(t, err)
	if got.Stock != 4 || stale.Stock != 4 || got.Title != "Emma (annotated)" {
		t.Fatalf("after the edit: stock %d (returned %d), title %q; want 4: the 2 sold stay sold", got.Stock, stale.Stock, got.Title)
	}
}

// testTextRoundTrips: quotes, backslashes and any Unicode are stored and
// searched as written (on MySQL the driver escapes arguments into the
// statement, interpolateParams, instead of preparing it).
func (s suite) testTextRoundTrips(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewCatalogStore(s.fresh(t))
	title, author := `Rock 'n' Roll \ "Quotes" \' -- ; ünïcödé 📚`, `O'Brien \\ \x27`
	b := createBook(t, st, title, author, 1234, 2, 1)
	got, err := st.GetBook(ctx, b.ID)
	must(t, err)
	if got.Title != title || got.Author != author {
		t.Fatalf("read back %q by %q", got.Title, got.Author)
	}
	for _, q := range []string{`'n' roll \ "`, `o'brien \\`, "ÜNÏCÖDÉ 📚", `\'`} {
		items, total, err := st.ListBooks(ctx, catalog.Query{Q: q, Page: 1, PerPage: 10})
		must(t, err)
		if total != 1 || len(items) != 1 || items[0].Title != title {
			t.Errorf("search %q = %d items (total %d)", q, len(items), total)
		}
	}
	if _, err := st.GetBook(ctx, b.ID+1); bookstore.ErrorCode(err) != bookstore.ENOTFOUND {
		t.Fatalf("missing book: %v", err)
	}
}

// testEveryInstanceSeesStockWithinASecond: two instances on one database
// (on MySQL, two processes' pools). A write through one shows on the other's
// catalog page within a second, and on its own at once.
func (s suite) testEveryInstanceSeesStockWithinASecond(t *testing.T) {
	ctx := ctxT(t)
	dsn := s.dsn(t)
	a := open(t, dsn)
	must(t, a.Migrate(ctx, store.Modules()...))
	b := open(t, dsn)
	stA, stB := store.NewCatalogStore(a), store.NewCatalogStore(b)
	book := createBook(t, stA, "Dune", "Frank Herbert", 1999, 5, 1)
	stock := func(st catalog.Store) int {
		t.Helper()
		items, _, err := st.ListBooks(ctx, catalog.Query{Page: 1, PerPage: 10})
		must(t, err)
		if len(items) != 1 {
			t.Fatalf("%d books listed", len(items))
		}
		return items[0].Stock
	}
	if got := stock(stB); got != 5 { // B now has the page in its cache
		t.Fatalf("B lists stock %d, want 5", got)
	}
	_, err := stA.ReserveStock(ctx, "buy-1", book.ID, 2)
	must(t, err)
	if got := stock(stA); got != 3 {
		t.Fatalf("A lists stock %d right after its own write, want 3", got)
	}
	start := time.Now()
	for stock(stB) != 3 {
		if time.Since(start) > time.Second {
			t.Fatalf("B still lists the old stock after %s", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
