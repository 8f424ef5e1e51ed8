package remote

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/rpc"
)

// CatalogClient is the catalog service as a catalog.Service, and so also the
// purchase module's Inventory.
type CatalogClient struct{ c *rpc.Client }

var _ catalog.Service = (*CatalogClient)(nil)

// NewCatalogClient returns a client of the catalog service.
func NewCatalogClient(c *rpc.Client) *CatalogClient { return &CatalogClient{c: c} }

// wireBook carries the timestamps the public JSON leaves out.
type wireBook struct {
	catalog.Book
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toWire(b catalog.Book) wireBook {
	return wireBook{Book: b, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

func (w wireBook) domain() catalog.Book {
	b := w.Book
	b.CreatedAt, b.UpdatedAt = w.CreatedAt, w.UpdatedAt
	return b
}

type wirePage struct {
	Items   []wireBook `json:"items"`
	Total   int64      `json:"total"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
}

type bookID struct {
	ID int64 `json:"id"`
}

type bookUpdate struct {
	ID    int64             `json:"id"`
	Patch catalog.BookPatch `json:"patch"`
}

type coverUpload struct {
	ID    int64  `json:"id"`
	Image []byte `json:"image"`
}

type reserve struct {
	Key      string `json:"key"`
	BookID   int64  `json:"book_id"`
	Quantity int    `json:"quantity"`
}

type reservationKey struct {
	Key string `json:"key"`
}

type pendingQuery struct {
	Before time.Time `json:"before"`
	Limit  int       `json:"limit"`
}

func (c *CatalogClient) ListBooks(ctx context.Context, q catalog.Query) (catalog.BookPage, error) {
	var w wirePage
	if err := c.c.Call(ctx, "catalog.list_books", nobody, q, &w, rpc.Retry); err != nil {
		return catalog.BookPage{}, err
	}
	page := catalog.BookPage{Items: make([]catalog.Book, len(w.Items)), Total: w.Total, Page: w.Page, PerPage: w.PerPage}
	for i, b := range w.Items {
		page.Items[i] = b.domain()
	}
	return page, nil
}

func (c *CatalogClient) GetBook(ctx context.Context, id int64) (catalog.Book, error) {
	var w wireBook
	err := c.c.Call(ctx, "catalog.get_book", nobody, bookID{id}, &w, rpc.Retry)
	return w.domain(), err
}

func (c *CatalogClient) CreateBook(ctx context.Context, caller bookstore.Caller, in catalog.BookInput) (catalog.Book, error) {
	var w wireBook
	err := c.c.Call(ctx, "catalog.create_book", caller, in, &w, rpc.Once)
	return w.domain(), err
}

func (c *CatalogClient) UpdateBook(ctx context.Context, caller bookstore.Caller, id int64, p catalog.BookPatch) (catalog.Book, error) {
	var w wireBook
	err := c.c.Call(ctx, "catalog.update_book", caller, bookUpdate{ID: id, Patch: p}, &w, rpc.Once)
	return w.domain(), err
}

func (c *CatalogClient) DeleteBook(ctx context.Context, caller bookstore.Caller, id int64) error {
	return c.c.Call(ctx, "catalog.delete_book", caller, bookID{id}, nil, rpc.Once)
}

func (c *CatalogClient) SetCover(ctx context.Context, caller bookstore.Caller, id int64, image []byte) (catalog.Book, error) {
	var w wireBook
	err := c.c.Call(ctx, "catalog.set_cover", caller, coverUpload{ID: id, Image: image}, &w, rpc.Once)
	return w.domain(), err
}

// ReserveStock, ReleaseStock, AbandonStock and ConfirmStock are idempotent per key, so they
// are retried: a reservation whose answer was lost is found again, never made
// twice.
func (c *CatalogClient) ReserveStock(ctx context.Context, key string, id int64, quantity int) (catalog.Reservation, error) {
	var r catalog.Reservation
	err := c.c.Call(ctx, "catalog.reserve_stock", nobody, reserve{Key: key, BookID: id, Quantity: quantity}, &r, rpc.Retry)
	return r, err
}

func (c *CatalogClient) ReleaseStock(ctx context.Context, key string) error {
	return c.c.Call(ctx, "catalog.release_stock", nobody, reservationKey{key}, nil, rpc.Retry)
}

func (c *CatalogClient) AbandonStock(ctx context.Context, key string) error {
	return c.c.Call(ctx, "catalog.abandon_stock", nobody, reservationKey{key}, nil, rpc.Retry)
}

func (c *CatalogClient) ConfirmStock(ctx context.Context, key string) error {
	return c.c.Call(ctx, "catalog.confirm_stock", nobody, reservationKey{key}, nil, rpc.Retry)
}

func (c *CatalogClient) PendingReservations(ctx context.Context, before time.Time, limit int) ([]catalog.Reservation, error) {
	var rs []catalog.Reservation
	err := c.c.Call(ctx, "catalog.pending_reservations", nobody, pendingQuery{Before: before, Limit: limit}, &rs, rpc.Retry)
	return rs, err
}

// ServeCatalog registers the catalog's methods on s: the books for every
// page, the stock for the purchase service alone.
func ServeCatalog(s *rpc.Server, svc catalog.Service) {
	pages, stock := only(AuthService, PurchaseService), only(PurchaseService)
	rpc.Handle(s, "catalog.list_books", pages, func(ctx context.Context, _ bookstore.Caller, q catalog.Query) (wirePage, error) {
		p, err := svc.ListBooks(ctx, q)
		w := wirePage{Items: make([]wireBook, len(p.Items)), Total: p.Total, Page: p.Page, PerPage: p.PerPage}
		for i, b := range p.Items {
			w.Items[i] = toWire(b)
		}
		return w, err
	})
	rpc.Handle(s, "catalog.get_book", pages, func(ctx context.Context, _ bookstore.Caller, in bookID) (wireBook, error) {
		b, err := svc.GetBook(ctx, in.ID)
		return toWire(b), err
	})
	rpc.Handle(s, "catalog.create_book", pages, func(ctx context.Context, caller bookstore.Caller, in catalog.BookInput) (wireBook, error) {
		b, err := svc.CreateBook(ctx, caller, in)
		return toWire(b), err
	})
	rpc.Handle(s, "catalog.update_book", pages, func(ctx context.Context, caller bookstore.Caller, in bookUpdate) (wireBook, error) {
		b, err := svc.UpdateBook(ctx, caller, in.ID, in.Patch)
		return toWire(b), err
	})
	rpc.Handle(s, "catalog.delete_book", pages, func(ctx context.Context, caller bookstore.Caller, in bookID) (rpc.Empty, error) {
		return rpc.Empty{}, svc.DeleteBook(ctx, caller, in.ID)
	})
	rpc.Handle(s, "catalog.set_cover", pages, func(ctx context.Context, caller bookstore.Caller, in coverUpload) (wireBook, error) {
		b, err := svc.SetCover(ctx, caller, in.ID, in.Image)
		return toWire(b), err
	})
	rpc.Handle(s, "catalog.reserve_stock", stock, func(ctx context.Context, _ bookstore.Caller, in reserve) (catalog.Reservation, error) {
		return svc.ReserveStock(ctx, in.Key, in.BookID, in.Quantity)
	})
	rpc.Handle(s, "catalog.release_stock", stock, func(ctx context.Context, _ bookstore.Caller, in reservationKey) (rpc.Empty, error) {
		return rpc.Empty{}, svc.ReleaseStock(ctx, in.Key)
	})
	rpc.Handle(s, "catalog.abandon_stock", stock, func(ctx context.Context, _ bookstore.Caller, in reservationKey) (rpc.Empty, error) {
		return rpc.Empty{}, svc.AbandonStock(ctx, in.Key)
	})
	rpc.Handle(s, "catalog.confirm_stock", stock, func(ctx context.Context, _ bookstore.Caller, in reservationKey) (rpc.Empty, error) {
		return rpc.Empty{}, svc.ConfirmStock(ctx, in.Key)
	})
	rpc.Handle(s, "catalog.pending_reservations", stock, func(ctx context.Context, _ bookstore.Caller, in pendingQuery) ([]catalog.Reservation, error) {
		return svc.PendingReservations(ctx, in.Before, in.Limit)
	})
}
