package token_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/token"
)

func TestLoginIssuesATokenForTheSession(t *testing.T) {
	e := newAuthEnv(t)
	s := e.login(t)
	if strings.Count(s.Token, ".") != 2 {
		t.Fatalf("login token %q is not a JWT", s.Token)
	}
	if !s.ExpiresAt.Equal(e.clock.Now().Add(token.DefaultTTL)) || s.User.ID != e.user.ID {
		t.Fatalf("session = %+v, want user %d until %v", s, e.user.ID, e.clock.Now().Add(token.DefaultTTL))
	}
	c, err := e.verifier(t).Verify(s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SessionID) != 64 || c.User.ID != e.user.ID {
		t.Fatalf("claims = %+v", c)
	}
	u, err := e.accounts.Authenticate(context.Background(), s.Token)
	if err != nil || u.ID != e.user.ID {
		t.Fatalf("Authenticate = %+v, %v", u, err)
	}
	_, err = e.accounts.Login(context.Background(), auth.LoginInput{Email: e.user.Email, Password: "wrong password"})
	wantCode(t, err, bookstore.EUNAUTHORIZED)
}

func TestLogoutIsHonouredAtOnceByTheAuthService(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	s, other := e.login(t), e.login(t)
	if err := e.accounts.Logout(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	// The token is still validly signed, but its session is gone.
	_, err := e.accounts.Authenticate(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	if _, err := e.accounts.Authenticate(ctx, other.Token); err != nil {
		t.Fatalf("logging out one session ended another: %v", err)
	}
	revs, err := e.accounts.RevokedAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.verifier(t).Verify(other.Token)
	if len(revs) != 1 || revs[0].SessionID == c.SessionID || !revs[0].ExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("revocations = %+v, want the first session's, until the session's expiry", revs)
	}

	// Logging out again, or with junk, is a no-op.
	for _, tok := range []string{s.Token, "", "junk"} {
		if err := e.accounts.Logout(ctx, tok); err != nil {
			t.Fatalf("Logout(%.10q) = %v", tok, err)
		}
	}
}

func TestAnExpiredTokenCanStillLogOut(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	s := e.login(t)
	e.clock.Advance(token.DefaultTTL + time.Hour)
	_, err := e.accounts.Authenticate(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	if err := e.accounts.Logout(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	if revs, _ := e.accounts.RevokedAfter(ctx, 0, 10); len(revs) != 1 {
		t.Fatalf("an expired token's logout recorded %d revocations, want 1", len(revs))
	}
}

func TestRenewKeepsTheSession(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	s := e.login(t)
	v := e.verifier(t)
	before, _ := v.Verify(s.Token)

	e.clock.Advance(10 * time.Minute)
	r, err := e.accounts.Renew(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	after, err := v.Verify(r.Token)
	if err != nil {
		t.Fatal(err)
	}
	if after.SessionID != before.SessionID || !after.ExpiresAt.After(before.ExpiresAt) || !r.ExpiresAt.Equal(after.ExpiresAt) {
		t.Fatalf("renewed %+v from %+v: want the same session, later expiry", after, before)
	}
	iat, exp, ok := e.accounts.TokenLifetime(r.Token)
	if !ok || !iat.Equal(e.clock.Now()) || !exp.Equal(after.ExpiresAt) {
		t.Fatalf("TokenLifetime = %v %v %v", iat, exp, ok)
	}
	if _, _, ok := e.accounts.TokenLifetime("junk"); ok {
		t.Fatal("TokenLifetime read junk")
	}

	// Logging out with the renewed token ends the session of both.
	if err := e.accounts.Logout(ctx, r.Token); err != nil {
		t.Fatal(err)
	}
	_, err = e.accounts.Renew(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	_, err = e.accounts.Authenticate(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
}

func TestRenewNeverOutlivesTheSession(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	sessionEnd := e.clock.Now().Add(24 * time.Hour)
	s := e.login(t)
	// Renew every 10 minutes until the day-long session ends.
	for renewals := 0; ; renewals++ {
		e.clock.Advance(10 * time.Minute)
		r, err := e.accounts.Renew(ctx, s.Token)
		if err != nil {
			wantCode(t, err, bookstore.EUNAUTHORIZED)
			if e.clock.Now().Before(sessionEnd) {
				t.Fatalf("renewal refused after %d renewals, before the session ended", renewals)
			}
			break
		}
		if r.ExpiresAt.After(sessionEnd) {
			t.Fatalf("renewed token expires %v, after its session (%v)", r.ExpiresAt, sessionEnd)
		}
		s = r
	}
	// An expired token cannot be renewed: only the browser renews, in time.
	s = e.login(t)
	e.clock.Advance(token.DefaultTTL + time.Minute)
	_, err := e.accounts.Renew(ctx, s.Token)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
}
