package store_test

import (
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/store"
)

// TestReservationLifecycle covers what the reconciler relies on, on every
// backend: confirming, listing pending reservations, and finding purchases
// by reservation key or by recent cancellation.
func TestReservationLifecycle(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := suite{b}
			ctx := ctxT(t)
			db := s.fresh(t)
			books, purchases := store.NewCatalogStore(db), store.NewPurchaseStore(db)
			bk := createBook(t, books, "Rayuela", "Julio Cortázar", 2100, 10, 1)
			for _, key := range []string{"recorded", "crashed", "released"} {
				_, err := books.ReserveStock(ctx, key, bk.ID, 1)
				must(t, err)
			}
			must(t, books.ReleaseStock(ctx, "released"))
			must(t, books.ConfirmStock(ctx, "recorded"))
			must(t, books.ConfirmStock(ctx, "recorded")) // twice is fine
			wantCode(t, books.ConfirmStock(ctx, "released"), bookstore.ECONFLICT)
			wantCode(t, books.ConfirmStock(ctx, "unknown"), bookstore.ENOTFOUND)

			future := time.Now().Add(time.Minute)
			pending, err := books.PendingReservations(ctx, future, 10)
			must(t, err)
			if len(pending) != 1 || pending[0].Key != "crashed" || pending[0].Confirmed || pending[0].CreatedAt.Location() != time.UTC {
				t.Fatalf("pending = %+v, want only the crashed reservation", pending)
			}
			if pending, _ := books.PendingReservations(ctx, time.Now().Add(-time.Hour), 10); len(pending) != 0 {
				t.Fatalf("pending before the reservations were made = %+v", pending)
			}

			at := time.Now().UTC()
			p := newPurchase(7, bk.ID, "recorded", at)
			must(t, purchases.CreatePurchase(ctx, &p))
			got, err := purchases.PurchaseByReservationKey(ctx, "recorded")
			must(t, err)
			if got.ID != p.ID {
				t.Fatalf("purchase by key = %d, want %d", got.ID, p.ID)
			}
			_, err = purchases.PurchaseByReservationKey(ctx, "crashed")
			wantCode(t, err, bookstore.ENOTFOUND)

			must(t, purchases.Transition(ctx, p.ID, purchase.StatusPendingPayment, purchase.StatusCancelled, at))
			cancelled, err := purchases.CancelledSince(ctx, at.Add(-time.Minute))
			must(t, err)
			if len(cancelled) != 1 || cancelled[0].ID != p.ID || cancelled[0].ReservationKey != "recorded" {
				t.Fatalf("cancelled since = %+v", cancelled)
			}
			if cancelled, _ := purchases.CancelledSince(ctx, at.Add(time.Minute)); len(cancelled) != 0 {
				t.Fatalf("cancelled since later = %+v", cancelled)
			}
		})
	}
}
