// Package auth is the identity module: users, passwords, sessions and who may
// see the user list. It owns the users and sessions tables; other modules only
// learn who is calling through a bookstore.Caller.
package auth

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// User is a person with an account. Every user can buy and sell; admins can
// also list users and manage any book.
type User struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Caller returns the identity other modules use to authorise this user.
func (u User) Caller() bookstore.Caller { return bookstore.Caller{UserID: u.ID, Role: u.Role} }

// Session is what a successful login returns. Token is the bearer secret; it is
// shown once and only its SHA-256 hash is stored.
type Session struct {
	Token     string    `json:"token"`
	User      User      `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// StoredSession is a session as persisted: the token's hash, never the token.
type StoredSession struct {
	TokenHash string
	UserID    int64
	ExpiresAt time.Time
	CreatedAt time.Time
}

// RegisterInput is what a visitor gives to open an account.
type RegisterInput struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginInput identifies a login attempt; RemoteAddr feeds the rate limiter.
type LoginInput struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	RemoteAddr string `json:"-"`
}

// Service is the identity API used by the web adapter, in-process in the
// monolith and over HTTP in the microservices.
type Service interface {
	Register(ctx context.Context, in RegisterInput) (User, error)
	Login(ctx context.Context, in LoginInput) (Session, error)
	Logout(ctx context.Context, token string) error
	// Authenticate returns the user a session token belongs to, or
	// EUNAUTHORIZED when it is unknown, expired or revoked.
	Authenticate(ctx context.Context, token string) (User, error)
	// ListUsers is for admins only (EFORBIDDEN otherwise).
	ListUsers(ctx context.Context, caller bookstore.Caller) ([]User, error)
	// EnsureAdmin creates the admin account, or makes the existing account
	// with that e-mail an admin with that password.
	EnsureAdmin(ctx context.Context, name, email, password string) (User, error)
}

// OnlineAuthenticator is implemented by identity clients that verify tokens
// offline (the services' signed tokens, refused after a logout once the
// revocation list is next polled) and can also ask the issuer at once. The
// web adapter asks the issuer for requests that change something, so a
// signed-out token never changes anything, even on an instance whose list
// has not caught up; reads rely on the offline check alone.
type OnlineAuthenticator interface {
	AuthenticateOnline(ctx context.Context, token string) (User, error)
}

// Renewer is implemented by identity services whose tokens are short-lived
// (the microservices' signed tokens), so the web adapter can keep a browser
// signed in by swapping its cookie for a fresh token before the old one
// expires. The monolith's Accounts does not implement it: its opaque session
// tokens already last as long as the session.
type Renewer interface {
	// TokenLifetime tells when an authenticated token was issued and when it
	// expires; ok is false for a token it cannot read.
	TokenLifetime(token string) (issuedAt, expiresAt time.Time, ok bool)
	// Renew returns a fresh token for the same sign-in while it lasts, and
	// EUNAUTHORIZED once it was signed out or expired.
	Renew(ctx context.Context, token string) (Session, error)
}

// Store persists users and sessions. Implementations return bookstore errors:
// ECONFLICT for a taken e-mail, ENOTFOUND for a missing user or session.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)

	CreateSession(ctx context.Context, s StoredSession) error
	// SessionUser returns the user of an unexpired session (ENOTFOUND otherwise).
	SessionUser(ctx context.Context, tokenHash string, now time.Time) (User, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
	// SessionByHash returns an unexpired session (ENOTFOUND otherwise).
	SessionByHash(ctx context.Context, tokenHash string, now time.Time) (StoredSession, error)

	// RevokeSession deletes a session and records its revocation, in one
	// transaction so a signed-out session is never forgotten by the services
	// that verify its tokens offline; ENOTFOUND when there is no such session.
	RevokeSession(ctx context.Context, tokenHash string, now time.Time) error
	// RevokedSessionsAfter lists up to limit revocations with an id above
	// afterID, in id order.
	RevokedSessionsAfter(ctx context.Context, afterID int64, limit int) ([]Revocation, error)
	// DeleteExpiredRevocations removes revocations whose session expired at
	// or before now: no token of theirs can still be valid.
	DeleteExpiredRevocations(ctx context.Context, now time.Time) error
}
