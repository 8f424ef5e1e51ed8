package store

import (
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// Rows are the tables as GORM sees them. Domain types carry no storage
// tags; these structs map to and from them, so a column rename never leaks
// into the domain.

type userRow struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	Name         string    `gorm:"column:name"`
	Email        string    `gorm:"column:email"`
	Role         string    `gorm:"column:role"`
	PasswordHash string    `gorm:"column:password_hash"`
	CreatedAt    time.Time `gorm:"column:created_at"`
}

func (userRow) TableName() string { return "users" }

func userToRow(u *auth.User) userRow {
	return userRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, PasswordHash: u.PasswordHash, CreatedAt: dbTime(u.CreatedAt)}
}

func (r userRow) domain() auth.User {
	return auth.User{ID: r.ID, Name: r.Name, Email: r.Email, Role: r.Role, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.UTC()}
}

type sessionRow struct {
	TokenHash string    `gorm:"column:token_hash;primaryKey"`
	UserID    int64     `gorm:"column:user_id"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (sessionRow) TableName() string { return "sessions" }

type bookRow struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	Title       string    `gorm:"column:title"`
	Author      string    `gorm:"column:author"`
	Description string    `gorm:"column:description"`
	PriceCents  int64     `gorm:"column:price_cents"`
	Stock       int       `gorm:"column:stock"`
	SellerID    int64     `gorm:"column:seller_id"`
	CoverURL    string    `gorm:"column:cover_url"`
	CreatedAt   time.Time `gorm:"column:created_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
}

func (bookRow) TableName() string { return "books" }

func bookToRow(b *catalog.Book) bookRow {
	return bookRow{ID: b.ID, Title: b.Title, Author: b.Author, Description: b.Description, PriceCents: b.PriceCents,
		Stock: b.Stock, SellerID: b.SellerID, CoverURL: b.CoverURL, CreatedAt: dbTime(b.CreatedAt), UpdatedAt: dbTime(b.UpdatedAt)}
}

func (r bookRow) domain() catalog.Book {
	return catalog.Book{ID: r.ID, Title: r.Title, Author: r.Author, Description: r.Description, PriceCents: r.PriceCents,
		Stock: r.Stock, SellerID: r.SellerID, CoverURL: r.CoverURL, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type reservationRow struct {
	ID             int64      `gorm:"column:id;primaryKey"`
	Key            string     `gorm:"column:reservation_key"`
	BookID         int64      `gorm:"column:book_id"`
	Quantity       int        `gorm:"column:quantity"`
	Title          string     `gorm:"column:title"`
	UnitPriceCents int64      `gorm:"column:unit_price_cents"`
	Released       bool       `gorm:"column:released"`
	Confirmed      bool       `gorm:"column:confirmed"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	ReleasedAt     *time.Time `gorm:"column:released_at"`
}

func (reservationRow) TableName() string { return "stock_reservations" }

func (r reservationRow) domain() catalog.Reservation {
	return catalog.Reservation{Key: r.Key, BookID: r.BookID, Quantity: r.Quantity, Title: r.Title,
		UnitPriceCents: r.UnitPriceCents, Released: r.Released, Confirmed: r.Confirmed, CreatedAt: r.CreatedAt.UTC()}
}

type purchaseRow struct {
	ID             int64      `gorm:"column:id;primaryKey"`
	BuyerID        int64      `gorm:"column:buyer_id"`
	BookID         int64      `gorm:"column:book_id"`
	BookTitle      string     `gorm:"column:book_title"`
	Quantity       int        `gorm:"column:quantity"`
	UnitPriceCents int64      `gorm:"column:unit_price_cents"`
	TotalCents     int64      `gorm:"column:total_cents"`
	Status         string     `gorm:"column:status"`
	ReservationKey string     `gorm:"column:reservation_key"`
	PayBy          *time.Time `gorm:"column:pay_by"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	UpdatedAt      time.Time  `gorm:"column:updated_at"`
}

func (purchaseRow) TableName() string { return "purchases" }

func purchaseToRow(p *purchase.Purchase) purchaseRow {
	r := purchaseRow{ID: p.ID, BuyerID: p.BuyerID, BookID: p.BookID, BookTitle: p.BookTitle, Quantity: p.Quantity,
		UnitPriceCents: p.UnitPriceCents, TotalCents: p.TotalCents, Status: string(p.Status),
		ReservationKey: p.ReservationKey, CreatedAt: dbTime(p.CreatedAt), UpdatedAt: dbTime(p.UpdatedAt)}
	if !p.PayBy.IsZero() {
		at := dbTime(p.PayBy)
		r.PayBy = &at
	}
	return r
}

func (r purchaseRow) domain() purchase.Purchase {
	p := purchase.Purchase{ID: r.ID, BuyerID: r.BuyerID, BookID: r.BookID, BookTitle: r.BookTitle, Quantity: r.Quantity,
		UnitPriceCents: r.UnitPriceCents, TotalCents: r.TotalCents, Status: purchase.Status(r.Status),
		ReservationKey: r.ReservationKey, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.PayBy != nil {
		p.PayBy = r.PayBy.UTC()
	}
	return p
}

type attemptRow struct {
	ID             int64     `gorm:"column:id;primaryKey"`
	PurchaseID     int64     `gorm:"column:purchase_id"`
	IdempotencyKey string    `gorm:"column:idempotency_key"`
	AmountCents    int64     `gorm:"column:amount_cents"`
	CardLast4      string    `gorm:"column:card_last4"`
	CardHolder     string    `gorm:"column:card_holder"`
	Status         string    `gorm:"column:status"`
	ProviderRef    string    `gorm:"column:provider_ref"`
	CreatedAt      time.Time `gorm:"column:created_at"`
	UpdatedAt      time.Time `gorm:"column:updated_at"`
}

func (attemptRow) TableName() string { return "payment_attempts" }

func (r attemptRow) domain() purchase.PaymentAttempt {
	return purchase.PaymentAttempt{PurchaseID: r.PurchaseID, IdempotencyKey: r.IdempotencyKey, AmountCents: r.AmountCents,
		CardLast4: r.CardLast4, CardHolder: r.CardHolder, Status: purchase.AttemptStatus(r.Status),
		ProviderRef: r.ProviderRef, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// buyerRow is one row per buyer that CreatePurchase locks, so that counting
// a buyer's open purchases and adding one are atomic on every backend.
type buyerRow struct {
	BuyerID  int64     `gorm:"column:buyer_id;primaryKey;autoIncrement:false"`
	LockedAt time.Time `gorm:"column:locked_at"`
}

func (buyerRow) TableName() string { return "purchase_buyers" }

type paymentRow struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	PurchaseID  int64     `gorm:"column:purchase_id"`
	Method      string    `gorm:"column:method"`
	CardLast4   string    `gorm:"column:card_last4"`
	CardHolder  string    `gorm:"column:card_holder"`
	AmountCents int64     `gorm:"column:amount_cents"`
	ProviderRef string    `gorm:"column:provider_ref"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

func (paymentRow) TableName() string { return "payments" }

func (r paymentRow) domain() *purchase.Payment {
	return &purchase.Payment{ID: r.ID, PurchaseID: r.PurchaseID, Method: r.Method, CardLast4: r.CardLast4,
		CardHolder: r.CardHolder, AmountCents: r.AmountCents, ProviderRef: r.ProviderRef, CreatedAt: r.CreatedAt.UTC()}
}

type deliveryRow struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	PurchaseID   int64     `gorm:"column:purchase_id"`
	ProviderID   int64     `gorm:"column:provider_id"`
	ProviderName string    `gorm:"column:provider_name"`
	Address      string    `gorm:"column:address"`
	CostCents    int64     `gorm:"column:cost_cents"`
	CreatedAt    time.Time `gorm:"column:created_at"`
}

func (deliveryRow) TableName() string { return "deliveries" }

func (r deliveryRow) domain() *purchase.Delivery {
	return &purchase.Delivery{ID: r.ID, PurchaseID: r.PurchaseID, ProviderID: r.ProviderID, ProviderName: r.ProviderName,
		Address: r.Address, CostCents: r.CostCents, CreatedAt: r.CreatedAt.UTC()}
}

type providerRow struct {
	ID           int64  `gorm:"column:id;primaryKey"`
	Name         string `gorm:"column:name"`
	CoverageArea string `gorm:"column:coverage_area"`
	CostCents    int64  `gorm:"column:cost_cents"`
}

func (providerRow) TableName() string { return "delivery_providers" }

func (r providerRow) domain() purchase.Provider {
	return purchase.Provider{ID: r.ID, Name: r.Name, CoverageArea: r.CoverageArea, CostCents: r.CostCents}
}

// dbTime is a time as both databases store it: UTC, to the microsecond
// (MySQL DATETIME(6)), so what a caller holds equals what it reads back.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
