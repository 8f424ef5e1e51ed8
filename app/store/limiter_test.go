package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
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

// The login limits through the identity module on the shared limiter, on
// every backend: failures from other addresses slow an account down but
// let its owner in; one (account, address) pair and one address are
// refused past their limits; parallel sign-ups from one address create
// exactly the budget.
func TestLoginLimitsOnTheSharedLimiter(t *testing.T) {
	limits := auth.Limits{PerAccount: 3, PerAddress: 6, Window: time.Minute, SlowAfter: 3, MaxDelay: 8 * time.Second, SignupsPerAddress: 5}
	const password = "correct horse"
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := open(t, b.dsn(t))
			must(t, db.Migrate(ctx, store.Modules()...))
			var mu sync.Mutex
			var waited []time.Duration
			acc := auth.New(store.NewAuthStore(db), auth.Options{BcryptCost: bcrypt.MinCost, Limiter: store.NewLoginLimiter(db, limits),
				Sleep: func(_ context.Context, d time.Duration) error {
					mu.Lock()
					defer mu.Unlock()
					waited = append(waited, d)
					return nil
				}})
			register := func(from, email string) error {
				_, err := acc.Register(auth.WithClientAddr(ctx, from), auth.RegisterInput{Name: "N", Email: email, Password: password})
				return err
			}
			login := func(email, pw, from string) error {
				_, err := acc.Login(ctx, auth.LoginInput{Email: email, Password: pw, RemoteAddr: from})
				return err
			}
			must(t, register("192.0.2.1", "owner@example.com"))

			// The finding's lockout: failures from many addresses, then the owner.
			for i := 0; i < 10; i++ {
				if err := login("owner@example.com", "guess", fmt.Sprintf("198.51.100.%d", i+1)); bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			if err := login("owner@example.com", password, "192.0.2.200"); err != nil {
				t.Fatalf("the owner from a new address after 10 failures elsewhere: %v", err)
			}
			if len(waited) == 0 || waited[len(waited)-1] != limits.MaxDelay {
				t.Fatalf("waits %v, want them to end at the cap %v", waited, limits.MaxDelay)
			}

			// Per (account, address): the right password too is refused there.
			for i := 0; i < limits.PerAccount; i++ {
				if err := login("owner@example.com", "guess", "203.0.113.1"); bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
					t.Fatalf("pair failure %d: %v", i+1, err)
				}
			}
			if err := login("owner@example.com", password, "203.0.113.1"); bookstore.ErrorCode(err) != bookstore.ETOOMANY {
				t.Fatalf("the pair past its limit: %v, want ETOOMANY", err)
			}
			if err := login("owner@example.com", password, "203.0.113.2"); err != nil {
				t.Fatalf("the owner from another address: %v", err)
			}
			// Per address: failures on other accounts (existing or not) add up.
			for i := 0; i < limits.PerAddress; i++ {
				if err := login(fmt.Sprintf("nobody%d@example.com", i), "guess", "203.0.113.3"); bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
					t.Fatalf("address failure %d: %v", i+1, err)
				}
			}
			if err := login("owner@example.com", password, "203.0.113.3"); bookstore.ErrorCode(err) != bookstore.ETOOMANY {
				t.Fatalf("the address past its limit: %v, want ETOOMANY", err)
			}

			// 30 parallel sign-ups from one address: exactly the budget.
			var wg sync.WaitGroup
			var created, refused int
			for i := 0; i < 30; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := register("198.51.100.250", fmt.Sprintf("bot%d@example.com", i))
					mu.Lock()
					defer mu.Unlock()
					switch bookstore.ErrorCode(err) {
					case "":
						created++
					case bookstore.ETOOMANY:
						refused++
					default:
						t.Errorf("sign-up: %v", err)
					}
				}()
			}
			wg.Wait()
			if created != limits.SignupsPerAddress || refused != 30-limits.SignupsPerAddress {
				t.Fatalf("30 parallel sign-ups: %d created, %d refused; want %d created", created, refused, limits.SignupsPerAddress)
			}
		})
	}
}

// Count never refuses, and parallel counts on two instances add up exactly.
func TestLimiterCountIsShared(t *testing.T) {
	limits := auth.Limits{PerAccount: 3, PerAddress: 25, Window: time.Minute}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			dsn := b.dsn(t)
			first := open(t, dsn)
			must(t, first.Migrate(ctx, store.Modules()...))
			one, two := store.NewLoginLimiter(first, limits), store.NewLoginLimiter(open(t, dsn), limits)
			now := time.Now().UTC()
			var wg sync.WaitGroup
			seen := make([]int, 40)
			for i := range seen {
				l := []*store.LoginLimiter{one, two}[i%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := l.Count(ctx, now, "email:busy@b.co")
					if err != nil {
						t.Error(err)
					}
					seen[i] = n
				}()
			}
			wg.Wait()
			n, err := one.Count(ctx, now, "email:busy@b.co")
			must(t, err)
			if n != 41 || slices.Max(seen) > 40 || slices.Min(seen) < 1 {
				t.Fatalf("after 40 parallel counts the 41st is %d (seen %d..%d), want 41", n, slices.Min(seen), slices.Max(seen))
			}
			if n, _ := two.Count(ctx, now.Add(limits.Window+time.Second), "email:busy@b.co"); n != 1 {
				t.Fatalf("a new window counts from %d, want 1", n)
			}
		})
	}
}

// Instances on one database share one server key, made once even when they
// all start at once; another name is another key.
func TestServerKeyIsSharedAndMadeOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			dsn := b.dsn(t)
			first := open(t, dsn)
			must(t, first.Migrate(ctx, store.Modules()...))
			dbs := []*store.DB{first, open(t, dsn), open(t, dsn)}
			keys := make([][]byte, 12)
			var wg sync.WaitGroup
			for i := range keys {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k, err := dbs[i%len(dbs)].ServerKey(ctx, "csrf")
					if err != nil {
						t.Error(err)
					}
					keys[i] = k
				}()
			}
			wg.Wait()
			for i, k := range keys {
				if len(k) != 32 || string(k) != string(keys[0]) {
					t.Fatalf("instance %d got key %x, want the one 32-byte key %x", i, k, keys[0])
				}
			}
			other, err := first.ServerKey(ctx, "other")
			must(t, err)
			if string(other) == string(keys[0]) {
				t.Fatal("two names share a key")
			}
		})
	}
}
