package auth

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Limits bound failed logins per key (an account or an address) in a window.
type Limits struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
}

// DefaultLimits: 5 failures per account and 20 per address in 15 minutes.
var DefaultLimits = Limits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute}

// Max is the failure budget of a key: an address's or an account's.
func (l Limits) Max(key string) int {
	if strings.HasPrefix(key, "addr:") { // also "addr:" alone, an unknown address
		return l.PerAddress
	}
	return l.PerAccount
}

// Limiter counts login attempts per key in fixed windows. An attempt is
// taken before the password is checked and given back only when it
// succeeds, so concurrent guesses cannot all pass a check made before any of
// them failed. The store's limiter is shared by every instance through the
// database (the monolith's and the auth service's); LoginLimiter keeps the
// counts in memory, for tests and tools.
type Limiter interface {
	// Take counts one attempt against every key, unless one of them has
	// reached its limit at now: then it counts nothing and reports false.
	Take(ctx context.Context, now time.Time, keys ...string) (bool, error)
	// Return uncounts an attempt taken against key (a login that succeeded).
	Return(ctx context.Context, key string) error
	// Reset forgets every attempt against key, after a successful login.
	Reset(ctx context.Context, key string) error
}

// LoginLimiter is a Limiter in this process's memory.
type LoginLimiter struct {
	limits Limits
	mu     sync.Mutex
	fails  map[string]window
}

type window struct {
	start time.Time
	count int
}

// NewLoginLimiter returns a limiter with the given limits.
func NewLoginLimiter(l Limits) *LoginLimiter {
	return &LoginLimiter{limits: l, fails: make(map[string]window)}
}

var _ Limiter = (*LoginLimiter)(nil)

// Take counts an attempt against every key unless one is at its limit.
func (l *LoginLimiter) Take(_ context.Context, now time.Time, keys ...string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		w, ok := l.fails[k]
		if ok && now.Sub(w.start) < l.limits.Window && w.count >= l.limits.Max(k) {
			return false, nil
		}
	}
	if len(l.fails) > 100_000 { // bound memory under a spray of addresses
		for k, w := range l.fails {
			if now.Sub(w.start) >= l.limits.Window {
				delete(l.fails, k)
			}
		}
	}
	for _, k := range keys {
		w := l.fails[k]
		if now.Sub(w.start) >= l.limits.Window {
			w = window{start: now}
		}
		w.count++
		l.fails[k] = w
	}
	return true, nil
}

// Return uncounts one attempt against key.
func (l *LoginLimiter) Return(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.fails[key]; ok && w.count > 0 {
		w.count--
		l.fails[key] = w
	}
	return nil
}

// Reset forgets the attempts against key.
func (l *LoginLimiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
	return nil
}
