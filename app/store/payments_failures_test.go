package store_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/store"
)

// failingStore fails the named method once, as a database that goes away
// at that moment.
type failingStore struct {
	purchase.Store
	mu   sync.Mutex
	fail map[string]bool
}

var errGone = errors.New("driver: bad connection")

func (f *failingStore) failing(m string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[m] {
		delete(f.fail, m)
		return true
	}
	return false
}

func (f *failingStore) BeginPayment(ctx context.Context, a *purchase.PaymentAttempt) error {
	if f.failing("BeginPayment") {
		return errGone
	}
	return f.Store.BeginPayment(ctx, a)
}

func (f *failingStore) RecordPayment(ctx context.Context, p *purchase.Payment, key string) error {
	if f.failing("RecordPayment") {
		return errGone
	}
	return f.Store.RecordPayment(ctx, p, key)
}

func (f *failingStore) Transition(ctx context.Context, id int64, from, to purchase.Status, at time.Time) error {
	if f.failing("Transition") {
		return errGone
	}
	return f.Store.Transition(ctx, id, from, to, at)
}

func (f *failingStore) SettleAttempt(ctx context.Context, key string, to purchase.AttemptStatus, ref string, at time.Time) error {
	if f.failing("SettleAttempt") {
		return errGone
	}
	return f.Store.SettleAttempt(ctx, key, to, ref, at)
}

// recordedPayments is the money the database says was taken, by charge.
func recordedPayments(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	rows, err := db.SQL().QueryContext(ctxT(t), "SELECT provider_ref, amount_cents FROM payments")
	must(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var ref string
		var cents int64
		must(t, rows.Scan(&ref, &cents))
		out[ref] = cents
	}
	must(t, rows.Err())
	return out
}

// The database failing at each step of paying and cancelling never leaves
// money taken without a payment recorded once the reconciler ran.
func (s suite) testPaymentFailuresKeepMoneyAndRecordsEqual(t *testing.T) {
	buyer := bookstore.Caller{UserID: 40, Role: bookstore.RoleUser}
	card := purchase.PaymentInput{Method: "card", CardNumber: "4242424242424242", CardHolder: "Ada"}
	tests := []struct {
		name       string
		payFail    string // the step of Pay that fails
		cancel     bool   // the buyer then cancels
		cancelFail string // the step of Cancel that fails
		want       purchase.Status
	}{
		{"before the attempt is recorded", "BeginPayment", false, "", purchase.StatusPendingPayment},
		{"after the charge", "RecordPayment", false, "", purchase.StatusPaid},
		{"after the charge, then cancelled", "RecordPayment", true, "", purchase.StatusCancelled},
		{"after the charge, cancel fails to change the status", "RecordPayment", true, "Transition", purchase.StatusPaid},
		{"after the charge, cancel fails to mark the refund", "RecordPayment", true, "SettleAttempt", purchase.StatusCancelled},
		{"on completing a declined attempt", "SettleAttempt", false, "", purchase.StatusPendingPayment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := s.fresh(t)
			cat, _ := modules(t, db)
			fs := &failingStore{Store: store.NewPurchaseStore(db), fail: map[string]bool{tt.payFail: true}}
			proc := purchase.NewSimulatedProcessor()
			checkout := purchase.New(fs, cat, proc)
			checkout.SetReconcileAfter(time.Nanosecond) // every attempt is old enough
			book, err := cat.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 5})
			must(t, err)
			p, err := checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 2})
			must(t, err)
			in := card
			if tt.payFail == "SettleAttempt" {
				in.CardNumber = purchase.DeclinedTestCard
			}
			if _, err := checkout.Pay(ctx, buyer, p.ID, in); err == nil {
				t.Fatal("Pay succeeded")
			}
			if tt.cancel {
				fs.fail[tt.cancelFail] = true
				_, err := checkout.Cancel(ctx, buyer, p.ID)
				if (err != nil) != (tt.cancelFail != "") {
					t.Fatalf("Cancel = %v", err)
				}
			}
			if _, err := checkout.Reconcile(ctx); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			got, err := checkout.GetPurchase(ctx, buyer, p.ID)
			must(t, err)
			if got.Status != tt.want {
				t.Fatalf("purchase is %s, want %s", got.Status, tt.want)
			}
			if kept, recorded := proc.Kept(), recordedPayments(t, db); !maps.Equal(kept, recorded) {
				t.Fatalf("processor keeps %v, database records %v", kept, recorded)
			}
			if c := count(t, db, "payment_attempts", "status = ?", "pending"); c != 0 {
				t.Fatalf("%d attempts still pending after Reconcile", c)
			}
			b, err := cat.GetBook(ctx, book.ID)
			must(t, err)
			if want := map[bool]int{true: 5, false: 3}[tt.want == purchase.StatusCancelled]; b.Stock != want {
				t.Fatalf("stock %d, want %d", b.Stock, want)
			}
		})
	}
}

// Many Pays of one purchase at once, on the real store: one charge, one
// payment, and every caller answered with it.
func (s suite) testConcurrentPayChargesOnce(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	cat, _ := modules(t, db)
	proc := purchase.NewSimulatedProcessor()
	checkout := purchase.New(store.NewPurchaseStore(db), cat, proc)
	book, err := cat.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 5})
	must(t, err)
	buyer := bookstore.Caller{UserID: 42, Role: bookstore.RoleUser}
	p, err := checkout.Buy(ctx, buyer, purchase.BuyInput{BookID: book.ID, Quantity: 1})
	must(t, err)
	const n = 10
	got := make([]purchase.Purchase, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = checkout.Pay(ctx, buyer, p.ID, purchase.PaymentInput{CardNumber: "4242424242424242", CardHolder: "Ada"})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i].Payment == nil || got[i].Payment.ProviderRef != got[0].Payment.ProviderRef {
			t.Errorf("Pay #%d = %+v, %v; want the one payment", i, got[i].Payment, errs[i])
		}
	}
	if proc.Charges() != 1 || count(t, db, "payments", "") != 1 || count(t, db, "payment_attempts", "status = ?", "completed") != 1 {
		t.Fatalf("%d charges, %d payments; want 1 each with its attempt completed", proc.Charges(), count(t, db, "payments", ""))
	}
	if kept, recorded := proc.Kept(), recordedPayments(t, db); !maps.Equal(kept, recorded) {
		t.Fatalf("processor keeps %v, database records %v", kept, recorded)
	}
}
