package pages

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// The fakes below stand in for the domain modules: just enough behaviour,
// in memory, for the pages to be exercised without a database.

var testTime = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

type fakeAuth struct {
	mu       sync.Mutex
	users    []auth.User
	password map[int64]string
	tokens   map[string]int64
}

var _ auth.Service = (*fakeAuth)(nil)

func newFakeAuth() *fakeAuth {
	return &fakeAuth{password: map[int64]string{}, tokens: map[string]int64{}}
}

// add creates a user who is signed in with token "tok-ID".
func (a *fakeAuth) add(name, email, role string) auth.User {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := auth.User{ID: int64(len(a.users) + 1), Name: name, Email: email, Role: role, CreatedAt: testTime}
	a.users = append(a.users, u)
	a.password[u.ID] = "password123"
	a.tokens[fmt.Sprintf("tok-%d", u.ID)] = u.ID
	return u
}

func (a *fakeAuth) Register(_ context.Context, in auth.RegisterInput) (auth.User, error) {
	if strings.TrimSpace(in.Name) == "" {
		return auth.User{}, bookstore.Errorf(bookstore.EINVALID, "name is required")
	}
	if len(in.Password) < auth.MinPasswordLength {
		return auth.User{}, bookstore.Errorf(bookstore.EINVALID, "password must be at least 8 characters")
	}
	a.mu.Lock()
	for _, u := range a.users {
		if u.Email == in.Email {
			a.mu.Unlock()
			return auth.User{}, bookstore.Errorf(bookstore.ECONFLICT, "e-mail address is already registered")
		}
	}
	a.mu.Unlock()
	u := a.add(in.Name, in.Email, bookstore.RoleUser)
	a.mu.Lock()
	a.password[u.ID] = in.Password
	a.mu.Unlock()
	return u, nil
}

func (a *fakeAuth) Login(_ context.Context, in auth.LoginInput) (auth.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.users {
		if u.Email == in.Email && a.password[u.ID] == in.Password {
			tok := fmt.Sprintf("tok-%d-%d", u.ID, len(a.tokens))
			a.tokens[tok] = u.ID
			return auth.Session{Token: tok, User: u, ExpiresAt: time.Now().Add(time.Hour)}, nil
		}
	}
	return auth.Session{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "wrong e-mail or password")
}

func (a *fakeAuth) Logout(_ context.Context, token string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.tokens, token)
	return nil
}

func (a *fakeAuth) Authenticate(_ context.Context, token string) (auth.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id, ok := a.tokens[token]; ok {
		return a.users[id-1], nil
	}
	return auth.User{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "sign in first")
}

func (a *fakeAuth) ListUsers(_ context.Context, caller bookstore.Caller) ([]auth.User, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return nil, err
	}
	if !caller.IsAdmin() {
		return nil, bookstore.Errorf(bookstore.EFORBIDDEN, "only admins can list users")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.users), nil
}

func (a *fakeAuth) EnsureAdmin(context.Context, string, string, string) (auth.User, error) {
	return auth.User{}, bookstore.Errorf(bookstore.EINTERNAL, "not in the fake")
}

type fakeCatalog struct {
	mu    sync.Mutex
	books map[int64]catalog.Book
	next  int64
}

var _ catalog.Service = (*fakeCatalog)(nil)

func newFakeCatalog() *fakeCatalog { return &fakeCatalog{books: map[int64]catalog.Book{}} }

func (f *fakeCatalog) add(b catalog.Book) catalog.Book {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	b.ID = f.next
	b.CreatedAt, b.UpdatedAt = testTime, testTime
	f.books[b.ID] = b
	return b
}

func (f *fakeCatalog) ListBooks(_ context.Context, q catalog.Query) (catalog.BookPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage < 1 {
		q.PerPage = catalog.DefaultPerPage
	}
	q.PerPage = min(q.PerPage, catalog.MaxPerPage)
	var all []catalog.Book
	needle := strings.ToLower(strings.TrimSpace(q.Q))
	for _, b := range f.books {
		if q.SellerID != 0 && b.SellerID != q.SellerID {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(b.Title), needle) && !strings.Contains(strings.ToLower(b.Author), needle) {
			continue
		}
		all = append(all, b)
	}
	slices.SortFunc(all, func(a, b catalog.Book) int { return int(b.ID - a.ID) })
	from := min((q.Page-1)*q.PerPage, len(all))
	to := min(from+q.PerPage, len(all))
	return catalog.BookPage{Items: append([]catalog.Book{}, all[from:to]...), Total: int64(len(all)), Page: q.Page, PerPage: q.PerPage}, nil
}

func (f *fakeCatalog) GetBook(_ context.Context, id int64) (catalog.Book, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.books[id]
	if !ok {
		return catalog.Book{}, bookstore.Errorf(bookstore.ENOTFOUND, "book %d not found", id)
	}
	return b, nil
}

func (f *fakeCatalog) CreateBook(_ context.Context, caller bookstore.Caller, in catalog.BookInput) (catalog.Book, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return catalog.Book{}, err
	}
	if err := catalog.ValidateBook(in); err != nil {
		return catalog.Book{}, err
	}
	return f.add(catalog.Book{Title: in.Title, Author: in.Author, Description: in.Description, PriceCents: in.PriceCents,
		Stock: in.Stock, SellerID: caller.UserID}), nil
}

func (f *fakeCatalog) owned(caller bookstore.Caller, id int64) (catalog.Book, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return catalog.Book{}, err
	}
	b, err := f.GetBook(context.Background(), id)
	if err != nil {
		return b, err
	}
	if !caller.Owns(b.SellerID) {
		return b, bookstore.Errorf(bookstore.EFORBIDDEN, "only the seller or an admin can change this book")
	}
	return b, nil
}

func (f *fakeCatalog) UpdateBook(_ context.Context, caller bookstore.Caller, id int64, p catalog.BookPatch) (catalog.Book, error) {
	b, err := f.owned(caller, id)
	if err != nil {
		return b, err
	}
	in := catalog.BookInput{Title: *p.Title, Author: *p.Author, Description: *p.Description, PriceCents: *p.PriceCents, Stock: *p.Stock}
	if err := catalog.ValidateBook(in); err != nil {
		return catalog.Book{}, err
	}
	b.Title, b.Author, b.Description, b.PriceCents, b.Stock = in.Title, in.Author, in.Description, in.PriceCents, in.Stock
	f.mu.Lock()
	f.books[id] = b
	f.mu.Unlock()
	return b, nil
}

func (f *fakeCatalog) DeleteBook(_ context.Context, caller bookstore.Caller, id int64) error {
	if _, err := f.owned(caller, id); err != nil {
		return err
	}
	f.mu.Lock()
	delete(f.books, id)
	f.mu.Unlock()
	return nil
}

func (f *fakeCatalog) SetCover(_ context.Context, caller bookstore.Caller, id int64, image []byte) (catalog.Book, error) {
	b, err := f.owned(caller, id)
	if err != nil {
		return b, err
	}
	ext, err := catalog.SniffCover(image)
	if err != nil {
		return catalog.Book{}, err
	}
	b.CoverURL = fmt.Sprintf("/covers/cover-%d%s", id, ext)
	f.mu.Lock()
	f.books[id] = b
	f.mu.Unlock()
	return b, nil
}

func (f *fakeCatalog) ReserveStock(_ context.Context, key string, bookID int64, quantity int) (catalog.Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.books[bookID]
	if !ok {
		return catalog.Reservation{}, bookstore.Errorf(bookstore.ENOTFOUND, "book %d not found", bookID)
	}
	if b.Stock < quantity {
		return catalog.Reservation{}, bookstore.Errorf(bookstore.ECONFLICT, "only %d left in stock", b.Stock)
	}
	b.Stock -= quantity
	f.books[bookID] = b
	return catalog.Reservation{Key: key, BookID: bookID, Quantity: quantity, Title: b.Title, UnitPriceCents: b.PriceCents}, nil
}

func (f *fakeCatalog) ReleaseStock(context.Context, string) error { return nil }
func (f *fakeCatalog) AbandonStock(context.Context, string) error { return nil }
func (f *fakeCatalog) ConfirmStock(context.Context, string) error { return nil }
func (f *fakeCatalog) PendingReservations(context.Context, time.Time, int) ([]catalog.Reservation, error) {
	return nil, nil
}

type fakePurchase struct {
	mu        sync.Mutex
	inventory *fakeCatalog
	purchases map[int64]purchase.Purchase
	next      int64
}

var _ purchase.Service = (*fakePurchase)(nil)

var fakeProviders = func() []purchase.Provider {
	ps := slices.Clone(purchase.DefaultProviders)
	for i := range ps {
		ps[i].ID = int64(i + 1)
	}
	return ps
}()

func (f *fakePurchase) Buy(ctx context.Context, caller bookstore.Caller, in purchase.BuyInput) (purchase.Purchase, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return purchase.Purchase{}, err
	}
	if in.Quantity < 1 {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.EINVALID, "quantity must be at least 1")
	}
	r, err := f.inventory.ReserveStock(ctx, "k", in.BookID, in.Quantity)
	if err != nil {
		return purchase.Purchase{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	p := purchase.Purchase{ID: f.next, BuyerID: caller.UserID, BookID: r.BookID, BookTitle: r.Title, Quantity: r.Quantity,
		UnitPriceCents: r.UnitPriceCents, TotalCents: r.UnitPriceCents * int64(r.Quantity), Status: purchase.StatusPendingPayment,
		CreatedAt: testTime, UpdatedAt: testTime, PayBy: testTime.Add(purchase.DefaultPaymentWindow)}
	f.purchases[p.ID] = p
	return p, nil
}

func (f *fakePurchase) ListPurchases(_ context.Context, caller bookstore.Caller) ([]purchase.Purchase, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []purchase.Purchase{}
	for _, p := range f.purchases {
		if p.BuyerID == caller.UserID {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b purchase.Purchase) int { return int(b.ID - a.ID) })
	return out, nil
}

func (f *fakePurchase) GetPurchase(_ context.Context, caller bookstore.Caller, id int64) (purchase.Purchase, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return purchase.Purchase{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.purchases[id]
	if !ok || !caller.Owns(p.BuyerID) {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d not found", id)
	}
	return p, nil
}

func (f *fakePurchase) save(p purchase.Purchase) purchase.Purchase {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.purchases[p.ID] = p
	return p
}

func (f *fakePurchase) Cancel(ctx context.Context, caller bookstore.Caller, id int64) (purchase.Purchase, error) {
	p, err := f.GetPurchase(ctx, caller, id)
	if err != nil {
		return p, err
	}
	if p.Status != purchase.StatusPendingPayment {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is already %s and cannot be cancelled", id, p.Status)
	}
	p.Status = purchase.StatusCancelled
	return f.save(p), nil
}

func (f *fakePurchase) Pay(ctx context.Context, caller bookstore.Caller, id int64, in purchase.PaymentInput) (purchase.Purchase, error) {
	p, err := f.GetPurchase(ctx, caller, id)
	if err != nil {
		return p, err
	}
	if !purchase.ValidCardNumber(in.CardNumber) {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.EINVALID, "card number is not valid")
	}
	if in.CardNumber == purchase.DeclinedTestCard {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.EPAYMENT, "the card was declined")
	}
	p.Status = purchase.StatusPaid
	p.Payment = &purchase.Payment{PurchaseID: id, Method: "card", CardLast4: in.CardNumber[len(in.CardNumber)-4:],
		CardHolder: in.CardHolder, AmountCents: p.TotalCents, CreatedAt: testTime}
	return f.save(p), nil
}

func (f *fakePurchase) ChooseDelivery(ctx context.Context, caller bookstore.Caller, id int64, in purchase.DeliveryInput) (purchase.Purchase, error) {
	p, err := f.GetPurchase(ctx, caller, id)
	if err != nil {
		return p, err
	}
	if p.Status != purchase.StatusPaid {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s; delivery is chosen once it is paid", id, p.Status)
	}
	if strings.TrimSpace(in.Address) == "" {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.EINVALID, "delivery address is required")
	}
	i := slices.IndexFunc(fakeProviders, func(pr purchase.Provider) bool { return pr.ID == in.ProviderID })
	if i < 0 {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.ENOTFOUND, "delivery provider %d not found", in.ProviderID)
	}
	pr := fakeProviders[i]
	p.Status = purchase.StatusShipped
	p.Delivery = &purchase.Delivery{PurchaseID: id, ProviderID: pr.ID, ProviderName: pr.Name, Address: in.Address, CostCents: pr.CostCents, CreatedAt: testTime}
	return f.save(p), nil
}

func (f *fakePurchase) Providers(context.Context) ([]purchase.Provider, error) {
	return slices.Clone(fakeProviders), nil
}
