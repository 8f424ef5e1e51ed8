package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/store"
)

func attempt(p purchase.Purchase, key string, at time.Time) purchase.PaymentAttempt {
	return purchase.PaymentAttempt{PurchaseID: p.ID, IdempotencyKey: key, AmountCents: p.TotalCents,
		CardLast4: "4242", CardHolder: "Ada", CreatedAt: at, UpdatedAt: at}
}

func (s suite) testPaymentAttempts(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	st := store.NewPurchaseStore(db)
	p := newPurchase(10, 1, "k1", t0)
	p.PayBy = t0.Add(30 * time.Minute)
	must(t, st.CreatePurchase(ctx, &p, 0))
	_, err := st.PaymentAttempt(ctx, p.ID)
	wantCode(t, err, bookstore.ENOTFOUND)

	a := attempt(p, "pay-1", t0)
	must(t, st.BeginPayment(ctx, &a))
	if a.Status != purchase.AttemptPending || a.IdempotencyKey != "pay-1" {
		t.Fatalf("first attempt = %+v", a)
	}
	// A concurrent Pay gets the pending attempt's key, not its own.
	b := attempt(p, "pay-2", t0.Add(time.Second))
	must(t, st.BeginPayment(ctx, &b))
	if b.IdempotencyKey != "pay-1" {
		t.Fatalf("second attempt uses key %q, want the pending pay-1", b.IdempotencyKey)
	}
	pending, err := st.PendingAttempts(ctx, t0.Add(time.Minute), 10)
	must(t, err)
	if len(pending) != 1 || pending[0].IdempotencyKey != "pay-1" || pending[0].UpdatedAt.Location() != time.UTC {
		t.Fatalf("pending attempts = %+v", pending)
	}
	if pending, _ := st.PendingAttempts(ctx, t0, 10); len(pending) != 0 {
		t.Fatalf("attempts pending before they began: %+v", pending)
	}
	// While an attempt is pending the purchase does not expire.
	if exp, err := st.ExpiredPurchases(ctx, t0.Add(time.Hour), 10); err != nil || len(exp) != 0 {
		t.Fatalf("expired with a pending attempt = %+v, %v", exp, err)
	}

	// Declined: failed, and the next attempt starts over under its own key.
	must(t, st.SettleAttempt(ctx, "pay-1", purchase.AttemptFailed, "", t0.Add(time.Second)))
	wantCode(t, st.SettleAttempt(ctx, "pay-1", purchase.AttemptRefunded, "x", t0), bookstore.ECONFLICT)
	wantCode(t, st.SettleAttempt(ctx, "nope", purchase.AttemptFailed, "", t0), bookstore.ENOTFOUND)
	if exp, err := st.ExpiredPurchases(ctx, t0.Add(time.Hour), 10); err != nil || len(exp) != 1 || exp[0].ID != p.ID {
		t.Fatalf("expired after the attempt failed = %+v, %v", exp, err)
	}
	c := attempt(p, "pay-3", t0.Add(2*time.Second))
	must(t, st.BeginPayment(ctx, &c))
	if c.IdempotencyKey != "pay-3" || c.Status != purchase.AttemptPending {
		t.Fatalf("attempt after a failure = %+v", c)
	}

	// Completing under a key that is not the pending one changes nothing.
	pay := purchase.Payment{PurchaseID: p.ID, Method: "card", CardLast4: "4242", CardHolder: "Ada",
		AmountCents: p.TotalCents, ProviderRef: "sim_3", CreatedAt: t0.Add(3 * time.Second)}
	wrong := pay
	wantCode(t, st.RecordPayment(ctx, &wrong, "pay-1"), bookstore.ECONFLICT)
	if got, _ := st.GetPurchase(ctx, p.ID); got.Status != purchase.StatusPendingPayment || got.Payment != nil {
		t.Fatalf("a refused completion left %s, payment %+v", got.Status, got.Payment)
	}
	must(t, st.RecordPayment(ctx, &pay, "pay-3"))
	got, err := st.PaymentAttempt(ctx, p.ID)
	must(t, err)
	if got.Status != purchase.AttemptCompleted || got.ProviderRef != "sim_3" {
		t.Fatalf("attempt after the payment = %+v", got)
	}
	if gp, _ := st.GetPurchase(ctx, p.ID); gp.Status != purchase.StatusPaid || gp.Payment == nil || gp.Payment.ProviderRef != "sim_3" {
		t.Fatalf("purchase after the payment = %+v", gp)
	}
	d := attempt(p, "pay-4", t0.Add(4*time.Second))
	wantCode(t, st.BeginPayment(ctx, &d), bookstore.ECONFLICT)
	missing := attempt(purchase.Purchase{ID: 999999}, "pay-5", t0)
	wantCode(t, st.BeginPayment(ctx, &missing), bookstore.ENOTFOUND)
	if n := count(t, db, "payment_attempts", ""); n != 1 {
		t.Fatalf("%d attempt rows, want one per purchase", n)
	}
}

// Many buys of one buyer at once never leave more than the limit of
// unpaid purchases, nor take stock for the refused ones.
func (s suite) testOpenOrderLimitConcurrently(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	cat, checkout := modules(t, db)
	checkout.SetMaxOpenOrders(5)
	book, err := cat.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 100})
	must(t, err)
	hoarder := bookstore.Caller{UserID: 77, Role: bookstore.RoleUser}
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = checkout.Buy(ctx, hoarder, purchase.BuyInput{BookID: book.ID, Quantity: 2})
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch bookstore.ErrorCode(err) {
		case "":
			ok++
		case bookstore.ECONFLICT:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 5 {
		t.Fatalf("%d buys succeeded, want 5", ok)
	}
	if c := count(t, db, "purchases", "buyer_id = ? AND status = ?", 77, "pending_payment"); c != 5 {
		t.Fatalf("%d unpaid purchases, want 5", c)
	}
	b, err := cat.GetBook(ctx, book.ID)
	must(t, err)
	if b.Stock != 90 {
		t.Fatalf("stock = %d, want 90 (only the 5 purchases hold stock)", b.Stock)
	}
	// The limit is per buyer.
	if _, err := checkout.Buy(ctx, bookstore.Caller{UserID: 78, Role: bookstore.RoleUser}, purchase.BuyInput{BookID: book.ID, Quantity: 1}); err != nil {
		t.Fatalf("another buyer: %v", err)
	}
}

// Unpaid purchases past their deadline are cancelled and their stock
// released by the reconciler; paying one then is refused.
func (s suite) testExpiry(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	cat, checkout := modules(t, db)
	book, err := cat.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 5})
	must(t, err)
	buyer := bookstore.Caller{UserID: 41, Role: bookstore.RoleUser}
	st := store.NewPurchaseStore(db)
	// Bought an hour ago with a 30-minute window: past its deadline.
	old, err := checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 2})
	must(t, err)
	past := time.Now().UTC().Add(-time.Hour)
	if _, err := db.SQL().ExecContext(ctx, "UPDATE purchases SET pay_by = ? WHERE id = ?", past, old.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 1})
	must(t, err)
	if !fresh.PayBy.After(time.Now()) || fresh.PayBy.Location() != time.UTC {
		t.Fatalf("pay_by of a new purchase = %v", fresh.PayBy)
	}
	_, err = checkout.Pay(ctx, buyer, old.ID, purchase.PaymentInput{CardNumber: "4242424242424242", CardHolder: "Ada"})
	wantCode(t, err, bookstore.ECONFLICT)

	done, err := checkout.Reconcile(ctx)
	if err != nil || done.Expired != 1 {
		t.Fatalf("Reconcile = %+v, %v; want one expired", done, err)
	}
	if got, _ := st.GetPurchase(ctx, old.ID); got.Status != purchase.StatusCancelled {
		t.Fatalf("expired purchase is %s", got.Status)
	}
	if got, _ := st.GetPurchase(ctx, fresh.ID); got.Status != purchase.StatusPendingPayment {
		t.Fatalf("purchase within its window is %s", got.Status)
	}
	b, err := cat.GetBook(ctx, book.ID)
	must(t, err)
	if b.Stock != 4 {
		t.Fatalf("stock = %d, want 4 (the expired 2 back)", b.Stock)
	}
}
