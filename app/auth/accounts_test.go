package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

const goodPassword = "correct horse"

type env struct {
	acc   *auth.Accounts
	store *fakeStore
	clock *clock
}

func newEnv(t *testing.T) env {
	t.Helper()
	st, clk := newFakeStore(), newClock()
	acc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, Now: clk.Now})
	return env{acc: acc, store: st, clock: clk}
}

func (e env) register(t *testing.T, name, email string) auth.User {
	t.Helper()
	u, err := e.acc.Register(context.Background(), auth.RegisterInput{Name: name, Email: email, Password: goodPassword})
	if err != nil {
		t.Fatalf("Register(%s): %v", email, err)
	}
	return u
}

func (e env) login(email, password, addr string) (auth.Session, error) {
	return e.acc.Login(context.Background(), auth.LoginInput{Email: email, Password: password, RemoteAddr: addr})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bookstore.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func TestRegisterValidation(t *testing.T) {
	long := strings.Repeat("x", 73)
	tests := []struct {
		name string
		in   auth.RegisterInput
		ok   bool
	}{
		{"valid", auth.RegisterInput{"Ana", "ana@example.com", goodPassword}, true},
		{"empty name", auth.RegisterInput{"", "ana@example.com", goodPassword}, false},
		{"blank name", auth.RegisterInput{" \t ", "ana@example.com", goodPassword}, false},
		{"name of 100 runes", auth.RegisterInput{strings.Repeat("é", 100), "ana@example.com", goodPassword}, true},
		{"name of 101 runes", auth.RegisterInput{strings.Repeat("é", 101), "ana@example.com", goodPassword}, false},
		{"empty e-mail", auth.RegisterInput{"Ana", "", goodPassword}, false},
		{"no at sign", auth.RegisterInput{"Ana", "ana.example.com", goodPassword}, false},
		{"no local part", auth.RegisterInput{"Ana", "@example.com", goodPassword}, false},
		{"display-name form", auth.RegisterInput{"Ana", "A <a@b.co>", goodPassword}, false},
		{"angle brackets only", auth.RegisterInput{"Ana", "<a@b.co>", goodPassword}, false},
		{"two addresses", auth.RegisterInput{"Ana", "a@b.co, c@d.co", goodPassword}, false},
		{"domain without dot", auth.RegisterInput{"Ana", "ana@localhost", goodPassword}, false},
		{"domain ending in dot", auth.RegisterInput{"Ana", "ana@example.", goodPassword}, false},
		{"space inside", auth.RegisterInput{"Ana", "an a@example.com", goodPassword}, false},
		{"e-mail over 254", auth.RegisterInput{"Ana", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com", goodPassword}, false},
		{"empty password", auth.RegisterInput{"Ana", "ana@example.com", ""}, false},
		{"7 characters", auth.RegisterInput{"Ana", "ana@example.com", "1234567"}, false},
		{"8 characters", auth.RegisterInput{"Ana", "ana@example.com", "12345678"}, true},
		{"8 multibyte characters", auth.RegisterInput{"Ana", "ana@example.com", "ññññññññ"}, true},
		{"72 bytes", auth.RegisterInput{"Ana", "ana@example.com", long[:72]}, true},
		{"73 bytes", auth.RegisterInput{"Ana", "ana@example.com", long}, false},
		{"37 two-byte runes (74 bytes)", auth.RegisterInput{"Ana", "ana@example.com", strings.Repeat("ñ", 37)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u, err := e.acc.Register(context.Background(), tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("Register: %v", err)
				}
				if u.ID == 0 || u.Role != bookstore.RoleUser {
					t.Errorf("user = %+v, want an id and role %q", u, bookstore.RoleUser)
				}
				return
			}
			wantCode(t, err, bookstore.EINVALID)
			if n := len(e.store.users); n != 0 {
				t.Errorf("store holds %d users after a rejected registration", n)
			}
		})
	}
}

func TestRegisterNormalisesEmailToOneAccount(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "  Ana  ", "  Ana@Example.COM ")
	if u.Email != "ana@example.com" || u.Name != "Ana" {
		t.Errorf("user = %q <%q>, want trimmed name and lower-cased e-mail", u.Name, u.Email)
	}
	_, err := e.acc.Register(context.Background(), auth.RegisterInput{Name: "Other", Email: "ANA@example.com", Password: goodPassword})
	wantCode(t, err, bookstore.ECONFLICT)
	if len(e.store.users) != 1 {
		t.Errorf("store holds %d users, want 1", len(e.store.users))
	}
	if _, err := e.login(" ANA@EXAMPLE.com ", goodPassword, "192.0.2.1"); err != nil {
		t.Errorf("login with another spelling of the e-mail: %v", err)
	}
}

func TestPasswordStoredAsBcryptHashOnly(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "Ana", "ana@example.com")
	stored, _ := e.store.user("ana@example.com")
	if stored.PasswordHash == "" || strings.Contains(stored.PasswordHash, goodPassword) {
		t.Fatalf("stored password hash %q", stored.PasswordHash)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(stored.PasswordHash), []byte(goodPassword)); err != nil {
		t.Errorf("stored hash is not a bcrypt hash of the password: %v", err)
	}
	if cost, _ := bcrypt.Cost([]byte(stored.PasswordHash)); cost != bcrypt.MinCost {
		t.Errorf("bcrypt cost = %d, want the configured %d", cost, bcrypt.MinCost)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), stored.PasswordHash) || strings.Contains(strings.ToLower(string(b)), "password") {
		t.Errorf("user JSON leaks the hash: %s", b)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "Ana", "ana@example.com")

	s, err := e.login("ana@example.com", goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if s.Token == "" || s.User.ID != u.ID || !s.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("session = %+v, want a token for user %d expiring in the TTL", s, u.ID)
	}
	s2, err := e.login("ana@example.com", goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if s2.Token == s.Token {
		t.Error("two logins got the same token")
	}

	_, wrongPw := e.login("ana@example.com", "wrong password", "192.0.2.1")
	wantCode(t, wrongPw, bookstore.EUNAUTHORIZED)
	_, unknown := e.login("nobody@example.com", goodPassword, "192.0.2.1")
	wantCode(t, unknown, bookstore.EUNAUTHORIZED)
	// The same answer, so the message does not reveal which accounts exist.
	if bookstore.ErrorMessage(wrongPw) != bookstore.ErrorMessage(unknown) {
		t.Errorf("messages differ: %q vs %q", bookstore.ErrorMessage(wrongPw), bookstore.ErrorMessage(unknown))
	}
}

func TestLoginSuccessResetsAccountCounter(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	fail := func(n int) {
		for i := 0; i < n; i++ {
			_, err := e.login("ana@example.com", "typo", "192.0.2.1")
			wantCode(t, err, bookstore.EUNAUTHORIZED)
		}
	}
	fail(auth.DefaultLimits.PerAccount - 1)
	if _, err := e.login("ana@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	fail(auth.DefaultLimits.PerAccount - 1) // would reach the limit without the reset
	if _, err := e.login("ana@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Errorf("login after a success and %d failures: %v", auth.DefaultLimits.PerAccount-1, err)
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	e := newEnv(t)
	const attacker = "203.0.113.9"
	emails := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"}
	for _, m := range emails {
		e.register(t, m, m)
	}
	e.register(t, "Victim", "victim@example.com")
	// 20 failures spread so that no account reaches its own limit.
	failures := 0
	for _, m := range emails {
		for i := 0; i < auth.DefaultLimits.PerAccount-1; i++ {
			_, err := e.login(m, "guess", attacker)
			wantCode(t, err, bookstore.EUNAUTHORIZED)
			failures++
		}
	}
	if failures != auth.DefaultLimits.PerAddress {
		t.Fatalf("test set-up made %d failures, want %d", failures, auth.DefaultLimits.PerAddress)
	}
	_, err := e.login("victim@example.com", goodPassword, attacker)
	wantCode(t, err, bookstore.ETOOMANY)
	// The same account from another address is fine.
	if _, err := e.login("victim@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Errorf("from another address: %v", err)
	}
}

func TestSessionTokenStoredHashed(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	s, err := e.login("ana@example.com", goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	stored := e.store.storedSessions()
	if len(stored) != 1 {
		t.Fatalf("%d stored sessions, want 1", len(stored))
	}
	if stored[0].TokenHash == s.Token || strings.Contains(stored[0].TokenHash, s.Token) {
		t.Fatal("the store received the raw token")
	}
	if stored[0].TokenHash != auth.HashToken(s.Token) {
		t.Errorf("stored hash %q, want HashToken(token)", stored[0].TokenHash)
	}
	if h := auth.HashToken(s.Token); len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Errorf("HashToken = %q, want 64 hex digits (SHA-256)", h)
	}
	if len(s.Token) < 32 {
		t.Errorf("token %q is too short to be unguessable", s.Token)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "Ana", "ana@example.com")
	s, err := e.login("ana@example.com", goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.acc.Authenticate(context.Background(), s.Token)
	if err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate = %+v, %v; want user %d", got, err, u.ID)
	}
	for _, bad := range []string{"", "not-a-token", auth.HashToken(s.Token)} {
		_, err := e.acc.Authenticate(context.Background(), bad)
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	}
	e.clock.Advance(time.Hour - time.Second)
	if _, err := e.acc.Authenticate(context.Background(), s.Token); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	_, err = e.acc.Authenticate(context.Background(), s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
}

func TestLogoutRevokesOnlyThatSession(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	phone, _ := e.login("ana@example.com", goodPassword, "192.0.2.1")
	laptop, _ := e.login("ana@example.com", goodPassword, "192.0.2.1")

	if err := e.acc.Logout(context.Background(), phone.Token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err := e.acc.Authenticate(context.Background(), phone.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	if _, err := e.acc.Authenticate(context.Background(), laptop.Token); err != nil {
		t.Errorf("the other session was revoked too: %v", err)
	}
	// Logging out twice, or with nothing, is not an error.
	for _, tok := range []string{phone.Token, "", "unknown"} {
		if err := e.acc.Logout(context.Background(), tok); err != nil {
			t.Errorf("Logout(%q) = %v", tok, err)
		}
	}
}

func TestListUsersIsForAdmins(t *testing.T) {
	e := newEnv(t)
	ana := e.register(t, "Ana", "ana@example.com")
	admin, err := e.acc.EnsureAdmin(context.Background(), "Boss", "boss@example.com", "admin password")
	if err != nil {
		t.Fatal(err)
	}

	_, err = e.acc.ListUsers(context.Background(), bookstore.Caller{})
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	_, err = e.acc.ListUsers(context.Background(), ana.Caller())
	wantCode(t, err, bookstore.EFORBIDDEN)
	users, err := e.acc.ListUsers(context.Background(), admin.Caller())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 {
		t.Errorf("ListUsers returned %d users, want 2", len(users))
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("creates", func(t *testing.T) {
		e := newEnv(t)
		u, err := e.acc.EnsureAdmin(ctx, "", " Admin@Example.com ", "admin password")
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != bookstore.RoleAdmin || u.Email != "admin@example.com" || u.Name != "Administrator" || u.ID == 0 {
			t.Errorf("admin = %+v", u)
		}
		s, err := e.login("admin@example.com", "admin password", "192.0.2.1")
		if err != nil || !s.User.Caller().IsAdmin() {
			t.Errorf("admin login = %+v, %v", s.User, err)
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		e := newEnv(t)
		first, err := e.acc.EnsureAdmin(ctx, "Boss", "admin@example.com", "admin password")
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.acc.EnsureAdmin(ctx, "Boss", "admin@example.com", "admin password")
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != first.ID || len(e.store.users) != 1 || e.store.updates != 0 {
			t.Errorf("second run: id %d vs %d, %d users, %d updates; want no change", second.ID, first.ID, len(e.store.users), e.store.updates)
		}
	})
	t.Run("promotes an existing user", func(t *testing.T) {
		e := newEnv(t)
		ana := e.register(t, "Ana", "ana@example.com")
		u, err := e.acc.EnsureAdmin(ctx, "Boss", "ANA@example.com", "new admin password")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != ana.ID || u.Role != bookstore.RoleAdmin || len(e.store.users) != 1 {
			t.Errorf("admin = %+v, want user %d promoted", u, ana.ID)
		}
		stored, _ := e.store.user("ana@example.com")
		if stored.Role != bookstore.RoleAdmin {
			t.Errorf("stored role = %q", stored.Role)
		}
		if _, err := e.login("ana@example.com", "new admin password", "192.0.2.1"); err != nil {
			t.Errorf("login with the configured password: %v", err)
		}
		_, err = e.login("ana@example.com", goodPassword, "192.0.2.1")
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	})
	t.Run("promotes a user who already has the admin password", func(t *testing.T) {
		e := newEnv(t)
		ana := e.register(t, "Ana", "ana@example.com")
		u, err := e.acc.EnsureAdmin(ctx, "Boss", "ana@example.com", goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if stored, _ := e.store.user("ana@example.com"); u.Role != bookstore.RoleAdmin || stored.Role != bookstore.RoleAdmin || u.ID != ana.ID {
			t.Errorf("returned role %q, stored role %q; want %q", u.Role, stored.Role, bookstore.RoleAdmin)
		}
	})
	t.Run("fixes the password of an existing admin", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.acc.EnsureAdmin(ctx, "Boss", "admin@example.com", "old admin password"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.acc.EnsureAdmin(ctx, "Boss", "admin@example.com", "new admin password"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.login("admin@example.com", "new admin password", "192.0.2.1"); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
		_, err := e.login("admin@example.com", "old admin password", "192.0.2.1")
		wantCode(t, err, bookstore.EUNAUTHORIZED)
	})
	t.Run("rejects a weak password", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.acc.EnsureAdmin(ctx, "Boss", "admin@example.com", "short")
		wantCode(t, err, bookstore.EINVALID)
		if len(e.store.users) != 0 {
			t.Error("an admin was created with an invalid password")
		}
	})
}

func TestDefaultsWithZeroOptions(t *testing.T) {
	// The zero Options must give a working service (default cost, TTL, clock).
	if testing.Short() {
		t.Skip("default bcrypt cost is slow")
	}
	st := newFakeStore()
	acc := auth.New(st, auth.Options{})
	if _, err := acc.Register(context.Background(), auth.RegisterInput{Name: "Ana", Email: "ana@example.com", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	stored, _ := st.user("ana@example.com")
	if cost, _ := bcrypt.Cost([]byte(stored.PasswordHash)); cost != bcrypt.DefaultCost {
		t.Errorf("cost = %d, want bcrypt.DefaultCost", cost)
	}
	s, err := acc.Login(context.Background(), auth.LoginInput{Email: "ana@example.com", Password: goodPassword, RemoteAddr: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if ttl := time.Until(s.ExpiresAt); ttl < 7*24*time.Hour-time.Minute || ttl > 7*24*time.Hour {
		t.Errorf("session lasts %v, want 7 days", ttl)
	}
}

// gatedStore holds every UserByEmail until n lookups wait there (or a second
// has passed), so concurrent logins reach the password check together, as
// when an attacker sends guesses in parallel.
type gatedStore struct {
	*fakeStore
	mu      sync.Mutex
	waiting int
	n       int
	gate    chan struct{}
}

func (g *gatedStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	g.mu.Lock()
	g.waiting++
	if g.waiting == g.n {
		close(g.gate)
	}
	g.mu.Unlock()
	select {
	case <-g.gate:
	case <-time.After(time.Second):
	}
	return g.fakeStore.UserByEmail(ctx, email)
}

// Parallel guesses get no more tries than sequential ones: each is counted
// before its password is checked.
func TestConcurrentGuessesStayWithinTheLimit(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	limit := auth.DefaultLimits.PerAccount
	gated := &gatedStore{fakeStore: e.store, n: limit + 1, gate: make(chan struct{})}
	acc := auth.New(gated, auth.Options{BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, Now: e.clock.Now})

	const guesses = 20
	codes := make(chan string, guesses)
	var wg sync.WaitGroup
	for i := 0; i < guesses; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := acc.Login(context.Background(), auth.LoginInput{Email: "ana@example.com", Password: "guess", RemoteAddr: "198.51.100.1"})
			codes <- bookstore.ErrorCode(err)
		}()
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	if count[bookstore.EUNAUTHORIZED] != limit || count[bookstore.ETOOMANY] != guesses-limit {
		t.Fatalf("answers = %v; want %d passwords checked and %d refused", count, limit, guesses-limit)
	}
}

// A successful login does not use up its address's budget, so many people
// behind one address can keep signing in.
func TestSuccessfulLoginsDoNotUseTheAddressBudget(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	for i := 0; i < auth.DefaultLimits.PerAddress+5; i++ {
		if _, err := e.login("ana@example.com", goodPassword, "192.0.2.50"); err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
	}
}

// brokenLookups fails every account lookup while broken is set, as a
// database that is down.
type brokenLookups struct {
	*fakeStore
	broken bool
}

func (b *brokenLookups) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	if b.broken {
		return auth.User{}, errors.New("database is down")
	}
	return b.fakeStore.UserByEmail(ctx, email)
}

// Logins that failed before any password was checked are not guesses: once
// the database is back, the account is not locked.
func TestLoginsThatCheckedNoPasswordDoNotCount(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	st := &brokenLookups{fakeStore: e.store, broken: true}
	acc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, Now: e.clock.Now})
	login := func() error {
		_, err := acc.Login(context.Background(), auth.LoginInput{Email: "ana@example.com", Password: goodPassword, RemoteAddr: "192.0.2.1"})
		return err
	}
	for i := 0; i < auth.DefaultLimits.PerAddress+1; i++ {
		if err := login(); err == nil || bookstore.ErrorCode(err) == bookstore.ETOOMANY {
			t.Fatalf("login %d with the database down: %v, want an internal error", i+1, err)
		}
	}
	st.broken = false
	if err := login(); err != nil {
		t.Fatalf("login once the database is back: %v", err)
	}
}

// A successful login whose request is cancelled right after the password
// check still gives its attempt back.
func TestCancelledSuccessfulLoginIsNotCounted(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Ana", "ana@example.com")
	limiter := &cancelCheckingLimiter{Limiter: auth.NewLoginLimiter(auth.DefaultLimits)}
	acc := auth.New(e.store, auth.Options{BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, Now: e.clock.Now, Limiter: limiter})
	ctx, cancel := context.WithCancel(context.Background())
	limiter.afterTake = cancel // the client goes away during the check
	_, _ = acc.Login(ctx, auth.LoginInput{Email: "ana@example.com", Password: goodPassword, RemoteAddr: "192.0.2.1"})
	if limiter.cancelledCalls > 0 {
		t.Fatalf("%d limiter calls got the cancelled request context; the attempt stays counted", limiter.cancelledCalls)
	}
}

// cancelCheckingLimiter counts Return and Reset calls made with a context
// already cancelled (a database limiter would refuse them).
type cancelCheckingLimiter struct {
	auth.Limiter
	afterTake      func()
	cancelledCalls int
}

func (l *cancelCheckingLimiter) Take(ctx context.Context, now time.Time, keys ...string) (bool, error) {
	ok, err := l.Limiter.Take(ctx, now, keys...)
	l.afterTake()
	return ok, err
}

func (l *cancelCheckingLimiter) Return(ctx context.Context, key string) error {
	if ctx.Err() != nil {
		l.cancelledCalls++
	}
	return l.Limiter.Return(ctx, key)
}

func (l *cancelCheckingLimiter) Reset(ctx context.Context, key string) error {
	if ctx.Err() != nil {
		l.cancelledCalls++
	}
	return l.Limiter.Reset(ctx, key)
}
