// Package purchase is the checkout module: buying a quantity of a book,
// paying for it and choosing a delivery provider. It owns the purchases,
// payments, deliveries and delivery_providers tables, and asks the catalog
// for stock only through the Inventory interface.
package purchase

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// Status is where a purchase is in its life.
type Status string

// A purchase moves pending_payment → paid → shipped, or pending_payment → cancelled.
const (
	StatusPendingPayment Status = "pending_payment"
	StatusPaid           Status = "paid"
	StatusShipped        Status = "shipped"
	StatusCancelled      Status = "cancelled"
)

// Purchase is one buyer's order of a quantity of one book. Title and unit
// price are copied from the catalog at reservation time, so the history
// survives the book's deletion or a later price change.
type Purchase struct {
	ID             int64  `json:"id"`
	BuyerID        int64  `json:"buyer_id"`
	BookID         int64  `json:"book_id"`
	BookTitle      string `json:"book_title"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	TotalCents     int64  `json:"total_cents"`
	Status         Status `json:"status"`
	ReservationKey string `json:"-"`
	// PayBy is the payment deadline of a purchase (UTC, to the second):
	// past it the purchase can no longer be paid and the reconciler
	// cancels it. Zero for purchases made before deadlines existed.
	PayBy     time.Time `json:"pay_by,omitzero"`
	Payment   *Payment  `json:"payment,omitempty"`
	Delivery  *Delivery `json:"delivery,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Payment is the one successful charge of a purchase.
type Payment struct {
	ID          int64     `json:"id"`
	PurchaseID  int64     `json:"purchase_id"`
	Method      string    `json:"method"`
	CardLast4   string    `json:"card_last4"`
	CardHolder  string    `json:"card_holder"`
	AmountCents int64     `json:"amount_cents"`
	ProviderRef string    `json:"provider_ref"`
	CreatedAt   time.Time `json:"created_at"`
}

// Delivery is the carrier and address chosen for a paid purchase.
type Delivery struct {
	ID           int64     `json:"id"`
	PurchaseID   int64     `json:"purchase_id"`
	ProviderID   int64     `json:"provider_id"`
	ProviderName string    `json:"provider_name"`
	Address      string    `json:"address"`
	CostCents    int64     `json:"cost_cents"`
	CreatedAt    time.Time `json:"created_at"`
}

// Provider is a delivery company.
type Provider struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	CoverageArea string `json:"coverage_area"`
	CostCents    int64  `json:"cost_cents"`
}

// DefaultProviders are the carriers the store starts with.
var DefaultProviders = []Provider{
	{Name: "DHL", CoverageArea: "international", CostCents: 5000},
	{Name: "FedEx", CoverageArea: "international", CostCents: 4500},
	{Name: "Envia", CoverageArea: "national", CostCents: 2000},
	{Name: "Servientrega", CoverageArea: "national", CostCents: 1500},
}

// BuyInput is what a buyer asks for. There is deliberately no price: the
// price always comes from the catalog.
type BuyInput struct {
	BookID   int64 `json:"book_id"`
	Quantity int   `json:"quantity"`
	// IdempotencyKey, when set, makes a retried Buy from the same buyer
	// return the purchase the first attempt made instead of buying again
	// (the API's Idempotency-Key header).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// MaxIdempotencyKey bounds BuyInput.IdempotencyKey.
const MaxIdempotencyKey = 200

// PaymentInput is a card payment.
type PaymentInput struct {
	Method     string `json:"method"`
	CardNumber string `json:"card_number"`
	CardHolder string `json:"card_holder"`
}

// DeliveryInput chooses a carrier and an address.
type DeliveryInput struct {
	ProviderID int64  `json:"provider_id"`
	Address    string `json:"address"`
}

// Service is the checkout API used by the web adapter.
type Service interface {
	Buy(ctx context.Context, caller bookstore.Caller, in BuyInput) (Purchase, error)
	// ListPurchases returns the caller's own purchases, newest first.
	ListPurchases(ctx context.Context, caller bookstore.Caller) ([]Purchase, error)
	// GetPurchase is ENOTFOUND for anyone but the buyer and admins.
	GetPurchase(ctx context.Context, caller bookstore.Caller, id int64) (Purchase, error)
	// Cancel gives the stock back; ECONFLICT once paid.
	Cancel(ctx context.Context, caller bookstore.Caller, id int64) (Purchase, error)
	// Pay charges the card once; paying a paid purchase returns it unchanged.
	Pay(ctx context.Context, caller bookstore.Caller, id int64, in PaymentInput) (Purchase, error)
	// ChooseDelivery ships a paid purchase; ECONFLICT before payment.
	ChooseDelivery(ctx context.Context, caller bookstore.Caller, id int64, in DeliveryInput) (Purchase, error)
	Providers(ctx context.Context) ([]Provider, error)
}

// Inventory is the part of the catalog the checkout needs. The monolith
// passes the catalog module itself; the purchase microservice passes an HTTP
// client of the catalog service.
type Inventory interface {
	ReserveStock(ctx context.Context, key string, bookID int64, quantity int) (catalog.Reservation, error)
	ReleaseStock(ctx context.Context, key string) error
	AbandonStock(ctx context.Context, key string) error
	ConfirmStock(ctx context.Context, key string) error
	PendingReservations(ctx context.Context, before time.Time, limit int) ([]catalog.Reservation, error)
}

// AttemptStatus is where a payment attempt is: pending from before the
// processor is asked until its outcome is recorded.
type AttemptStatus string

// A payment attempt moves pending → completed (the payment is recorded),
// pending → failed (no money was taken: declined, or no charge exists) or
// pending → refunded (money was taken for a purchase that was cancelled).
// A failed attempt may be started again, under a new idempotency key.
const (
	AttemptPending   AttemptStatus = "pending"
	AttemptCompleted AttemptStatus = "completed"
	AttemptFailed    AttemptStatus = "failed"
	AttemptRefunded  AttemptStatus = "refunded"
)

// PaymentAttempt is the record of a charge asked of the processor, written
// before it is asked, so that money is never taken without a record: a
// crash after the charge leaves a pending attempt whose idempotency key
// the reconciler looks up at the processor. One per purchase.
type PaymentAttempt struct {
	PurchaseID     int64
	IdempotencyKey string
	AmountCents    int64
	CardLast4      string
	CardHolder     string
	Status         AttemptStatus
	ProviderRef    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Charge asks a payment processor for money.
type Charge struct {
	IdempotencyKey string // the same key never charges twice
	AmountCents    int64
	CardNumber     string
	CardHolder     string
}

// ChargeRecord is what a processor knows about one charge.
type ChargeRecord struct {
	Ref         string
	AmountCents int64
	Refunded    bool
}

// Processor charges cards. EPAYMENT when the card is declined.
type Processor interface {
	Charge(ctx context.Context, c Charge) (ref string, err error)
	// Refund gives a charge back in full; refunding twice refunds once.
	Refund(ctx context.Context, ref string) error
	// LookupCharge finds the charge made under an idempotency key;
	// ENOTFOUND when none was made (or it was declined).
	LookupCharge(ctx context.Context, idempotencyKey string) (ChargeRecord, error)
}

// Store persists purchases; ENOTFOUND for missing rows.
type Store interface {
	// CreatePurchase records p. With maxOpen > 0 it is ECONFLICT when the
	// buyer already holds maxOpen purchases pending payment whose deadline
	// has not passed, checked and inserted atomically per buyer.
	CreatePurchase(ctx context.Context, p *Purchase, maxOpen int) error
	// GetPurchase returns the purchase with its payment and delivery, if any.
	GetPurchase(ctx context.Context, id int64) (Purchase, error)
	// PurchaseByReservationKey finds the purchase a reservation was made for.
	PurchaseByReservationKey(ctx context.Context, key string) (Purchase, error)
	// CancelledSince lists purchases cancelled at or after the given time.
	CancelledSince(ctx context.Context, since time.Time) ([]Purchase, error)
	ListPurchases(ctx context.Context, buyerID int64) ([]Purchase, error)
	// Transition moves a purchase from status `from` to `to`, and only from
	// there: ECONFLICT when it is in another status, so two racing requests
	// cannot both win.
	Transition(ctx context.Context, id int64, from, to Status, at time.Time) error
	// RecordPayment stores the payment and moves pending_payment → paid in
	// one transaction; ECONFLICT when the purchase is no longer pending.
	// With attemptKey set, the same transaction completes that payment
	// attempt, and is ECONFLICT unless the attempt is still pending.
	RecordPayment(ctx context.Context, pay *Payment, attemptKey string) error
	// BeginPayment records a payment attempt before the processor is asked.
	// It inserts a (pending) when the purchase has none; when it has a
	// pending one (a concurrent or interrupted Pay) that one is returned
	// unchanged, so both ask under the same key; a failed one is replaced
	// by a. ECONFLICT when the purchase is not pending_payment or its
	// attempt is completed or refunded. a is set to the attempt to use.
	BeginPayment(ctx context.Context, a *PaymentAttempt) error
	// PaymentAttempt returns a purchase's attempt; ENOTFOUND when none.
	PaymentAttempt(ctx context.Context, purchaseID int64) (PaymentAttempt, error)
	// SettleAttempt moves a pending attempt to `to` (failed or refunded),
	// and only a pending one: ECONFLICT otherwise.
	SettleAttempt(ctx context.Context, key string, to AttemptStatus, ref string, at time.Time) error
	// PendingAttempts lists attempts pending since before the given time.
	PendingAttempts(ctx context.Context, before time.Time, limit int) ([]PaymentAttempt, error)
	// ExpiredPurchases lists purchases pending payment whose deadline is
	// before the given time and that have no pending payment attempt.
	ExpiredPurchases(ctx context.Context, before time.Time, limit int) ([]Purchase, error)
	// RecordDelivery stores the delivery and moves paid → shipped in one
	// transaction; ECONFLICT when the purchase is not paid.
	RecordDelivery(ctx context.Context, d *Delivery) error
	ListProviders(ctx context.Context) ([]Provider, error)
	GetProvider(ctx context.Context, id int64) (Provider, error)
}
