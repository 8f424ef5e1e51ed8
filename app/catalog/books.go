package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Catalog implements Service: the rules around books, over a Store and a
// CoverStorage.
type Catalog struct {
	store  Store
	covers CoverStorage
	now    func() time.Time
	quota  Quota // nil: no quotas (SetQuotas)
	limits QuotaLimits
}

var _ Service = (*Catalog)(nil)

// New returns the catalog module.
func New(store Store, covers CoverStorage) *Catalog {
	return &Catalog{store: store, covers: covers, now: time.Now}
}

// ListBooks returns one page of books matching q, newest first.
func (c *Catalog) ListBooks(ctx context.Context, q Query) (BookPage, error) {
	q.Q = strings.TrimSpace(q.Q)
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage < 1 {
		q.PerPage = DefaultPerPage
	}
	if q.PerPage > MaxPerPage {
		q.PerPage = MaxPerPage
	}
	if utf8.RuneCountInString(q.Q) > 200 {
		return BookPage{}, bookstore.Errorf(bookstore.EINVALID, "search text must be at most 200 characters")
	}
	items, total, err := c.store.ListBooks(ctx, q)
	if err != nil {
		return BookPage{}, fmt.Errorf("list books: %w", err)
	}
	if items == nil {
		items = []Book{}
	}
	return BookPage{Items: items, Total: total, Page: q.Page, PerPage: q.PerPage}, nil
}

// GetBook returns one book.
func (c *Catalog) GetBook(ctx context.Context, id int64) (Book, error) {
	b, err := c.store.GetBook(ctx, id)
	if err != nil {
		return Book{}, fmt.Errorf("get book %d: %w", id, err)
	}
	return b, nil
}

// CreateBook lists a new book sold by the caller.
func (c *Catalog) CreateBook(ctx context.Context, caller bookstore.Caller, in BookInput) (Book, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Book{}, err
	}
	in = trimInput(in)
	if err := ValidateBook(in); err != nil {
		return Book{}, err
	}
	if err := c.takeQuota(ctx, caller, "books", 1, c.limits.BooksPerHour,
		fmt.Sprintf("you can list at most %d books an hour", c.limits.BooksPerHour)); err != nil {
		return Book{}, err
	}
	now := c.now().UTC()
	b := Book{Title: in.Title, Author: in.Author, Description: in.Description, PriceCents: in.PriceCents,
		Stock: in.Stock, SellerID: caller.UserID, CreatedAt: now, UpdatedAt: now}
	if err := c.store.CreateBook(ctx, &b); err != nil {
		return Book{}, fmt.Errorf("create book: %w", err)
	}
	return b, nil
}

// UpdateBook changes a book; only its seller or an admin may.
func (c *Catalog) UpdateBook(ctx context.Context, caller bookstore.Caller, id int64, p BookPatch) (Book, error) {
	b, err := c.ownedBook(ctx, caller, id)
	if err != nil {
		return Book{}, err
	}
	in := BookInput{Title: b.Title, Author: b.Author, Description: b.Description, PriceCents: b.PriceCents, Stock: b.Stock}
	if p.Title != nil {
		in.Title = *p.Title
	}
	if p.Author != nil {
		in.Author = *p.Author
	}
	if p.Description != nil {
		in.Description = *p.Description
	}
	if p.PriceCents != nil {
		in.PriceCents = *p.PriceCents
	}
	if p.Stock != nil {
		in.Stock = *p.Stock
	}
	in = trimInput(in)
	if err := ValidateBook(in); err != nil {
		return Book{}, err
	}
	delta := in.Stock - b.Stock // relative, so purchases made since the read are kept
	b.Title, b.Author, b.Description, b.PriceCents = in.Title, in.Author, in.Description, in.PriceCents
	b.UpdatedAt = c.now().UTC()
	if err := c.store.UpdateBook(ctx, &b, delta); err != nil {
		return Book{}, fmt.Errorf("update book %d: %w", id, err)
	}
	return b, nil
}

// DeleteBook removes a book; only its seller or an admin may. Purchases keep
// their own copy of title and price, so history survives.
func (c *Catalog) DeleteBook(ctx context.Context, caller bookstore.Caller, id int64) error {
	b, err := c.ownedBook(ctx, caller, id)
	if err != nil {
		return err
	}
	if err := c.store.DeleteBook(ctx, id); err != nil {
		return fmt.Errorf("delete book %d: %w", id, err)
	}
	if b.CoverURL != "" {
		_ = c.covers.DeleteCover(ctx, b.CoverURL) // an orphan file is harmless; the book is gone either way
	}
	return nil
}

// SetCover replaces the book's cover image.
func (c *Catalog) SetCover(ctx context.Context, caller bookstore.Caller, id int64, image []byte) (Book, error) {
	b, err := c.ownedBook(ctx, caller, id)
	if err != nil {
		return Book{}, err
	}
	ext, err := SniffCover(image)
	if err != nil {
		return Book{}, err
	}
	// Counted before the image is decoded: refused uploads cost work too.
	if err := c.takeQuota(ctx, caller, "cover-bytes", int64(len(image)), c.limits.UploadBytesPerHour,
		"you can upload at most "+sizeText(c.limits.UploadBytesPerHour)+" of covers an hour"); err != nil {
		return Book{}, err
	}
	url, err := c.covers.SaveCover(ctx, image, ext)
	if err != nil {
		return Book{}, fmt.Errorf("save cover of book %d: %w", id, err)
	}
	old := b.CoverURL
	b.CoverURL = url
	b.UpdatedAt = c.now().UTC()
	if err := c.store.UpdateBook(ctx, &b, 0); err != nil {
		_ = c.covers.DeleteCover(ctx, url)
		return Book{}, fmt.Errorf("set cover of book %d: %w", id, err)
	}
	if old != "" && old != url {
		_ = c.covers.DeleteCover(ctx, old)
	}
	return b, nil
}

// ReserveStock takes stock for a purchase; see Service.
func (c *Catalog) ReserveStock(ctx context.Context, key string, bookID int64, quantity int) (Reservation, error) {
	if key == "" || len(key) > 64 {
		return Reservation{}, bookstore.Errorf(bookstore.EINVALID, "reservation key must be 1 to 64 characters")
	}
	if quantity < 1 {
		return Reservation{}, bookstore.Errorf(bookstore.EINVALID, "quantity must be at least 1")
	}
	r, err := c.store.ReserveStock(ctx, key, bookID, quantity)
	if err != nil {
		return Reservation{}, fmt.Errorf("reserve %d of book %d: %w", quantity, bookID, err)
	}
	return r, nil
}

// ReleaseStock gives reserved stock back; see Service.
func (c *Catalog) ReleaseStock(ctx context.Context, key string) error {
	if err := c.store.ReleaseStock(ctx, key); err != nil {
		return fmt.Errorf("release reservation %s: %w", key, err)
	}
	return nil
}

// AbandonStock gives back a reservation no purchase holds; see Service.
func (c *Catalog) AbandonStock(ctx context.Context, key string) error {
	if err := c.store.AbandonStock(ctx, key); err != nil {
		return fmt.Errorf("abandon reservation %s: %w", key, err)
	}
	return nil
}

// ConfirmStock marks a reservation as part of a recorded purchase; see Service.
func (c *Catalog) ConfirmStock(ctx context.Context, key string) error {
	if err := c.store.ConfirmStock(ctx, key); err != nil {
		return fmt.Errorf("confirm reservation %s: %w", key, err)
	}
	return nil
}

// MaxPendingBatch bounds one PendingReservations answer.
const MaxPendingBatch = 500

// PendingReservations lists reservations a crash may have left; see Service.
func (c *Catalog) PendingReservations(ctx context.Context, before time.Time, limit int) ([]Reservation, error) {
	if limit < 1 || limit > MaxPendingBatch {
		limit = MaxPendingBatch
	}
	rs, err := c.store.PendingReservations(ctx, before.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("list pending reservations: %w", err)
	}
	if rs == nil {
		rs = []Reservation{}
	}
	return rs, nil
}

func (c *Catalog) ownedBook(ctx context.Context, caller bookstore.Caller, id int64) (Book, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Book{}, err
	}
	b, err := c.store.GetBook(ctx, id)
	if err != nil {
		return Book{}, fmt.Errorf("get book %d: %w", id, err)
	}
	if !caller.Owns(b.SellerID) {
		return Book{}, bookstore.Errorf(bookstore.EFORBIDDEN, "only the seller or an admin can change this book")
	}
	return b, nil
}
