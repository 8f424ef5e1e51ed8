package swarm_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
	"github.com/tet-bookstore/bookstore/infra/swarm"
)

// api is a JSON client of the gateway.
type api struct {
	base, token string
	http        *http.Client
}

func (a api) do(method, path string, body any, key string, out any) (int, error) {
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, err := http.NewRequest(method, a.base+path, &buf)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		err = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode, err
}

// read GETs path, again while the request gets no answer at all: a
// connection kept alive through the lost node's gateway is silent (the
// node is gone), and a client's only remedy is a new connection.
func (a api) read(path string, out any) (int, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		code, err := a.do("GET", path, nil, "", out)
		if code != 0 || time.Now().After(deadline) {
			return code, err
		}
		a.http.CloseIdleConnections()
	}
}

func signUp(t *testing.T, base, name string) api {
	t.Helper()
	a := api{base: base, http: &http.Client{Timeout: 20 * time.Second}}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	creds := map[string]string{"name": name, "email": name + "-" + hex.EncodeToString(b) + "@example.com", "password": "node loss password"}
	if code, err := a.do("POST", "api/v1/auth/register", creds, "", nil); code != 201 {
		t.Fatalf("register %s: %d %v", name, code, err)
	}
	var s struct {
		Token string `json:"token"`
	}
	if code, err := a.do("POST", "api/v1/auth/login", creds, "", &s); code != 200 {
		t.Fatalf("login %s: %d %v", name, code, err)
	}
	a.token = s.Token
	return a
}

// A worker that runs catalog or purchase tasks dies (every process in its
// namespace killed) while buyers read and buy: its tasks are rescheduled on
// the other nodes, every purchase a buyer was told of exists exactly once,
// none exists that no buyer was told of, and the stock adds up.
func checkNodeLoss(t *testing.T, r *swarm.Rehearsal) {
	ctx := context.Background()
	base := r.GatewayURL
	seller := signUp(t, base, "seller")
	var book struct {
		ID    int64 `json:"id"`
		Stock int   `json:"stock"`
	}
	const stock = 500
	if code, err := seller.do("POST", "api/v1/books", map[string]any{"title": "Node Loss", "author": "A. Swarm",
		"description": "Bought while a node dies.", "price_cents": 700, "stock": stock}, "", &book); code != 201 {
		t.Fatalf("create book: %d %v", code, err)
	}
	victim := victimNode(ctx, t, r)
	t.Logf("losing %s", victim.Name)

	// 50 unpaid orders each (the rehearsal's limit) outlast the load.
	const buyers = 8
	told := make([]map[int64]string, buyers) // purchase id -> key, as answered
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var undecided []string
	clients := make([]api, buyers)
	for i := 0; i < buyers; i++ {
		told[i] = map[int64]string{}
		buyer := signUp(t, base, fmt.Sprintf("buyer%d", i))
		clients[i] = buyer
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("nodeloss-%d-%d", i, n)
				// Retried with the same key until the answer is definite.
				deadline := time.Now().Add(3 * time.Minute)
				for {
					var p struct {
						ID int64 `json:"id"`
					}
					code, _ := buyer.do("POST", "api/v1/purchases", map[string]any{"book_id": book.ID, "quantity": 1}, key, &p)
					if code == 201 || code == 200 {
						told[i][p.ID] = key
						break
					}
					if code == 409 { // sold out: a definite answer
						return
					}
					if code == 400 || time.Now().After(deadline) {
						mu.Lock()
						undecided = append(undecided, fmt.Sprintf("%s: %d", key, code))
						mu.Unlock()
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				_, _ = buyer.do("GET", "api/v1/books", nil, "", nil)
			}
		}()
	}
	time.Sleep(5 * time.Second)
	if err := r.Cluster.Kill(victim); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for !rescheduled(ctx, t, r, victim) {
		if time.Since(killed) > 3*time.Minute {
			t.Fatalf("tasks of %s not rescheduled on the other nodes within 3 minutes", victim.Name)
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("rescheduled %s after the node died", time.Since(killed).Round(time.Second))
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()
	if len(undecided) > 0 {
		t.Errorf("purchases without a definite answer: %v", undecided)
	}

	// What each buyer was told is what the purchase service holds.
	bought := 0
	for i := range told {
		bought += len(told[i])
	}
	if bought == 0 {
		t.Fatal("no purchase went through")
	}
	for i, buyer := range clients {
		var list struct {
			Items []struct {
				ID     int64  `json:"id"`
				BookID int64  `json:"book_id"`
				Status string `json:"status"`
			} `json:"items"`
		}
		if code, err := buyer.read("api/v1/purchases", &list); code != 200 {
			t.Fatalf("buyer %d purchases: %d %v", i, code, err)
		}
		seen := map[int64]bool{}
		for _, p := range list.Items {
			if p.BookID != book.ID {
				continue
			}
			if seen[p.ID] || told[i][p.ID] == "" {
				t.Errorf("buyer %d: purchase %d is doubled or was never answered", i, p.ID)
			}
			seen[p.ID] = true
		}
		for id, key := range told[i] {
			if !seen[id] {
				t.Errorf("buyer %d: purchase %d (key %s) was answered but is not recorded", i, id, key)
			}
		}
	}
	var now struct {
		Stock int `json:"stock"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, err := seller.read(fmt.Sprintf("api/v1/books/%d", book.ID), &now); code != 200 {
			t.Fatalf("get book: %d %v", code, err)
		}
		if now.Stock == stock-bought || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if now.Stock != stock-bought {
		t.Errorf("stock %d, want %d - %d purchases = %d", now.Stock, stock, bought, stock-bought)
	}
	t.Logf("%d purchases, stock %d", bought, now.Stock)
}

// victimNode is a worker that runs a catalog or purchase task.
func victimNode(ctx context.Context, t *testing.T, r *swarm.Rehearsal) *swarm.Node {
	t.Helper()
	for _, n := range r.Cluster.Nodes[1:] {
		for _, svc := range []string{"catalog", "purchase"} {
			ids, err := n.Docker(ctx, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+swarm.StackName+"_"+svc)
			if err == nil && strings.TrimSpace(ids) != "" {
				return n
			}
		}
	}
	t.Fatal("no worker runs a catalog or purchase task")
	return nil
}

// rescheduled: every app service runs all its replicas, none on the lost node.
func rescheduled(ctx context.Context, t *testing.T, r *swarm.Rehearsal, lost *swarm.Node) bool {
	t.Helper()
	for _, svc := range stack.AppServices {
		out, err := r.Cluster.Manager().Docker(ctx, "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}", swarm.StackName+"_"+svc)
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, lost.Name+" ") {
				return false
			}
			if strings.Contains(l, " Running") {
				running++
			}
		}
		if running < 2 {
			return false
		}
	}
	return true
}
