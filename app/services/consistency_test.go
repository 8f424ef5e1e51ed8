package services_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
)

// api is a tiny JSON client for these tests.
type api struct {
	t     *testing.T
	base  string
	token string
}

func (a api) do(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (a api) signUp(name string) api {
	a.t.Helper()
	email := fmt.Sprintf("%s-%d@test.local", strings.ToLower(name), time.Now().UnixNano())
	if st, out := a.do("POST", "/api/v1/auth/register", map[string]any{"name": name, "email": email, "password": "password-123"}); st != http.StatusCreated {
		a.t.Fatalf("register: %d %v", st, out)
	}
	st, out := a.do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": "password-123"})
	if st != http.StatusOK {
		a.t.Fatalf("login: %d %v", st, out)
	}
	a.token = out["token"].(string)
	return a
}

func (a api) book(stock int) int64 {
	a.t.Helper()
	st, out := a.do("POST", "/api/v1/books", map[string]any{"title": "Pedro Páramo", "author": "Juan Rulfo", "description": "x", "price_cents": 1500, "stock": stock})
	if st != http.StatusCreated {
		a.t.Fatalf("create book: %d %v", st, out)
	}
	return int64(out["id"].(float64))
}

func (a api) stock(id int64) int {
	a.t.Helper()
	st, out := a.do("GET", fmt.Sprintf("/api/v1/books/%d", id), nil)
	if st != http.StatusOK {
		a.t.Fatalf("get book: %d %v", st, out)
	}
	return int(out["stock"].(float64))
}

// 50 buyers for 10 copies, at once, through the purchase service (which
// reserves in the catalog service over HTTP): exactly 10 are sold.
func TestConcurrentBuyersAcrossServicesNeverOversell(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	purchase := api{t: t, base: c.URL[config.PurchaseService]}
	seller := purchase.signUp("Seller")
	id := seller.book(10)
	buyers := make([]api, 50)
	for i := range buyers {
		buyers[i] = purchase.signUp(fmt.Sprintf("Buyer%d", i))
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(buyers))
	for i, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = b.do("POST", "/api/v1/purchases", map[string]any{"book_id": id, "quantity": 1})
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 10 || count[http.StatusConflict] != 40 {
		t.Fatalf("statuses = %v, want 10 × 201 and 40 × 409", count)
	}
	if got := seller.stock(id); got != 0 {
		t.Fatalf("stock = %d, want 0", got)
	}
}

// A signed-out token is refused by the other services within seconds, though
// they verify tokens without asking the auth service.
func TestLogoutIsHonouredByEveryService(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	user := api{t: t, base: c.URL[config.AuthService]}.signUp("Leaver")
	catalog := api{t: t, base: c.URL[config.CatalogService], token: user.token}
	if st, out := catalog.do("GET", "/api/v1/auth/me", nil); st != http.StatusOK {
		t.Fatalf("me via catalog before logout: %d %v", st, out)
	}
	if st, out := user.do("POST", "/api/v1/auth/logout", nil); st != http.StatusNoContent {
		t.Fatalf("logout: %d %v", st, out)
	}
	// Changing anything asks auth, so it is refused at once everywhere.
	if st, out := catalog.do("POST", "/api/v1/books", map[string]any{"title": "After logout", "price_cents": 1, "stock": 1}); st != http.StatusUnauthorized {
		t.Fatalf("create a book via catalog right after logout: %d %v", st, out)
	}
	// Reads are verified offline and follow within one poll of the list.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := catalog.do("GET", "/api/v1/auth/me", nil)
		if st == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("catalog still accepts a signed-out token after 10 s (status %d)", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Internal methods answer only other services.
func TestInternalMethodsNeedTheServiceToken(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	for _, r := range roles {
		res, err := http.Post(c.URL[r]+"/internal/v1/catalog.reserve_stock", "application/json",
			strings.NewReader(`{"key":"x","book_id":1,"quantity":1}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: internal call without token = %d, want 401", r, res.StatusCode)
		}
	}
}

// With the catalog down, buying is a prompt 503 saying so, not a hang, and
// nothing is recorded.
func TestCatalogDownIsAClear503(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	purchase := api{t: t, base: c.URL[config.PurchaseService]}
	seller := purchase.signUp("Seller")
	id := seller.book(3)
	buyer := purchase.signUp("Buyer")
	c.Stop(config.CatalogService)

	start := time.Now()
	st, out := buyer.do("POST", "/api/v1/purchases", map[string]any{"book_id": id, "quantity": 1})
	if st != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(out["error"]), "catalog service is unavailable") {
		t.Fatalf("buy with the catalog down: %d %v", st, out)
	}
	t.Logf("the 503 came after %s", time.Since(start).Round(time.Millisecond))
	st, out = buyer.do("GET", "/api/v1/purchases", nil)
	if st != http.StatusOK || len(out["items"].([]any)) != 0 {
		t.Fatalf("purchases after a failed buy: %d %v", st, out)
	}
}
