package purchase

import (
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

func TestBuySetsThePaymentDeadline(t *testing.T) {
	e := newEnv(0)
	e.co.SetPaymentWindow(45 * time.Minute)
	p := e.buy(t, 1)
	if want := now.UTC().Add(45 * time.Minute); !p.PayBy.Equal(want) || p.PayBy.Location() != time.UTC {
		t.Fatalf("PayBy = %v, want %v in UTC", p.PayBy, want)
	}
}

// Paying after the deadline, before the reconciler cancelled the purchase,
// is refused without a charge: its stock is about to go to others.
func TestPayAfterTheDeadlineIsRefused(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	_, err := e.at(DefaultPaymentWindow).Pay(ctx, buyer, p.ID, card)
	wantCode(t, err, bookstore.ECONFLICT)
	if msg := bookstore.ErrorMessage(err); !strings.Contains(msg, "payment window has passed") {
		t.Errorf("message = %q", msg)
	}
	if e.proc.inner.Charges() != 0 {
		t.Fatalf("%d charges after the deadline", e.proc.inner.Charges())
	}
	// A second before the deadline it is still fine.
	if got, err := e.at(DefaultPaymentWindow-time.Second).Pay(ctx, buyer, p.ID, card); err != nil || got.Status != StatusPaid {
		t.Fatalf("Pay just in time = %s, %v", got.Status, err)
	}
}

func TestReconcileExpiresUnpaidPurchases(t *testing.T) {
	e := newEnv(0)
	unpaid := e.buy(t, 3)
	paid := e.paid(t, 2)
	paying := e.buy(t, 1)
	if done, err := e.at(DefaultPaymentWindow - time.Second).Reconcile(ctx); err != nil || done.Expired != 0 {
		t.Fatalf("Reconcile before the deadline = %+v, %v; want nothing expired", done, err)
	}
	// paying's Pay, just before the deadline, charged and then lost its
	// store: its attempt is pending, too recent for the reconciler.
	e.failOnce("RecordPayment")
	if _, err := e.at(DefaultPaymentWindow-30*time.Second).Pay(ctx, buyer, paying.ID, card); err == nil {
		t.Fatal("Pay succeeded with the store failing")
	}
	done, err := e.at(DefaultPaymentWindow + time.Second).Reconcile(ctx)
	if err != nil || done.Expired != 1 || done.Paid != 0 {
		t.Fatalf("Reconcile after the deadline = %+v, %v; want only the unpaid one expired", done, err)
	}
	if st, _ := e.status(t, paying.ID); st != StatusPendingPayment {
		t.Fatalf("the purchase being paid is %s, want still pending", st)
	}
	done, err = e.at(DefaultPaymentWindow + ReconcileAfter).Reconcile(ctx)
	if err != nil || done.Paid != 1 || done.Expired != 0 {
		t.Fatalf("Reconcile once the attempt is old = %+v, %v; want its charge recorded, not expired", done, err)
	}
	for _, tt := range []struct {
		p    Purchase
		want Status
	}{{unpaid, StatusCancelled}, {paid, StatusPaid}, {paying, StatusPaid}} {
		if st, _ := e.status(t, tt.p.ID); st != tt.want {
			t.Errorf("purchase %d is %s, want %s", tt.p.ID, st, tt.want)
		}
	}
	if got, want := e.inv.stock(book.ID), book.Stock-3; got != want {
		t.Fatalf("stock = %d, want %d (the expired purchase's 3 back)", got, want)
	}
	e.wantMoneyAgrees(t)
	// Another pass changes nothing.
	if done, err := e.at(DefaultPaymentWindow + time.Hour).Reconcile(ctx); err != nil || done.Expired+done.Paid+done.Refunded != 0 {
		t.Fatalf("second Reconcile = %+v, %v", done, err)
	}
}

func TestMaxOpenOrders(t *testing.T) {
	e := newEnv(0)
	e.inv.books[book.ID] = catalog.Book{ID: book.ID, Title: book.Title, PriceCents: book.PriceCents, Stock: 100}
	e.co.SetMaxOpenOrders(3)
	var ps []Purchase
	for range 3 {
		ps = append(ps, e.buy(t, 1))
	}
	_, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 1})
	wantCode(t, err, bookstore.ECONFLICT)
	if msg := bookstore.ErrorMessage(err); !strings.Contains(msg, "unpaid orders") {
		t.Errorf("message = %q", msg)
	}
	if got := e.inv.stock(book.ID); got != 97 {
		t.Fatalf("stock = %d after a refused Buy, want 97 (its reservation given back)", got)
	}
	// Others are not limited by this buyer.
	if _, err := e.co.Buy(ctx, other, BuyInput{BookID: book.ID, Quantity: 1}); err != nil {
		t.Fatalf("another buyer: %v", err)
	}
	// Paying or cancelling one frees a place; so does its deadline passing.
	if _, err := e.co.Pay(ctx, buyer, ps[0].ID, card); err != nil {
		t.Fatal(err)
	}
	e.buy(t, 1)
	if _, err := e.co.Cancel(ctx, buyer, ps[1].ID); err != nil {
		t.Fatal(err)
	}
	e.buy(t, 1)
	if _, err := e.at(DefaultPaymentWindow).Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 1}); err != nil {
		t.Fatalf("Buy once the others' deadlines passed: %v", err)
	}
}
