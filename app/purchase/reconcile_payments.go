package purchase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// reconcileBatch bounds how many payment attempts and expired purchases
// one pass handles; the next pass does the rest.
const reconcileBatch = 500

// settlePayments finishes the payment attempts pending since before the
// given time (a Pay that stopped after asking the processor), and stops at
// the first sign that a dependency is down.
func (c *Checkout) settlePayments(ctx context.Context, before time.Time, done *Reconciled) error {
	attempts, err := c.store.PendingAttempts(ctx, before, reconcileBatch)
	if err != nil {
		return fmt.Errorf("pending payment attempts: %w", err)
	}
	var errs []error
	for _, a := range attempts {
		if err := c.settleAttempt(ctx, a, done); err != nil {
			errs = append(errs, fmt.Errorf("settle payment attempt of purchase %d: %w", a.PurchaseID, err))
			if unavailable(err) {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Checkout) settleAttempt(ctx context.Context, a PaymentAttempt, done *Reconciled) error {
	ch, err := c.processor.LookupCharge(ctx, a.IdempotencyKey)
	switch {
	case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
		// Nothing was charged: the attempt is closed, and a Pay still
		// charging under this key refunds its charge when it cannot record it.
		if err := c.store.SettleAttempt(ctx, a.IdempotencyKey, AttemptFailed, "", c.clock()); err != nil {
			return ignoreConflict(err)
		}
		done.Failed++
		return nil
	case err != nil:
		return err
	case ch.Refunded:
		return ignoreConflict(c.store.SettleAttempt(ctx, a.IdempotencyKey, AttemptRefunded, ch.Ref, c.clock()))
	}
	p, err := c.store.GetPurchase(ctx, a.PurchaseID)
	if err != nil {
		return err
	}
	if p.Status == StatusPendingPayment {
		// The buyer was charged before the deadline (the attempt began
		// then), so the purchase is paid, not expired.
		pay := Payment{PurchaseID: p.ID, Method: "card", CardLast4: a.CardLast4, CardHolder: a.CardHolder,
			AmountCents: a.AmountCents, ProviderRef: ch.Ref, CreatedAt: c.clock()}
		err := c.store.RecordPayment(ctx, &pay, a.IdempotencyKey)
		if err == nil {
			done.Paid++
			return nil
		}
		if bookstore.ErrorCode(err) != bookstore.ECONFLICT {
			return err
		}
		if p, err = c.store.GetPurchase(ctx, a.PurchaseID); err != nil {
			return err
		}
	}
	if p.Payment != nil && p.Payment.ProviderRef == ch.Ref {
		return nil // recorded meanwhile
	}
	// Cancelled (or expired): the money goes back.
	if err := c.refund(ctx, a.IdempotencyKey, ch.Ref); err != nil {
		return err
	}
	done.Refunded++
	return nil
}

// expireUnpaid cancels the purchases unpaid past their deadline and gives
// their stock back.
func (c *Checkout) expireUnpaid(ctx context.Context, now time.Time, done *Reconciled) error {
	expired, err := c.store.ExpiredPurchases(ctx, now, reconcileBatch)
	if err != nil {
		return fmt.Errorf("expired purchases: %w", err)
	}
	var errs []error
	for _, p := range expired {
		err := c.store.Transition(ctx, p.ID, StatusPendingPayment, StatusCancelled, now)
		if bookstore.ErrorCode(err) == bookstore.ECONFLICT {
			continue // paid or cancelled meanwhile
		}
		if err == nil {
			// A Pay that began an attempt since the listing (the clocks of
			// two instances differ) may have charged already.
			err = c.refundAttempt(ctx, p.ID)
		}
		if err == nil {
			err = c.inventory.ReleaseStock(ctx, p.ReservationKey)
		}
		if err != nil {
			// Cancelled but not released: releaseCancelled retries it.
			errs = append(errs, fmt.Errorf("expire purchase %d: %w", p.ID, err))
			if unavailable(err) {
				break
			}
			continue
		}
		done.Expired++
	}
	return errors.Join(errs...)
}

func ignoreConflict(err error) error {
	if bookstore.ErrorCode(err) == bookstore.ECONFLICT {
		return nil
	}
	return err
}
