package token_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/token"
)

// fakeSource is a scripted auth service: a revocation list in id order that
// can fail, and records what it was asked.
type fakeSource struct {
	mu     sync.Mutex
	revs   []token.Revocation
	err    error
	block  bool // wait for the caller's context, as a hung HTTP call would
	afters []int64
}

func (f *fakeSource) RevokedAfter(ctx context.Context, afterID int64, limit int) ([]token.Revocation, error) {
	f.mu.Lock()
	f.afters = append(f.afters, afterID)
	block, err := f.block, f.err
	var out []token.Revocation
	for _, r := range f.revs {
		if r.ID > afterID && len(out) < limit {
			out = append(out, r)
		}
	}
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (f *fakeSource) set(fn func(f *fakeSource)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSource) asked() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.afters...)
}

func mustSync(t *testing.T, a *token.Authenticator) {
	t.Helper()
	if err := a.Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

func TestAuthenticatorHonoursLogoutAfterOneSync(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	a, _ := e.newAuthenticator(t, nil, token.AuthenticatorOptions{})
	s, other := e.login(t), e.login(t)

	// Until it has heard from the auth service once, it cannot know which
	// sessions were signed out: closed.
	_, err := a.Authenticate(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAVAILABLE)

	mustSync(t, a)
	u, err := a.Authenticate(ctx, s.Token)
	if err != nil || u.ID != e.user.ID || u.Email != e.user.Email || u.Role != bookstore.RoleUser {
		t.Fatalf("Authenticate = %+v, %v", u, err)
	}
	if err := e.accounts.Logout(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	_, err = a.Authenticate(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	if _, err := a.Authenticate(ctx, other.Token); err != nil {
		t.Fatalf("another session of the same user is refused: %v", err)
	}
	// A bad token is a 401 whatever the state of the list.
	_, err = a.Authenticate(ctx, "junk")
	wantCode(t, err, bookstore.EUNAUTHORIZED)
}

func TestAuthenticatorRunHonoursLogoutWithinAPoll(t *testing.T) {
	e := newAuthEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	const interval = 20 * time.Millisecond
	a, _ := e.newAuthenticator(t, nil, token.AuthenticatorOptions{PollInterval: interval})
	s := e.login(t)
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "the first sync", func() bool { _, err := a.Authenticate(ctx, s.Token); return err == nil })
	if err := e.accounts.Logout(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "the logout", func() bool {
		_, err := a.Authenticate(ctx, s.Token)
		return bookstore.ErrorCode(err) == bookstore.EUNAUTHORIZED
	})
	t.Logf("logout honoured after %v (poll interval %v)", time.Since(start), interval)
}

// waitFor polls cond for up to 5 seconds: generous, for a shared machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestStaleRevocationListFailsClosed(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	src := &fakeSource{}
	a, logs := e.newAuthenticator(t, src, token.AuthenticatorOptions{StaleAfter: 30 * time.Second})
	s := e.login(t)
	mustSync(t, a)

	src.set(func(f *fakeSource) { f.err = errors.New("dial tcp 10.0.0.5:8080: connection refused") })
	e.clock.Advance(20 * time.Second)
	if a.Sync(ctx) == nil {
		t.Fatal("a failing source synced")
	}
	if _, err := a.Authenticate(ctx, s.Token); err != nil {
		t.Fatalf("within the staleness limit: %v", err)
	}

	e.clock.Advance(11 * time.Second)
	for range 3 {
		_, err := a.Authenticate(ctx, s.Token)
		wantCode(t, err, bookstore.EUNAVAILABLE)
		if msg := bookstore.ErrorMessage(err); msg != "the auth service is unreachable; try again shortly" {
			t.Fatalf("stale message %q", msg)
		}
	}
	_ = a.Sync(ctx)
	if n := strings.Count(logs.String(), "revocation list is stale"); n != 1 {
		t.Fatalf("the outage was logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the stale log line does not say why:\n%s", logs)
	}
	// Visitors are not affected: no token, no question to the auth service.
	_, err := a.Authenticate(ctx, "")
	wantCode(t, err, bookstore.EUNAUTHORIZED)

	src.set(func(f *fakeSource) { f.err = nil })
	mustSync(t, a)
	if _, err := a.Authenticate(ctx, s.Token); err != nil {
		t.Fatalf("after a good sync: %v", err)
	}
	if !strings.Contains(logs.String(), "in sync again") {
		t.Errorf("the recovery is not logged:\n%s", logs)
	}
	// A second outage is logged again.
	src.set(func(f *fakeSource) { f.err = errors.New("timeout") })
	e.clock.Advance(time.Minute)
	_, _ = a.Authenticate(ctx, s.Token)
	if n := strings.Count(logs.String(), "revocation list is stale"); n != 2 {
		t.Fatalf("two outages logged %d times", n)
	}
}

func TestRevocationCommittedLateIsNotMissed(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	sessions := []auth.Session{e.login(t), e.login(t), e.login(t)}
	sids := make([]string, len(sessions))
	for i, s := range sessions {
		c, _ := e.verifier(t).Verify(s.Token)
		sids[i] = c.SessionID
	}
	now := e.clock.Now()
	rev := func(id int64, sid string) token.Revocation {
		return token.Revocation{ID: id, SessionID: sid, ExpiresAt: now.Add(time.Hour), RevokedAt: now}
	}
	// Id 2 is still uncommitted when id 3 is read, as can happen on MySQL.
	src := &fakeSource{revs: []token.Revocation{rev(1, sids[0]), rev(3, sids[2])}}
	a, _ := e.newAuthenticator(t, src, token.AuthenticatorOptions{Settle: 30 * time.Second})
	mustSync(t, a)
	src.set(func(f *fakeSource) { f.revs = []token.Revocation{rev(1, sids[0]), rev(2, sids[1]), rev(3, sids[2])} })
	e.clock.Advance(2 * time.Second)
	mustSync(t, a)
	for i, s := range sessions {
		_, err := a.Authenticate(ctx, s.Token)
		if bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
			t.Errorf("session %d revoked: Authenticate = %v, want EUNAUTHORIZED", i+1, err)
		}
	}
	// Once settled, the cursor moves past them and polls stay small.
	e.clock.Advance(time.Minute)
	mustSync(t, a)
	mustSync(t, a)
	if asked := src.asked(); asked[len(asked)-1] != 3 || asked[1] != 0 {
		t.Fatalf("afterIDs asked = %v, want recent ids asked again, then 3", asked)
	}
}

func TestSyncReadsEveryPageAndPrunesExpired(t *testing.T) {
	e := newAuthEnv(t)
	now := e.clock.Now()
	var revs []token.Revocation
	for i := range 5 {
		revs = append(revs, token.Revocation{ID: int64(i + 1), SessionID: auth.HashToken(string(rune('a' + i))),
			ExpiresAt: now.Add(time.Duration(i+1) * time.Hour), RevokedAt: now.Add(-time.Hour)})
	}
	revs = append(revs, token.Revocation{ID: 6, SessionID: auth.HashToken("old"), ExpiresAt: now.Add(-time.Hour), RevokedAt: now.Add(-2 * time.Hour)})
	src := &fakeSource{revs: revs}
	a, _ := e.newAuthenticator(t, src, token.AuthenticatorOptions{PageSize: 2})
	mustSync(t, a)
	if n := token.RevokedCount(a); n != 5 {
		t.Fatalf("after one sync of 6 revocations in pages of 2 (one expired): %d held, want 5", n)
	}
	e.clock.Advance(2*time.Hour + token.DefaultLeeway + time.Second)
	mustSync(t, a)
	if n := token.RevokedCount(a); n != 3 {
		t.Fatalf("after two sessions expired: %d held, want 3", n)
	}
}

func TestRunStopsWithoutLeaking(t *testing.T) {
	e := newAuthEnv(t)
	src := &fakeSource{block: true} // every call hangs until cancelled
	a, _ := e.newAuthenticator(t, src, token.AuthenticatorOptions{PollInterval: time.Millisecond, RequestTimeout: time.Hour})
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	waitFor(t, "the first poll", func() bool { return len(src.asked()) > 0 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
