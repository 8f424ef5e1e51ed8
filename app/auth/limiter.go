package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// Limits bound login and sign-up attempts in a window. Failed logins are
// refused past PerAccount per (account, address) pair and PerAddress per
// address; an account's own failures, from every address together, only
// slow its next attempts down (Delay), so nobody can lock its owner out by
// failing on purpose from elsewhere.
type Limits struct {
	// PerAccount bounds the failed logins of one account from one address
	// (keys "pair:…", and any key that is not an address's or sign-ups').
	PerAccount int
	// PerAddress bounds the failed logins from one address ("addr:…").
	PerAddress int
	// Window is how long a count lasts.
	Window time.Duration
	// SlowAfter is how many failures an account (from anywhere) may have
	// before each further attempt on it waits; MaxDelay bounds that wait.
	SlowAfter int
	MaxDelay  time.Duration
	// SignupsPerAddress bounds registrations from one address ("signup:…").
	SignupsPerAddress int
}

// DefaultLimits: in 15 minutes, 5 failures per account and address, 20 per
// address and 10 sign-ups per address; past 5 failures of an account, each
// attempt on it waits 1s, 2s, 4s… up to 30s.
var DefaultLimits = Limits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute,
	SlowAfter: 5, MaxDelay: 30 * time.Second, SignupsPerAddress: 10}

// Max is the budget of a key in a window.
func (l Limits) Max(key string) int {
	switch {
	case strings.HasPrefix(key, "addr:"): // also "addr:" alone, an unknown address
		return l.PerAddress
	case strings.HasPrefix(key, "signup:"):
		return l.SignupsPerAddress
	}
	return l.PerAccount
}

// Delay is how long a login attempt waits before its password is checked
// when its account already has failures failed attempts in the window: none
// up to SlowAfter, then 1s doubling with each failure, at most MaxDelay.
func (l Limits) Delay(failures int) time.Duration {
	if failures < l.SlowAfter || l.MaxDelay <= 0 {
		return 0
	}
	if k := failures - l.SlowAfter; k < 30 {
		return min(time.Second<<k, l.MaxDelay)
	}
	return l.MaxDelay
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
	// Count counts one attempt against key, with no limit, and returns the
	// key's count in its window at now, this attempt included.
	Count(ctx context.Context, now time.Time, key string) (int, error)
	// Return uncounts an attempt taken against key (a login that succeeded).
	Return(ctx context.Context, key string) error
	// Reset forgets every attempt against key, after a successful login.
	Reset(ctx context.Context, key string) error
	// Limits returns the limits the limiter enforces.
	Limits() Limits
}

// maxKey is the longest key stored as is (the store's column holds 300).
const maxKey = 200

// limitKey joins prefix and parts; a key longer than maxKey is hashed, so an
// overlong e-mail can neither overflow the store's column nor share a count
// with another one.
func limitKey(prefix string, parts ...string) string {
	k := strings.Join(parts, "|")
	if len(prefix)+len(k) <= maxKey {
		return prefix + k
	}
	sum := sha256.Sum256([]byte(k))
	return prefix + "sha256:" + hex.EncodeToString(sum[:])
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

// Limits returns the limits.
func (l *LoginLimiter) Limits() Limits { return l.limits }

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
	for _, k := range keys {
		l.countLocked(now, k)
	}
	return true, nil
}

// Count counts an attempt against key and returns its count.
func (l *LoginLimiter) Count(_ context.Context, now time.Time, key string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.countLocked(now, key), nil
}

func (l *LoginLimiter) countLocked(now time.Time, k string) int {
	if len(l.fails) > 100_000 { // bound memory under a spray of addresses
		for k, w := range l.fails {
			if now.Sub(w.start) >= l.limits.Window {
				delete(l.fails, k)
			}
		}
	}
	w := l.fails[k]
	if now.Sub(w.start) >= l.limits.Window {
		w = window{start: now}
	}
	w.count++
	l.fails[k] = w
	return w.count
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
