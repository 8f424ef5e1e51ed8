package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newPurchase(buyer, book int64, key string, at time.Time) purchase.Purchase {
	return purchase.Purchase{BuyerID: buyer, BookID: book, BookTitle: "Dune", Quantity: 2, UnitPriceCents: 1999,
		TotalCents: 3998, Status: purchase.StatusPendingPayment, ReservationKey: key, CreatedAt: at, UpdatedAt: at}
}

func (s suite) testPurchases(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewPurchaseStore(s.fresh(t))
	p1 := newPurchase(10, 1, "k1", t0)
	must(t, st.CreatePurchase(ctx, &p1, 0))
	p2 := newPurchase(10, 2, "k2", t0.Add(time.Minute))
	must(t, st.CreatePurchase(ctx, &p2, 0))
	other := newPurchase(11, 1, "k3", t0)
	must(t, st.CreatePurchase(ctx, &other, 0))
	dup := newPurchase(10, 1, "k1", t0)
	wantCode(t, st.CreatePurchase(ctx, &dup, 0), bookstore.ECONFLICT) // one purchase per reservation

	got, err := st.GetPurchase(ctx, p1.ID)
	must(t, err)
	if got != p1 || got.Payment != nil || got.Delivery != nil {
		t.Fatalf("GetPurchase = %+v, want %+v", got, p1)
	}
	_, err = st.GetPurchase(ctx, 999999)
	wantCode(t, err, bookstore.ENOTFOUND)

	mine, err := st.ListPurchases(ctx, 10)
	must(t, err)
	if len(mine) != 2 || mine[0].ID != p2.ID || mine[1].ID != p1.ID {
		t.Fatalf("ListPurchases(10) = %+v, want newest first [%d %d]", mine, p2.ID, p1.ID)
	}
	none, err := st.ListPurchases(ctx, 12)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("a buyer without purchases has %d", len(none))
	}

	// Transitions are conditional on the current status.
	must(t, st.Transition(ctx, p1.ID, purchase.StatusPendingPayment, purchase.StatusCancelled, t0.Add(time.Hour)))
	got, _ = st.GetPurchase(ctx, p1.ID)
	if got.Status != purchase.StatusCancelled || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after cancel: %+v", got)
	}
	wantCode(t, st.Transition(ctx, p1.ID, purchase.StatusPendingPayment, purchase.StatusCancelled, t0), bookstore.ECONFLICT)
	wantCode(t, st.Transition(ctx, 999999, purchase.StatusPendingPayment, purchase.StatusCancelled, t0), bookstore.ENOTFOUND)

	provs, err := st.ListProviders(ctx)
	must(t, err)
	p, err := st.GetProvider(ctx, provs[0].ID)
	must(t, err)
	if p != provs[0] {
		t.Fatalf("GetProvider = %+v, want %+v", p, provs[0])
	}
	_, err = st.GetProvider(ctx, 999999)
	wantCode(t, err, bookstore.ENOTFOUND)
}

func (s suite) testPaymentAndDelivery(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	st := store.NewPurchaseStore(db)
	p := newPurchase(10, 1, "k1", t0)
	must(t, st.CreatePurchase(ctx, &p, 0))
	provs, err := st.ListProviders(ctx)
	must(t, err)
	dhl := provs[0]

	// No delivery before payment.
	d := purchase.Delivery{PurchaseID: p.ID, ProviderID: dhl.ID, ProviderName: dhl.Name, Address: "Calle 1 # 2-3, Bogotá", CostCents: dhl.CostCents, CreatedAt: t0}
	wantCode(t, st.RecordDelivery(ctx, &d), bookstore.ECONFLICT)

	pay := purchase.Payment{PurchaseID: p.ID, Method: "card", CardLast4: "4242", CardHolder: "Ada", AmountCents: 3998,
		ProviderRef: "sim_1", CreatedAt: t0.Add(time.Minute)}
	must(t, st.RecordPayment(ctx, &pay, ""))
	if pay.ID == 0 {
		t.Fatal("payment has no ID")
	}
	got, err := st.GetPurchase(ctx, p.ID)
	must(t, err)
	if got.Status != purchase.StatusPaid || got.Payment == nil || *got.Payment != pay {
		t.Fatalf("after payment: %+v (payment %+v), want %+v", got, got.Payment, pay)
	}
	again := pay
	again.ID = 0
	wantCode(t, st.RecordPayment(ctx, &again, ""), bookstore.ECONFLICT)
	wantCode(t, st.RecordPayment(ctx, &purchase.Payment{PurchaseID: 999999, Method: "card", CardLast4: "4242"}, ""), bookstore.ENOTFOUND)
	if n := count(t, db, "payments", ""); n != 1 {
		t.Fatalf("%d payments, want 1", n)
	}

	bad := d
	bad.ProviderID = 999999
	wantCode(t, st.RecordDelivery(ctx, &bad), bookstore.ENOTFOUND)
	must(t, st.RecordDelivery(ctx, &d))
	got, _ = st.GetPurchase(ctx, p.ID)
	if got.Status != purchase.StatusShipped || got.Delivery == nil || *got.Delivery != d || got.Payment == nil {
		t.Fatalf("after delivery: %+v (delivery %+v), want %+v", got, got.Delivery, d)
	}
	wantCode(t, st.RecordDelivery(ctx, &d), bookstore.ECONFLICT)

	list, err := st.ListPurchases(ctx, 10)
	must(t, err)
	if len(list) != 1 || list[0].Payment == nil || list[0].Delivery == nil || *list[0].Delivery != d {
		t.Fatalf("ListPurchases lost payment or delivery: %+v", list)
	}
}

// Of many payments recorded for one purchase at once, exactly one wins.
func (s suite) testRecordPaymentConcurrently(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	st := store.NewPurchaseStore(db)
	p := newPurchase(10, 1, "k1", t0)
	must(t, st.CreatePurchase(ctx, &p, 0))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = st.RecordPayment(ctx, &purchase.Payment{PurchaseID: p.ID, Method: "card", CardLast4: "4242",
				CardHolder: "Ada", AmountCents: 3998, ProviderRef: "sim", CreatedAt: t0}, "")
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch bookstore.ErrorCode(err) {
		case "":
			wins++
		case bookstore.ECONFLICT:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d payments succeeded, want 1", wins)
	}
	if c := count(t, db, "payments", "purchase_id = ?", p.ID); c != 1 {
		t.Fatalf("%d payment rows, want 1", c)
	}
}
