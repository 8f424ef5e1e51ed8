package purchase

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

var (
	ctx   = context.Background()
	anon  = bookstore.Caller{}
	buyer = bookstore.Caller{UserID: 20, Role: bookstore.RoleUser}
	other = bookstore.Caller{UserID: 21, Role: bookstore.RoleUser}
	admin = bookstore.Caller{UserID: 1, Role: bookstore.RoleAdmin}
	book  = catalog.Book{ID: 5, Title: "Ficciones", Author: "Borges", PriceCents: 1250, Stock: 10, SellerID: 10}
	card  = PaymentInput{Method: "card", CardNumber: "4242424242424242", CardHolder: "Ana Buyer"}
	now   = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("COT", -5*3600))
)

type env struct {
	co   *Checkout
	st   *fakeStore
	inv  *fakeInventory
	proc *recordingProcessor
}

func newEnv(wait int) env {
	e := env{st: newFakeStore(), inv: newFakeInventory(book), proc: newRecordingProcessor(wait)}
	e.co = New(e.st, e.inv, e.proc)
	e.co.now = func() time.Time { return now }
	e.inv.now = func() time.Time { return now.UTC() }
	return e
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bookstore.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func (e env) buy(t *testing.T, qty int) Purchase {
	t.Helper()
	p, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: qty})
	if err != nil {
		t.Fatalf("Buy: %v", err)
	}
	return p
}

func (e env) paid(t *testing.T, qty int) Purchase {
	t.Helper()
	p, err := e.co.Pay(ctx, buyer, e.buy(t, qty).ID, card)
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	return p
}

func TestBuyTakesThePriceFromTheReservation(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 3)
	if p.ID == 0 || p.BuyerID != buyer.UserID || p.BookID != book.ID || p.Quantity != 3 || p.Status != StatusPendingPayment {
		t.Errorf("purchase = %+v", p)
	}
	if p.UnitPriceCents != 1250 || p.TotalCents != 3750 {
		t.Errorf("unit %d total %d, want 1250 and 3750 cents", p.UnitPriceCents, p.TotalCents)
	}
	if p.BookTitle != book.Title {
		t.Errorf("title %q, want the catalog's %q", p.BookTitle, book.Title)
	}
	if e.inv.stock(book.ID) != 7 {
		t.Errorf("stock = %d, want 7", e.inv.stock(book.ID))
	}
	r, ok := e.inv.reservations[p.ReservationKey]
	if !ok || r.Quantity != 3 {
		t.Errorf("purchase key %q does not name its reservation", p.ReservationKey)
	}
	if !p.CreatedAt.Equal(now) || p.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", p.CreatedAt, now.UTC())
	}

	// A later price change in the catalog does not touch the purchase.
	e.inv.books[book.ID] = catalog.Book{ID: book.ID, Title: "Ficciones", PriceCents: 1, Stock: 7}
	got, _ := e.co.GetPurchase(ctx, buyer, p.ID)
	if got.UnitPriceCents != 1250 {
		t.Errorf("unit price became %d", got.UnitPriceCents)
	}
	// Each purchase gets its own reservation.
	if p2 := e.buy(t, 1); p2.ReservationKey == p.ReservationKey || p2.UnitPriceCents != 1 {
		t.Errorf("second purchase %+v", p2)
	}
}

func TestBuyRefusals(t *testing.T) {
	tests := []struct {
		name   string
		caller bookstore.Caller
		in     BuyInput
		code   string
	}{
		{"anonymous", anon, BuyInput{BookID: book.ID, Quantity: 1}, bookstore.EUNAUTHORIZED},
		{"quantity 0", buyer, BuyInput{BookID: book.ID, Quantity: 0}, bookstore.EINVALID},
		{"negative quantity", buyer, BuyInput{BookID: book.ID, Quantity: -1}, bookstore.EINVALID},
		{"over the maximum", buyer, BuyInput{BookID: book.ID, Quantity: MaxQuantity + 1}, bookstore.EINVALID},
		{"no book", buyer, BuyInput{Quantity: 1}, bookstore.EINVALID},
		{"unknown book", buyer, BuyInput{BookID: 999, Quantity: 1}, bookstore.ENOTFOUND},
		{"not enough stock", buyer, BuyInput{BookID: book.ID, Quantity: 11}, bookstore.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(0)
			_, err := e.co.Buy(ctx, tt.caller, tt.in)
			wantCode(t, err, tt.code)
			if len(e.st.purchases) != 0 || e.inv.stock(book.ID) != book.Stock {
				t.Errorf("a refused purchase left %d purchases and stock %d", len(e.st.purchases), e.inv.stock(book.ID))
			}
		})
	}
	t.Run("maximum quantity", func(t *testing.T) {
		e := newEnv(0)
		e.inv.books[book.ID] = catalog.Book{ID: book.ID, Title: "Ficciones", PriceCents: 1250, Stock: MaxQuantity}
		p := e.buy(t, MaxQuantity)
		if p.TotalCents != 1250*MaxQuantity {
			t.Errorf("total = %d", p.TotalCents)
		}
	})
}

func TestBuyReleasesTheReservationWhenRecordingFails(t *testing.T) {
	e := newEnv(0)
	e.st.createErr = errors.New("disk full")
	_, err := e.co.Buy(ctx, buyer, BuyInput{BookID: book.ID, Quantity: 4})
	wantCode(t, err, bookstore.EINTERNAL)
	if e.inv.reserveCalls != 1 || e.inv.releases != 1 || e.inv.stock(book.ID) != book.Stock {
		t.Errorf("reserved %d, released %d, stock %d; want the stock back at %d",
			e.inv.reserveCalls, e.inv.releases, e.inv.stock(book.ID), book.Stock)
	}
}

func TestPurchasesAreVisibleToTheirBuyerAndAdmins(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)

	_, err := e.co.GetPurchase(ctx, other, p.ID)
	wantCode(t, err, bookstore.ENOTFOUND)
	_, err = e.co.GetPurchase(ctx, anon, p.ID)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	_, err = e.co.GetPurchase(ctx, buyer, 999)
	wantCode(t, err, bookstore.ENOTFOUND)
	if got, err := e.co.GetPurchase(ctx, buyer, p.ID); err != nil || got.ID != p.ID {
		t.Errorf("buyer: %+v, %v", got, err)
	}
	if got, err := e.co.GetPurchase(ctx, admin, p.ID); err != nil || got.ID != p.ID {
		t.Errorf("admin: %+v, %v", got, err)
	}

	mine, err := e.co.ListPurchases(ctx, buyer)
	if err != nil || len(mine) != 1 || mine[0].ID != p.ID {
		t.Errorf("buyer's list = %+v, %v", mine, err)
	}
	theirs, err := e.co.ListPurchases(ctx, other)
	if err != nil || theirs == nil || len(theirs) != 0 {
		t.Errorf("other's list = %#v, %v; want an empty, non-nil list", theirs, err)
	}
	_, err = e.co.ListPurchases(ctx, anon)
	wantCode(t, err, bookstore.EUNAUTHORIZED)

	// Someone else's purchase cannot be changed either.
	_, err = e.co.Cancel(ctx, other, p.ID)
	wantCode(t, err, bookstore.ENOTFOUND)
	_, err = e.co.Pay(ctx, other, p.ID, card)
	wantCode(t, err, bookstore.ENOTFOUND)
	if got, _ := e.co.GetPurchase(ctx, buyer, p.ID); got.Status != StatusPendingPayment || len(e.proc.calls()) != 0 {
		t.Errorf("another user changed the purchase: %s, %d charges", got.Status, len(e.proc.calls()))
	}
}

func TestCancelReleasesStockOnce(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 4)
	got, err := e.co.Cancel(ctx, buyer, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusCancelled || e.inv.stock(book.ID) != book.Stock {
		t.Fatalf("status %s, stock %d; want cancelled and %d", got.Status, e.inv.stock(book.ID), book.Stock)
	}
	again, err := e.co.Cancel(ctx, buyer, p.ID)
	if err != nil || again.Status != StatusCancelled {
		t.Fatalf("second cancel = %s, %v", again.Status, err)
	}
	if e.inv.releases != 1 || e.inv.stock(book.ID) != book.Stock {
		t.Errorf("%d releases, stock %d; want one release", e.inv.releases, e.inv.stock(book.ID))
	}
	_, err = e.co.Pay(ctx, buyer, p.ID, card)
	wantCode(t, err, bookstore.ECONFLICT)
	_, err = e.co.ChooseDelivery(ctx, buyer, p.ID, DeliveryInput{ProviderID: 1, Address: "Calle 1"})
	wantCode(t, err, bookstore.ECONFLICT)
	if len(e.proc.calls()) != 0 {
		t.Error("a cancelled purchase was charged")
	}
}

func TestCancelRefusedOncePaid(t *testing.T) {
	e := newEnv(0)
	p := e.paid(t, 2)
	_, err := e.co.Cancel(ctx, buyer, p.ID)
	wantCode(t, err, bookstore.ECONFLICT)
	got, _ := e.co.GetPurchase(ctx, buyer, p.ID)
	if got.Status != StatusPaid || e.inv.releases != 0 || e.inv.stock(book.ID) != book.Stock-2 {
		t.Errorf("status %s, %d releases, stock %d after a refused cancel", got.Status, e.inv.releases, e.inv.stock(book.ID))
	}
	if _, err := e.co.ChooseDelivery(ctx, buyer, p.ID, DeliveryInput{ProviderID: 1, Address: "Calle 1"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.co.Cancel(ctx, buyer, p.ID)
	wantCode(t, err, bookstore.ECONFLICT)
}

func TestPay(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 3)
	got, err := e.co.Pay(ctx, buyer, p.ID, PaymentInput{CardNumber: " 4242 4242-4242 4242 ", CardHolder: "  Ana Buyer "})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusPaid || got.Payment == nil {
		t.Fatalf("after paying: %+v", got)
	}
	pay := *got.Payment
	if pay.AmountCents != 3750 || pay.CardLast4 != "4242" || pay.CardHolder != "Ana Buyer" || pay.Method != "card" || pay.ProviderRef == "" {
		t.Errorf("payment = %+v", pay)
	}
	calls := e.proc.calls()
	if len(calls) != 1 || calls[0].AmountCents != 3750 || calls[0].CardNumber != "4242424242424242" {
		t.Fatalf("charges asked = %+v, want one of 3750 cents to the cleaned number", calls)
	}

	// Paying again answers with the same payment and charges nothing more.
	again, err := e.co.Pay(ctx, buyer, p.ID, card)
	if err != nil || again.Payment == nil || *again.Payment != pay {
		t.Errorf("second Pay = %+v, %v; want the same payment", again.Payment, err)
	}
	if e.proc.inner.Charges() != 1 || len(e.proc.calls()) != 1 || e.st.paymentCount() != 1 {
		t.Errorf("charges %d (asked %d), payments %d; want 1", e.proc.inner.Charges(), len(e.proc.calls()), e.st.paymentCount())
	}
}

func TestPayDeclinedLeavesThePurchasePending(t *testing.T) {
	e := newEnv(0)
	p := e.buy(t, 1)
	_, err := e.co.Pay(ctx, buyer, p.ID, PaymentInput{Method: "card", CardNumber: DeclinedTestCard, CardHolder: "Ana"})
	wantCode(t, err, bookstore.EPAYMENT)
	got, _ := e.co.GetPurchase(ctx, buyer, p.ID)
	if got.Status != StatusPendingPayment || got.Payment != nil || e.proc.inner.Charges() != 0 {
		t.Fatalf("after a declined card: status %s, payment %v, charges %d", got.Status, got.Payment, e.proc.inner.Charges())
	}
	// Another card works afterwards.
	if got, err := e.co.Pay(ctx, buyer, p.ID, card); err != nil || got.Status != StatusPaid {
		t.Errorf("retry with a good card = %s, %v", got.Status, err)
	}
}

func TestPayInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		in   PaymentInput
	}{
		{"fails Luhn", PaymentInput{CardNumber: "4242424242424241", CardHolder: "Ana"}},
		{"letters", PaymentInput{CardNumber: "4242abcd42424242", CardHolder: "Ana"}},
		{"too short", PaymentInput{CardNumber: "42420", CardHolder: "Ana"}},
		{"empty number", PaymentInput{CardHolder: "Ana"}},
		{"no holder", PaymentInput{CardNumber: "4242424242424242", CardHolder: "  "}},
		{"holder too long", PaymentInput{CardNumber: "4242424242424242", CardHolder: strings.Repeat("ñ", 101)}},
		{"other method", PaymentInput{Method: "cash", CardNumber: "4242424242424242", CardHolder: "Ana"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(0)
			p := e.buy(t, 1)
			_, err := e.co.Pay(ctx, buyer, p.ID, tt.in)
			wantCode(t, err, bookstore.EINVALID)
			if len(e.proc.calls()) != 0 {
				t.Error("an invalid payment reached the processor")
			}
			if got, _ := e.co.GetPurchase(ctx, buyer, p.ID); got.Status != StatusPendingPayment {
				t.Errorf("status = %s", got.Status)
			}
		})
	}
}

func TestConcurrentPayChargesOnce(t *testing.T) {
	const n = 8
	e := newEnv(n) // the processor holds every call until all n arrive
	p := e.buy(t, 2)

	var wg sync.WaitGroup
	results := make([]Purchase, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.co.Pay(ctx, buyer, p.ID, card)
		}()
	}
	wg.Wait()

	if e.proc.inner.Charges() != 1 || e.st.paymentCount() != 1 {
		t.Fatalf("%d charges and %d payments, want 1 each", e.proc.inner.Charges(), e.st.paymentCount())
	}
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Errorf("Pay #%d: %v", i, errs[i])
			continue
		}
		if results[i].Status != StatusPaid || results[i].Payment == nil || results[i].Payment.ID != results[0].Payment.ID {
			t.Errorf("Pay #%d = %s %+v, want the one payment", i, results[i].Status, results[i].Payment)
		}
	}
	// Every caller used the same idempotency key, which is what makes the
	// processor charge once.
	for _, c := range e.proc.calls() {
		if c.IdempotencyKey != e.proc.calls()[0].IdempotencyKey {
			t.Errorf("idempotency keys differ: %q vs %q", c.IdempotencyKey, e.proc.calls()[0].IdempotencyKey)
		}
	}
}

func TestChooseDelivery(t *testing.T) {
	e := newEnv(0)
	pending := e.buy(t, 1)
	_, err := e.co.ChooseDelivery(ctx, buyer, pending.ID, DeliveryInput{ProviderID: 1, Address: "Calle 1"})
	wantCode(t, err, bookstore.ECONFLICT)

	p := e.paid(t, 2)
	refusals := []struct {
		name string
		in   DeliveryInput
		code string
	}{
		{"unknown provider", DeliveryInput{ProviderID: 99, Address: "Calle 1"}, bookstore.ENOTFOUND},
		{"no address", DeliveryInput{ProviderID: 1, Address: ""}, bookstore.EINVALID},
		{"blank address", DeliveryInput{ProviderID: 1, Address: " \n\t "}, bookstore.EINVALID},
		{"address too long", DeliveryInput{ProviderID: 1, Address: strings.Repeat("ñ", 501)}, bookstore.EINVALID},
	}
	for _, r := range refusals {
		_, err := e.co.ChooseDelivery(ctx, buyer, p.ID, r.in)
		if got := bookstore.ErrorCode(err); got != r.code {
			t.Errorf("%s: %v, want %s", r.name, err, r.code)
		}
	}
	_, err = e.co.ChooseDelivery(ctx, other, p.ID, DeliveryInput{ProviderID: 1, Address: "Calle 1"})
	wantCode(t, err, bookstore.ENOTFOUND)
	if got, _ := e.co.GetPurchase(ctx, buyer, p.ID); got.Status != StatusPaid || got.Delivery != nil {
		t.Fatalf("refusals changed the purchase: %s %+v", got.Status, got.Delivery)
	}

	servientrega := int64(4)
	got, err := e.co.ChooseDelivery(ctx, buyer, p.ID, DeliveryInput{ProviderID: servientrega, Address: "  Cra 7 # 12-34, Bogotá  "})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusShipped || got.Delivery == nil {
		t.Fatalf("after delivery: %+v", got)
	}
	if d := got.Delivery; d.ProviderName != "Servientrega" || d.CostCents != 1500 || d.Address != "Cra 7 # 12-34, Bogotá" {
		t.Errorf("delivery = %+v", d)
	}
	if got.Payment == nil {
		t.Error("shipped purchase lost its payment")
	}
	_, err = e.co.ChooseDelivery(ctx, buyer, p.ID, DeliveryInput{ProviderID: 1, Address: "Elsewhere"})
	wantCode(t, err, bookstore.ECONFLICT)
	// Paying a shipped purchase returns it as it is.
	if again, err := e.co.Pay(ctx, buyer, p.ID, card); err != nil || again.Status != StatusShipped {
		t.Errorf("Pay after shipping = %s, %v", again.Status, err)
	}
	if e.proc.inner.Charges() != 1 {
		t.Errorf("charges = %d, want 1", e.proc.inner.Charges())
	}
}

func TestProvidersCheapestFirst(t *testing.T) {
	e := newEnv(0)
	ps, err := e.co.Providers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "Servientrega,Envia,FedEx,DHL" {
		t.Errorf("providers = %s, want cheapest first", got)
	}

	e.st.providers = nil
	ps, err = e.co.Providers(ctx)
	if err != nil || ps == nil || len(ps) != 0 {
		t.Errorf("no providers = %#v, %v; want an empty, non-nil list", ps, err)
	}
}

// A cancel that lands while the card is being charged must not leave the
// buyer paying for a cancelled order: the charge is refunded.
func TestPayRacingCancelRefundsTheCharge(t *testing.T) {
	e := newEnv(1)
	p := e.buy(t, 1)
	e.proc.onCharge = func() {
		if _, err := e.co.Cancel(ctx, buyer, p.ID); err != nil {
			t.Errorf("Cancel during charge: %v", err)
		}
	}
	_, err := e.co.Pay(ctx, buyer, p.ID, card)
	wantCode(t, err, bookstore.ECONFLICT)
	if e.proc.inner.Charges() != 1 || e.proc.inner.Refunds() != 1 {
		t.Fatalf("charges %d refunds %d, want 1 and 1", e.proc.inner.Charges(), e.proc.inner.Refunds())
	}
	got, _ := e.st.GetPurchase(ctx, p.ID)
	if got.Status != StatusCancelled || got.Payment != nil {
		t.Fatalf("purchase after the race: %s payment %v, want cancelled without payment", got.Status, got.Payment)
	}
}
