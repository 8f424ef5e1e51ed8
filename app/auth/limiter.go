package auth

import (
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

// LoginLimiter counts failed logins in fixed windows. It is per process: with
// several instances an attacker gets at most N× the budget, still far too
// little for guessing, and nothing needs to be shared.
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

func (l *LoginLimiter) max(key string) int {
	if strings.HasPrefix(key, "addr:") { // also "addr:" alone, an unknown address
		return l.limits.PerAddress
	}
	return l.limits.PerAccount
}

// Allow reports whether every key is still under its limit at now.
func (l *LoginLimiter) Allow(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		w, ok := l.fails[k]
		if ok && now.Sub(w.start) < l.limits.Window && w.count >= l.max(k) {
			return false
		}
	}
	return true
}

// Fail records a failed attempt against every key.
func (l *LoginLimiter) Fail(now time.Time, keys ...string) {
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
}

// Reset forgets the failures of key, after a successful login.
func (l *LoginLimiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
