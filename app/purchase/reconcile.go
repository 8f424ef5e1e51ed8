package purchase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// ReconcileAfter is how old a pending reservation must be before Reconcile
// touches it, unless SetReconcileAfter says otherwise: far longer than any
// Buy may take (requests time out within a minute), so a purchase still
// being recorded is never given up.
const ReconcileAfter = 2 * time.Minute

// SetReconcileAfter changes how old a pending reservation must be before
// Reconcile touches it (rehearsals shorten it to watch a repair happen).
func (c *Checkout) SetReconcileAfter(d time.Duration) { c.reconcileAfter = d }

// ReleaseWindow is how far back Reconcile gives the stock of cancelled
// purchases back again, in case Cancel stopped between its two steps. A
// process's first pass covers the whole window; later ones only what was
// cancelled since the previous clean pass.
const ReleaseWindow = 24 * time.Hour

// releasedMargin is the least a pass looks back past the previous clean
// one for cancellations: far more than a Cancel's commit can be delayed or
// two instances' clocks differ.
const releasedMargin = 10 * time.Minute

// Reconciled counts what one Reconcile pass did.
type Reconciled struct {
	Confirmed int // reservations whose purchase was recorded
	Released  int // reservations without a live purchase, stock given back
	Paid      int // payment attempts charged but unrecorded, now recorded
	Refunded  int // payment attempts charged for cancelled purchases, refunded
	Failed    int // payment attempts that charged nothing, closed
	Expired   int // purchases unpaid past their deadline, cancelled
}

// Reconcile repairs what a crash between two steps can leave:
//   - a reservation still pending ReconcileAfter after it was made is
//     confirmed when its purchase was recorded (and not cancelled), and
//     released otherwise (Buy stopped before or after recording) — only
//     while still pending, so a Buy finishing at that moment keeps it;
//   - the reservations of purchases cancelled within ReleaseWindow are
//     released again, which does nothing for those already released (Cancel
//     stopped between cancelling and releasing);
//   - a payment attempt still pending ReconcileAfter after it began is
//     looked up at the processor: its charge is recorded as the payment
//     (purchase still pending) or refunded (purchase cancelled), and an
//     attempt without a charge is closed as failed;
//   - a purchase unpaid past its deadline (PayBy) is cancelled and its
//     stock released, unless a payment attempt is still pending (settled
//     first, by the step above).
//
// Every step is idempotent, so several instances may run it at once.
func (c *Checkout) Reconcile(ctx context.Context) (Reconciled, error) {
	now := c.clock()
	after := c.reconcileAfter
	if after <= 0 {
		after = ReconcileAfter
	}
	cancelled, err := c.store.CancelledSince(ctx, c.releasedSince(now))
	if err != nil {
		return Reconciled{}, fmt.Errorf("reconcile: %w", err)
	}
	var errs []error
	if err := c.releaseCancelled(ctx, cancelled, now, after); err != nil {
		if unavailable(err) {
			return Reconciled{}, fmt.Errorf("reconcile: %w", err) // the next pass does the rest
		}
		errs = append(errs, err)
	}
	done, err := c.settlePending(ctx, now.Add(-after))
	if err != nil {
		errs = append(errs, err)
	}
	if err := c.settlePayments(ctx, now.Add(-after), &done); err != nil {
		errs = append(errs, err)
	}
	if err := c.expireUnpaid(ctx, now, &done); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return done, fmt.Errorf("reconcile: %w", errors.Join(errs...))
	}
	return done, nil
}

func unavailable(err error) bool { return bookstore.ErrorCode(err) == bookstore.EUNAVAILABLE }

// releasedSince is where a pass starts looking for cancellations: after the
// last clean pass, or ReleaseWindow back on a process's first.
func (c *Checkout) releasedSince(now time.Time) time.Time {
	c.releasedMu.Lock()
	defer c.releasedMu.Unlock()
	return later(now.Add(-ReleaseWindow), c.releasedThrough)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// releaseCancelled gives back again the stock of the cancelled purchases,
// and stops at the first sign that the catalog is down.
func (c *Checkout) releaseCancelled(ctx context.Context, cancelled []Purchase, now time.Time, after time.Duration) error {
	var errs []error
	for _, p := range cancelled {
		if err := c.inventory.ReleaseStock(ctx, p.ReservationKey); err != nil {
			err = fmt.Errorf("release reservation of cancelled purchase %d: %w", p.ID, err)
			if unavailable(err) {
				return err
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// The next pass looks only at later cancellations, with a margin for a
	// Cancel stamped earlier (its clock, its retried commit) that was still
	// on its way now.
	c.releasedMu.Lock()
	c.releasedThrough = now.Add(-max(after, releasedMargin))
	c.releasedMu.Unlock()
	return nil
}

// settlePending confirms or gives up the reservations still pending that
// were made before the given time, and stops at the first sign that a
// dependency is down.
func (c *Checkout) settlePending(ctx context.Context, before time.Time) (Reconciled, error) {
	var done Reconciled
	pending, err := c.inventory.PendingReservations(ctx, before, 0)
	if err != nil {
		return done, err
	}
	var errs []error
	for _, r := range pending {
		if len(errs) > 0 && unavailable(errs[len(errs)-1]) {
			break // the next pass does the rest
		}
		p, err := c.store.PurchaseByReservationKey(ctx, r.Key)
		switch {
		case err == nil && p.Status != StatusCancelled:
			switch err := c.holdStock(ctx, p); {
			case err == nil:
				done.Confirmed++
			case bookstore.ErrorCode(err) == bookstore.ECONFLICT:
				// Another pass gave the reservation up just before the
				// purchase was recorded: holdStock cancelled the purchase.
			default:
				errs = append(errs, fmt.Errorf("confirm reservation %s of purchase %d: %w", r.Key, p.ID, err))
			}
		case err == nil: // cancelled: its stock goes back
			if err := c.inventory.ReleaseStock(ctx, r.Key); err != nil {
				errs = append(errs, fmt.Errorf("release reservation %s of cancelled purchase %d: %w", r.Key, p.ID, err))
			} else {
				done.Released++
			}
		case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
			// No purchase yet: abandon, so that a slow Buy recording and
			// confirming right now keeps its stock (ECONFLICT here) or
			// learns that its reservation is gone.
			err := c.inventory.AbandonStock(ctx, r.Key)
			switch {
			case bookstore.ErrorCode(err) == bookstore.ECONFLICT:
				// Its Buy confirmed it meanwhile: nothing to repair.
			case err != nil:
				errs = append(errs, fmt.Errorf("release reservation %s: %w", r.Key, err))
			default:
				done.Released++
			}
		default:
			errs = append(errs, fmt.Errorf("purchase of reservation %s: %w", r.Key, err))
		}
	}
	return done, errors.Join(errs...)
}
