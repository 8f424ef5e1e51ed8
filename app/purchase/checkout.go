package purchase

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// MaxQuantity bounds one purchase.
const MaxQuantity = 1000

// Checkout implements Service.
type Checkout struct {
	store     Store
	inventory Inventory
	processor Processor
	now       func() time.Time
	// reconcileAfter: see SetReconcileAfter; 0 means ReconcileAfter.
	reconcileAfter time.Duration
	// paymentWindow and maxOpen: see SetPaymentWindow and SetMaxOpenOrders.
	paymentWindow time.Duration
	maxOpen       int
	// releasedThrough: Reconcile has given back the stock of every
	// purchase cancelled before this time (zero: not yet in this process).
	releasedMu      sync.Mutex
	releasedThrough time.Time
}

var _ Service = (*Checkout)(nil)

// New returns the checkout module.
func New(store Store, inventory Inventory, processor Processor) *Checkout {
	return &Checkout{store: store, inventory: inventory, processor: processor, now: time.Now,
		paymentWindow: DefaultPaymentWindow, maxOpen: DefaultMaxOpenOrders}
}

// DefaultPaymentWindow is how long a purchase may stay unpaid before the
// reconciler cancels it and gives its stock back.
const DefaultPaymentWindow = 30 * time.Minute

// DefaultMaxOpenOrders is how many unpaid purchases one buyer may hold.
const DefaultMaxOpenOrders = 5

// SetPaymentWindow changes how long a new purchase may stay unpaid.
func (c *Checkout) SetPaymentWindow(d time.Duration) {
	if d > 0 {
		c.paymentWindow = d
	}
}

// SetMaxOpenOrders changes how many unpaid purchases a buyer may hold; 0
// or less means no limit.
func (c *Checkout) SetMaxOpenOrders(n int) { c.maxOpen = n }

func (c *Checkout) clock() time.Time { return c.now().UTC() }

// Buy reserves the stock, records the purchase at the catalog's price and
// confirms the reservation. If recording fails the reservation is released,
// so no stock is lost; a crash between the steps leaves a pending
// reservation that Reconcile completes or releases.
func (c *Checkout) Buy(ctx context.Context, caller bookstore.Caller, in BuyInput) (Purchase, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Purchase{}, err
	}
	if in.Quantity < 1 {
		return Purchase{}, bookstore.Errorf(bookstore.EINVALID, "quantity must be at least 1")
	}
	if in.Quantity > MaxQuantity {
		return Purchase{}, bookstore.Errorf(bookstore.EINVALID, "quantity must be at most %d", MaxQuantity)
	}
	if in.BookID < 1 {
		return Purchase{}, bookstore.Errorf(bookstore.EINVALID, "book_id is required")
	}
	key, err := reservationKey(caller.UserID, in.IdempotencyKey)
	if err != nil {
		return Purchase{}, err
	}
	if in.IdempotencyKey != "" {
		if p, done, err := c.replay(ctx, key, in); done {
			return p, err
		}
	}
	r, err := c.inventory.ReserveStock(ctx, key, in.BookID, in.Quantity)
	if err != nil {
		return Purchase{}, fmt.Errorf("buy book %d: %w", in.BookID, err)
	}
	if r.BookID != in.BookID || r.Quantity != in.Quantity {
		// Only a retried key can meet an existing reservation; it belongs
		// to the first attempt, which this request must not touch.
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "this Idempotency-Key was used for another purchase (book %d, quantity %d)", r.BookID, r.Quantity)
	}
	if r.Released {
		// Only a retried key can meet a released reservation: the first
		// attempt failed and gave its stock back (or the reconciler did).
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "this purchase attempt was abandoned and its stock released; retry with a new Idempotency-Key")
	}
	now := c.clock()
	p := Purchase{BuyerID: caller.UserID, BookID: r.BookID, BookTitle: r.Title, Quantity: r.Quantity,
		UnitPriceCents: r.UnitPriceCents, TotalCents: r.UnitPriceCents * int64(r.Quantity),
		Status: StatusPendingPayment, ReservationKey: key, CreatedAt: now, UpdatedAt: now,
		PayBy: now.Add(c.paymentWindow).Truncate(time.Second)}
	if err := c.store.CreatePurchase(ctx, &p, c.maxOpen); err != nil {
		// The purchase may be recorded even so: by a concurrent retry with
		// the same key, or by this very call when the database committed
		// and only its answer was lost. Then it is answered, never given up;
		// when even the lookup fails, the reconciler decides later.
		if p, done, rerr := c.replay(context.WithoutCancel(ctx), key, in); done {
			return p, rerr
		}
		// Abandon, not release: with an Idempotency-Key another attempt may
		// have recorded and confirmed this very reservation meanwhile, and
		// its stock must stay sold.
		if rerr := c.inventory.AbandonStock(context.WithoutCancel(ctx), key); rerr != nil && bookstore.ErrorCode(rerr) != bookstore.ECONFLICT {
			return Purchase{}, fmt.Errorf("record purchase of book %d: %w (and release reservation %s: %v)", in.BookID, err, key, rerr)
		}
		return Purchase{}, fmt.Errorf("record purchase of book %d: %w", in.BookID, err)
	}
	if err := c.confirm(context.WithoutCancel(ctx), p); err != nil {
		return Purchase{}, err
	}
	return p, nil
}

// replay answers a retried Buy with the purchase its key already made;
// done is false when there is none yet.
func (c *Checkout) replay(ctx context.Context, key string, in BuyInput) (Purchase, bool, error) {
	p, err := c.store.PurchaseByReservationKey(ctx, key)
	switch {
	case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
		return Purchase{}, false, nil
	case err != nil:
		return Purchase{}, true, fmt.Errorf("look up purchase for idempotency key: %w", err)
	case p.BookID != in.BookID || p.Quantity != in.Quantity:
		return Purchase{}, true, bookstore.Errorf(bookstore.ECONFLICT, "this Idempotency-Key was used for another purchase (book %d, quantity %d)", p.BookID, p.Quantity)
	case p.Status != StatusPendingPayment:
		// Paid, shipped or cancelled since: the answer is the purchase as it
		// is now; only a pending one may still need its confirmation.
		return p, true, nil
	}
	return p, true, c.confirm(ctx, p)
}

// holdStock tells the catalog the reservation belongs to a recorded
// purchase. If the reservation was released meanwhile (given up as
// abandoned before the purchase was recorded), the purchase is cancelled:
// it holds no stock, so it must never be paid. Other errors are returned.
func (c *Checkout) holdStock(ctx context.Context, p Purchase) error {
	err := c.inventory.ConfirmStock(ctx, p.ReservationKey)
	if bookstore.ErrorCode(err) != bookstore.ECONFLICT {
		return err
	}
	return c.cancelUnheld(ctx, p)
}

// confirm is holdStock for Buy, except that a confirmation the catalog
// could not give (it is down) is not reported as a failure of a recorded
// purchase: Pay and the reconciler confirm it later. A purchase that holds
// no stock and could not be cancelled is an error all the same.
func (c *Checkout) confirm(ctx context.Context, p Purchase) error {
	err := c.inventory.ConfirmStock(ctx, p.ReservationKey)
	if bookstore.ErrorCode(err) != bookstore.ECONFLICT {
		return nil
	}
	return c.cancelUnheld(ctx, p)
}

// cancelUnheld cancels a purchase whose reservation was released.
func (c *Checkout) cancelUnheld(ctx context.Context, p Purchase) error {
	if err := c.store.Transition(ctx, p.ID, StatusPendingPayment, StatusCancelled, c.clock()); err != nil && bookstore.ErrorCode(err) != bookstore.ECONFLICT {
		return fmt.Errorf("cancel purchase %d whose reservation was released: %w", p.ID, err)
	}
	return bookstore.Errorf(bookstore.ECONFLICT, "the stock for purchase %d was released before it was recorded; please buy again", p.ID)
}

// ListPurchases returns the caller's purchases.
func (c *Checkout) ListPurchases(ctx context.Context, caller bookstore.Caller) ([]Purchase, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return nil, err
	}
	ps, err := c.store.ListPurchases(ctx, caller.UserID)
	if err != nil {
		return nil, fmt.Errorf("list purchases of user %d: %w", caller.UserID, err)
	}
	if ps == nil {
		ps = []Purchase{}
	}
	return ps, nil
}

// GetPurchase returns a purchase its buyer (or an admin) may see.
func (c *Checkout) GetPurchase(ctx context.Context, caller bookstore.Caller, id int64) (Purchase, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Purchase{}, err
	}
	p, err := c.store.GetPurchase(ctx, id)
	if err != nil {
		return Purchase{}, fmt.Errorf("get purchase %d: %w", id, err)
	}
	if !caller.Owns(p.BuyerID) {
		// Someone else's purchase does not exist as far as the caller knows.
		return Purchase{}, bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d not found", id)
	}
	return p, nil
}

// ChooseDelivery ships a paid purchase with the chosen provider.
func (c *Checkout) ChooseDelivery(ctx context.Context, caller bookstore.Caller, id int64, in DeliveryInput) (Purchase, error) {
	p, err := c.GetPurchase(ctx, caller, id)
	if err != nil {
		return Purchase{}, err
	}
	if p.Status != StatusPaid {
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s; delivery is chosen once it is paid", id, p.Status)
	}
	address := strings.TrimSpace(in.Address)
	if address == "" {
		return Purchase{}, bookstore.Errorf(bookstore.EINVALID, "delivery address is required")
	}
	if utf8.RuneCountInString(address) > 500 {
		return Purchase{}, bookstore.Errorf(bookstore.EINVALID, "delivery address must be at most 500 characters")
	}
	prov, err := c.store.GetProvider(ctx, in.ProviderID)
	if err != nil {
		return Purchase{}, fmt.Errorf("delivery provider %d: %w", in.ProviderID, err)
	}
	d := Delivery{PurchaseID: id, ProviderID: prov.ID, ProviderName: prov.Name, Address: address,
		CostCents: prov.CostCents, CreatedAt: c.clock()}
	if err := c.store.RecordDelivery(ctx, &d); err != nil {
		return Purchase{}, fmt.Errorf("record delivery of purchase %d: %w", id, err)
	}
	return c.store.GetPurchase(ctx, id)
}

// Providers lists the delivery providers, cheapest first.
func (c *Checkout) Providers(ctx context.Context) ([]Provider, error) {
	ps, err := c.store.ListProviders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list delivery providers: %w", err)
	}
	if ps == nil {
		ps = []Provider{}
	}
	// The store promises no order; buyers compare prices, so cheapest first.
	slices.SortStableFunc(ps, func(a, b Provider) int { return cmp.Compare(a.CostCents, b.CostCents) })
	return ps, nil
}

// reservationKey is random for a plain Buy. With an idempotency key it is
// derived from the buyer and the key, so a retry reserves under the same key
// (and two buyers choosing the same key never collide).
func reservationKey(buyerID int64, idempotencyKey string) (string, error) {
	if idempotencyKey == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("new reservation key: %w", err)
		}
		return hex.EncodeToString(b), nil
	}
	if len(idempotencyKey) > MaxIdempotencyKey {
		return "", bookstore.Errorf(bookstore.EINVALID, "Idempotency-Key must be at most %d characters", MaxIdempotencyKey)
	}
	for _, r := range idempotencyKey {
		if r < 0x21 || r > 0x7e {
			return "", bookstore.Errorf(bookstore.EINVALID, "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	sum := sha256.Sum256([]byte(strconv.FormatInt(buyerID, 10) + "\x00" + idempotencyKey))
	return "idem-" + hex.EncodeToString(sum[:24]), nil
}
