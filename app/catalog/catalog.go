// Package catalog is the offer of books: listing, search, the sellers' own
// books with their covers, and the stock that buyers reserve. It owns the
// books and stock_reservations tables; nothing else changes stock.
package catalog

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Book is a second-hand book offered by a seller. Money is in integer cents.
type Book struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Author      string    `json:"author"`
	Description string    `json:"description"`
	PriceCents  int64     `json:"price_cents"`
	Stock       int       `json:"stock"`
	SellerID    int64     `json:"seller_id"`
	CoverURL    string    `json:"cover_url"`
	CreatedAt   time.Time `json:"-"`
	UpdatedAt   time.Time `json:"-"`
}

// BookInput is what a seller gives to list a book.
type BookInput struct {
	Title       string `json:"title"`
	Author      string `json:"author"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       int    `json:"stock"`
}

// BookPatch changes some fields of a book; nil fields stay as they are.
type BookPatch struct {
	Title       *string `json:"title"`
	Author      *string `json:"author"`
	Description *string `json:"description"`
	PriceCents  *int64  `json:"price_cents"`
	Stock       *int    `json:"stock"`
}

// Query selects a page of books. Q matches title or author, case-insensitively.
type Query struct {
	Q        string
	SellerID int64 // 0: every seller
	Page     int   // from 1
	PerPage  int   // 1..MaxPerPage
}

// Paging bounds.
const (
	DefaultPerPage = 20
	MaxPerPage     = 200
)

// BookPage is one page of a query's results.
type BookPage struct {
	Items   []Book `json:"items"`
	Total   int64  `json:"total"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
}

// Reservation is stock taken off a book for one purchase, identified by an
// idempotency key chosen by the purchase module. It carries the title and the
// unit price at the moment of reservation, the only price a purchase trusts.
type Reservation struct {
	Key            string `json:"key"`
	BookID         int64  `json:"book_id"`
	Quantity       int    `json:"quantity"`
	Title          string `json:"title"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	Released       bool   `json:"released"`
	// Confirmed is set once the purchase that made the reservation is
	// recorded; a reservation neither confirmed nor released is pending.
	Confirmed bool      `json:"confirmed"`
	CreatedAt time.Time `json:"created_at"`
}

// Service is the catalog API used by the web adapter and the purchase module.
type Service interface {
	ListBooks(ctx context.Context, q Query) (BookPage, error)
	GetBook(ctx context.Context, id int64) (Book, error)
	CreateBook(ctx context.Context, caller bookstore.Caller, in BookInput) (Book, error)
	UpdateBook(ctx context.Context, caller bookstore.Caller, id int64, p BookPatch) (Book, error)
	DeleteBook(ctx context.Context, caller bookstore.Caller, id int64) error
	// SetCover stores image bytes as the book's cover: JPEG, PNG or WebP by
	// content (EUNSUPPORTED otherwise), at most MaxCoverBytes (ETOOLARGE).
	SetCover(ctx context.Context, caller bookstore.Caller, id int64, image []byte) (Book, error)

	// ReserveStock atomically takes quantity units off a book for the purchase
	// identified by key. Calling it again with the same key returns the same
	// reservation and takes nothing more. ECONFLICT when stock is short,
	// ENOTFOUND for an unknown book, EINVALID for quantity < 1.
	ReserveStock(ctx context.Context, key string, bookID int64, quantity int) (Reservation, error)
	// ReleaseStock gives a reservation's units back, once; releasing an
	// unknown or already released key does nothing.
	ReleaseStock(ctx context.Context, key string) error
	// AbandonStock gives back a reservation no purchase has confirmed: it
	// releases a pending reservation like ReleaseStock, does nothing for an
	// unknown or released key, and keeps a confirmed one (ECONFLICT). A
	// purchase that failed, or the reconciler, uses it, so it can never
	// take stock from a purchase another request recorded meanwhile.
	AbandonStock(ctx context.Context, key string) error
	// ConfirmStock marks a reservation as belonging to a recorded purchase,
	// so the reconciler leaves it alone; confirming twice does nothing.
	// ECONFLICT when it was released meanwhile, ENOTFOUND for an unknown key.
	ConfirmStock(ctx context.Context, key string) error
	// PendingReservations lists up to limit reservations made before the
	// given time that are neither confirmed nor released, oldest first.
	PendingReservations(ctx context.Context, before time.Time, limit int) ([]Reservation, error)
}

// Store persists books and reservations; ENOTFOUND for missing rows.
type Store interface {
	ListBooks(ctx context.Context, q Query) (items []Book, total int64, err error)
	GetBook(ctx context.Context, id int64) (Book, error)
	CreateBook(ctx context.Context, b *Book) error
	// UpdateBook writes b's fields but changes stock only by stockDelta
	// (stock = stock + delta, never below 0: ECONFLICT), so an edit never
	// undoes units sold meanwhile; b.Stock is set to the resulting stock.
	UpdateBook(ctx context.Context, b *Book, stockDelta int) error
	DeleteBook(ctx context.Context, id int64) error
	// ReserveStock and ReleaseStock have the Service's contract and must be
	// atomic in the database: a conditional decrement plus the reservation
	// row in one transaction, so concurrent buyers can never oversell.
	ReserveStock(ctx context.Context, key string, bookID int64, quantity int) (Reservation, error)
	ReleaseStock(ctx context.Context, key string) error
	AbandonStock(ctx context.Context, key string) error
	ConfirmStock(ctx context.Context, key string) error
	PendingReservations(ctx context.Context, before time.Time, limit int) ([]Reservation, error)
}

// CoverStorage keeps cover images under names the server makes up.
type CoverStorage interface {
	// SaveCover writes the image and returns the URL path it is served at.
	SaveCover(ctx context.Context, image []byte, ext string) (url string, err error)
	// DeleteCover removes a cover saved earlier; a missing file is not an error.
	DeleteCover(ctx context.Context, url string) error
}
