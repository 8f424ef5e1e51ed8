package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// throttled is an ETOOMANY refusal that says when to try again
// (bookstore.WithRetryAfter); the web adapter sends it as Retry-After.
func throttled(after time.Duration, msg string) error {
	return bookstore.WithRetryAfter(bookstore.Errorf(bookstore.ETOOMANY, "%s", msg), after)
}

// loginAttempt is one login's place in the failure counts: taken before the
// password is checked, so parallel guesses get no more tries than sequential
// ones, and settled afterwards.
type loginAttempt struct {
	limiter                Limiter
	account, pair, address string
}

// beginLogin counts the attempt against its (account, address) pair and its
// address, refusing it past their limits, and against its account, whose
// failures make it wait (Limits.Delay) instead: an attacker failing from
// many addresses slows the account down but cannot keep its owner out, who
// gets in after at most MaxDelay. The key names are the same whether or not
// the account exists, so the answers reveal nothing about that.
func (a *Accounts) beginLogin(ctx context.Context, email, addr string) (*loginAttempt, error) {
	at := &loginAttempt{limiter: a.limiter, account: limitKey("email:", email),
		pair: limitKey("pair:", email, addr), address: limitKey("addr:", addr)}
	limits, now := a.limiter.Limits(), a.clock()
	allowed, err := a.limiter.Take(ctx, now, at.pair, at.address)
	if err != nil {
		return nil, fmt.Errorf("login attempt limit: %w", err)
	}
	if !allowed {
		return nil, throttled(limits.Window, "too many failed logins; try again later")
	}
	n, err := a.limiter.Count(ctx, now, at.account)
	if err != nil {
		at.giveBack(ctx, false) // the account was not counted
		return nil, fmt.Errorf("login attempt limit: %w", err)
	}
	if d := limits.Delay(n - 1); d > 0 {
		if err := a.sleep(ctx, d); err != nil {
			at.giveBack(ctx, true) // the client left: no password was checked
			return nil, fmt.Errorf("wait before checking the password: %w", err)
		}
	}
	return at, nil
}

// giveBack uncounts an attempt that checked no password (the database or
// the client went away): it was not a guess. Not cancelled with the request,
// so a client that leaves still gets its attempt back.
func (at *loginAttempt) giveBack(ctx context.Context, withAccount bool) {
	keep := context.WithoutCancel(ctx)
	_ = at.limiter.Return(keep, at.pair)
	_ = at.limiter.Return(keep, at.address)
	if withAccount {
		_ = at.limiter.Return(keep, at.account)
	}
}

// succeeded forgets the account's and the pair's failures, and gives the
// address its attempt back: people behind one address who sign in
// successfully do not use up its budget.
func (at *loginAttempt) succeeded(ctx context.Context) error {
	keep := context.WithoutCancel(ctx)
	for _, key := range []string{at.account, at.pair} {
		if err := at.limiter.Reset(keep, key); err != nil {
			return fmt.Errorf("reset failed-login count: %w", err)
		}
	}
	if err := at.limiter.Return(keep, at.address); err != nil {
		return fmt.Errorf("uncount login attempt: %w", err)
	}
	return nil
}

// takeSignup counts a registration against its address, refusing it past
// SignupsPerAddress in the window: registrations cost a bcrypt hash each.
// Taken atomically, so parallel sign-ups get no more than the budget.
func (a *Accounts) takeSignup(ctx context.Context, addr string) error {
	allowed, err := a.limiter.Take(ctx, a.clock(), limitKey("signup:", addr))
	if err != nil {
		return fmt.Errorf("sign-up limit: %w", err)
	}
	if !allowed {
		return throttled(a.limiter.Limits().Window, "too many accounts created from your address; try again later")
	}
	return nil
}

type clientAddrKey struct{}

// WithClientAddr records the address a request came from; Register counts
// sign-ups by it (Login takes it in LoginInput). The web adapter sets it on
// every request, and the auth service's client passes it on.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddr is the address WithClientAddr recorded, "" when none.
func ClientAddr(ctx context.Context) string {
	s, _ := ctx.Value(clientAddrKey{}).(string)
	return s
}

// sleepContext waits d, or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
