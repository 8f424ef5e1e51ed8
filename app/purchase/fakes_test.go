package purchase

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// fakeInventory plays the catalog: it reserves stock atomically and
// idempotently per key, and releases a reservation once.
type fakeInventory struct {
	mu           sync.Mutex
	books        map[int64]catalog.Book
	reservations map[string]catalog.Reservation
	reserveCalls int
	releases     int // releases that gave units back
	releaseCalls int
	confirmErr   error
	now          func() time.Time
}

func newFakeInventory(books ...catalog.Book) *fakeInventory {
	inv := &fakeInventory{books: map[int64]catalog.Book{}, reservations: map[string]catalog.Reservation{}}
	for _, b := range books {
		inv.books[b.ID] = b
	}
	return inv
}

func (f *fakeInventory) ReserveStock(_ context.Context, key string, bookID int64, quantity int) (catalog.Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reserveCalls++
	if r, ok := f.reservations[key]; ok {
		return r, nil
	}
	b, ok := f.books[bookID]
	if !ok {
		return catalog.Reservation{}, bookstore.Errorf(bookstore.ENOTFOUND, "book %d not found", bookID)
	}
	if quantity < 1 {
		return catalog.Reservation{}, bookstore.Errorf(bookstore.EINVALID, "quantity must be at least 1")
	}
	if b.Stock < quantity {
		return catalog.Reservation{}, bookstore.Errorf(bookstore.ECONFLICT, "only %d left", b.Stock)
	}
	b.Stock -= quantity
	f.books[bookID] = b
	at := time.Now().UTC()
	if f.now != nil {
		at = f.now()
	}
	r := catalog.Reservation{Key: key, BookID: bookID, Quantity: quantity, Title: b.Title, UnitPriceCents: b.PriceCents, CreatedAt: at}
	f.reservations[key] = r
	return r, nil
}

func (f *fakeInventory) ReleaseStock(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releaseCalls++
	return f.release(key, false)
}

func (f *fakeInventory) AbandonStock(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.release(key, true)
}

func (f *fakeInventory) release(key string, onlyPending bool) error {
	r, ok := f.reservations[key]
	if !ok || r.Released {
		return nil
	}
	if onlyPending && r.Confirmed {
		return bookstore.Errorf(bookstore.ECONFLICT, "reservation %s belongs to a recorded purchase", key)
	}
	b := f.books[r.BookID]
	b.Stock += r.Quantity
	f.books[r.BookID] = b
	r.Released = true
	f.reservations[key] = r
	f.releases++
	return nil
}

func (f *fakeInventory) ConfirmStock(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.confirmErr != nil {
		return f.confirmErr
	}
	r, ok := f.reservations[key]
	switch {
	case !ok:
		return bookstore.Errorf(bookstore.ENOTFOUND, "reservation %s not found", key)
	case r.Released:
		return bookstore.Errorf(bookstore.ECONFLICT, "reservation %s was released", key)
	}
	r.Confirmed = true
	f.reservations[key] = r
	return nil
}

func (f *fakeInventory) PendingReservations(_ context.Context, before time.Time, _ int) ([]catalog.Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []catalog.Reservation
	for _, r := range f.reservations {
		if !r.Confirmed && !r.Released && r.CreatedAt.Before(before) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeInventory) reservation(key string) catalog.Reservation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reservations[key]
}

func (f *fakeInventory) stock(id int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.books[id].Stock
}

// fakeStore is an in-memory Store whose transitions are conditional, like
// the real one: only one of two racing requests can win a transition.
type fakeStore struct {
	mu         sync.Mutex
	nextID     int64
	purchases  map[int64]Purchase
	payments   map[int64]Payment // by purchase id
	deliveries map[int64]Delivery
	attempts   map[int64]PaymentAttempt // by purchase id
	providers  []Provider
	createErr  error
	// fail, when set, is asked before each call by its method name; an
	// error it returns is that call's answer, with nothing written.
	fail func(method string) error
}

func (s *fakeStore) failing(method string) error {
	if s.fail == nil {
		return nil
	}
	return s.fail(method)
}

func newFakeStore() *fakeStore {
	s := &fakeStore{purchases: map[int64]Purchase{}, payments: map[int64]Payment{}, deliveries: map[int64]Delivery{},
		attempts: map[int64]PaymentAttempt{}}
	for i, p := range DefaultProviders { // most expensive first, as seeded
		p.ID = int64(i + 1)
		s.providers = append(s.providers, p)
	}
	return s
}

func (s *fakeStore) CreatePurchase(_ context.Context, p *Purchase, maxOpen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.createErr != nil {
		return s.createErr
	}
	if maxOpen > 0 {
		open := 0
		for _, q := range s.purchases {
			if q.BuyerID == p.BuyerID && q.Status == StatusPendingPayment && q.PayBy.After(p.CreatedAt) {
				open++
			}
		}
		if open >= maxOpen {
			return bookstore.Errorf(bookstore.ECONFLICT, "you already have %d unpaid orders", open)
		}
	}
	s.nextID++
	p.ID = s.nextID
	s.purchases[p.ID] = *p
	return nil
}

func (s *fakeStore) load(id int64) (Purchase, bool) {
	p, ok := s.purchases[id]
	if !ok {
		return Purchase{}, false
	}
	if pay, ok := s.payments[id]; ok {
		p.Payment = &pay
	}
	if d, ok := s.deliveries[id]; ok {
		p.Delivery = &d
	}
	return p, true
}

func (s *fakeStore) GetPurchase(_ context.Context, id int64) (Purchase, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.load(id)
	if !ok {
		return Purchase{}, bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d not found", id)
	}
	return p, nil
}

func (s *fakeStore) ListPurchases(_ context.Context, buyerID int64) ([]Purchase, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Purchase
	for id, p := range s.purchases {
		if p.BuyerID == buyerID {
			full, _ := s.load(id)
			out = append(out, full)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

func (s *fakeStore) transition(id int64, from, to Status, at time.Time) error {
	p, ok := s.purchases[id]
	if !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d not found", id)
	}
	if p.Status != from {
		return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s, not %s", id, p.Status, from)
	}
	p.Status, p.UpdatedAt = to, at
	s.purchases[id] = p
	return nil
}

func (s *fakeStore) PurchaseByReservationKey(_ context.Context, key string) (Purchase, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, p := range s.purchases {
		if p.ReservationKey == key {
			p, _ := s.load(id)
			return p, nil
		}
	}
	return Purchase{}, bookstore.Errorf(bookstore.ENOTFOUND, "no purchase for reservation %s", key)
}

func (s *fakeStore) CancelledSince(_ context.Context, since time.Time) ([]Purchase, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Purchase
	for _, p := range s.purchases {
		if p.Status == StatusCancelled && !p.UpdatedAt.Before(since) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *fakeStore) Transition(_ context.Context, id int64, from, to Status, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("Transition"); err != nil {
		return err
	}
	return s.transition(id, from, to, at)
}

func (s *fakeStore) RecordPayment(_ context.Context, pay *Payment, attemptKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("RecordPayment"); err != nil {
		return err
	}
	a, hasAttempt := s.attempts[pay.PurchaseID]
	if attemptKey != "" && (!hasAttempt || a.IdempotencyKey != attemptKey || a.Status != AttemptPending) {
		return bookstore.Errorf(bookstore.ECONFLICT, "payment attempt %s is not pending", attemptKey)
	}
	if err := s.transition(pay.PurchaseID, StatusPendingPayment, StatusPaid, pay.CreatedAt); err != nil {
		return err
	}
	if attemptKey != "" {
		a.Status, a.ProviderRef, a.UpdatedAt = AttemptCompleted, pay.ProviderRef, pay.CreatedAt
		s.attempts[pay.PurchaseID] = a
	}
	s.nextID++
	pay.ID = s.nextID
	s.payments[pay.PurchaseID] = *pay
	return nil
}

func (s *fakeStore) RecordDelivery(_ context.Context, d *Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.transition(d.PurchaseID, StatusPaid, StatusShipped, d.CreatedAt); err != nil {
		return err
	}
	s.nextID++
	d.ID = s.nextID
	s.deliveries[d.PurchaseID] = *d
	return nil
}

func (s *fakeStore) ListProviders(context.Context) ([]Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Provider(nil), s.providers...), nil
}

func (s *fakeStore) GetProvider(_ context.Context, id int64) (Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.providers {
		if p.ID == id {
			return p, nil
		}
	}
	return Provider{}, bookstore.Errorf(bookstore.ENOTFOUND, "delivery provider %d not found", id)
}

func (s *fakeStore) paymentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.payments)
}

// recordingProcessor remembers every charge asked for and, when wait > 1,
// holds each call until `wait` calls are in flight (or a second passes), so
// concurrent payments really race past the "already paid?" check.
type recordingProcessor struct {
	inner *SimulatedProcessor
	wait  int

	mu      sync.Mutex
	asked   []Charge
	arrived int
	all     chan struct{}

	onCharge func() // runs inside Charge, to stage races
}

func newRecordingProcessor(wait int) *recordingProcessor {
	return &recordingProcessor{inner: NewSimulatedProcessor(), wait: wait, all: make(chan struct{})}
}

func (p *recordingProcessor) Charge(ctx context.Context, c Charge) (string, error) {
	p.mu.Lock()
	p.asked = append(p.asked, c)
	p.arrived++
	if p.arrived == p.wait {
		close(p.all)
	}
	p.mu.Unlock()
	if p.onCharge != nil {
		p.onCharge()
	}
	if p.wait > 1 {
		select {
		case <-p.all:
		case <-time.After(time.Second):
		}
	}
	return p.inner.Charge(ctx, c)
}

func (p *recordingProcessor) Refund(ctx context.Context, ref string) error {
	return p.inner.Refund(ctx, ref)
}

func (p *recordingProcessor) LookupCharge(ctx context.Context, key string) (ChargeRecord, error) {
	return p.inner.LookupCharge(ctx, key)
}

func (p *recordingProcessor) calls() []Charge {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Charge(nil), p.asked...)
}
