package local_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/local"
)

// 50 buyers at once for a book with stock 10, through the gateway (the
// purchase service reserving in the catalog service over HTTP): exactly 10
// get 201 and 40 get 409, the catalog's database says stock 0 and the
// purchase service's holds 10 purchases.
func testFiftyBuyers(t *testing.T, services map[string]local.Instance, gateway apiClient) {
	seller, _ := gateway.signUp(t, "seller50")
	var b apiBook
	seller.must(t, http.MethodPost, "api/v1/books", map[string]any{"title": "Ten Copies Only", "author": "A. Scarce",
		"description": "Fifty people want it.", "price_cents": 1200, "stock": 10}, http.StatusCreated, &b)
	buyers := make([]apiClient, 50)
	for i := range buyers {
		buyers[i], _ = gateway.signUp(t, fmt.Sprintf("buyer50-%d", i))
	}
	statuses := make([]int, len(buyers))
	errs := make([]error, len(buyers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, buyer := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := buyer.do(context.Background(), http.MethodPost, "api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 1}, nil)
			statuses[i], errs[i] = res.Status, err
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for i, s := range statuses {
		if errs[i] != nil {
			t.Errorf("buyer %d: %v", i, errs[i])
		}
		count[s]++
	}
	if count[http.StatusCreated] != 10 || count[http.StatusConflict] != 40 {
		t.Errorf("statuses %v, want 10 × 201 and 40 × 409", count)
	}
	var stock, purchases int
	if err := openDB(t, services["catalog"].DBDSN).QueryRow("SELECT stock FROM books WHERE id = ?", b.ID).Scan(&stock); err != nil {
		t.Fatal(err)
	}
	if err := openDB(t, services["purchase"].DBDSN).QueryRow("SELECT COUNT(*) FROM purchases WHERE book_id = ?", b.ID).Scan(&purchases); err != nil {
		t.Fatal(err)
	}
	if stock != 0 || purchases != 10 {
		t.Errorf("after the rush: stock %d in the catalog's database and %d purchases in the purchase service's, want 0 and 10", stock, purchases)
	}
}

const (
	killBuyers     = 8
	killStock      = 100000 // never runs out: every purchase the catalog answers succeeds
	buyerTimeout   = 10 * time.Second
	unavailableMsg = "catalog service is unavailable"
)

// attempt is one purchase request of the load.
type attempt struct {
	at      time.Time
	took    time.Duration
	status  int
	err     error
	message string // the error JSON's message
	id      int64  // the purchase, on 201
}

// buyLoad is buyers buying one copy after another until stopped.
type buyLoad struct {
	mu       sync.Mutex
	attempts []attempt
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func startBuying(buyers []apiClient, book int64) *buyLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &buyLoad{cancel: cancel}
	for _, b := range buyers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				l.buy(b, book)
			}
		}()
	}
	return l
}

// buy sends one purchase with its own timeout (stopping the load never
// interrupts a request: its outcome must be known).
func (l *buyLoad) buy(b apiClient, book int64) {
	ctx, cancel := context.WithTimeout(context.Background(), buyerTimeout)
	defer cancel()
	a := attempt{at: time.Now()}
	res, err := b.do(ctx, http.MethodPost, "api/v1/purchases", map[string]any{"book_id": book, "quantity": 1}, nil)
	a.took, a.status, a.err = time.Since(a.at), res.Status, err
	var body struct {
		ID    int64  `json:"id"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(res.Body, &body)
	a.id, a.message = body.ID, body.Error
	if a.status != http.StatusServiceUnavailable {
		a.message = ""
	}
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
	if a.status == http.StatusCreated {
		// Paid at once, as a shopper would, so no buyer reaches the limit
		// of unpaid orders; a payment the outage refuses leaves its order
		// pending, which is still live.
		pctx, pcancel := context.WithTimeout(context.Background(), buyerTimeout)
		_, _ = b.do(pctx, http.MethodPost, fmt.Sprintf("api/v1/purchases/%d/payment", a.id),
			map[string]any{"method": "card", "card_number": "4242424242424242", "card_holder": "Kill Buyer"}, nil)
		pcancel()
	}
	if a.status != http.StatusCreated {
		time.Sleep(50 * time.Millisecond) // no busy loop while the catalog is down
	}
}

func (l *buyLoad) stop() { l.cancel(); l.wg.Wait() }

// count is how many attempts since from answered status.
func (l *buyLoad) count(from time.Time, status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.attempts {
		if !a.at.Before(from) && a.status == status {
			n++
		}
	}
	return n
}

// While buyers buy through the gateway, the catalog is frozen for a moment
// and then gets SIGKILL. Buying
// must then fail promptly with 503 and a message, not hang; once the
// catalog is restarted (same address, same database) buying works again,
// every purchase a buyer got 201 for exists exactly once and is live, and
// stock adds up:
//
//	catalog stock + units of live purchases + units of reservations left
//	pending without a purchase = initial stock
//
// A pending reservation without a purchase is what a reserve the catalog
// committed just before dying leaves. The reconciler (here every second,
// for reservations pending 3 s) then repairs it: once it has run, no
// reservation is pending and stock + live units = initial exactly.
func testCatalogKilled(t *testing.T, topo *local.Topology, services map[string]local.Instance, gateway apiClient) {
	seller, _ := gateway.signUp(t, "sellerkill")
	var b apiBook
	seller.must(t, http.MethodPost, "api/v1/books", map[string]any{"title": "Bought Through A Crash", "author": "I. Persist",
		"description": "The catalog dies while it sells.", "price_cents": 800, "stock": killStock}, http.StatusCreated, &b)
	var buyers []apiClient
	for i := range killBuyers {
		c, _ := gateway.signUp(t, fmt.Sprintf("buyerkill-%d", i))
		buyers = append(buyers, c)
	}
	begin := time.Now()
	l := startBuying(buyers, b.ID)
	stopped := false
	defer func() {
		if !stopped {
			l.stop()
		}
	}()
	waitFor(t, 20*time.Second, "10 purchases before the kill", func() bool { return l.count(begin, http.StatusCreated) >= 10 })

	// Frozen first, so the kill lands on reservations in flight rather
	// than between them: the purchase service's calls pile up unanswered,
	// then die with the catalog.
	if err := topo.Signal("catalog", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	kill := time.Now()
	if err := topo.Signal("catalog", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := topo.Wait(ctx, "catalog"); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	waitFor(t, 15*time.Second, "buyers told the catalog is down", func() bool { return l.count(died, http.StatusServiceUnavailable) >= 2*killBuyers })
	select {
	case err := <-topo.Exited():
		t.Fatalf("the rehearsal ended when one service died: %v", err)
	default:
	}

	restart := time.Now()
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	defer rcancel()
	if err := topo.Restart(rctx, "catalog"); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitFor(t, 20*time.Second, "10 purchases after the restart", func() bool { return l.count(back, http.StatusCreated) >= 10 })
	l.stop()
	stopped = true
	t.Logf("catalog killed at +%s, dead at +%s, restarted at +%s, ready at +%s",
		kill.Sub(begin).Round(time.Millisecond), died.Sub(begin).Round(time.Millisecond),
		restart.Sub(begin).Round(time.Millisecond), back.Sub(begin).Round(time.Millisecond))

	created := checkAttempts(t, l.attempts, kill, back)
	checkKillConsistency(t, services, b.ID, killStock, created)
	catalogDB := openDB(t, services["catalog"].DBDSN)
	waitFor(t, 30*time.Second, "the reconciler to settle every pending reservation", func() bool {
		var n int
		if err := catalogDB.QueryRow("SELECT COUNT(*) FROM stock_reservations WHERE book_id = ? AND released = ? AND confirmed = ?", b.ID, false, false).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	if orphaned := checkKillConsistency(t, services, b.ID, killStock, created); orphaned != 0 {
		t.Errorf("%d units still held by reservations without a purchase after the reconciler ran", orphaned)
	}

	// Buying works again, and takes one copy.
	before := stockOf(t, gateway, b.ID)
	buyers[0].must(t, http.MethodPost, "api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 1}, http.StatusCreated, nil)
	if after := stockOf(t, gateway, b.ID); after != before-1 {
		t.Errorf("a purchase after the restart took stock from %d to %d, want %d", before, after, before-1)
	}
}

// checkAttempts: every request answered within the client's timeout; 201
// and 503 are the only answers; every 503 says the catalog is unavailable;
// none before the kill, none after the restart. It returns the purchases
// the buyers were told were made.
func checkAttempts(t *testing.T, attempts []attempt, kill, back time.Time) map[int64]bool {
	created := map[int64]bool{}
	var slowest503 time.Duration
	counts := map[int]int{}
	for _, a := range attempts {
		counts[a.status]++
		switch {
		case a.err != nil:
			t.Errorf("a purchase at %s had no answer within %s: %v", a.at.Format("15:04:05.000"), buyerTimeout, a.err)
		case a.status == http.StatusCreated:
			if a.id == 0 || created[a.id] {
				t.Errorf("201 with purchase id %d, which is missing or was answered twice", a.id)
			}
			created[a.id] = true
		case a.status == http.StatusServiceUnavailable:
			slowest503 = max(slowest503, a.took)
			if !strings.Contains(a.message, unavailableMsg) {
				t.Errorf("a 503 that does not say %q: %q", unavailableMsg, a.message)
			}
			if a.at.Add(a.took).Before(kill) || a.at.After(back) {
				t.Errorf("a 503 at %s, while the catalog was up", a.at.Format("15:04:05.000"))
			}
		default:
			t.Errorf("a purchase answered %d (%s), want 201 or 503", a.status, a.message)
		}
	}
	t.Logf("purchases answered %v; the slowest 503 took %s", counts, slowest503.Round(time.Millisecond))
	return created
}

// checkKillConsistency reads both services' databases: the purchases the
// buyers were told of are exactly the live ones, each holding a confirmed or
// pending (never released) reservation, and stock adds up.
func checkKillConsistency(t *testing.T, services map[string]local.Instance, book int64, initial int, created map[int64]bool) (orphaned int) {
	created = maps.Clone(created) // checked off one by one below
	type reservation struct {
		qty                 int
		released, confirmed bool
	}
	catalogDB, purchaseDB := openDB(t, services["catalog"].DBDSN), openDB(t, services["purchase"].DBDSN)
	var stock int
	if err := catalogDB.QueryRow("SELECT stock FROM books WHERE id = ?", book).Scan(&stock); err != nil {
		t.Fatal(err)
	}
	reservations := map[string]reservation{}
	rows := query(t, catalogDB, "SELECT reservation_key, quantity, released, confirmed FROM stock_reservations WHERE book_id = ?", book)
	for rows.Next() {
		var key string
		var r reservation
		if err := rows.Scan(&key, &r.qty, &r.released, &r.confirmed); err != nil {
			t.Fatal(err)
		}
		reservations[key] = r
	}
	live, withPurchase := 0, map[string]bool{}
	rows = query(t, purchaseDB, "SELECT id, quantity, status, reservation_key FROM purchases WHERE book_id = ?", book)
	for rows.Next() {
		var id int64
		var qty int
		var status, key string
		if err := rows.Scan(&id, &qty, &status, &key); err != nil {
			t.Fatal(err)
		}
		withPurchase[key] = true
		if status == "cancelled" {
			continue
		}
		live += qty
		if !created[id] {
			t.Errorf("purchase %d (%s) exists, but no buyer was told so", id, status)
		}
		delete(created, id)
		if r, ok := reservations[key]; !ok || r.released {
			t.Errorf("live purchase %d holds no stock: its reservation is %+v (found %v)", id, r, ok)
		}
	}
	for id := range created {
		t.Errorf("a buyer got 201 for purchase %d, which is not live in the purchase service's database", id)
	}
	orphans := 0
	for key, r := range reservations {
		if !r.released && !r.confirmed && !withPurchase[key] {
			orphaned += r.qty
			orphans++
		}
	}
	t.Logf("stock %d + %d units in live purchases + %d units in %d pending reservations without a purchase", stock, live, orphaned, orphans)
	if stock+live+orphaned != initial {
		t.Errorf("stock %d + live %d + pending %d = %d, want the initial %d", stock, live, orphaned, stock+live+orphaned, initial)
	}
	return orphaned
}

func query(t *testing.T, db *sql.DB, q string, args ...any) *sql.Rows {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rows.Close() })
	return rows
}

func stockOf(t *testing.T, c apiClient, book int64) int {
	t.Helper()
	var b apiBook
	c.must(t, http.MethodGet, fmt.Sprintf("api/v1/books/%d", book), nil, http.StatusOK, &b)
	return b.Stock
}
