package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Revocation records a session signed out before it expired. Services that
// verify signed tokens offline refuse any token of that session until
// ExpiresAt, when the session, and so every token of it, would have ended
// anyway.
type Revocation struct {
	ID        int64     `json:"id"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at"`
}

// MaxRevocationsPage bounds one RevokedAfter answer.
const MaxRevocationsPage = 1000

// The methods below address a session by its id, HashToken of its opaque
// token. Signed tokens carry that id; the opaque token itself is discarded, so
// a signed token names its session without holding the secret that opens it.

// SessionIdentifier tells which session a token belongs to: an id that
// stays the same while the session lasts, across renewed tokens, and that
// another session never has. The web adapter binds CSRF tokens to it. ok is
// false for a token it cannot read.
type SessionIdentifier interface {
	SessionID(token string) (sid string, ok bool)
}

var _ SessionIdentifier = (*Accounts)(nil)

// SessionID of an opaque session token is its hash, the session's key.
func (a *Accounts) SessionID(token string) (string, bool) {
	return HashToken(token), token != ""
}

func sessionEnded() error {
	return bookstore.Errorf(bookstore.EUNAUTHORIZED, "session expired or signed out; sign in again")
}

// SessionUser returns the user of the live session sid; EUNAUTHORIZED when
// it expired or was signed out.
func (a *Accounts) SessionUser(ctx context.Context, sid string) (User, error) {
	u, err := a.store.SessionUser(ctx, sid, a.clock())
	if bookstore.ErrorCode(err) == bookstore.ENOTFOUND {
		return User{}, sessionEnded()
	} else if err != nil {
		return User{}, fmt.Errorf("find session: %w", err)
	}
	return u, nil
}

// Session returns the live session sid and its user, as they are now (a
// renewed token carries the user's current name and role); EUNAUTHORIZED when
// it expired or was signed out.
func (a *Accounts) Session(ctx context.Context, sid string) (StoredSession, User, error) {
	ss, err := a.store.SessionByHash(ctx, sid, a.clock())
	if bookstore.ErrorCode(err) == bookstore.ENOTFOUND {
		return StoredSession{}, User{}, sessionEnded()
	} else if err != nil {
		return StoredSession{}, User{}, fmt.Errorf("find session: %w", err)
	}
	u, err := a.store.UserByID(ctx, ss.UserID)
	if bookstore.ErrorCode(err) == bookstore.ENOTFOUND {
		return StoredSession{}, User{}, sessionEnded()
	} else if err != nil {
		return StoredSession{}, User{}, fmt.Errorf("find session user: %w", err)
	}
	return ss, u, nil
}

// EndSession signs the session sid out and records the revocation for the
// services that verify its tokens offline. A session already gone is not an
// error, so logging out twice is harmless.
func (a *Accounts) EndSession(ctx context.Context, sid string) error {
	err := a.store.RevokeSession(ctx, sid, a.clock())
	if err != nil && bookstore.ErrorCode(err) != bookstore.ENOTFOUND {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// RevokedAfter lists up to limit revocations with an id above afterID, in id
// order; a limit outside 1..MaxRevocationsPage is EINVALID.
func (a *Accounts) RevokedAfter(ctx context.Context, afterID int64, limit int) ([]Revocation, error) {
	if afterID < 0 {
		return nil, bookstore.Errorf(bookstore.EINVALID, "after must be 0 or more")
	}
	if limit < 1 || limit > MaxRevocationsPage {
		return nil, bookstore.Errorf(bookstore.EINVALID, "limit must be between 1 and %d", MaxRevocationsPage)
	}
	revs, err := a.store.RevokedSessionsAfter(ctx, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return revs, nil
}

// SweepRevocations deletes revocations whose session would have expired by
// now; the auth service runs it periodically, like the session sweep.
func (a *Accounts) SweepRevocations(ctx context.Context) error {
	if err := a.store.DeleteExpiredRevocations(ctx, a.clock()); err != nil {
		return fmt.Errorf("sweep revocations: %w", err)
	}
	return nil
}
