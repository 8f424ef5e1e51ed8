package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// fakeStore is an in-memory Store honouring the real contract: ENOTFOUND for
// missing books, ReserveStock idempotent per key and never overselling,
// ReleaseStock giving units back once.
type fakeStore struct {
	mu           sync.Mutex
	nextID       int64
	books        map[int64]Book
	reservations map[string]Reservation
	queries      []Query // every ListBooks query, as received
	reserveCalls int
	updateErr    error // when set, UpdateBook fails with it
}

func newFakeStore() *fakeStore {
	return &fakeStore{books: map[int64]Book{}, reservations: map[string]Reservation{}}
}

func notFound(id int64) error { return bookstore.Errorf(bookstore.ENOTFOUND, "book %d not found", id) }

func (s *fakeStore) ListBooks(_ context.Context, q Query) ([]Book, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q)
	var match []Book
	needle := strings.ToLower(q.Q)
	for _, b := range s.books {
		if q.SellerID != 0 && b.SellerID != q.SellerID {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(b.Title), needle) && !strings.Contains(strings.ToLower(b.Author), needle) {
			continue
		}
		match = append(match, b)
	}
	sort.Slice(match, func(i, j int) bool { return match[i].ID > match[j].ID })
	from := (q.Page - 1) * q.PerPage
	if from > len(match) {
		from = len(match)
	}
	to := min(from+q.PerPage, len(match))
	return match[from:to], int64(len(match)), nil
}

func (s *fakeStore) GetBook(_ context.Context, id int64) (Book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.books[id]
	if !ok {
		return Book{}, notFound(id)
	}
	return b, nil
}

func (s *fakeStore) CreateBook(_ context.Context, b *Book) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	b.ID = s.nextID
	s.books[b.ID] = *b
	return nil
}

func (s *fakeStore) UpdateBook(_ context.Context, b *Book, stockDelta int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.updateErr != nil {
		return s.updateErr
	}
	cur, ok := s.books[b.ID]
	if !ok {
		return notFound(b.ID)
	}
	if cur.Stock+stockDelta < 0 {
		return bookstore.Errorf(bookstore.ECONFLICT, "stock would go below zero")
	}
	b.Stock = cur.Stock + stockDelta
	s.books[b.ID] = *b
	return nil
}

func (s *fakeStore) DeleteBook(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.books[id]; !ok {
		return notFound(id)
	}
	delete(s.books, id)
	return nil
}

func (s *fakeStore) ReserveStock(_ context.Context, key string, bookID int64, quantity int) (Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserveCalls++
	if r, ok := s.reservations[key]; ok {
		return r, nil
	}
	b, ok := s.books[bookID]
	if !ok {
		return Reservation{}, notFound(bookID)
	}
	if b.Stock < quantity {
		return Reservation{}, bookstore.Errorf(bookstore.ECONFLICT, "only %d left of %q", b.Stock, b.Title)
	}
	b.Stock -= quantity
	s.books[bookID] = b
	r := Reservation{Key: key, BookID: bookID, Quantity: quantity, Title: b.Title, UnitPriceCents: b.PriceCents, CreatedAt: time.Now().UTC()}
	s.reservations[key] = r
	return r, nil
}

func (s *fakeStore) ReleaseStock(_ context.Context, key string) error {
	return s.release(key, false)
}

func (s *fakeStore) AbandonStock(_ context.Context, key string) error {
	return s.release(key, true)
}

func (s *fakeStore) release(key string, onlyPending bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[key]
	if !ok || r.Released {
		return nil
	}
	if onlyPending && r.Confirmed {
		return bookstore.Errorf(bookstore.ECONFLICT, "reservation %s belongs to a recorded purchase", key)
	}
	if b, ok := s.books[r.BookID]; ok {
		b.Stock += r.Quantity
		s.books[r.BookID] = b
	}
	r.Released = true
	s.reservations[key] = r
	return nil
}

func (s *fakeStore) ConfirmStock(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[key]
	switch {
	case !ok:
		return bookstore.Errorf(bookstore.ENOTFOUND, "reservation %s not found", key)
	case r.Released:
		return bookstore.Errorf(bookstore.ECONFLICT, "reservation %s was released", key)
	}
	r.Confirmed = true
	s.reservations[key] = r
	return nil
}

func (s *fakeStore) PendingReservations(_ context.Context, before time.Time, limit int) ([]Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Reservation
	for _, r := range s.reservations {
		if !r.Confirmed && !r.Released && r.CreatedAt.Before(before) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeStore) book(id int64) (Book, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.books[id]
	return b, ok
}

// fakeCovers is an in-memory CoverStorage.
type fakeCovers struct {
	mu      sync.Mutex
	n       int
	files   map[string][]byte
	deleted []string
	saveErr error
}

func newFakeCovers() *fakeCovers { return &fakeCovers{files: map[string][]byte{}} }

func (f *fakeCovers) SaveCover(_ context.Context, image []byte, ext string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saveErr != nil {
		return "", f.saveErr
	}
	if ext != ".jpg" && ext != ".png" && ext != ".webp" {
		return "", errors.New("fake covers: unexpected extension " + ext)
	}
	f.n++
	url := fmt.Sprintf("/covers/%04d%s", f.n, ext)
	f.files[url] = append([]byte(nil), image...)
	return url, nil
}

func (f *fakeCovers) DeleteCover(_ context.Context, url string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.files, url)
	f.deleted = append(f.deleted, url)
	return nil
}

func (f *fakeCovers) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.files)
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("COT", -5*3600))

// newTestCatalog returns a catalog over fakes with a fixed, non-UTC clock.
func newTestCatalog() (*Catalog, *fakeStore, *fakeCovers) {
	st, cv := newFakeStore(), newFakeCovers()
	c := New(st, cv)
	c.now = func() time.Time { return testNow }
	return c, st, cv
}
