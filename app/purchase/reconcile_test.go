package purchase

import (
	"context"
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

// lookupRace runs then right after a purchase lookup, to play a request that
// records and confirms a purchase between the reconciler's two steps.
type lookupRace struct {
	*fakeStore
	then func(key string)
}

func (s lookupRace) PurchaseByReservationKey(ctx context.Context, key string) (Purchase, error) {
	p, err := s.fakeStore.PurchaseByReservationKey(ctx, key)
	s.then(key)
	return p, err
}

// The reconciler finds no purchase for an old pending reservation and only
// then gives it up: a slow Buy that confirms in between keeps its stock.
func TestReconcileKeepsAReservationConfirmedWhileItLooked(t *testing.T) {
	e := newEnv(0)
	if _, err := e.inv.ReserveStock(ctx, "slow-buy", book.ID, 3); err != nil {
		t.Fatal(err)
	}
	co := New(lookupRace{e.st, func(key string) { _ = e.inv.ConfirmStock(ctx, key) }}, e.inv, e.proc)
	co.now = func() time.Time { return now.Add(ReconcileAfter + time.Second) }
	done, err := co.Reconcile(ctx)
	if err != nil || done.Released != 0 {
		t.Fatalf("Reconcile = %+v, %v; want nothing released", done, err)
	}
	if r := e.inv.reservation("slow-buy"); r.Released || !r.Confirmed {
		t.Fatalf("reservation = %+v, want confirmed and kept", r)
	}
	if got := e.inv.stock(book.ID); got != book.Stock-3 {
		t.Fatalf("stock = %d, want %d: the confirmed purchase's units were given back", got, book.Stock-3)
	}
}

// A retry that fails to record its purchase must not release the
// reservation the first attempt's purchase has confirmed meanwhile.
func TestFailedRetryKeepsTheFirstAttemptsStock(t *testing.T) {
	e := newEnv(0)
	key, err := reservationKey(buyer.UserID, "order-1")
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt reserved and confirmed; the retry does not see its
	// purchase yet and fails to record its own.
	if _, err := e.inv.ReserveStock(ctx, key, book.ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := e.inv.ConfirmStock(ctx, key); err != nil {
		t.Fatal(err)
	}
	e.st.createErr = errors.New("database went away")
	if _, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 2, IdempotencyKey: "order-1"}); err == nil {
		t.Fatal("Buy succeeded although recording failed")
	}
	if r := e.inv.reservation(key); r.Released {
		t.Fatalf("reservation = %+v: the failed retry released the first attempt's stock", r)
	}
	if got := e.inv.stock(book.ID); got != book.Stock-2 {
		t.Fatalf("stock = %d, want %d", got, book.Stock-2)
	}
}

// A plain failure still gives its own pending reservation back.
func TestFailedBuyReleasesItsReservation(t *testing.T) {
	e := newEnv(0)
	e.st.createErr = errors.New("database went away")
	if _, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 2}); err == nil {
		t.Fatal("Buy succeeded although recording failed")
	}
	if got := e.inv.stock(book.ID); got != book.Stock {
		t.Fatalf("stock = %d, want all %d back", got, book.Stock)
	}
}

// Replaying the key of a purchase cancelled since answers with that
// purchase, as it is now, rather than an error about released stock.
func TestReplayOfACancelledPurchaseReturnsIt(t *testing.T) {
	e := newEnv(0)
	in := BuyInput{BookID: book.ID, Quantity: 1, IdempotencyKey: "order-9"}
	p, err := e.co.Buy(ctx, buyer, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.co.Cancel(ctx, buyer, p.ID); err != nil {
		t.Fatal(err)
	}
	again, err := e.co.Buy(ctx, buyer, in)
	if err != nil {
		t.Fatalf("replay of a cancelled purchase: %v", err)
	}
	if again.ID != p.ID || again.Status != StatusCancelled {
		t.Fatalf("replay = %+v, want purchase %d cancelled", again, p.ID)
	}
}

// A key whose first attempt reserved something else (and has not recorded
// its purchase yet) is a conflict, not a purchase of the first attempt's
// quantity.
func TestKeyReservedForAnotherQuantityIsConflict(t *testing.T) {
	e := newEnv(0)
	key, err := reservationKey(buyer.UserID, "order-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.inv.ReserveStock(ctx, key, book.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err = e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 3, IdempotencyKey: "order-2"})
	wantCode(t, err, bookstore.ECONFLICT)
	if r := e.inv.reservation(key); r.Released {
		t.Fatal("the conflicting request released the first attempt's reservation")
	}
	if ps, _ := e.co.ListPurchases(ctx, buyer); len(ps) != 0 {
		t.Fatalf("purchases = %+v, want none", ps)
	}
}

// unavailableInventory is a catalog that is down.
type unavailableInventory struct {
	*fakeInventory
	calls int
}

func (u *unavailableInventory) ReleaseStock(context.Context, string) error {
	u.calls++
	return bookstore.Errorf(bookstore.EUNAVAILABLE, "catalog is unavailable")
}

// With the catalog down, a pass stops at the first refusal instead of
// calling it once per cancelled purchase.
func TestReconcileStopsWhenTheCatalogIsDown(t *testing.T) {
	e := newEnv(0)
	for i := 0; i < 3; i++ {
		p := e.buy(t, 1)
		if err := e.st.Transition(ctx, p.ID, StatusPendingPayment, StatusCancelled, now.UTC()); err != nil {
			t.Fatal(err)
		}
	}
	down := &unavailableInventory{fakeInventory: e.inv}
	co := New(e.st, down, e.proc)
	co.now = func() time.Time { return now.Add(time.Minute) }
	_, err := co.Reconcile(ctx)
	wantCode(t, err, bookstore.EUNAVAILABLE)
	if down.calls != 1 {
		t.Fatalf("%d release calls to a catalog that is down, want 1", down.calls)
	}
}

// Once a pass has released everything cancelled so far, later passes look
// only at newer cancellations instead of the whole day's again.
func TestReconcileDoesNotRevisitReleasedCancellations(t *testing.T) {
	e := newEnv(0)
	for i := 0; i < 3; i++ {
		p := e.buy(t, 1)
		if _, err := e.co.Cancel(ctx, buyer, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() int {
		e.inv.mu.Lock()
		defer e.inv.mu.Unlock()
		return e.inv.releaseCalls
	}
	before := calls() // Cancel's own releases
	e.later(releasedMargin + time.Minute)
	if _, err := e.co.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := calls() - before; got != 3 {
		t.Fatalf("first pass made %d release calls, want 3 (every cancellation of the window)", got)
	}
	e.later(releasedMargin + 2*time.Minute)
	if _, err := e.co.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := calls() - before; got != 3 {
		t.Fatalf("a later pass revisited released cancellations: %d release calls in all, want 3", got)
	}
	// A cancellation after the last clean pass is still seen.
	p := e.buy(t, 1)
	if err := e.st.Transition(ctx, p.ID, StatusPendingPayment, StatusCancelled, now.Add(releasedMargin+3*time.Minute).UTC()); err != nil {
		t.Fatal(err)
	}
	e.later(releasedMargin + 4*time.Minute)
	if _, err := e.co.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.inv.stock(book.ID); got != book.Stock {
		t.Fatalf("stock = %d, want all %d back", got, book.Stock)
	}
}

// downForConfirm is a catalog that went down after listing what is pending.
type downForConfirm struct {
	*fakeInventory
	calls int
}

func (d *downForConfirm) ConfirmStock(context.Context, string) error {
	d.calls++
	return bookstore.Errorf(bookstore.EUNAVAILABLE, "catalog is unavailable")
}

// The pass stops at the first refusal in its confirm step too.
func TestReconcileStopsConfirmingWhenTheCatalogIsDown(t *testing.T) {
	e := newEnv(0)
	e.inv.confirmErr = errors.New("catalog blip") // recorded, left pending
	for i := 0; i < 3; i++ {
		e.buy(t, 1)
	}
	e.inv.confirmErr = nil
	down := &downForConfirm{fakeInventory: e.inv}
	co := New(e.st, down, e.proc)
	co.now = func() time.Time { return now.Add(ReconcileAfter + time.Minute) }
	_, err := co.Reconcile(ctx)
	wantCode(t, err, bookstore.EUNAVAILABLE)
	if down.calls != 1 {
		t.Fatalf("%d confirm calls to a catalog that is down, want 1", down.calls)
	}
}

// lostCommitStore records the purchase and then fails, as a database whose
// COMMIT went through but whose answer was lost.
type lostCommitStore struct{ *fakeStore }

func (s lostCommitStore) CreatePurchase(ctx context.Context, p *Purchase, maxOpen int) error {
	if err := s.fakeStore.CreatePurchase(ctx, p, maxOpen); err != nil {
		return err
	}
	return errors.New("invalid connection")
}

// A purchase recorded despite the error is answered, and keeps its stock.
func TestBuyWhoseRecordingAnswerWasLostKeepsThePurchase(t *testing.T) {
	e := newEnv(0)
	co := New(lostCommitStore{e.st}, e.inv, e.proc)
	co.now = func() time.Time { return now }
	p, err := co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 3})
	if err != nil {
		t.Fatalf("Buy: %v; the purchase was recorded", err)
	}
	if r := e.inv.reservation(p.ReservationKey); r.Released || !r.Confirmed {
		t.Fatalf("reservation = %+v, want confirmed", r)
	}
	if got := e.inv.stock(book.ID); got != book.Stock-3 {
		t.Fatalf("stock = %d, want %d", got, book.Stock-3)
	}
}

// A recorded purchase whose reservation was given up (the reconciler
// abandoned it just before it was recorded) is never charged: Pay cancels it.
func TestPayRefusesAPurchaseWhoseStockWasGivenUp(t *testing.T) {
	e := newEnv(0)
	e.inv.confirmErr = errors.New("catalog blip") // recorded, left pending
	p := e.buy(t, 4)
	e.inv.confirmErr = nil
	if err := e.inv.AbandonStock(ctx, p.ReservationKey); err != nil {
		t.Fatal(err)
	}
	_, err := e.co.Pay(ctx, buyer, p.ID, card)
	wantCode(t, err, bookstore.ECONFLICT)
	if got, _ := e.co.GetPurchase(ctx, buyer, p.ID); got.Status != StatusCancelled || got.Payment != nil {
		t.Fatalf("purchase = %+v, want cancelled and unpaid", got)
	}
	if n := len(e.proc.calls()); n != 0 {
		t.Fatalf("%d charges for stock that was not held", n)
	}
	if got := e.inv.stock(book.ID); got != book.Stock {
		t.Fatalf("stock = %d, want all %d back", got, book.Stock)
	}
}

// failingTransitions is a store whose status changes fail, as a database
// that went away after recording a purchase.
type failingTransitions struct{ *fakeStore }

func (failingTransitions) Transition(context.Context, int64, Status, Status, time.Time) error {
	return errors.New("database went away")
}

// A purchase whose stock was released and which could not be cancelled is
// not reported as bought.
func TestBuyThatCouldNotCancelItsUnheldPurchaseFails(t *testing.T) {
	e := newEnv(0)
	e.inv.confirmErr = bookstore.Errorf(bookstore.ECONFLICT, "reservation was released")
	co := New(failingTransitions{e.st}, e.inv, e.proc)
	co.now = func() time.Time { return now }
	if p, err := co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 1}); err == nil {
		t.Fatalf("Buy answered purchase %d, which holds no stock", p.ID)
	}
}
