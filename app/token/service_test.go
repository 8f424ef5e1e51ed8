package token_test

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/token"
)

func serviceKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := token.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// A token names its service and is for one audience; the signer reuses it
// for half its life, then signs a fresh one.
func TestServiceTokensNameIssuerAndAudience(t *testing.T) {
	clk := newClock()
	purchasePub, purchaseKey := serviceKey(t)
	authPub, _ := serviceKey(t)
	s, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: "purchase", Key: purchaseKey, TTL: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewServiceVerifier(token.ServiceVerifierOptions{Service: "catalog",
		Callers: map[string]ed25519.PublicKey{"purchase": purchasePub, "auth": authPub}, Leeway: time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Token("catalog")
	if err != nil {
		t.Fatal(err)
	}
	if who, err := v.VerifyService(first); err != nil || who != "purchase" {
		t.Fatalf("VerifyService = %q, %v", who, err)
	}
	if again, _ := s.Token("catalog"); again != first {
		t.Fatal("a fresh token was signed for every call")
	}
	clk.Advance(31 * time.Second)
	if renewed, _ := s.Token("catalog"); renewed == first {
		t.Fatal("the token was not renewed past half its life")
	}
	forAuth, _ := s.Token("auth")
	clk.Advance(15 * time.Second) // the first token is still valid: only the audience is wrong
	if _, err := v.VerifyService(forAuth); !errors.Is(err, token.ErrServiceToken) || !strings.Contains(err.Error(), "not meant for the catalog service") {
		t.Fatalf("a token for auth at the catalog: %v", err)
	}
	clk.Advance(30 * time.Second)
	if _, err := v.VerifyService(first); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired token: %v", err)
	}
	if _, err := v.VerifyService(""); err == nil {
		t.Fatal("no token was accepted")
	}
	// A user's session token is no service token, whatever key signed it.
	users, err := token.NewIssuer(purchaseKey, token.IssuerOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	userTok, _, err := users.Issue(lola, strings.Repeat("a", 64), clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if who, err := v.VerifyService(userTok); err == nil {
		t.Fatalf("a user token passed as the %q service", who)
	}
}

func TestServiceKeysMustBeDistinctAndNamed(t *testing.T) {
	pub, priv := serviceKey(t)
	if _, err := token.NewServiceVerifier(token.ServiceVerifierOptions{Service: "auth",
		Callers: map[string]ed25519.PublicKey{"catalog": pub, "purchase": pub}}); err == nil || !strings.Contains(err.Error(), "same key") {
		t.Fatalf("two services with one key: %v", err)
	}
	if _, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: "Auth Service", Key: priv}); err == nil {
		t.Fatal("a signer with a malformed name was made")
	}
	dir := t.TempDir()
	if err := token.WriteServiceKeyPair(dir, "catalog"); err != nil {
		t.Fatal(err)
	}
	k, err := token.LoadServicePrivateKey("catalog", filepath.Join(dir, token.ServicePrivateKeyFile("catalog")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := token.LoadServicePublicKey("catalog", filepath.Join(dir, token.ServicePublicKeyFile("catalog")))
	if err != nil || !p.Equal(k.Public()) {
		t.Fatalf("the public key written is not the private key's: %v", err)
	}
	if err := token.WriteServiceKeyPair(dir, "catalog"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second WriteServiceKeyPair = %v", err)
	}
	if err := token.WriteServiceKeyPair(dir, "../etc"); err == nil {
		t.Fatal("a service name with a path was accepted")
	}
}
