package purchase

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

var errDown = errors.New("database is down")

// failOnce makes the store's next call of each named method fail, once.
func (e env) failOnce(methods ...string) {
	var mu sync.Mutex
	left := map[string]bool{}
	for _, m := range methods {
		left[m] = true
	}
	e.st.fail = func(method string) error {
		mu.Lock()
		defer mu.Unlock()
		if left[method] {
			delete(left, method)
			return errDown
		}
		return nil
	}
}

// recorded is the money the store says was taken: payments by charge ref.
func (s *fakeStore) recorded() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for _, p := range s.payments {
		out[p.ProviderRef] = p.AmountCents
	}
	return out
}

// wantMoneyAgrees checks that the processor keeps exactly the charges the
// store recorded as payments, and that no cancelled purchase has one.
func (e env) wantMoneyAgrees(t *testing.T) {
	t.Helper()
	kept, recorded := e.proc.inner.Kept(), e.st.recorded()
	if !maps.Equal(kept, recorded) {
		t.Fatalf("processor keeps %v, store records payments %v", kept, recorded)
	}
}

// at returns the checkout as an instance running d after the test's now,
// sharing store, catalog and processor (the reconciler, a later request).
func (e env) at(d time.Duration) *Checkout {
	co := New(e.st, e.inv, e.proc)
	co.now = func() time.Time { return now.Add(d) }
	return co
}

func (e env) status(t *testing.T, id int64) (Status, *PaymentAttempt) {
	t.Helper()
	p, err := e.st.GetPurchase(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.st.PaymentAttempt(ctx, id)
	if err != nil {
		return p.Status, nil
	}
	return p.Status, &a
}

// Each step of a payment can fail; whatever happens next (the reconciler,
// a retried Pay, a cancel), the money the processor keeps always equals
// the payments recorded.
func TestPayFailuresNeverLoseMoney(t *testing.T) {
	afterwards := map[string]func(t *testing.T, e env, id int64) Status{
		"reconciler": func(t *testing.T, e env, id int64) Status {
			if _, err := e.at(ReconcileAfter + time.Second).Reconcile(ctx); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			return ""
		},
		"retried pay": func(t *testing.T, e env, id int64) Status {
			if _, err := e.co.Pay(ctx, buyer, id, card); err != nil {
				t.Fatalf("retried Pay: %v", err)
			}
			return StatusPaid
		},
		"cancel": func(t *testing.T, e env, id int64) Status {
			if _, err := e.co.Cancel(ctx, buyer, id); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			return StatusCancelled
		},
	}
	tests := []struct {
		name     string
		fail     []string
		charged  bool   // the processor took the money in the failed Pay
		settled  Status // after the reconciler
		wantCode string
	}{
		{"before the attempt is recorded", []string{"BeginPayment"}, false, StatusPendingPayment, bookstore.EINTERNAL},
		{"recording the payment after the charge", []string{"RecordPayment"}, true, StatusPaid, bookstore.EINTERNAL},
	}
	for _, tt := range tests {
		for then, do := range afterwards {
			t.Run(tt.name+", then "+then, func(t *testing.T) {
				e := newEnv(0)
				p := e.buy(t, 2)
				e.failOnce(tt.fail...)
				_, err := e.co.Pay(ctx, buyer, p.ID, card)
				wantCode(t, err, tt.wantCode)
				if got := e.proc.inner.Charges(); got != map[bool]int{true: 1}[tt.charged] {
					t.Fatalf("%d charges after the failure, want charged=%v", got, tt.charged)
				}
				if st, a := e.status(t, p.ID); st != StatusPendingPayment || (tt.charged && (a == nil || a.Status != AttemptPending)) {
					t.Fatalf("after the failure: purchase %s, attempt %+v; want pending with a pending attempt when charged", st, a)
				}
				want := do(t, e, p.ID)
				if want == "" {
					want = tt.settled
				}
				if st, _ := e.status(t, p.ID); st != want {
					t.Fatalf("purchase is %s, want %s", st, want)
				}
				e.wantMoneyAgrees(t)
				if e.proc.inner.Charges() > 1 {
					t.Fatalf("%d charges for one purchase", e.proc.inner.Charges())
				}
			})
		}
	}
}

// The processor charged but its answer was lost (a timeout, a crash of
// this instance): the pending attempt is all that is left, and the
// reconciler finds the charge by its idempotency key and records it.
func TestReconcilerRecordsAChargeWhoseAnswerWasLost(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	lost := &lostAnswerProcessor{recordingProcessor: e.proc}
	e.co.processor = lost
	_, err := e.co.Pay(ctx, buyer, p.ID, card)
	wantCode(t, err, bookstore.EUNAVAILABLE)
	if e.proc.inner.Charges() != 1 || e.st.paymentCount() != 0 {
		t.Fatalf("%d charges, %d payments; want the charge made and not recorded", e.proc.inner.Charges(), e.st.paymentCount())
	}
	// Too soon: a Pay may still be on its way.
	if done, err := e.at(time.Second).Reconcile(ctx); err != nil || done.Paid != 0 {
		t.Fatalf("early Reconcile = %+v, %v; want nothing touched", done, err)
	}
	done, err := e.at(ReconcileAfter + time.Second).Reconcile(ctx)
	if err != nil || done.Paid != 1 {
		t.Fatalf("Reconcile = %+v, %v; want the payment recorded", done, err)
	}
	got, _ := e.co.GetPurchase(ctx, buyer, p.ID)
	if got.Status != StatusPaid || got.Payment == nil || got.Payment.CardLast4 != "4242" || got.Payment.AmountCents != p.TotalCents {
		t.Fatalf("after Reconcile: %s %+v", got.Status, got.Payment)
	}
	e.wantMoneyAgrees(t)
}

type lostAnswerProcessor struct{ *recordingProcessor }

func (p *lostAnswerProcessor) Charge(ctx context.Context, c Charge) (string, error) {
	if _, err := p.recordingProcessor.Charge(ctx, c); err != nil {
		return "", err
	}
	return "", bookstore.Errorf(bookstore.EUNAVAILABLE, "the card processor did not answer in time")
}

// A buyer who cancels an order whose charge went through but was never
// recorded gets the money back.
func TestCancelRefundsAChargeThatWasNotRecorded(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 3)
	e.failOnce("RecordPayment")
	if _, err := e.co.Pay(ctx, buyer, p.ID, card); err == nil {
		t.Fatal("Pay succeeded with the store failing")
	}
	got, err := e.co.Cancel(ctx, buyer, p.ID)
	if err != nil || got.Status != StatusCancelled {
		t.Fatalf("Cancel = %s, %v", got.Status, err)
	}
	if e.proc.inner.Charges() != 1 || e.proc.inner.Refunds() != 1 || e.inv.stock(book.ID) != book.Stock {
		t.Fatalf("charges %d refunds %d stock %d; want 1, 1, %d", e.proc.inner.Charges(), e.proc.inner.Refunds(), e.inv.stock(book.ID), book.Stock)
	}
	if _, a := e.status(t, p.ID); a == nil || a.Status != AttemptRefunded {
		t.Fatalf("attempt after cancel = %+v, want refunded", a)
	}
	e.wantMoneyAgrees(t)
}

// Cancel can fail at each of its steps too; the reconciler finishes it.
func TestCancelFailuresNeverKeepMoney(t *testing.T) {
	tests := []struct {
		name      string
		fail      []string
		refundErr bool
		want      Status // after the reconciler
	}{
		// Not cancelled at all: the charge is recorded as the payment.
		{"changing the status", []string{"Transition"}, false, StatusPaid},
		{"reading the attempt", []string{"PaymentAttempt"}, false, StatusCancelled},
		{"marking the attempt refunded", []string{"SettleAttempt"}, false, StatusCancelled},
		{"the processor refunding", nil, true, StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(0)
			p := e.buy(t, 1)
			e.failOnce("RecordPayment")
			if _, err := e.co.Pay(ctx, buyer, p.ID, card); err == nil {
				t.Fatal("Pay succeeded with the store failing")
			}
			e.failOnce(tt.fail...)
			proc := &refundFailingProcessor{recordingProcessor: e.proc, fail: tt.refundErr}
			e.co.processor = proc
			if _, err := e.co.Cancel(ctx, buyer, p.ID); err == nil {
				t.Fatal("Cancel reported success with a step failing")
			}
			proc.fail = false
			co := e.at(ReconcileAfter + time.Second)
			co.processor = proc
			if _, err := co.Reconcile(ctx); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			if st, a := e.status(t, p.ID); st != tt.want || a.Status == AttemptPending {
				t.Fatalf("after Reconcile: purchase %s, attempt %s; want %s and the attempt settled", st, a.Status, tt.want)
			}
			e.wantMoneyAgrees(t)
			if tt.want == StatusCancelled && e.inv.stock(book.ID) != book.Stock {
				t.Fatalf("stock %d, want %d back", e.inv.stock(book.ID), book.Stock)
			}
		})
	}
}

type refundFailingProcessor struct {
	*recordingProcessor
	fail bool
}

func (p *refundFailingProcessor) Refund(ctx context.Context, ref string) error {
	if p.fail {
		return bookstore.Errorf(bookstore.EUNAVAILABLE, "the card processor is down")
	}
	return p.recordingProcessor.Refund(ctx, ref)
}

// A Pay so slow that the reconciler found no charge under its key and
// closed the attempt refunds its own charge when it cannot record it.
func TestSlowPayWhoseAttemptWasClosedRefunds(t *testing.T) {
	e := newEnv(1)
	p := e.buy(t, 1)
	e.proc.onCharge = func() {
		if _, err := e.at(ReconcileAfter + time.Second).Reconcile(ctx); err != nil {
			t.Errorf("Reconcile during the charge: %v", err)
		}
	}
	_, err := e.co.Pay(ctx, buyer, p.ID, card)
	wantCode(t, err, bookstore.ECONFLICT)
	if !strings.Contains(bookstore.ErrorMessage(err), "refunded") {
		t.Errorf("message %q does not say the charge was refunded", bookstore.ErrorMessage(err))
	}
	if e.proc.inner.Charges() != 1 || e.proc.inner.Refunds() != 1 {
		t.Fatalf("charges %d refunds %d, want 1 and 1", e.proc.inner.Charges(), e.proc.inner.Refunds())
	}
	e.wantMoneyAgrees(t)
	// The buyer can pay again, under a new key.
	e.proc.onCharge = nil
	if got, err := e.co.Pay(ctx, buyer, p.ID, card); err != nil || got.Status != StatusPaid {
		t.Fatalf("Pay again = %s, %v", got.Status, err)
	}
	e.wantMoneyAgrees(t)
}

// A declined card closes the attempt; the next one charges under a new
// idempotency key (a real processor remembers a declined key).
func TestDeclinedAttemptIsRetriedUnderANewKey(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	_, err := e.co.Pay(ctx, buyer, p.ID, PaymentInput{CardNumber: DeclinedTestCard, CardHolder: "Ana"})
	wantCode(t, err, bookstore.EPAYMENT)
	if _, a := e.status(t, p.ID); a == nil || a.Status != AttemptFailed {
		t.Fatalf("attempt after a decline = %+v, want failed", a)
	}
	if _, err := e.co.Pay(ctx, buyer, p.ID, card); err != nil {
		t.Fatal(err)
	}
	calls := e.proc.calls()
	if len(calls) != 2 || calls[0].IdempotencyKey == calls[1].IdempotencyKey {
		t.Fatalf("charges asked %+v, want two under different keys", calls)
	}
	e.wantMoneyAgrees(t)
}

// The reconciler closes an attempt that charged nothing (the Pay stopped
// before asking), and the purchase can be paid again.
func TestReconcilerClosesAnAttemptWithoutCharge(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	a := PaymentAttempt{PurchaseID: p.ID, IdempotencyKey: "pay-crashed", AmountCents: p.TotalCents, CardLast4: "4242",
		CardHolder: "Ana", CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	if err := e.st.BeginPayment(ctx, &a); err != nil {
		t.Fatal(err)
	}
	done, err := e.at(ReconcileAfter + time.Second).Reconcile(ctx)
	if err != nil || done.Failed != 1 {
		t.Fatalf("Reconcile = %+v, %v; want the attempt closed", done, err)
	}
	if st, a := e.status(t, p.ID); st != StatusPendingPayment || a.Status != AttemptFailed {
		t.Fatalf("after Reconcile: %s, attempt %s", st, a.Status)
	}
	e.wantMoneyAgrees(t)
}

// A card holder that is not UTF-8 (which the database would refuse after
// the charge, the reported loss) is refused before anything is recorded
// or charged.
func TestPayRefusesACardHolderThatIsNotUTF8(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	_, err := e.co.Pay(ctx, buyer, p.ID, PaymentInput{CardNumber: "4242424242424242", CardHolder: "Ana \xff\xfe"})
	wantCode(t, err, bookstore.EINVALID)
	if _, a := e.status(t, p.ID); a != nil || e.proc.inner.Charges() != 0 {
		t.Fatalf("attempt %+v, %d charges; want neither", a, e.proc.inner.Charges())
	}
}
