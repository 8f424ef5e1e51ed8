package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// CatalogStore implements catalog.Store on the books and stock_reservations
// tables.
type CatalogStore struct{ db *DB }

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore returns the catalog module's storage.
func NewCatalogStore(db *DB) catalog.Store { return &CatalogStore{db: db} }

func bookNotFound(id int64) error {
	return bookstore.Errorf(bookstore.ENOTFOUND, "book %d not found", id)
}

// likeEscaper makes a user's search text match literally inside LIKE '%…%'
// ('!' is the ESCAPE character: backslash means different things to MySQL
// and SQLite string literals).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// bookColumns are the columns of bookRow in scan order.
const bookColumns = "id, title, author, description, price_cents, stock, seller_id, cover_url, created_at, updated_at"

// ListBooks returns one page of books matching q, newest first, and how many
// match in all. Q matches a substring of title or author, ignoring case.
//
// This is the busiest query of the store (every catalog page), so it skips
// GORM's reflection and scans rows by hand.
func (s *CatalogStore) ListBooks(ctx context.Context, q catalog.Query) ([]catalog.Book, int64, error) {
	page, perPage := max(q.Page, 1), q.PerPage
	if perPage < 1 {
		perPage = catalog.DefaultPerPage
	}
	q.Page, q.PerPage = page, perPage
	cache := s.db.pages
	if cache == nil {
		return s.listBooks(ctx, q)
	}
	if items, total, ok := cache.get(q); ok {
		return items, total, nil
	}
	gen := cache.generation()
	items, total, err := s.listBooks(ctx, q)
	if err == nil {
		cache.put(q, gen, items, total)
	}
	return items, total, err
}

// changed is deferred by every write to books: this process's cached pages
// are stale.
func (s *CatalogStore) changed() {
	if s.db.pages != nil {
		s.db.pages.invalidate()
	}
}

func (s *CatalogStore) listBooks(ctx context.Context, q catalog.Query) ([]catalog.Book, int64, error) {
	page, perPage := q.Page, q.PerPage
	var conds []string
	var args []any
	if q.SellerID != 0 {
		conds = append(conds, "seller_id = ?")
		args = append(args, q.SellerID)
	}
	if text := strings.TrimSpace(q.Q); text != "" {
		pattern := "%" + likeEscaper.Replace(strings.ToLower(text)) + "%"
		conds = append(conds, "(LOWER(title) LIKE ? ESCAPE '!' OR LOWER(author) LIKE ? ESCAPE '!')")
		args = append(args, pattern, pattern)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	if int64(page-1) >= math.MaxInt32/int64(perPage) {
		return s.countOnly(ctx, where, args)
	}
	offset := (page - 1) * perPage
	// One round trip: the page and, in an uncorrelated subquery the
	// database evaluates once, how many match in all. These reads bypass
	// GORM, so its classifying hook does not see them: classify here.
	rows, err := s.db.sql.QueryContext(ctx, "SELECT "+bookColumns+", (SELECT COUNT(*) FROM books"+where+") FROM books"+where+
		" ORDER BY id DESC LIMIT ? OFFSET ?", append(append(append(make([]any, 0, 2*len(args)+2), args...), args...), perPage, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("select books: %w", classify(err))
	}
	defer rows.Close()
	books := make([]catalog.Book, 0, perPage)
	var total int64
	for rows.Next() {
		var r bookRow
		if err := rows.Scan(&r.ID, &r.Title, &r.Author, &r.Description, &r.PriceCents, &r.Stock, &r.SellerID,
			&r.CoverURL, &r.CreatedAt, &r.UpdatedAt, &total); err != nil {
			return nil, 0, fmt.Errorf("scan book: %w", classify(err))
		}
		books = append(books, r.domain())
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("select books: %w", classify(err))
	}
	if len(books) == 0 && page > 1 {
		// Past the last page: no row carried the total.
		return s.countOnly(ctx, where, args)
	}
	return books, total, nil
}

// countOnly answers a page past the end of the results: no books, and how
// many match in all.
func (s *CatalogStore) countOnly(ctx context.Context, where string, args []any) ([]catalog.Book, int64, error) {
	var total int64
	if err := s.db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM books"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count books: %w", classify(err))
	}
	return []catalog.Book{}, total, nil
}

// GetBook returns one book.
// Every book page reads it, so like listBooks it skips GORM and scans by hand.
func (s *CatalogStore) GetBook(ctx context.Context, id int64) (catalog.Book, error) {
	var r bookRow
	err := s.db.sql.QueryRowContext(ctx, "SELECT "+bookColumns+" FROM books WHERE id = ?", id).
		Scan(&r.ID, &r.Title, &r.Author, &r.Description, &r.PriceCents, &r.Stock, &r.SellerID, &r.CoverURL, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.Book{}, bookNotFound(id)
	}
	if err != nil {
		return catalog.Book{}, fmt.Errorf("select book %d: %w", id, classify(err))
	}
	return r.domain(), nil
}

// CreateBook inserts b and sets its ID.
func (s *CatalogStore) CreateBook(ctx context.Context, b *catalog.Book) error {
	defer s.changed()
	row := bookToRow(b)
	row.ID = 0
	if err := s.db.write(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return fmt.Errorf("insert book: %w", err)
	}
	b.ID, b.CreatedAt, b.UpdatedAt = row.ID, row.CreatedAt, row.UpdatedAt
	return nil
}

// UpdateBook writes every field of b but its seller and creation time.
func (s *CatalogStore) UpdateBook(ctx context.Context, b *catalog.Book, stockDelta int) error {
	defer s.changed()
	row := bookToRow(b)
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = dbTime(time.Now())
	}
	var n int64
	var stock int
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		// Stock moves by the edit's delta, in the same statement that checks it,
		// so units reserved since the seller's read are never given back.
		res := tx.Model(&bookRow{}).Where("id = ? AND stock + ? >= 0", b.ID, stockDelta).Updates(map[string]any{
			"title": row.Title, "author": row.Author, "description": row.Description, "price_cents": row.PriceCents,
			"stock": gorm.Expr("stock + ?", stockDelta), "cover_url": row.CoverURL, "updated_at": row.UpdatedAt,
		})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Model(&bookRow{}).Where("id = ?", b.ID).Pluck("stock", &stock).Error
	})
	if err != nil {
		return fmt.Errorf("update book %d: %w", b.ID, err)
	}
	if n == 0 {
		if _, gerr := s.GetBook(ctx, b.ID); gerr != nil {
			return bookNotFound(b.ID)
		}
		return bookstore.Errorf(bookstore.ECONFLICT, "stock of book %d changed meanwhile and would go below zero; reload and try again", b.ID)
	}
	b.UpdatedAt, b.Stock = row.UpdatedAt, stock
	return nil
}

// DeleteBook removes a book. Its reservations and the purchases made from
// them stay: they carry their own title and price.
func (s *CatalogStore) DeleteBook(ctx context.Context, id int64) error {
	defer s.changed()
	var n int64
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&bookRow{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("delete book %d: %w", id, err)
	}
	if n == 0 {
		return bookNotFound(id)
	}
	return nil
}

// ReserveStock takes quantity units of a book for the reservation key, in
// one transaction: the decrement is conditional on enough stock, so
// concurrent buyers can never take the stock below zero, and a key already
// reserved returns its reservation without taking anything more.
func (s *CatalogStore) ReserveStock(ctx context.Context, key string, bookID int64, quantity int) (catalog.Reservation, error) {
	if quantity < 1 {
		return catalog.Reservation{}, bookstore.Errorf(bookstore.EINVALID, "quantity must be at least 1")
	}
	defer s.changed()
	var out catalog.Reservation
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		if r, ok, err := reservationByKey(tx, key); err != nil || ok {
			out = r
			return err
		}
		res := tx.Exec("UPDATE books SET stock = stock - ? WHERE id = ? AND stock >= ?", quantity, bookID, quantity)
		if res.Error != nil {
			return res.Error
		}
		var books []bookRow
		if err := tx.Select("id", "title", "price_cents", "stock").Where("id = ?", bookID).Limit(1).Find(&books).Error; err != nil {
			return err
		}
		if len(books) == 0 {
			return bookNotFound(bookID)
		}
		b := books[0]
		if res.RowsAffected == 0 {
			return bookstore.Errorf(bookstore.ECONFLICT, "not enough stock of %q (%d left)", b.Title, b.Stock)
		}
		row := reservationRow{Key: key, BookID: bookID, Quantity: quantity, Title: b.Title,
			UnitPriceCents: b.PriceCents, CreatedAt: dbTime(time.Now())}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out = row.domain()
		return nil
	})
	if isUniqueViolation(err) {
		// A concurrent call with the same key committed first; our decrement
		// was rolled back with the transaction. Answer with theirs.
		r, ok, lerr := reservationByKey(s.db.conn(ctx), key)
		if lerr == nil && ok {
			return r, nil
		}
	}
	if err != nil {
		if bookstore.ErrorCode(err) != bookstore.EINTERNAL {
			return catalog.Reservation{}, err
		}
		return catalog.Reservation{}, fmt.Errorf("reserve stock of book %d: %w", bookID, err)
	}
	return out, nil
}

func reservationByKey(tx *gorm.DB, key string) (catalog.Reservation, bool, error) {
	var rows []reservationRow
	if err := tx.Where("reservation_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return catalog.Reservation{}, false, err
	}
	if len(rows) == 0 {
		return catalog.Reservation{}, false, nil
	}
	return rows[0].domain(), true, nil
}

// ReleaseStock marks the reservation released and gives its units back, in
// one transaction and only the first time. Unknown keys and books deleted
// since are fine: there is nothing to give back to.
func (s *CatalogStore) ReleaseStock(ctx context.Context, key string) error {
	if err := s.release(ctx, key, false); err != nil {
		return fmt.Errorf("release reservation %s: %w", key, err)
	}
	return nil
}

// AbandonStock is ReleaseStock for a reservation that is still pending: the
// release and the "not confirmed" check are one conditional update, so a
// purchase confirming at the same moment either wins (ECONFLICT here) or
// finds its reservation released.
func (s *CatalogStore) AbandonStock(ctx context.Context, key string) error {
	err := s.release(ctx, key, true)
	if err != nil && bookstore.ErrorCode(err) == bookstore.EINTERNAL {
		return fmt.Errorf("abandon reservation %s: %w", key, err)
	}
	return err
}

// release runs the conditional update before reading the row, so the read
// sees the reservation as the update left it (on MySQL the update holds the
// row's lock; a read first would pin an older snapshot).
func (s *CatalogStore) release(ctx context.Context, key string, onlyPending bool) error {
	defer s.changed()
	return s.db.write(ctx, func(tx *gorm.DB) error {
		cond, args := "reservation_key = ? AND released = ?", []any{true, dbTime(time.Now()), key, false}
		if onlyPending {
			cond += " AND confirmed = ?"
			args = append(args, false)
		}
		res := tx.Exec("UPDATE stock_reservations SET released = ?, released_at = ? WHERE "+cond, args...)
		if res.Error != nil {
			return res.Error
		}
		r, ok, err := reservationByKey(tx, key)
		switch {
		case err != nil || !ok:
			return err
		case res.RowsAffected > 0:
			return tx.Exec("UPDATE books SET stock = stock + ? WHERE id = ?", r.Quantity, r.BookID).Error
		case onlyPending && !r.Released:
			return bookstore.Errorf(bookstore.ECONFLICT, "reservation %s belongs to a recorded purchase", key)
		}
		return nil // released already
	})
}

// ConfirmStock marks the reservation as part of a recorded purchase, in one
// conditional update: a released reservation stays released (ECONFLICT).
func (s *CatalogStore) ConfirmStock(ctx context.Context, key string) error {
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE stock_reservations SET confirmed = ? WHERE reservation_key = ? AND released = ?", true, key, false)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		r, ok, err := reservationByKey(tx, key)
		switch {
		case err != nil:
			return err
		case !ok:
			return bookstore.Errorf(bookstore.ENOTFOUND, "reservation %s not found", key)
		case r.Released:
			return bookstore.Errorf(bookstore.ECONFLICT, "reservation %s was released", key)
		}
		return nil // confirmed already (MySQL counts unchanged rows as unaffected)
	})
	if err != nil && bookstore.ErrorCode(err) == bookstore.EINTERNAL {
		return fmt.Errorf("confirm reservation %s: %w", key, err)
	}
	return err
}

// PendingReservations lists reservations neither confirmed nor released,
// made before the given time, oldest first.
func (s *CatalogStore) PendingReservations(ctx context.Context, before time.Time, limit int) ([]catalog.Reservation, error) {
	var rows []reservationRow
	err := s.db.conn(ctx).Where("released = ? AND confirmed = ? AND created_at < ?", false, false, dbTime(before)).
		Order("created_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("select pending reservations: %w", err)
	}
	out := make([]catalog.Reservation, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
