package local_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// load is a crowd of buyers reading the catalog and buying through the TLS
// front while instances are stopped and killed behind it. GETs are never
// retried by the client, so any GET failure is one NGINX did not absorb.
// Purchases are retried with the same Idempotency-Key, so a retry after an
// unknown outcome returns the first attempt's purchase instead of buying
// twice; a cancel is retried as it is (cancelling twice is harmless).
type load struct {
	books   []int64
	stopped chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	gets      []getRecord
	bought    []boughtRecord
	ambiguous int      // purchase or cancel attempts whose outcome the client could not know
	abandoned int      // keyed retries answered "abandoned, stock released": bought again with a new key
	problems  []string // answers no retry explains
}

type getRecord struct {
	at       time.Time
	path     string
	failure  string // "" when it succeeded
	upstream string // X-Upstream-Addr: the instance(s) the balancer tried
}

type boughtRecord struct {
	apiPurchase
	cancelled bool
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startLoad runs one goroutine per signed-in buyer until stop.
func startLoad(buyers []apiClient, books []int64) *load {
	l := &load{books: books, stopped: make(chan struct{})}
	for i, b := range buyers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.buyer(b, uint64(i))
		}()
	}
	return l
}

// stop lets every buyer finish what it is doing and waits for them.
func (l *load) stop() {
	close(l.stopped)
	l.wg.Wait()
}

func (l *load) done() bool {
	select {
	case <-l.stopped:
		return true
	default:
		return false
	}
}

func (l *load) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

func (l *load) purchases() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.bought)
}

func (l *load) buyer(c apiClient, seed uint64) {
	rnd := mrand.New(mrand.NewPCG(seed, 42))
	for n := 0; !l.done(); n++ {
		l.get(c, "api/v1/books?page=1")
		book := l.books[rnd.IntN(len(l.books))]
		l.get(c, fmt.Sprintf("api/v1/books/%d", book))
		p, ok := l.buy(c, book, 1+rnd.IntN(3))
		if ok && n%4 == 3 {
			l.cancel(c, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *load) get(c apiClient, path string) {
	res, err := c.do(context.Background(), http.MethodGet, path, nil, nil)
	r := getRecord{at: time.Now(), path: path}
	switch {
	case err != nil:
		r.failure = err.Error()
	case res.Status != http.StatusOK:
		r.failure = fmt.Sprintf("status %d: %.200s", res.Status, res.Body)
	}
	if err == nil {
		r.upstream = res.Header.Get("X-Upstream-Addr")
	}
	l.mu.Lock()
	l.gets = append(l.gets, r)
	l.mu.Unlock()
}

// unknownOutcome is an answer after which the purchase may or may not exist:
// no answer at all, or the balancer's 502/503/504 for a request it could not
// finish.
func unknownOutcome(res reply, err error) bool {
	return err != nil || res.Status >= 500
}

// maxAttempts bounds retries: enough to ride out a kill and a drain.
const maxAttempts = 40

// buy makes one intended purchase exactly once, whatever the instances do.
func (l *load) buy(c apiClient, book int64, quantity int) (apiPurchase, bool) {
	in := map[string]any{"book_id": book, "quantity": quantity}
	key := "rehearsal-" + randomHex(10)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		res, err := c.do(context.Background(), http.MethodPost, "api/v1/purchases", in, http.Header{"Idempotency-Key": {key}})
		switch {
		case err == nil && res.Status == http.StatusCreated:
			var p apiPurchase
			if err := json.Unmarshal(res.Body, &p); err != nil {
				l.problem("purchase answer %.200s: %v", res.Body, err)
				return apiPurchase{}, false
			}
			l.mu.Lock()
			l.bought = append(l.bought, boughtRecord{apiPurchase: p})
			l.mu.Unlock()
			return p, true
		case err == nil && res.Status == http.StatusConflict && attempt > 0:
			// The first attempt failed and gave its stock back: nothing was
			// bought, so this is a new purchase with a new key.
			l.mu.Lock()
			l.abandoned++
			l.mu.Unlock()
			key = "rehearsal-" + randomHex(10)
		case unknownOutcome(res, err):
			l.mu.Lock()
			l.ambiguous++
			l.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		default:
			l.problem("purchase of %d × book %d: status %d: %.200s", quantity, book, res.Status, res.Body)
			return apiPurchase{}, false
		}
	}
	l.problem("purchase of %d × book %d: no answer in %d attempts", quantity, book, maxAttempts)
	return apiPurchase{}, false
}

// cancel cancels a purchase; cancelling twice is answered with the
// cancelled purchase, so a retry is safe.
func (l *load) cancel(c apiClient, p apiPurchase) {
	path := fmt.Sprintf("api/v1/purchases/%d/cancel", p.ID)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		res, err := c.do(context.Background(), http.MethodPost, path, nil, nil)
		switch {
		case err == nil && res.Status == http.StatusOK:
			l.mu.Lock()
			for i := range l.bought {
				if l.bought[i].ID == p.ID {
					l.bought[i].cancelled = true
				}
			}
			l.mu.Unlock()
			return
		case unknownOutcome(res, err):
			l.mu.Lock()
			l.ambiguous++
			l.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		default:
			l.problem("cancel purchase %d: status %d: %.200s", p.ID, res.Status, res.Body)
			return
		}
	}
	l.problem("cancel purchase %d: no answer in %d attempts", p.ID, maxAttempts)
}

// failedGets are the GETs that failed in [from, to).
func (l *load) failedGets(from, to time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, g := range l.gets {
		if g.failure != "" && !g.at.Before(from) && g.at.Before(to) {
			out = append(out, fmt.Sprintf("%s at %s: %s", g.path, g.at.Format("15:04:05.000"), g.failure))
		}
	}
	return out
}

// servedBy counts the successful GETs in [from, to) whose final attempt went
// to each address, and how many the balancer retried on another instance.
func (l *load) servedBy(from, to time.Time) (byAddr map[string]int, retried int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byAddr = map[string]int{}
	for _, g := range l.gets {
		if g.failure != "" || g.at.Before(from) || !g.at.Before(to) {
			continue
		}
		tried := strings.Split(g.upstream, ", ")
		byAddr[tried[len(tried)-1]]++
		if len(tried) > 1 {
			retried++
		}
	}
	return byAddr, retried
}
