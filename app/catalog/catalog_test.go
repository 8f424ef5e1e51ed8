package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

var (
	ctx    = context.Background()
	anon   = bookstore.Caller{}
	seller = bookstore.Caller{UserID: 10, Role: bookstore.RoleUser}
	other  = bookstore.Caller{UserID: 11, Role: bookstore.RoleUser}
	admin  = bookstore.Caller{UserID: 1, Role: bookstore.RoleAdmin}
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bookstore.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func mustCreate(t *testing.T, c *Catalog, caller bookstore.Caller) Book {
	t.Helper()
	b, err := c.CreateBook(ctx, caller, validInput())
	if err != nil {
		t.Fatalf("CreateBook: %v", err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func TestCreateBook(t *testing.T) {
	c, st, _ := newTestCatalog()

	_, err := c.CreateBook(ctx, anon, validInput())
	wantCode(t, err, bookstore.EUNAUTHORIZED)

	bad := validInput()
	bad.PriceCents = -5
	_, err = c.CreateBook(ctx, seller, bad)
	wantCode(t, err, bookstore.EINVALID)

	blank := validInput()
	blank.Title = "   "
	_, err = c.CreateBook(ctx, seller, blank)
	wantCode(t, err, bookstore.EINVALID)
	if len(st.books) != 0 {
		t.Fatalf("rejected books were stored: %v", st.books)
	}

	in := BookInput{Title: "  Rayuela  ", Author: " Julio Cortázar\n", Description: "\tA novel. ", PriceCents: 1999, Stock: 2}
	b, err := c.CreateBook(ctx, seller, in)
	if err != nil {
		t.Fatal(err)
	}
	if b.Title != "Rayuela" || b.Author != "Julio Cortázar" || b.Description != "A novel." {
		t.Errorf("not trimmed: %q / %q / %q", b.Title, b.Author, b.Description)
	}
	if b.ID == 0 || b.SellerID != seller.UserID || b.PriceCents != 1999 || b.Stock != 2 || b.CoverURL != "" {
		t.Errorf("book = %+v, want seller %d", b, seller.UserID)
	}
	if !b.CreatedAt.Equal(testNow) || b.CreatedAt.Location() != testNow.UTC().Location() {
		t.Errorf("CreatedAt = %v, want %v in UTC", b.CreatedAt, testNow.UTC())
	}
	if stored, _ := st.book(b.ID); stored != b {
		t.Errorf("stored %+v, returned %+v", stored, b)
	}

	// Padding does not count against the length limit: it is trimmed first.
	padded := validInput()
	padded.Title = "  " + strings.Repeat("x", MaxTitleLength) + "  "
	if _, err := c.CreateBook(ctx, seller, padded); err != nil {
		t.Errorf("padded title of %d characters: %v", MaxTitleLength, err)
	}
}

func TestUpdateBookPatch(t *testing.T) {
	c, st, cv := newTestCatalog()
	b := mustCreate(t, c, seller)
	b, _ = c.SetCover(ctx, seller, b.ID, pngBytes(t))
	if cv.count() != 1 {
		t.Fatal("cover not saved")
	}

	got, err := c.UpdateBook(ctx, seller, b.ID, BookPatch{PriceCents: ptr(int64(1500)), Title: ptr("  New title ")})
	if err != nil {
		t.Fatal(err)
	}
	want := b
	want.PriceCents, want.Title = 1500, "New title"
	want.UpdatedAt = got.UpdatedAt
	if got != want {
		t.Errorf("UpdateBook = %+v\nwant         %+v (nil fields kept)", got, want)
	}
	if stored, _ := st.book(b.ID); stored != got {
		t.Errorf("stored %+v, returned %+v", stored, got)
	}

	// An empty patch changes nothing but is valid.
	if got2, err := c.UpdateBook(ctx, seller, b.ID, BookPatch{}); err != nil || got2.Title != "New title" || got2.Stock != b.Stock {
		t.Errorf("empty patch = %+v, %v", got2, err)
	}

	// An invalid patch is refused and the book stays as it was.
	_, err = c.UpdateBook(ctx, seller, b.ID, BookPatch{Stock: ptr(-1), Title: ptr("Changed")})
	wantCode(t, err, bookstore.EINVALID)
	_, err = c.UpdateBook(ctx, seller, b.ID, BookPatch{Title: ptr("  ")})
	wantCode(t, err, bookstore.EINVALID)
	if stored, _ := st.book(b.ID); stored.Title != "New title" || stored.Stock != b.Stock {
		t.Errorf("rejected patch changed the book: %+v", stored)
	}
}

func TestUpdateBookOwnership(t *testing.T) {
	c, st, _ := newTestCatalog()
	b := mustCreate(t, c, seller)

	_, err := c.UpdateBook(ctx, anon, b.ID, BookPatch{PriceCents: ptr(int64(1))})
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	_, err = c.UpdateBook(ctx, other, b.ID, BookPatch{PriceCents: ptr(int64(1))})
	wantCode(t, err, bookstore.EFORBIDDEN)
	if stored, _ := st.book(b.ID); stored.PriceCents != b.PriceCents {
		t.Fatalf("a refused update changed the price to %d", stored.PriceCents)
	}
	_, err = c.UpdateBook(ctx, seller, 999, BookPatch{PriceCents: ptr(int64(1))})
	wantCode(t, err, bookstore.ENOTFOUND)

	got, err := c.UpdateBook(ctx, admin, b.ID, BookPatch{Stock: ptr(9)})
	if err != nil {
		t.Fatalf("admin update: %v", err)
	}
	if got.Stock != 9 || got.SellerID != seller.UserID {
		t.Errorf("admin update = %+v, want stock 9 and the seller unchanged", got)
	}
}

func TestDeleteBook(t *testing.T) {
	c, st, cv := newTestCatalog()
	b := mustCreate(t, c, seller)
	b, err := c.SetCover(ctx, seller, b.ID, jpegBytes(t))
	if err != nil {
		t.Fatal(err)
	}

	wantCode(t, c.DeleteBook(ctx, anon, b.ID), bookstore.EUNAUTHORIZED)
	wantCode(t, c.DeleteBook(ctx, other, b.ID), bookstore.EFORBIDDEN)
	if _, ok := st.book(b.ID); !ok || cv.count() != 1 {
		t.Fatal("a refused delete removed the book or its cover")
	}
	wantCode(t, c.DeleteBook(ctx, seller, 999), bookstore.ENOTFOUND)

	if err := c.DeleteBook(ctx, seller, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.book(b.ID); ok {
		t.Error("book still stored")
	}
	if cv.count() != 0 || len(cv.deleted) != 1 || cv.deleted[0] != b.CoverURL {
		t.Errorf("cover %s not deleted: deleted %v", b.CoverURL, cv.deleted)
	}
	_, err = c.GetBook(ctx, b.ID)
	wantCode(t, err, bookstore.ENOTFOUND)

	// Admins may delete anyone's book.
	b2 := mustCreate(t, c, seller)
	if err := c.DeleteBook(ctx, admin, b2.ID); err != nil {
		t.Errorf("admin delete: %v", err)
	}
}

func TestSetCover(t *testing.T) {
	c, st, cv := newTestCatalog()
	b := mustCreate(t, c, seller)

	first, err := c.SetCover(ctx, seller, b.ID, jpegBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(first.CoverURL, ".jpg") || cv.files[first.CoverURL] == nil {
		t.Fatalf("cover url %q not saved as .jpg", first.CoverURL)
	}
	if stored, _ := st.book(b.ID); stored.CoverURL != first.CoverURL {
		t.Errorf("stored cover %q", stored.CoverURL)
	}

	second, err := c.SetCover(ctx, seller, b.ID, webpBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(second.CoverURL, ".webp") || second.CoverURL == first.CoverURL {
		t.Errorf("second cover url %q", second.CoverURL)
	}
	if _, ok := cv.files[first.CoverURL]; ok || cv.count() != 1 {
		t.Errorf("old cover %s not deleted (files %d)", first.CoverURL, cv.count())
	}

	// Refusals save nothing and keep the current cover.
	refusals := []struct {
		name   string
		caller bookstore.Caller
		id     int64
		image  []byte
		code   string
	}{
		{"text named .jpg", seller, b.ID, []byte("hello, I am cover.jpg"), bookstore.EUNSUPPORTED},
		{"empty", seller, b.ID, nil, bookstore.EUNSUPPORTED},
		{"too large", seller, b.ID, append(jpegBytes(t), make([]byte, MaxCoverBytes)...), bookstore.ETOOLARGE},
		{"other user", other, b.ID, pngBytes(t), bookstore.EFORBIDDEN},
		{"anonymous", anon, b.ID, pngBytes(t), bookstore.EUNAUTHORIZED},
		{"unknown book", seller, 999, pngBytes(t), bookstore.ENOTFOUND},
	}
	for _, r := range refusals {
		_, err := c.SetCover(ctx, r.caller, r.id, r.image)
		if got := bookstore.ErrorCode(err); got != r.code {
			t.Errorf("%s: error = %v, want %s", r.name, err, r.code)
		}
	}
	if cv.count() != 1 || cv.n != 2 {
		t.Errorf("refused covers were saved: %d files, %d saves", cv.count(), cv.n)
	}
	if stored, _ := st.book(b.ID); stored.CoverURL != second.CoverURL {
		t.Errorf("cover changed to %q by a refused upload", stored.CoverURL)
	}

	// When the book cannot be updated the new file is removed, the old kept.
	st.updateErr = errors.New("database is down")
	_, err = c.SetCover(ctx, seller, b.ID, pngBytes(t))
	wantCode(t, err, bookstore.EINTERNAL)
	if _, ok := cv.files[second.CoverURL]; !ok || cv.count() != 1 {
		t.Errorf("after a failed update: files %v, want only %s", cv.files, second.CoverURL)
	}
}

func TestListBooksPaging(t *testing.T) {
	tests := []struct {
		page, perPage         int
		wantPage, wantPerPage int
	}{
		{0, 0, 1, DefaultPerPage},
		{-3, -1, 1, DefaultPerPage},
		{2, 5, 2, 5},
		{1, MaxPerPage, 1, MaxPerPage},
		{1, MaxPerPage + 1, 1, MaxPerPage},
		{1, 1 << 30, 1, MaxPerPage},
	}
	for _, tt := range tests {
		c, st, _ := newTestCatalog()
		got, err := c.ListBooks(ctx, Query{Q: "  ", Page: tt.page, PerPage: tt.perPage})
		if err != nil {
			t.Fatal(err)
		}
		if got.Page != tt.wantPage || got.PerPage != tt.wantPerPage {
			t.Errorf("page %d per_page %d → %d/%d, want %d/%d", tt.page, tt.perPage, got.Page, got.PerPage, tt.wantPage, tt.wantPerPage)
		}
		if q := st.queries[0]; q.Page != tt.wantPage || q.PerPage != tt.wantPerPage || q.Q != "" {
			t.Errorf("store got %+v, want the clamped, trimmed query", q)
		}
		if got.Items == nil {
			t.Error("Items is nil; want [] so JSON shows an empty list")
		}
	}
}

func TestListBooksResults(t *testing.T) {
	c, _, _ := newTestCatalog()
	for i := 0; i < 5; i++ {
		mustCreate(t, c, seller)
	}
	in := validInput()
	in.Title, in.Author = "Pedro Páramo", "Juan Rulfo"
	rulfo, _ := c.CreateBook(ctx, other, in)

	page, err := c.ListBooks(ctx, Query{Q: " rulfo ", Page: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != rulfo.ID {
		t.Errorf("search = %+v", page)
	}
	page, _ = c.ListBooks(ctx, Query{Page: 2, PerPage: 4})
	if page.Total != 6 || len(page.Items) != 2 {
		t.Errorf("page 2 of 4 = %d items of %d, want 2 of 6", len(page.Items), page.Total)
	}

	_, err = c.ListBooks(ctx, Query{Q: strings.Repeat("ñ", 201)})
	wantCode(t, err, bookstore.EINVALID)
	if _, err := c.ListBooks(ctx, Query{Q: strings.Repeat("ñ", 200)}); err != nil {
		t.Errorf("search of 200 characters: %v", err)
	}
}

func TestReserveStock(t *testing.T) {
	c, st, _ := newTestCatalog()
	b := mustCreate(t, c, seller) // stock 3

	for _, bad := range []struct {
		key string
		qty int
	}{{"", 1}, {strings.Repeat("k", 65), 1}, {"k", 0}, {"k", -2}} {
		_, err := c.ReserveStock(ctx, bad.key, b.ID, bad.qty)
		wantCode(t, err, bookstore.EINVALID)
	}
	if st.reserveCalls != 0 {
		t.Fatalf("invalid reservations reached the store %d times", st.reserveCalls)
	}

	r, err := c.ReserveStock(ctx, strings.Repeat("k", 64), b.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.BookID != b.ID || r.Quantity != 2 || r.UnitPriceCents != b.PriceCents || r.Title != b.Title {
		t.Errorf("reservation = %+v", r)
	}
	_, err = c.ReserveStock(ctx, "other", b.ID, 2)
	wantCode(t, err, bookstore.ECONFLICT)
	_, err = c.ReserveStock(ctx, "other", 999, 1)
	wantCode(t, err, bookstore.ENOTFOUND)

	if err := c.ReleaseStock(ctx, strings.Repeat("k", 64)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.book(b.ID); got.Stock != 3 {
		t.Errorf("stock after release = %d, want 3", got.Stock)
	}
}
