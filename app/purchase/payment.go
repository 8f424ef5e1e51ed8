package purchase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Money is never taken without a record. Pay writes a pending payment
// attempt, with the idempotency key it will charge under, before asking
// the processor; the attempt ends completed (in the same transaction that
// records the payment and marks the purchase paid), failed (no money) or
// refunded. Whatever stops a Pay after the charge, the pending attempt
// stays behind and Reconcile finishes it by looking the key up at the
// processor: it records the payment when the purchase is still pending,
// refunds the charge when the purchase was cancelled, and marks the attempt
// failed when no charge exists.

// Pay charges the card for the purchase total, exactly once.
func (c *Checkout) Pay(ctx context.Context, caller bookstore.Caller, id int64, in PaymentInput) (Purchase, error) {
	p, err := c.GetPurchase(ctx, caller, id)
	if err != nil {
		return Purchase{}, err
	}
	if p.Payment != nil { // paid (or shipped) already: the same payment, no second charge
		return p, nil
	}
	if p.Status != StatusPendingPayment {
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s and cannot be paid", id, p.Status)
	}
	if !p.PayBy.IsZero() && !c.clock().Before(p.PayBy) {
		// The reconciler is about to cancel it and give its stock to others.
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "the payment window has passed (pay by %s); please buy again", p.PayBy.UTC().Format(time.RFC3339))
	}
	number, holder, err := validatePayment(in)
	if err != nil {
		return Purchase{}, err
	}
	// Money only for stock that is held: a purchase whose reservation was
	// given up meanwhile is cancelled here instead of charged.
	if err := c.holdStock(ctx, p); err != nil {
		return Purchase{}, fmt.Errorf("pay purchase %d: %w", id, err)
	}
	key, err := attemptKey(p.ReservationKey)
	if err != nil {
		return Purchase{}, err
	}
	at := c.clock()
	a := PaymentAttempt{PurchaseID: id, IdempotencyKey: key, AmountCents: p.TotalCents,
		CardLast4: number[len(number)-4:], CardHolder: holder, Status: AttemptPending, CreatedAt: at, UpdatedAt: at}
	// Failing here is harmless: nothing was charged yet.
	if err := c.store.BeginPayment(ctx, &a); err != nil {
		if bookstore.ErrorCode(err) == bookstore.ECONFLICT {
			if cur, gerr := c.store.GetPurchase(ctx, id); gerr == nil && cur.Payment != nil {
				return cur, nil // a concurrent Pay completed first
			}
		}
		return Purchase{}, fmt.Errorf("record payment attempt of purchase %d: %w", id, err)
	}
	ref, err := c.processor.Charge(ctx, Charge{IdempotencyKey: a.IdempotencyKey,
		AmountCents: a.AmountCents, CardNumber: number, CardHolder: holder})
	if err != nil {
		if bookstore.ErrorCode(err) == bookstore.EPAYMENT {
			// Declined: no money, so the attempt may start again (with
			// another card, under a new key). If this mark is lost, the
			// reconciler finds no charge under the key and marks it so.
			_ = c.store.SettleAttempt(context.WithoutCancel(ctx), a.IdempotencyKey, AttemptFailed, "", c.clock())
		}
		// Any other failure leaves the outcome unknown: the attempt stays
		// pending, a retry charges under the same key (never twice), and the
		// reconciler settles it otherwise.
		return Purchase{}, fmt.Errorf("charge purchase %d: %w", id, err)
	}
	return c.complete(context.WithoutCancel(ctx), a, ref)
}

// complete records the payment of a charged attempt, together with the
// purchase becoming paid. When the purchase was cancelled meanwhile, the
// charge is refunded. When the store fails, nothing is refunded here:
// the attempt stays pending and a retried Pay (same key, same charge) or
// the reconciler records it. Refunding now instead could not be recorded
// either (the store is what fails), and a retry would then meet the
// refunded charge under the same key and record it as paid.
func (c *Checkout) complete(ctx context.Context, a PaymentAttempt, ref string) (Purchase, error) {
	id := a.PurchaseID
	pay := Payment{PurchaseID: id, Method: "card", CardLast4: a.CardLast4, CardHolder: a.CardHolder,
		AmountCents: a.AmountCents, ProviderRef: ref, CreatedAt: c.clock()}
	err := c.store.RecordPayment(ctx, &pay, a.IdempotencyKey)
	if err == nil {
		return c.store.GetPurchase(ctx, id)
	}
	if bookstore.ErrorCode(err) != bookstore.ECONFLICT {
		return Purchase{}, fmt.Errorf("record payment of purchase %d (charge %s is kept pending and will be recorded): %w", id, ref, err)
	}
	cur, gerr := c.store.GetPurchase(ctx, id)
	switch {
	case gerr != nil:
		return Purchase{}, fmt.Errorf("record payment of purchase %d: %w", id, gerr)
	case cur.Payment != nil && cur.Payment.ProviderRef == ref:
		// A concurrent request recorded this very charge.
		return cur, nil
	}
	// The charge can never be recorded: the purchase was cancelled (or
	// paid otherwise), or the reconciler gave the attempt up as never
	// charged while this Pay was slow. The money goes back.
	if err := c.refund(ctx, a.IdempotencyKey, ref); err != nil {
		return Purchase{}, fmt.Errorf("refund charge %s of purchase %d: %w", ref, id, err)
	}
	if cur.Status == StatusCancelled {
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "purchase %d was cancelled while paying; the charge was refunded", id)
	}
	return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "the payment of purchase %d could not be recorded and was refunded; please pay again", id)
}

// refund gives a charge back and marks its attempt refunded. A lost mark
// leaves the attempt pending, and the reconciler marks it once it sees the
// charge refunded.
func (c *Checkout) refund(ctx context.Context, key, ref string) error {
	if err := c.processor.Refund(ctx, ref); err != nil {
		return err
	}
	err := c.store.SettleAttempt(ctx, key, AttemptRefunded, ref, c.clock())
	if err != nil && bookstore.ErrorCode(err) != bookstore.ECONFLICT {
		return fmt.Errorf("mark attempt refunded: %w", err)
	}
	return nil
}

// Cancel cancels an unpaid purchase, refunds a charge its payment attempt
// made (one that was never recorded as a payment) and releases its stock.
func (c *Checkout) Cancel(ctx context.Context, caller bookstore.Caller, id int64) (Purchase, error) {
	p, err := c.GetPurchase(ctx, caller, id)
	if err != nil {
		return Purchase{}, err
	}
	if p.Status == StatusCancelled {
		return p, nil
	}
	if p.Status != StatusPendingPayment {
		return Purchase{}, bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is already %s and cannot be cancelled", id, p.Status)
	}
	if err := c.store.Transition(ctx, id, StatusPendingPayment, StatusCancelled, c.clock()); err != nil {
		return Purchase{}, fmt.Errorf("cancel purchase %d: %w", id, err)
	}
	// After the status change no payment can be recorded any more, so a
	// charge found now is refunded here, and one a Pay still in flight
	// makes is refunded by that Pay. A crash in between leaves a pending
	// attempt of a cancelled purchase, which the reconciler refunds; the
	// stock is released again by the reconciler too (idempotent).
	bg := context.WithoutCancel(ctx)
	var errs []error
	if err := c.refundAttempt(bg, id); err != nil {
		errs = append(errs, fmt.Errorf("refund purchase %d: %w", id, err))
	}
	if err := c.inventory.ReleaseStock(bg, p.ReservationKey); err != nil {
		errs = append(errs, fmt.Errorf("release stock of purchase %d: %w", id, err))
	}
	if len(errs) > 0 {
		return Purchase{}, errors.Join(errs...)
	}
	return c.store.GetPurchase(ctx, id)
}

// refundAttempt refunds the charge, if any, of a cancelled purchase's
// pending payment attempt.
func (c *Checkout) refundAttempt(ctx context.Context, purchaseID int64) error {
	a, err := c.store.PaymentAttempt(ctx, purchaseID)
	switch {
	case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
		return nil
	case err != nil:
		return err
	case a.Status != AttemptPending:
		return nil // failed: no money; refunded already
	}
	ch, err := c.processor.LookupCharge(ctx, a.IdempotencyKey)
	switch {
	case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
		return nil // not charged (yet): a Pay in flight refunds its own charge
	case err != nil:
		return err
	}
	return c.refund(ctx, a.IdempotencyKey, ch.Ref)
}

// attemptKey is a fresh idempotency key for a purchase's payment attempt.
// The store keeps the one of a pending attempt, so concurrent Pays share
// it; only an attempt that failed (no money) gets a new one, so a real
// processor, which remembers a declined key, lets the buyer try again.
func attemptKey(reservationKey string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new payment key: %w", err)
	}
	return "pay-" + reservationKey + "-" + hex.EncodeToString(b), nil
}

func validatePayment(in PaymentInput) (number, holder string, err error) {
	if in.Method != "" && in.Method != "card" {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "payment method must be \"card\"")
	}
	number = strings.NewReplacer(" ", "", "-", "").Replace(in.CardNumber)
	if !ValidCardNumber(number) {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "card number is not valid")
	}
	holder = strings.TrimSpace(in.CardHolder)
	if holder == "" {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "card holder is required")
	}
	if !utf8.ValidString(holder) {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "card holder must be valid UTF-8")
	}
	if utf8.RuneCountInString(holder) > 100 {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "card holder must be at most 100 characters")
	}
	return number, holder, nil
}
