package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/store"
)

// Two instances (two connections to one database) share the login attempt
// budget: what one counts, the other refuses; and parallel attempts on both
// never take more than the budget.
func TestLoginLimiterIsSharedByInstances(t *testing.T) {
	limits := auth.Limits{PerAccount: 3, PerAddress: 25, Window: time.Minute}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			dsn := b.dsn(t)
			first := open(t, dsn)
			must(t, first.Migrate(ctx, store.Modules()...))
			one, two := store.NewLoginLimiter(first, limits), store.NewLoginLimiter(open(t, dsn), limits)
			now := time.Now().UTC()
			take := func(l auth.Limiter, at time.Time, keys ...string) bool {
				t.Helper()
				ok, err := l.Take(ctx, at, keys...)
				must(t, err)
				return ok
			}

			for i := 0; i < 2; i++ {
				if !take(one, now, "email:a@b.co", "addr:192.0.2.7") {
					t.Fatalf("attempt %d refused", i+1)
				}
			}
			if !take(two, now, "email:a@b.co", "addr:192.0.2.7") {
				t.Fatal("3rd attempt refused; the budget is 3")
			}
			if take(one, now, "email:a@b.co") || take(two, now, "email:a@b.co", "addr:192.0.2.8") {
				t.Fatal("3 attempts on two instances did not use up the account's budget of 3")
			}
			// The refused attempt above counted nothing against 192.0.2.8.
			for i := 0; i < limits.PerAddress; i++ {
				if !take(one, now, "addr:192.0.2.8") {
					t.Fatalf("address attempt %d refused: a refused attempt was counted", i+1)
				}
			}
			if !take(two, now, "email:other@b.co", "addr:192.0.2.7") {
				t.Fatal("the address (4 of 25) is refused")
			}
			// A new window starts a new count; Return gives one back; Reset forgets.
			later := now.Add(limits.Window + time.Second)
			for i := 0; i < 3; i++ {
				if !take(two, later, "email:a@b.co") {
					t.Fatalf("new window: attempt %d refused", i+1)
				}
			}
			if take(one, later, "email:a@b.co") {
				t.Fatal("4th attempt of the new window allowed")
			}
			must(t, one.Return(ctx, "email:a@b.co"))
			if !take(two, later, "email:a@b.co") {
				t.Fatal("Return did not give an attempt back")
			}
			must(t, two.Reset(ctx, "email:a@b.co"))
			if !take(one, later, "email:a@b.co") {
				t.Fatal("Reset did not forget the attempts")
			}

			// 40 parallel attempts on both instances on a fresh key: exactly
			// the budget of 25 get through.
			var wg sync.WaitGroup
			var mu sync.Mutex
			allowed := 0
			for i := 0; i < 40; i++ {
				l := []*store.LoginLimiter{one, two}[i%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := l.Take(ctx, now, "addr:198.51.100.1")
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if allowed != limits.PerAddress {
				t.Fatalf("%d of 40 parallel attempts allowed, want the budget of %d", allowed, limits.PerAddress)
			}

			// The sweep drops counts whose window has passed.
			must(t, one.Sweep(ctx, later))
			if !take(one, now, "addr:198.51.100.1") {
				t.Fatal("the sweep kept a count whose window had passed")
			}
		})
	}
}
