package apitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// openLimit buys single copies for c until the store refuses with 409 for
// too many unpaid orders, and returns how many it accepted: the limit,
// whatever the deployment configured.
func (s *suite) openLimit(t *testing.T, c *client, bookID int64) []purchase {
	t.Helper()
	var open []purchase
	for range 60 {
		res := c.send("POST", "/api/v1/purchases", "application/json",
			strings.NewReader(`{"book_id":`+jsonInt(bookID)+`,"quantity":1}`))
		switch res.Status {
		case http.StatusCreated:
			open = append(open, decodeInto[purchase](t, res))
			continue
		case http.StatusConflict:
			if msg := errorMessage(t, res); !strings.Contains(msg, "unpaid orders") {
				t.Fatalf("409 after %d open orders says %q, want it to name the unpaid orders", len(open), msg)
			}
			return open
		}
		t.Fatalf("buy #%d: status %d: %s", len(open)+1, res.Status, res.Body)
	}
	t.Fatalf("%d unpaid orders and no limit", len(open))
	return nil
}

func errorMessage(t *testing.T, res response) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(bytes.NewReader(res.Body)).Decode(&e); err != nil {
		t.Fatalf("error body %q: %v", res.Body, err)
	}
	return e.Error
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A buyer may hold only so many unpaid orders (409 past it, sequentially
// and in parallel); each shows its payment deadline as pay_by.
func (s *suite) testOpenOrderLimit(t *testing.T) {
	seller, _ := s.signUp(t, "Hoardseller")
	b := s.newBook(t, seller, "Bleak House", 900, 500)
	hoarder, _ := s.signUp(t, "Hoarder")
	before := time.Now().UTC()
	open := s.openLimit(t, hoarder, b.ID)
	if len(open) < 1 {
		t.Fatal("no order accepted before the limit")
	}
	for _, p := range open {
		payBy, err := time.Parse(time.RFC3339, p.PayBy)
		if err != nil || !strings.HasSuffix(p.PayBy, "Z") || !payBy.After(before) {
			t.Fatalf("pay_by = %q (%v), want an RFC3339 UTC time after the purchase", p.PayBy, err)
		}
	}
	if got := s.getBook(t, b.ID).Stock; got != 500-len(open) {
		t.Errorf("stock = %d, want %d (a refused buy holds none)", got, 500-len(open))
	}
	// Paying one makes room for another; cancelling one too.
	hoarder.call("POST", path("/api/v1/purchases/%d/payment", open[0].ID), map[string]string{"card_number": goodCard, "card_holder": "H"}, http.StatusOK)
	s.buy(t, hoarder, b.ID, 1)
	hoarder.call("POST", path("/api/v1/purchases/%d/cancel", open[1%len(open)].ID), nil, http.StatusOK)
	s.buy(t, hoarder, b.ID, 1)
	hoarder.call("POST", "/api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 1}, http.StatusConflict)

	// In parallel, a fresh buyer gets exactly the limit, never more.
	racer, _ := s.signUp(t, "Racer")
	n := 2*len(open) + 2
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = racer.send("POST", "/api/v1/purchases", "application/json",
				strings.NewReader(`{"book_id":`+jsonInt(b.ID)+`,"quantity":1}`)).Status
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("parallel buy: status %d", st)
		}
	}
	if created != len(open) {
		t.Errorf("%d of %d parallel buys accepted, want the limit %d", created, n, len(open))
	}
	mine := decodeInto[items[purchase]](t, racer.call("GET", "/api/v1/purchases", nil, http.StatusOK))
	if len(mine.Items) != len(open) {
		t.Errorf("the racer holds %d purchases, want %d", len(mine.Items), len(open))
	}
}
