package token

import (
	"context"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Accounts is the auth.Service the auth service serves: the monolith's
// accounts, but a login answers with a signed token for the session instead
// of the session's opaque token. The session stays in the database and lives
// as long as in the monolith; the token is short-lived and renewed from it.
type Accounts struct {
	acc    *auth.Accounts
	issuer *Issuer
	verify *Verifier
}

var (
	_ auth.Service           = (*Accounts)(nil)
	_ auth.Renewer           = (*Accounts)(nil)
	_ auth.SessionIdentifier = (*Accounts)(nil)
)

// SessionID is the session a valid token names (its sid claim), the same
// for every renewed token of that session.
func (a *Accounts) SessionID(token string) (string, bool) {
	c, err := a.verify.Verify(token)
	return c.SessionID, err == nil
}

// NewAccounts wraps acc so its sessions are carried by tokens from issuer.
func NewAccounts(acc *auth.Accounts, issuer *Issuer) *Accounts {
	v, _ := NewVerifier(issuer.PublicKey(), VerifierOptions{Now: issuer.now}) // the issuer's key is valid
	return &Accounts{acc: acc, issuer: issuer, verify: v}
}

// Register delegates to the accounts.
func (a *Accounts) Register(ctx context.Context, in auth.RegisterInput) (auth.User, error) {
	return a.acc.Register(ctx, in)
}

// ListUsers delegates to the accounts.
func (a *Accounts) ListUsers(ctx context.Context, caller bookstore.Caller) ([]auth.User, error) {
	return a.acc.ListUsers(ctx, caller)
}

// EnsureAdmin delegates to the accounts.
func (a *Accounts) EnsureAdmin(ctx context.Context, name, email, password string) (auth.User, error) {
	return a.acc.EnsureAdmin(ctx, name, email, password)
}

// Login opens a session and answers with a token for it; the session's
// opaque token is dropped here, so only its hash (the session id) remains.
// ExpiresAt is the token's expiry.
func (a *Accounts) Login(ctx context.Context, in auth.LoginInput) (auth.Session, error) {
	s, err := a.acc.Login(ctx, in)
	if err != nil {
		return auth.Session{}, err
	}
	return a.issue(s.User, auth.HashToken(s.Token), s.ExpiresAt)
}

func (a *Accounts) issue(u auth.User, sid string, sessionExpiry time.Time) (auth.Session, error) {
	tok, c, err := a.issuer.Issue(u, sid, sessionExpiry)
	if err != nil {
		return auth.Session{}, err
	}
	return auth.Session{Token: tok, User: u, ExpiresAt: c.ExpiresAt}, nil
}

// Authenticate verifies the token and checks that its session is still
// open: the auth service itself honours a logout at once.
func (a *Accounts) Authenticate(ctx context.Context, token string) (auth.User, error) {
	c, err := a.verify.Verify(token)
	if err != nil {
		return auth.User{}, err
	}
	u, err := a.acc.SessionUser(ctx, c.SessionID)
	if err != nil {
		return auth.User{}, err
	}
	if u.ID != c.User.ID {
		return auth.User{}, invalidToken()
	}
	return u, nil
}

// Logout ends the token's session and records the revocation, so the other
// services refuse its tokens at their next poll. An expired token may still
// log out; a token that is not ours, or whose session already ended, is a
// no-op, as in the monolith.
func (a *Accounts) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	c, err := a.verify.verifySignature(token)
	if err != nil {
		return nil
	}
	return a.acc.EndSession(ctx, c.SessionID)
}

// Renew returns a fresh token for the same session, with the user's current
// name and role, while the session is open; EUNAUTHORIZED once it ended or
// when the token itself has expired (a browser renews well before that;
// API scripts holding bearer tokens log in again instead).
func (a *Accounts) Renew(ctx context.Context, token string) (auth.Session, error) {
	c, err := a.verify.Verify(token)
	if err != nil {
		return auth.Session{}, err
	}
	ss, u, err := a.acc.Session(ctx, c.SessionID)
	if err != nil {
		return auth.Session{}, err
	}
	if u.ID != c.User.ID {
		return auth.Session{}, invalidToken()
	}
	s, err := a.issue(u, c.SessionID, ss.ExpiresAt)
	if err != nil {
		return auth.Session{}, fmt.Errorf("renew: %w", err)
	}
	return s, nil
}

// TokenLifetime reads when one of our tokens was issued and expires.
func (a *Accounts) TokenLifetime(token string) (issuedAt, expiresAt time.Time, ok bool) {
	return a.verify.lifetime(token)
}

// RevokedAfter lists signed-out sessions for the other services' pollers
// (a RevocationSource); see auth.Accounts.RevokedAfter.
func (a *Accounts) RevokedAfter(ctx context.Context, afterID int64, limit int) ([]Revocation, error) {
	return a.acc.RevokedAfter(ctx, afterID, limit)
}
