package purchase

import (
	"errors"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestBuyWithIdempotencyKeyBuysOnce(t *testing.T) {
	e := newEnv(0)
	in := BuyInput{BookID: book.ID, Quantity: 2, IdempotencyKey: "order-7f3a"}
	first, err := e.co.Buy(ctx, buyer, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.co.Buy(ctx, buyer, in)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID {
		t.Fatalf("retry made purchase %d, want the first one %d", again.ID, first.ID)
	}
	if got := e.inv.stock(book.ID); got != book.Stock-2 {
		t.Fatalf("stock = %d after a retried buy of 2, want %d", got, book.Stock-2)
	}
	// Another buyer's identical key is another purchase.
	theirs, err := e.co.Buy(ctx, other, in)
	if err != nil {
		t.Fatal(err)
	}
	if theirs.ID == first.ID {
		t.Fatal("two buyers with the same Idempotency-Key share a purchase")
	}
}

func TestIdempotencyKeyReusedForAnotherPurchaseIsConflict(t *testing.T) {
	e := newEnv(0)
	if _, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 1, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 3, IdempotencyKey: "k1"})
	wantCode(t, err, bookstore.ECONFLICT)
	if got := e.inv.stock(book.ID); got != book.Stock-1 {
		t.Fatalf("stock = %d, want %d: the conflicting request must take nothing", got, book.Stock-1)
	}
}

func TestIdempotencyKeyMustBePrintable(t *testing.T) {
	e := newEnv(0)
	for _, key := range []string{"has space", "tab\tkey", string(make([]byte, MaxIdempotencyKey+1))} {
		_, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 1, IdempotencyKey: key})
		wantCode(t, err, bookstore.EINVALID)
	}
}

func TestBuyConfirmsItsReservation(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	if r := e.inv.reservation(p.ReservationKey); !r.Confirmed || r.Released {
		t.Fatalf("reservation after Buy = %+v, want confirmed", r)
	}
}

// later runs the checkout's clock past ReconcileAfter.
func (e env) later(d time.Duration) {
	e.co.now = func() time.Time { return now.Add(d) }
}

func TestReconcileConfirmsARecordedPurchaseWhoseConfirmationFailed(t *testing.T) {
	e := newEnv(0)
	e.inv.confirmErr = errors.New("catalog unreachable")
	p := e.buy(t, 2) // recorded: the buyer is not told it failed
	e.inv.confirmErr = nil

	e.later(ReconcileAfter - time.Second)
	if done, err := e.co.Reconcile(ctx); err != nil || done != (Reconciled{}) {
		t.Fatalf("a young pending reservation was touched: %+v, %v", done, err)
	}
	e.later(ReconcileAfter + time.Second)
	done, err := e.co.Reconcile(ctx)
	if err != nil || done.Confirmed != 1 || done.Released != 0 {
		t.Fatalf("Reconcile = %+v, %v; want 1 confirmed", done, err)
	}
	if got := e.inv.stock(book.ID); got != book.Stock-2 {
		t.Fatalf("stock = %d, want %d (the purchase keeps its units)", got, book.Stock-2)
	}
	if !e.inv.reservation(p.ReservationKey).Confirmed {
		t.Fatal("reservation not confirmed")
	}
}

func TestReconcileReleasesAReservationWithoutPurchase(t *testing.T) {
	e := newEnv(0)
	// Buy stopped (crashed) after reserving, before recording.
	if _, err := e.inv.ReserveStock(ctx, "crashed-buy", book.ID, 3); err != nil {
		t.Fatal(err)
	}
	e.later(ReconcileAfter + time.Second)
	done, err := e.co.Reconcile(ctx)
	if err != nil || done.Released != 1 {
		t.Fatalf("Reconcile = %+v, %v; want 1 released", done, err)
	}
	if got := e.inv.stock(book.ID); got != book.Stock {
		t.Fatalf("stock = %d, want all %d back", got, book.Stock)
	}
	// A second pass finds nothing more to do.
	if done, err := e.co.Reconcile(ctx); err != nil || done != (Reconciled{}) {
		t.Fatalf("second pass = %+v, %v", done, err)
	}
}

func TestReconcileReleasesACancelledPurchaseWhoseReleaseWasLost(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 4)
	// Cancel stopped between cancelling and releasing.
	if err := e.st.Transition(ctx, p.ID, StatusPendingPayment, StatusCancelled, now.UTC()); err != nil {
		t.Fatal(err)
	}
	e.later(time.Minute)
	if _, err := e.co.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.inv.stock(book.ID); got != book.Stock {
		t.Fatalf("stock = %d, want all %d back", got, book.Stock)
	}
}

func TestBuyWhoseReservationWasReleasedMeanwhileIsCancelled(t *testing.T) {
	e := newEnv(0)
	e.inv.confirmErr = bookstore.Errorf(bookstore.ECONFLICT, "reservation was released")
	_, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 1})
	wantCode(t, err, bookstore.ECONFLICT)
	ps, _ := e.co.ListPurchases(ctx, buyer)
	if len(ps) != 1 || ps[0].Status != StatusCancelled {
		t.Fatalf("purchases = %+v, want one cancelled", ps)
	}
}

func TestReconcileAfterCanBeShortened(t *testing.T) {
	e := newEnv(0)
	e.co.SetReconcileAfter(10 * time.Second)
	if _, err := e.inv.ReserveStock(ctx, "crashed-buy", book.ID, 2); err != nil {
		t.Fatal(err)
	}
	e.later(9 * time.Second)
	if done, _ := e.co.Reconcile(ctx); done.Released != 0 {
		t.Fatal("released before the shortened age")
	}
	e.later(11 * time.Second)
	if done, err := e.co.Reconcile(ctx); err != nil || done.Released != 1 {
		t.Fatalf("Reconcile = %+v, %v; want 1 released past the shortened age", done, err)
	}
}
