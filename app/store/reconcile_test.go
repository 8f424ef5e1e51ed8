package store_test

import (
	"fmt"
	"sync"
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
			must(t, purchases.CreatePurchase(ctx, &p, 0))
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

// AbandonStock gives back only a pending reservation: a confirmed one keeps
// its units (ECONFLICT), and racing a confirmation, exactly one side wins.
func TestAbandonStockOnlyReleasesPending(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := suite{b}
			ctx := ctxT(t)
			books := store.NewCatalogStore(s.fresh(t))
			bk := createBook(t, books, "Ficciones", "Jorge Luis Borges", 1500, 10, 1)
			stock := func() int {
				t.Helper()
				got, err := books.GetBook(ctx, bk.ID)
				must(t, err)
				return got.Stock
			}
			for _, key := range []string{"pending", "confirmed"} {
				_, err := books.ReserveStock(ctx, key, bk.ID, 2)
				must(t, err)
			}
			must(t, books.ConfirmStock(ctx, "confirmed"))

			wantCode(t, books.AbandonStock(ctx, "confirmed"), bookstore.ECONFLICT)
			if got := stock(); got != 6 {
				t.Fatalf("stock = %d after abandoning a confirmed reservation, want 6", got)
			}
			must(t, books.AbandonStock(ctx, "pending"))
			must(t, books.AbandonStock(ctx, "pending")) // once only
			must(t, books.AbandonStock(ctx, "unknown"))
			if got := stock(); got != 8 {
				t.Fatalf("stock = %d after abandoning the pending reservation, want 8", got)
			}
			wantCode(t, books.ConfirmStock(ctx, "pending"), bookstore.ECONFLICT)
			// Cancelling a confirmed purchase still releases it.
			must(t, books.ReleaseStock(ctx, "confirmed"))
			if got := stock(); got != 10 {
				t.Fatalf("stock = %d after releasing the confirmed reservation, want 10", got)
			}

			// Abandon and confirm racing: either the reservation is confirmed
			// and holds its units, or it is released and confirm says so.
			for i := 0; i < 10; i++ {
				key := fmt.Sprintf("race-%d", i)
				_, err := books.ReserveStock(ctx, key, bk.ID, 1)
				must(t, err)
				var abandonErr, confirmErr error
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); abandonErr = books.AbandonStock(ctx, key) }()
				go func() { defer wg.Done(); confirmErr = books.ConfirmStock(ctx, key) }()
				wg.Wait()
				abandoned := abandonErr == nil
				confirmed := confirmErr == nil
				if abandoned == confirmed {
					t.Fatalf("race %d: abandon err %v, confirm err %v; want exactly one to win", i, abandonErr, confirmErr)
				}
				if !abandoned {
					wantCode(t, abandonErr, bookstore.ECONFLICT)
					must(t, books.ReleaseStock(ctx, key)) // back to 10 for the next round
				} else {
					wantCode(t, confirmErr, bookstore.ECONFLICT)
				}
				if got := stock(); got != 10 {
					t.Fatalf("race %d: stock = %d, want 10", i, got)
				}
			}
		})
	}
}
