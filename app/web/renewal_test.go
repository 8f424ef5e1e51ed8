package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/web"
)

// renewingAuth is an identity service with short-lived tokens, as in the
// microservices: "fresh" was issued a minute ago, "old" is past half its
// fifteen minutes.
type renewingAuth struct {
	fakeAuth
	renewErr error

	mu      sync.Mutex
	renewed []string
}

func newRenewingAuth() *renewingAuth {
	seven := auth.User{ID: 7, Name: "Seven", Role: bookstore.RoleUser}
	return &renewingAuth{fakeAuth: fakeAuth{users: map[string]auth.User{"fresh": seven, "old": seven}}}
}

func (r *renewingAuth) TokenLifetime(token string) (time.Time, time.Time, bool) {
	now := time.Now()
	switch token {
	case "fresh":
		return now.Add(-time.Minute), now.Add(14 * time.Minute), true
	case "old":
		return now.Add(-10 * time.Minute), now.Add(5 * time.Minute), true
	}
	return time.Time{}, time.Time{}, false
}

func (r *renewingAuth) Renew(_ context.Context, token string) (auth.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.renewed = append(r.renewed, token)
	if r.renewErr != nil {
		return auth.Session{}, r.renewErr
	}
	return auth.Session{Token: "renewed", User: auth.User{ID: 7, Name: "Seven, renewed", Role: bookstore.RoleUser},
		ExpiresAt: time.Now().Add(15 * time.Minute).UTC().Truncate(time.Second)}, nil
}

func (r *renewingAuth) renewals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.renewed...)
}

func newEnvWithAuth(t *testing.T, a auth.Service) *env {
	t.Helper()
	e := &env{catalog: &fakeCatalog{}, logs: &bytes.Buffer{}, covers: t.TempDir()}
	e.srv = web.New(web.Options{}, web.Deps{
		Auth: a, Catalog: e.catalog, Purchase: fakePurchase{}, CoversDir: e.covers,
		Ready:  func(context.Context) error { return nil },
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	return e
}

func sessionCookieSet(rec interface{ Result() *http.Response }) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "bookstore_session" {
			return c
		}
	}
	return nil
}

func TestCookieIsRenewedPastHalfItsLife(t *testing.T) {
	a := newRenewingAuth()
	e := newEnvWithAuth(t, a)

	rec := e.do(req{method: "GET", target: "/api/v1/auth/me", cookies: []*http.Cookie{cookie("bookstore_session", "old")}})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/auth/me = %d %s", rec.Code, rec.Body)
	}
	ck := sessionCookieSet(rec)
	if ck == nil || ck.Value != "renewed" {
		t.Fatalf("an old cookie was not renewed: Set-Cookie %v", rec.Header().Values("Set-Cookie"))
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || time.Until(ck.Expires) < 14*time.Minute {
		t.Errorf("renewed cookie %+v: want HttpOnly, Lax, Path=/, expiring with the new token", ck)
	}
	// The request itself already runs as the renewed session.
	if !strings.Contains(rec.Body.String(), "Seven, renewed") {
		t.Errorf("the request did not use the renewed session: %s", rec.Body)
	}
	if got := a.renewals(); len(got) != 1 || got[0] != "old" {
		t.Fatalf("renewals = %v", got)
	}

	// A cookie in the first half of its life is left alone.
	rec = e.do(req{method: "GET", target: "/books", cookies: []*http.Cookie{cookie("bookstore_session", "fresh")}})
	if ck := sessionCookieSet(rec); ck != nil || len(a.renewals()) != 1 {
		t.Errorf("a fresh cookie was renewed: %v", ck)
	}
}

func TestBearerTokensAreNotRenewed(t *testing.T) {
	a := newRenewingAuth()
	e := newEnvWithAuth(t, a)
	rec := e.do(req{method: "GET", target: "/api/v1/auth/me", header: http.Header{"Authorization": {"Bearer old"}}})
	if rec.Code != http.StatusOK || sessionCookieSet(rec) != nil || len(a.renewals()) != 0 {
		t.Fatalf("bearer request = %d, Set-Cookie %v, renewals %v; want 200 and no renewal",
			rec.Code, rec.Header().Values("Set-Cookie"), a.renewals())
	}
}

func TestFailedRenewalKeepsTheRequestGoing(t *testing.T) {
	a := newRenewingAuth()
	a.renewErr = bookstore.Errorf(bookstore.EUNAVAILABLE, "the auth service is unreachable; try again shortly")
	e := newEnvWithAuth(t, a)
	rec := e.do(req{method: "GET", target: "/api/v1/auth/me", cookies: []*http.Cookie{cookie("bookstore_session", "old")}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"id":7`) {
		t.Fatalf("with the auth service down, a still-valid cookie = %d %s", rec.Code, rec.Body)
	}
	if ck := sessionCookieSet(rec); ck != nil {
		t.Errorf("cookie changed on a failed renewal: %+v", ck)
	}
	if !strings.Contains(e.logs.String(), "session renewal failed") {
		t.Errorf("the failed renewal is not logged:\n%s", e.logs)
	}
}

// The monolith's sessions last as long as their opaque token: its Accounts
// must not renew, and its cookies are never rewritten.
func TestMonolithSessionsAreNotRenewed(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, store.AuthModule); err != nil {
		t.Fatal(err)
	}
	clock := time.Now().Add(-6 * 24 * time.Hour) // signed in six days ago, one left
	accounts := auth.New(store.NewAuthStore(db), auth.Options{BcryptCost: bcrypt.MinCost, Now: func() time.Time { return clock }})
	if _, ok := any(accounts).(auth.Renewer); ok {
		t.Fatal("the monolith's auth.Accounts implements auth.Renewer")
	}
	if _, err := accounts.Register(ctx, auth.RegisterInput{Name: "Mono", Email: "mono@example.com", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	s, err := accounts.Login(ctx, auth.LoginInput{Email: "mono@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	clock = time.Now()
	e := newEnvWithAuth(t, accounts)
	rec := e.do(req{method: "GET", target: "/api/v1/auth/me", cookies: []*http.Cookie{cookie("bookstore_session", s.Token)}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "mono@example.com") {
		t.Fatalf("monolith cookie = %d %s", rec.Code, rec.Body)
	}
	if ck := sessionCookieSet(rec); ck != nil {
		t.Fatalf("the monolith rewrote its session cookie: %+v", ck)
	}
}
