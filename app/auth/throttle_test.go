package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// waits records the delays Login asks for instead of sleeping them.
type waits struct {
	mu  sync.Mutex
	got []time.Duration
	err error // returned by every wait when set (a client that left)
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, d)
	return w.err
}

func (w *waits) last() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.got) == 0 {
		return 0
	}
	return w.got[len(w.got)-1]
}

func newThrottledEnv(t *testing.T) (env, *waits) {
	t.Helper()
	e := newEnv(t)
	w := &waits{}
	e.acc = auth.New(e.store, auth.Options{BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, Now: e.clock.Now, Sleep: w.sleep})
	return e, w
}

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	wait, ok := bookstore.RetryAfter(err)
	if !ok {
		t.Fatalf("error %v carries no Retry-After", err)
	}
	return wait
}

func TestLimitsDelay(t *testing.T) {
	l := auth.DefaultLimits
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {4, 0}, {5, time.Second}, {6, 2 * time.Second}, {9, 16 * time.Second},
		{10, 30 * time.Second}, {100, 30 * time.Second}, {1 << 30, 30 * time.Second},
	} {
		if got := l.Delay(tc.failures); got != tc.want {
			t.Errorf("Delay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

// The finding: 5 wrong passwords from 5 addresses, then the right one from a
// new address, was 429 (anyone could lock any account). Now the owner gets
// in, after a bounded wait, however many addresses failed before.
func TestFailuresFromOtherAddressesCannotLockTheOwnerOut(t *testing.T) {
	e, w := newThrottledEnv(t)
	e.register(t, "Admin", "admin@example.com")
	for i := 0; i < auth.DefaultLimits.PerAccount; i++ {
		_, err := e.login("admin@example.com", "guess", fmt.Sprintf("198.51.100.%d", i+1))
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	}
	if len(w.got) != 0 {
		t.Fatalf("the first %d failures waited %v", auth.DefaultLimits.PerAccount, w.got)
	}
	if _, err := e.login("admin@example.com", goodPassword, "192.0.2.77"); err != nil {
		t.Fatalf("the owner from a new address after 5 failures elsewhere: %v", err)
	}
	if w.last() != time.Second {
		t.Errorf("the owner waited %v, want 1s", w.last())
	}

	// A long attack from many addresses: the waits grow, to MaxDelay at most,
	// and the owner still gets in.
	w.got = nil
	for i := 0; i < 60; i++ {
		_, err := e.login("admin@example.com", "guess", fmt.Sprintf("203.0.113.%d", i+1))
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	}
	if w.last() != auth.DefaultLimits.MaxDelay {
		t.Errorf("after 60 failures an attempt waits %v, want the cap %v", w.last(), auth.DefaultLimits.MaxDelay)
	}
	for i := 1; i < len(w.got); i++ {
		if w.got[i] < w.got[i-1] || w.got[i] > auth.DefaultLimits.MaxDelay {
			t.Fatalf("waits %v do not grow up to the cap", w.got)
		}
	}
	if _, err := e.login(" ADMIN@example.com", goodPassword, "192.0.2.78"); err != nil {
		t.Fatalf("the owner after 60 failures from 60 addresses: %v", err)
	}
	// Success forgets the account's failures: the next attempt does not wait.
	w.got = nil
	if _, err := e.login("admin@example.com", goodPassword, "192.0.2.78"); err != nil || len(w.got) != 0 {
		t.Fatalf("login after a success: %v, waited %v", err, w.got)
	}
}

// One (account, address) pair is refused past its limit, the right password
// too, with Retry-After; the account from another address is not, and the
// pair is free again after the window.
func TestLoginRateLimitPerAccountAndAddress(t *testing.T) {
	e, _ := newThrottledEnv(t)
	e.register(t, "Ana", "ana@example.com")
	for i := 0; i < auth.DefaultLimits.PerAccount; i++ {
		_, err := e.login("ana@example.com", "guess", "198.51.100.1")
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	}
	_, err := e.login("ana@example.com", goodPassword, "198.51.100.1")
	wantCode(t, err, bookstore.ETOOMANY)
	if got := retryAfter(t, err); got != auth.DefaultLimits.Window {
		t.Errorf("Retry-After %v, want the window %v", got, auth.DefaultLimits.Window)
	}
	_, err = e.login(" ANA@example.com", goodPassword, "198.51.100.1")
	wantCode(t, err, bookstore.ETOOMANY) // another spelling is the same account

	if _, err := e.login("ana@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Errorf("the account from another address: %v", err)
	}
	e.clock.Advance(auth.DefaultLimits.Window - time.Second)
	_, err = e.login("ana@example.com", goodPassword, "198.51.100.1")
	wantCode(t, err, bookstore.ETOOMANY)
	e.clock.Advance(time.Second)
	if _, err := e.login("ana@example.com", goodPassword, "198.51.100.1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// A client that leaves while its attempt waits checked no password: nothing
// stays counted, so leaving on purpose cannot lock the account either.
func TestLeavingDuringTheWaitIsNotCounted(t *testing.T) {
	e, w := newThrottledEnv(t)
	e.register(t, "Ana", "ana@example.com")
	for i := 0; i < auth.DefaultLimits.SlowAfter; i++ {
		_, err := e.login("ana@example.com", "guess", fmt.Sprintf("198.51.100.%d", i+1))
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	}
	w.err = context.Canceled
	for i := 0; i < 30; i++ {
		if _, err := e.login("ana@example.com", "guess", "203.0.113.1"); bookstore.ErrorCode(err) != bookstore.EINTERNAL {
			t.Fatalf("attempt %d: %v, want the wait's error", i+1, err)
		}
	}
	w.err, w.got = nil, nil
	if _, err := e.login("ana@example.com", goodPassword, "203.0.113.1"); err != nil {
		t.Fatalf("the address whose attempts all left: %v", err)
	}
	if w.last() != time.Second {
		t.Errorf("after 5 failures and 30 abandoned attempts the wait is %v, want 1s", w.last())
	}
}

// Sign-ups are limited per address, in parallel too (counted atomically
// before the password is hashed), with Retry-After; other addresses are not.
func TestSignupLimitPerAddress(t *testing.T) {
	e, _ := newThrottledEnv(t)
	from := auth.WithClientAddr(context.Background(), "198.51.100.9")
	const tries = 40
	errs := make(chan error, tries)
	var wg sync.WaitGroup
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.acc.Register(from, auth.RegisterInput{Name: "Bot", Email: fmt.Sprintf("bot%d@example.com", i), Password: goodPassword})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		switch bookstore.ErrorCode(err) {
		case "":
			created++
		case bookstore.ETOOMANY:
			if retryAfter(t, err) != auth.DefaultLimits.Window {
				t.Errorf("Retry-After %v", retryAfter(t, err))
			}
		default:
			t.Fatalf("sign-up: %v", err)
		}
	}
	if created != auth.DefaultLimits.SignupsPerAddress {
		t.Fatalf("%d of %d parallel sign-ups from one address created, want %d", created, tries, auth.DefaultLimits.SignupsPerAddress)
	}
	other := auth.WithClientAddr(context.Background(), "192.0.2.1")
	if _, err := e.acc.Register(other, auth.RegisterInput{Name: "Ana", Email: "ana@example.com", Password: goodPassword}); err != nil {
		t.Fatalf("sign-up from another address: %v", err)
	}
	// Invalid forms cost no hash and use up nothing.
	for i := 0; i < 2*auth.DefaultLimits.SignupsPerAddress; i++ {
		_, err := e.acc.Register(other, auth.RegisterInput{Name: "", Email: "x@example.com", Password: goodPassword})
		wantCode(t, err, bookstore.EINVALID)
	}
	if _, err := e.acc.Register(other, auth.RegisterInput{Name: "Bea", Email: "bea@example.com", Password: goodPassword}); err != nil {
		t.Fatalf("sign-up after invalid forms: %v", err)
	}
}
