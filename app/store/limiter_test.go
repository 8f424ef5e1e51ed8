package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/store"
)

// Two instances (two connections to one database) share the failed-login
// budget: what one counts, the other refuses.
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
			allowed := func(l auth.Limiter, at time.Time, keys ...string) bool {
				t.Helper()
				ok, err := l.Allow(ctx, at, keys...)
				must(t, err)
				return ok
			}

			for i := 0; i < 2; i++ {
				must(t, one.Fail(ctx, now, "email:a@b.co", "addr:192.0.2.7"))
			}
			must(t, two.Fail(ctx, now, "email:a@b.co", "addr:192.0.2.7"))
			if allowed(one, now, "email:a@b.co") || allowed(two, now, "email:a@b.co", "addr:192.0.2.8") {
				t.Fatal("3 failures on two instances did not use up the account's budget of 3")
			}
			if !allowed(two, now, "email:other@b.co", "addr:192.0.2.7") {
				t.Fatal("the address (3 of 25) is blocked")
			}
			// A new window starts a new count; Reset forgets.
			later := now.Add(limits.Window + time.Second)
			if !allowed(one, later, "email:a@b.co") {
				t.Fatal("still blocked after the window")
			}
			must(t, two.Fail(ctx, later, "email:a@b.co"))
			if !allowed(one, later, "email:a@b.co") {
				t.Fatal("one failure in a new window blocks")
			}
			must(t, one.Fail(ctx, later, "email:a@b.co"))
			must(t, two.Reset(ctx, "email:a@b.co"))
			must(t, one.Fail(ctx, later, "email:a@b.co"))
			if !allowed(two, later, "email:a@b.co") {
				t.Fatal("Reset did not forget the failures")
			}

			// Concurrent failures from both instances on a fresh key all count.
			var wg sync.WaitGroup
			for i := 0; i < 24; i++ {
				l := []*store.LoginLimiter{one, two}[i%2]
				wg.Add(1)
				go func() { defer wg.Done(); must(t, l.Fail(ctx, now, "addr:198.51.100.1")) }()
			}
			wg.Wait()
			if !allowed(one, now, "addr:198.51.100.1") {
				t.Fatal("24 of 25 failures block")
			}
			must(t, two.Fail(ctx, now, "addr:198.51.100.1"))
			if allowed(one, now, "addr:198.51.100.1") {
				t.Fatal("25 concurrent and sequential failures were not all counted")
			}

			// The sweep drops counts whose window has passed.
			must(t, one.Sweep(ctx, later))
			if !allowed(one, now, "addr:198.51.100.1") {
				t.Fatal("the sweep kept a count whose window had passed")
			}
		})
	}
}
