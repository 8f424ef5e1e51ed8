package token

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Service tokens are how one service proves to another which service it is:
// an Ed25519-signed JWT whose issuer is the calling service, whose audience
// is the called one, living for a minute or two. Each service signs with a
// key of its own, and a called service verifies with the public keys of the
// services it knows, so no service can speak for another, and a token meant
// for the catalog is worthless at auth.

// DefaultServiceTTL is how long a service token lives: long enough to be
// reused by many calls, short enough that a token seen in transit is soon
// useless.
const DefaultServiceTTL = 2 * time.Minute

var serviceNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// ServiceSignerOptions configure a ServiceSigner.
type ServiceSignerOptions struct {
	Service string             // the signing (calling) service, e.g. "purchase"
	Key     ed25519.PrivateKey // its own key
	TTL     time.Duration      // default DefaultServiceTTL
	Now     func() time.Time   // default time.Now
}

// ServiceSigner makes the calling service's tokens, one per audience, reused
// until half its life has passed.
type ServiceSigner struct {
	opt   ServiceSignerOptions
	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	token         string
	issued, renew time.Time
}

// NewServiceSigner returns a signer for o.Service.
func NewServiceSigner(o ServiceSignerOptions) (*ServiceSigner, error) {
	if !serviceNamePattern.MatchString(o.Service) {
		return nil, fmt.Errorf("service token signer: %q is not a service name", o.Service)
	}
	if len(o.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("service key of %s: not an Ed25519 private key", o.Service)
	}
	if o.TTL < 0 {
		return nil, fmt.Errorf("service token lifetime %s: must be positive", o.TTL)
	}
	if o.TTL == 0 {
		o.TTL = DefaultServiceTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &ServiceSigner{opt: o, cache: map[string]cachedToken{}}, nil
}

// Service is the name the signer's tokens are issued by.
func (s *ServiceSigner) Service() string { return s.opt.Service }

// PublicKey verifies the signer's tokens.
func (s *ServiceSigner) PublicKey() ed25519.PublicKey {
	return s.opt.Key.Public().(ed25519.PublicKey)
}

// Token returns a token for calls to the audience service.
func (s *ServiceSigner) Token(audience string) (string, error) {
	if !serviceNamePattern.MatchString(audience) {
		return "", fmt.Errorf("service token for %q: not a service name", audience)
	}
	now := s.opt.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A clock stepped back must not keep a token "fresh" for ever.
	if c, ok := s.cache[audience]; ok && now.Before(c.renew) && !now.Before(c.issued) {
		return c.token, nil
	}
	iat := now.Truncate(time.Second)
	exp := iat.Add(s.opt.TTL)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.RegisteredClaims{
		Issuer: s.opt.Service, Subject: s.opt.Service, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp),
	}).SignedString(s.opt.Key)
	if err != nil {
		return "", fmt.Errorf("sign service token for %s: %w", audience, err)
	}
	s.cache[audience] = cachedToken{token: tok, issued: iat, renew: iat.Add(s.opt.TTL / 2)}
	return tok, nil
}

// ServiceVerifierOptions configure a ServiceVerifier.
type ServiceVerifierOptions struct {
	// Service is the verifying (called) service: the audience tokens must name.
	Service string
	// Callers are the public keys of the services that may call it, by name.
	Callers map[string]ed25519.PublicKey
	Leeway  time.Duration    // tolerated clock skew; default DefaultLeeway
	Now     func() time.Time // default time.Now
}

// ServiceVerifier checks service tokens offline.
type ServiceVerifier struct {
	service string
	callers map[string]ed25519.PublicKey
	parser  *jwt.Parser
}

// ErrServiceToken is what every refused service token wraps; its text says
// why, for the calling service's log.
var ErrServiceToken = errors.New("service token refused")

// NewServiceVerifier returns a verifier for o.Service. Two callers with one
// key are refused: each service must have its own, or one could pass for
// the other.
func NewServiceVerifier(o ServiceVerifierOptions) (*ServiceVerifier, error) {
	if !serviceNamePattern.MatchString(o.Service) {
		return nil, fmt.Errorf("service token verifier: %q is not a service name", o.Service)
	}
	callers := map[string]ed25519.PublicKey{}
	for name, key := range o.Callers {
		if !serviceNamePattern.MatchString(name) {
			return nil, fmt.Errorf("service token verifier: %q is not a service name", name)
		}
		if len(key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("service public key of %s: not an Ed25519 public key", name)
		}
		for other, k := range callers {
			if k.Equal(key) {
				return nil, fmt.Errorf("services %s and %s have the same key; each service needs its own (bookstore keygen --service NAME)", other, name)
			}
		}
		callers[name] = key
	}
	if o.Leeway <= 0 {
		o.Leeway = DefaultLeeway
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &ServiceVerifier{service: o.Service, callers: callers, parser: jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithAudience(o.Service),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(o.Leeway), jwt.WithTimeFunc(o.Now),
	)}, nil
}

// VerifyService returns the calling service a token was signed by, after
// checking its signature with that service's key, its audience (this
// service) and its expiry. Errors wrap ErrServiceToken.
func (v *ServiceVerifier) VerifyService(token string) (string, error) {
	if token == "" {
		return "", fmt.Errorf("%w: none presented", ErrServiceToken)
	}
	if len(token) > maxTokenLength {
		return "", fmt.Errorf("%w: too long", ErrServiceToken)
	}
	var c jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
			return nil, errors.New("unexpected signing method")
		}
		iss, _ := t.Claims.GetIssuer()
		key, ok := v.callers[iss]
		if !ok {
			return nil, fmt.Errorf("unknown service %q", iss)
		}
		return key, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", fmt.Errorf("%w: expired", ErrServiceToken)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "", fmt.Errorf("%w: not meant for the %s service", ErrServiceToken, v.service)
	case err != nil:
		return "", fmt.Errorf("%w: %v", ErrServiceToken, err)
	}
	if c.Subject != c.Issuer || len(c.Audience) != 1 || c.IssuedAt == nil {
		return "", fmt.Errorf("%w: malformed claims", ErrServiceToken)
	}
	return c.Issuer, nil
}
