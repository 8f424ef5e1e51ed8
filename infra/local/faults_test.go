package local_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/local"
)

const (
	loadBuyers   = 6
	loadBooks    = 4
	initialStock = 100000 // never runs out: every purchase must succeed
)

// While buyers read the catalog and buy through the front, app1 gets
// SIGTERM (it drains and exits) and then app2 gets SIGKILL. So that the
// kill lands in the middle of requests rather than between them, app2 is
// frozen (SIGSTOP) for a moment first: the buyers' requests routed to it
// pile up unanswered, then die with it. Afterwards:
//   - every purchase a buyer got a success for exists exactly once, as the
//     buyer last saw it, and no purchase exists that no buyer knows of;
//   - each book's stock adds up: initial = current + units in non-cancelled
//     purchases + units held by reservations a killed request left half-done
//     (the reconciler gives those back; only requests with an unknown
//     outcome can leave one);
//   - no GET failed at all: the client never retries a GET, NGINX does, on
//     the next instance, when one refuses the connection or dies mid-request.
func testFaultsUnderLoad(t *testing.T, topo *local.Topology, db *sql.DB, front, seller apiClient, logs *lockedBuffer) {
	var books []int64
	for i := range loadBooks {
		var b apiBook
		seller.must(t, http.MethodPost, "api/v1/books", map[string]any{"title": fmt.Sprintf("Load %d", i), "author": "Many Hands",
			"description": "Bought again and again while instances fail.", "price_cents": 999, "stock": initialStock}, http.StatusCreated, &b)
		books = append(books, b.ID)
	}
	var buyers []apiClient
	var buyerIDs []any
	for i := range loadBuyers {
		c, u := front.signUp(t, fmt.Sprintf("buyer%d", i))
		buyers = append(buyers, c)
		buyerIDs = append(buyerIDs, u.ID)
	}
	begin := time.Now()
	l := startLoad(buyers, books)
	stopped := false
	defer func() {
		if !stopped {
			l.stop()
		}
	}()
	waitFor(t, 20*time.Second, "20 purchases before the faults", func() bool { return l.purchases() >= 20 })

	term := time.Now()
	if err := topo.Signal("app1", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if err := topo.Wait(ctx, "app1"); err != nil {
		t.Fatal(err)
	}
	drained := time.Now()
	time.Sleep(time.Second)
	atTerm := l.purchases()

	if err := topo.Signal("app2", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	kill := time.Now()
	if err := topo.Signal("app2", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	atKill := l.purchases()
	waitFor(t, 20*time.Second, "10 purchases after the kill", func() bool { return l.purchases() >= atKill+10 })
	time.Sleep(time.Second)
	l.stop()
	stopped = true
	end := time.Now()
	t.Logf("load: %d GETs, %d purchases (%d at SIGTERM+drain, %d at SIGKILL), %d unknown outcomes retried, %d abandoned keys; app1 drained in %s",
		len(l.gets), len(l.bought), atTerm, atKill, l.ambiguous, l.abandoned, drained.Sub(term).Round(time.Millisecond))

	select {
	case err := <-topo.Exited():
		t.Errorf("the rehearsal reported a failure though app3 still serves: %v", err)
	default:
	}
	graceful := false
	for _, line := range appLogs(logs.String())["app1"] {
		graceful = graceful || line.Msg == "stopped"
	}
	if !graceful {
		t.Error("app1 did not log a graceful stop after SIGTERM")
	}
	for _, p := range l.problems {
		t.Errorf("load: %s", p)
	}

	// Round robin before the faults: every instance served reads.
	before, _ := l.servedBy(begin, term)
	for _, in := range topo.Instances {
		if before[strings.TrimSuffix(strings.TrimPrefix(in.URL, "http://"), "/")] == 0 {
			t.Errorf("%s served no GET before the faults: %v", in.Name, before)
		}
	}
	if failed := l.failedGets(term, end); len(failed) > 0 {
		t.Errorf("%d GETs failed after the SIGTERM; NGINX must retry them on a live instance:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	if failed := l.failedGets(begin, term); len(failed) > 0 {
		t.Errorf("%d GETs failed before any fault:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	// The GETs that were waiting on the frozen app2 when it died.
	if _, retried := l.servedBy(kill, end); retried == 0 {
		t.Error("no GET was retried by the balancer after the SIGKILL: the kill interrupted nothing, the test proved nothing")
	} else {
		t.Logf("GETs the balancer retried on another instance after the SIGKILL: %d", retried)
	}

	checkPurchasesExactlyOnce(t, db, l, buyerIDs)
	held := checkStock(t, db, books)
	if held.reservations > l.ambiguous {
		t.Errorf("%d reservations are held without a live purchase, but only %d requests had an unknown outcome", held.reservations, l.ambiguous)
	}
	// The surviving instances' reconcilers give such stock back: then
	// nothing is held and every book adds up exactly.
	waitFor(t, 30*time.Second, "the reconciler to release the stock killed requests held", func() bool {
		return checkStock(t, db, books).units == 0
	})
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkPurchasesExactlyOnce compares the buyers' view with the database.
func checkPurchasesExactlyOnce(t *testing.T, db *sql.DB, l *load, buyerIDs []any) {
	t.Helper()
	q := "SELECT id, buyer_id, book_id, quantity, status FROM purchases WHERE buyer_id IN (?" + strings.Repeat(",?", len(buyerIDs)-1) + ")"
	rows, err := db.Query(q, buyerIDs...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	inDB := map[int64]apiPurchase{}
	for rows.Next() {
		var p apiPurchase
		if err := rows.Scan(&p.ID, &p.BuyerID, &p.BookID, &p.Quantity, &p.Status); err != nil {
			t.Fatal(err)
		}
		inDB[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	claimed := map[int64]int{}
	for _, b := range l.bought {
		claimed[b.ID]++
		p, ok := inDB[b.ID]
		switch {
		case !ok:
			t.Errorf("purchase %d was answered as made but is not in the database (lost)", b.ID)
		case p.BuyerID != b.BuyerID || p.BookID != b.BookID || p.Quantity != b.Quantity:
			t.Errorf("purchase %d is %+v in the database, the buyer was told %+v", b.ID, p, b.apiPurchase)
		case b.cancelled != (p.Status == "cancelled"):
			t.Errorf("purchase %d is %s in the database; the buyer cancelled it: %v", b.ID, p.Status, b.cancelled)
		}
	}
	for id, n := range claimed {
		if n > 1 {
			t.Errorf("purchase %d was answered to %d different intended purchases", id, n)
		}
	}
	for id, p := range inDB {
		if claimed[id] == 0 {
			t.Errorf("purchase %d (%d × book %d for buyer %d) exists but no buyer was told of it: a retry bought twice", id, p.Quantity, p.BookID, p.BuyerID)
		}
	}
	if len(inDB) != len(l.bought) {
		t.Errorf("%d purchases in the database for %d intended and answered", len(inDB), len(l.bought))
	}
}

type heldStock struct{ reservations, units int }

// checkStock checks initial = current + sold + held for every book, where
// held is stock reserved by a reservation that is neither released nor
// backing a live purchase.
func checkStock(t *testing.T, db *sql.DB, books []int64) heldStock {
	t.Helper()
	var total heldStock
	for _, id := range books {
		var stock, sold int
		var held heldStock
		if err := db.QueryRow("SELECT stock FROM books WHERE id = ?", id).Scan(&stock); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT COALESCE(SUM(quantity), 0) FROM purchases WHERE book_id = ? AND status <> 'cancelled'", id).Scan(&sold); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(r.quantity), 0) FROM stock_reservations r
			LEFT JOIN purchases p ON p.reservation_key = r.reservation_key
			WHERE r.book_id = ? AND r.released = FALSE AND (p.id IS NULL OR p.status = 'cancelled')`, id).Scan(&held.reservations, &held.units); err != nil {
			t.Fatal(err)
		}
		if initialStock != stock+sold+held.units {
			t.Errorf("book %d: initial stock %d ≠ current %d + sold %d + held %d", id, initialStock, stock, sold, held.units)
		}
		if sold == 0 {
			t.Errorf("book %d sold nothing: the load did not exercise it", id)
		}
		total.reservations += held.reservations
		total.units += held.units
	}
	if total.reservations > 0 {
		t.Logf("%d reservations (%d units) were left half-done by the SIGKILL; the reconciler releases them", total.reservations, total.units)
	}
	return total
}
