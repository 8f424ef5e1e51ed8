package services_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/store"
)

// The purchase service enforces BOOKSTORE_MAX_OPEN_ORDERS, and its
// reconciler cancels an order unpaid past its deadline and gives the stock
// back to the catalog service.
func TestPurchaseServiceLimitsAndExpiresUnpaidOrders(t *testing.T) {
	dsns := map[config.Role]string{}
	c := startCluster(t, func(t testing.TB, role config.Role) string {
		dsns[role] = sqliteDSN(t, role)
		return dsns[role]
	}, map[string]string{
		"BOOKSTORE_MAX_OPEN_ORDERS":    "2",
		"BOOKSTORE_PAYMENT_WINDOW":     "5m",
		"BOOKSTORE_RECONCILE_INTERVAL": "1s",
	})
	purchase := api{t: t, base: c.URL[config.PurchaseService]}
	seller := purchase.signUp("Seller")
	id := seller.book(10)
	buyer := purchase.signUp("Buyer")
	var first int64
	for i := range 2 {
		st, out := buyer.do("POST", "/api/v1/purchases", map[string]any{"book_id": id, "quantity": 2})
		if st != http.StatusCreated {
			t.Fatalf("buy %d: %d %v", i+1, st, out)
		}
		payBy, err := time.Parse(time.RFC3339, fmt.Sprint(out["pay_by"]))
		if err != nil || time.Until(payBy) < 4*time.Minute || time.Until(payBy) > 6*time.Minute {
			t.Fatalf("pay_by = %v (%v), want in about 5m", out["pay_by"], err)
		}
		if i == 0 {
			first = int64(out["id"].(float64))
		}
	}
	st, out := buyer.do("POST", "/api/v1/purchases", map[string]any{"book_id": id, "quantity": 1})
	if st != http.StatusConflict || !strings.Contains(fmt.Sprint(out["error"]), "unpaid orders") {
		t.Fatalf("third unpaid order: %d %v, want 409 naming the unpaid orders", st, out)
	}
	if got := seller.stock(id); got != 6 {
		t.Fatalf("stock = %d, want 6", got)
	}

	// The first order's deadline passes (moved back in its database).
	db, err := store.Open(context.Background(), dsns[config.PurchaseService])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec("UPDATE purchases SET pay_by = ? WHERE id = ?", time.Now().UTC().Add(-time.Minute), first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, p := buyer.do("GET", fmt.Sprintf("/api/v1/purchases/%d", first), nil)
		if p["status"] == "cancelled" && seller.stock(id) == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired order is %v and the stock %d; want cancelled and 8", p["status"], seller.stock(id))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Its place is free again.
	if st, out := buyer.do("POST", "/api/v1/purchases", map[string]any{"book_id": id, "quantity": 1}); st != http.StatusCreated {
		t.Fatalf("buy after the expiry: %d %v", st, out)
	}
}
