// Package token is the identity adapter of the microservices: the auth
// service signs short-lived Ed25519 JWTs for its sessions, and catalog and
// purchase verify them locally with the public key, refusing signed-out
// sessions from a revocation list they poll. The domain packages know nothing
// of JWTs; this package speaks auth.Service.
package token

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Who signs the tokens and who they are for; a token with another issuer or
// audience, even signed with the right key, is refused.
const (
	ClaimIssuer   = "bookstore-auth"
	ClaimAudience = "bookstore"
)

// Defaults for IssuerOptions and VerifierOptions.
const (
	DefaultTTL    = 15 * time.Minute
	DefaultLeeway = 10 * time.Second // clock skew between services
)

// maxTokenLength refuses absurd input before any parsing; a real token is
// about 400 bytes.
const maxTokenLength = 4096

// Claims is what a verified token says.
type Claims struct {
	// User has the ID, name, e-mail and role the token was issued with.
	User auth.User
	// SessionID is the auth session's id, auth.HashToken of its opaque token.
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// wireClaims is the JWT payload.
type wireClaims struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// IssuerOptions tune an Issuer; the zero value gives production defaults.
type IssuerOptions struct {
	TTL time.Duration    // how long a token lives; default DefaultTTL
	Now func() time.Time // default time.Now
}

// Issuer signs tokens with the private key. Only the auth service has one.
type Issuer struct {
	key ed25519.PrivateKey
	ttl time.Duration
	now func() time.Time
}

// NewIssuer returns an Issuer signing with key.
func NewIssuer(key ed25519.PrivateKey, opt IssuerOptions) (*Issuer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("token signing key: not an Ed25519 private key")
	}
	if opt.TTL < 0 {
		return nil, fmt.Errorf("token lifetime %s: must be positive", opt.TTL)
	}
	i := &Issuer{key: key, ttl: opt.TTL, now: opt.Now}
	if i.ttl == 0 {
		i.ttl = DefaultTTL
	}
	if i.now == nil {
		i.now = time.Now
	}
	return i, nil
}

// PublicKey is the key that verifies this issuer's tokens.
func (i *Issuer) PublicKey() ed25519.PublicKey { return i.key.Public().(ed25519.PublicKey) }

// Issue signs a token for u in session sid. It expires after the TTL, or at
// notAfter (the session's own expiry) if that comes first, so no token
// outlives its session.
func (i *Issuer) Issue(u auth.User, sid string, notAfter time.Time) (string, Claims, error) {
	now := i.now().UTC().Truncate(time.Second) // JWT times are whole seconds
	exp := now.Add(i.ttl)
	if notAfter = notAfter.UTC().Truncate(time.Second); notAfter.Before(exp) {
		exp = notAfter
	}
	if !exp.After(now) {
		return "", Claims{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "session expired; sign in again")
	}
	wc := wireClaims{Name: u.Name, Email: u.Email, Role: u.Role, SessionID: sid, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: ClaimIssuer, Audience: jwt.ClaimStrings{ClaimAudience}, Subject: strconv.FormatInt(u.ID, 10),
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, wc).SignedString(i.key)
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign session token: %w", err)
	}
	c := Claims{User: auth.User{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}, SessionID: sid, IssuedAt: now, ExpiresAt: exp}
	return s, c, nil
}

// VerifierOptions tune a Verifier; the zero value gives production defaults.
type VerifierOptions struct {
	Leeway time.Duration    // tolerated clock skew; default DefaultLeeway
	Now    func() time.Time // default time.Now
}

// Verifier checks tokens with the public key, offline.
type Verifier struct {
	key    ed25519.PublicKey
	leeway time.Duration
	now    func() time.Time
	parser *jwt.Parser // checks the signature and every claim
	sigs   *jwt.Parser // checks the signature only (logout, lifetime)
}

// NewVerifier returns a Verifier trusting key.
func NewVerifier(key ed25519.PublicKey, opt VerifierOptions) (*Verifier, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, errors.New("token public key: not an Ed25519 public key")
	}
	v := &Verifier{key: key, leeway: opt.Leeway, now: opt.Now}
	if v.leeway <= 0 {
		v.leeway = DefaultLeeway
	}
	if v.now == nil {
		v.now = time.Now
	}
	// Only EdDSA: "none", or HS256 keyed with the public key, or any other
	// algorithm an attacker names in the header is refused before the key
	// is even looked at.
	only := jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()})
	v.parser = jwt.NewParser(only, jwt.WithIssuer(ClaimIssuer), jwt.WithAudience(ClaimAudience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(v.leeway), jwt.WithTimeFunc(v.now))
	v.sigs = jwt.NewParser(only, jwt.WithoutClaimsValidation())
	return v, nil
}

func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
		return nil, errors.New("unexpected signing method")
	}
	return v.key, nil
}

func invalidToken() error {
	return bookstore.Errorf(bookstore.EUNAUTHORIZED, "invalid session token; sign in again")
}

func expiredToken() error {
	return bookstore.Errorf(bookstore.EUNAUTHORIZED, "session expired or signed out; sign in again")
}

// Verify checks the token's signature, issuer, audience and expiry;
// EUNAUTHORIZED when any is wrong.
func (v *Verifier) Verify(token string) (Claims, error) {
	return v.verify(v.parser, token)
}

// verifySignature checks only that the token is one of ours, expired or not:
// enough to sign its session out or read its lifetime.
func (v *Verifier) verifySignature(token string) (Claims, error) {
	return v.verify(v.sigs, token)
}

var sessionIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (v *Verifier) verify(p *jwt.Parser, token string) (Claims, error) {
	if token == "" {
		return Claims{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "sign in first")
	}
	if len(token) > maxTokenLength {
		return Claims{}, invalidToken()
	}
	var wc wireClaims
	if _, err := p.ParseWithClaims(token, &wc, v.keyFunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, expiredToken()
		}
		return Claims{}, invalidToken()
	}
	// The signature-only parser skips these; a token of ours always has them.
	id, err := strconv.ParseInt(wc.Subject, 10, 64)
	if err != nil || id <= 0 || wc.Issuer != ClaimIssuer || len(wc.Audience) != 1 || wc.Audience[0] != ClaimAudience ||
		!sessionIDPattern.MatchString(wc.SessionID) || wc.IssuedAt == nil || wc.ExpiresAt == nil {
		return Claims{}, invalidToken()
	}
	return Claims{
		User:      auth.User{ID: id, Name: wc.Name, Email: wc.Email, Role: wc.Role},
		SessionID: wc.SessionID, IssuedAt: wc.IssuedAt.UTC(), ExpiresAt: wc.ExpiresAt.UTC(),
	}, nil
}

// lifetime implements auth.Renewer's TokenLifetime for a verifier's owner.
func (v *Verifier) lifetime(token string) (issuedAt, expiresAt time.Time, ok bool) {
	c, err := v.verifySignature(token)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return c.IssuedAt, c.ExpiresAt, true
}
