package token_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/token"
)

var (
	sid  = auth.HashToken("opaque")
	lola = auth.User{ID: 42, Name: "Lola", Email: "lola@example.com", Role: bookstore.RoleUser}
)

type keys struct {
	clock *clock
	pub   ed25519.PublicKey
	iss   *token.Issuer
	ver   *token.Verifier
}

func newKeys(t *testing.T) keys {
	t.Helper()
	k := keys{clock: newClock()}
	pub, priv, err := token.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	k.pub = pub
	if k.iss, err = token.NewIssuer(priv, token.IssuerOptions{Now: k.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if k.ver, err = token.NewVerifier(pub, token.VerifierOptions{Now: k.clock.Now}); err != nil {
		t.Fatal(err)
	}
	return k
}

// claims is a valid payload, for tokens signed some other way.
func (k keys) claims() jwt.MapClaims {
	now := k.clock.Now()
	return jwt.MapClaims{"sub": "42", "name": "Lola", "email": "lola@example.com", "role": "admin", "sid": sid,
		"iss": token.ClaimIssuer, "aud": token.ClaimAudience, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

func TestIssueThenVerify(t *testing.T) {
	k := newKeys(t)
	tok, issued, err := k.iss.Issue(lola, sid, k.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.ver.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := token.Claims{User: lola, SessionID: sid, IssuedAt: k.clock.Now(), ExpiresAt: k.clock.Now().Add(token.DefaultTTL)}
	if got != want || issued != want {
		t.Fatalf("Verify = %+v, Issue = %+v, want %+v", got, issued, want)
	}
	// The payload names what the services need and no secret.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	for _, s := range []string{`"sub":"42"`, `"sid":"` + sid + `"`, `"iss":"bookstore-auth"`, `"aud":["bookstore"]`, `"role":"user"`} {
		if !strings.Contains(string(payload), s) {
			t.Errorf("payload %s lacks %s", payload, s)
		}
	}

	// No token outlives its session.
	_, capped, err := k.iss.Issue(lola, sid, k.clock.Now().Add(time.Minute))
	if err != nil || !capped.ExpiresAt.Equal(k.clock.Now().Add(time.Minute)) {
		t.Fatalf("token for a session ending in a minute expires %v (%v)", capped.ExpiresAt, err)
	}
	_, _, err = k.iss.Issue(lola, sid, k.clock.Now())
	wantCode(t, err, bookstore.EUNAUTHORIZED)
}

func TestVerifyRefusesForgedTokens(t *testing.T) {
	k := newKeys(t)
	good, _, err := k.iss.Issue(lola, sid, k.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(key string, v any) jwt.MapClaims { c := k.claims(); c[key] = v; return c }
	without := func(key string) jwt.MapClaims { c := k.claims(); delete(c, key); return c }

	// Promote Lola to admin in the payload, keeping the signature.
	var admin = strings.Replace(string(mustDecode(t, parts[1])), `"role":"user"`, `"role":"admin"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(admin)) + "." + parts[2]

	for name, tok := range map[string]string{
		"tampered payload":         tampered,
		"signature of another":     parts[0] + "." + parts[1] + "." + strings.Split(sign(jwt.SigningMethodEdDSA, otherKey, k.claims()), ".")[2],
		"another key":              sign(jwt.SigningMethodEdDSA, otherKey, k.claims()),
		"alg none":                 sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, k.claims()),
		"HS256 keyed by publickey": sign(jwt.SigningMethodHS256, []byte(k.pub), k.claims()),
		"RS256":                    sign(jwt.SigningMethodRS256, rsaKey, k.claims()),
		"garbage":                  "not.a.token",
		"huge":                     strings.Repeat("a", 10000),
		"empty":                    "",
	} {
		if _, err := k.ver.Verify(tok); bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
			t.Errorf("%s: Verify = %v, want EUNAUTHORIZED", name, err)
		}
	}

	// Signed with the trusted key, every claim must still be right.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	v2, _ := token.NewVerifier(priv.Public().(ed25519.PublicKey), token.VerifierOptions{Now: k.clock.Now})
	if _, err := v2.Verify(sign(jwt.SigningMethodEdDSA, priv, k.claims())); err != nil {
		t.Fatalf("a well-formed token signed with the right key is refused: %v", err)
	}
	for name, c := range map[string]jwt.MapClaims{
		"other issuer":   with("iss", "evil"),
		"other audience": with("aud", "elsewhere"),
		"no expiry":      without("exp"),
		"no subject":     without("sub"),
		"bad subject":    with("sub", "lola"),
		"bad sid":        with("sid", "short"),
		"no sid":         without("sid"),
		"issued later":   with("iat", k.clock.Now().Add(time.Hour).Unix()),
		"expired":        with("exp", k.clock.Now().Add(-time.Minute).Unix()),
	} {
		if _, err := v2.Verify(sign(jwt.SigningMethodEdDSA, priv, c)); bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
			t.Errorf("%s: Verify = %v, want EUNAUTHORIZED", name, err)
		}
	}
}

func TestVerifyExpiryWithLeeway(t *testing.T) {
	k := newKeys(t)
	tok, _, err := k.iss.Issue(lola, sid, k.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k.clock.Advance(token.DefaultTTL + token.DefaultLeeway/2)
	if _, err := k.ver.Verify(tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	k.clock.Advance(token.DefaultLeeway)
	_, err = k.ver.Verify(tok)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	if !strings.Contains(bookstore.ErrorMessage(err), "sign in again") {
		t.Errorf("expired token message %q", bookstore.ErrorMessage(err))
	}
}

func TestNewIssuerAndVerifierRefuseBadKeys(t *testing.T) {
	if _, err := token.NewIssuer(ed25519.PrivateKey("short"), token.IssuerOptions{}); err == nil {
		t.Error("NewIssuer accepted a bad key")
	}
	if _, err := token.NewVerifier(ed25519.PublicKey("short"), token.VerifierOptions{}); err == nil {
		t.Error("NewVerifier accepted a bad key")
	}
	_, priv, _ := token.GenerateKeyPair()
	if _, err := token.NewIssuer(priv, token.IssuerOptions{TTL: -time.Second}); err == nil {
		t.Error("NewIssuer accepted a negative lifetime")
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
