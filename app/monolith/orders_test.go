package monolith_test

import (
	"context"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// The monolith's checkout takes BOOKSTORE_PAYMENT_WINDOW and
// BOOKSTORE_MAX_OPEN_ORDERS from its configuration.
func TestOrderSettingsReachTheCheckout(t *testing.T) {
	cfg := testConfig(t)
	cfg.PaymentWindow = 7 * time.Minute
	cfg.MaxOpenOrders = 2
	app := newApp(t, cfg)
	ctx := context.Background()
	seller := bookstore.Caller{UserID: 1, Role: bookstore.RoleUser}
	b, err := app.Catalog.CreateBook(ctx, seller, catalog.BookInput{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	buyer := bookstore.Caller{UserID: 2, Role: bookstore.RoleUser}
	before := time.Now().UTC()
	for i := range 2 {
		p, err := app.Purchase.Buy(ctx, buyer, purchase.BuyInput{BookID: b.ID, Quantity: 1})
		if err != nil {
			t.Fatalf("buy %d: %v", i+1, err)
		}
		if d := p.PayBy.Sub(before); d < 7*time.Minute-time.Second || d > 7*time.Minute+time.Minute {
			t.Fatalf("pay_by %v is %v after the purchase, want 7m", p.PayBy, d)
		}
	}
	_, err = app.Purchase.Buy(ctx, buyer, purchase.BuyInput{BookID: b.ID, Quantity: 1})
	if bookstore.ErrorCode(err) != bookstore.ECONFLICT {
		t.Fatalf("third unpaid order: %v, want a conflict", err)
	}
}
