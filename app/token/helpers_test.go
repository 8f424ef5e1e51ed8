package token_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/token"
)

const password = "correct horse"

// clock is a settable time source shared by everything under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// authEnv is an auth service: real accounts on a real SQLite store, tokens
// signed with a fresh key.
type authEnv struct {
	clock    *clock
	pub      ed25519.PublicKey
	accounts *token.Accounts
	user     auth.User
}

func newAuthEnv(t *testing.T) authEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, store.AuthModule); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	acc := auth.New(store.NewAuthStore(db), auth.Options{BcryptCost: bcrypt.MinCost, SessionTTL: 24 * time.Hour, Now: clk.Now})
	pub, priv, err := token.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := token.NewIssuer(priv, token.IssuerOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := authEnv{clock: clk, pub: pub, accounts: token.NewAccounts(acc, iss)}
	e.user, err = e.accounts.Register(ctx, auth.RegisterInput{Name: "Lola", Email: "lola@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e authEnv) login(t *testing.T) auth.Session {
	t.Helper()
	s, err := e.accounts.Login(context.Background(), auth.LoginInput{Email: e.user.Email, Password: password, RemoteAddr: "192.0.2.9"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return s
}

func (e authEnv) verifier(t *testing.T) *token.Verifier {
	t.Helper()
	v, err := token.NewVerifier(e.pub, token.VerifierOptions{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newAuthenticator is a catalog or purchase service's view of env, polling
// src (nil: the auth service itself), logging into logs.
func (e authEnv) newAuthenticator(t *testing.T, src token.RevocationSource, opt token.AuthenticatorOptions) (*token.Authenticator, *logBuffer) {
	t.Helper()
	if src == nil {
		src = e.accounts
	}
	logs := &logBuffer{}
	opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if opt.Now == nil {
		opt.Now = e.clock.Now
	}
	return token.NewAuthenticator(e.verifier(t), src, opt), logs
}

// logBuffer is a log a running poller writes while the test reads it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bookstore.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}
