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

// Limiter counts failed logins per key in fixed windows. The store's is
// shared by every instance through the database (the monolith's and the auth
// service's); LoginLimiter keeps them in memory, for tests and tools.
type Limiter interface {
	// Allow reports whether every key is still under its limit at now.
	Allow(ctx context.Context, now time.Time, keys ...string) (bool, error)
	// Fail records a failed attempt against every key.
	Fail(ctx context.Context, now time.Time, keys ...string) error
	// Reset forgets the failures of key, after a successful login.
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

// Allow reports whether every key is still under its limit at now.
func (l *LoginLimiter) Allow(_ context.Context, now time.Time, keys ...string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		w, ok := l.fails[k]
		if ok && now.Sub(w.start) < l.limits.Window && w.count >= l.limits.Max(k) {
			return false, nil
		}
	}
	return true, nil
}

// Fail records a failed attempt against every key.
func (l *LoginLimiter) Fail(_ context.Context, now time.Time, keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
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
	return nil
}

// Reset forgets the failures of key, after a successful login.
func (l *LoginLimiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
	return nil
}
