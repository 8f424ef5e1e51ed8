package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/token"
)

func TestWriteKeyPairThenLoad(t *testing.T) {
	dir := t.TempDir()
	if err := token.WriteKeyPair(dir); err != nil {
		t.Fatal(err)
	}
	privPath, pubPath := filepath.Join(dir, token.PrivateKeyFile), filepath.Join(dir, token.PublicKeyFile)
	for path, mode := range map[string]os.FileMode{privPath: 0o600, pubPath: 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s has mode %o, want %o", filepath.Base(path), st.Mode().Perm(), mode)
		}
	}
	priv, err := token.LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := token.LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("the public key written is not the private key's")
	}

	// A second keygen must not replace the key (that would sign everyone out).
	err = token.WriteKeyPair(dir)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second WriteKeyPair = %v, want already exists", err)
	}
	if again, _ := token.LoadPrivateKey(privPath); !again.Equal(priv) {
		t.Fatal("the signing key was replaced")
	}
}

func TestLoadKeyErrorsAreOneReadableLine(t *testing.T) {
	dir := t.TempDir()
	if err := token.WriteKeyPair(dir); err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ecPriv := write("ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	ecPub := write("ec_pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER}))
	garbage := write("garbage.pem", []byte("not a key\n"))
	missing := filepath.Join(dir, "missing.pem")
	pubFile, privFile := filepath.Join(dir, token.PublicKeyFile), filepath.Join(dir, token.PrivateKeyFile)

	for path, want := range map[string]string{
		ecPriv:  "token signing key " + ecPriv + ": not an Ed25519 PKCS#8 PEM key",
		garbage: "token signing key " + garbage + ": not an Ed25519 PKCS#8 PEM key",
		pubFile: "token signing key " + pubFile + ": not an Ed25519 PKCS#8 PEM key",
		missing: "token signing key " + missing + ": no such file or directory",
	} {
		_, err := token.LoadPrivateKey(path)
		if err == nil || err.Error() != want {
			t.Errorf("LoadPrivateKey(%s) = %v, want %q", filepath.Base(path), err, want)
		}
	}
	for path, want := range map[string]string{
		ecPub:    "token public key " + ecPub + ": not an Ed25519 PKIX PEM public key",
		privFile: "token public key " + privFile + ": not an Ed25519 PKIX PEM public key",
		missing:  "token public key " + missing + ": no such file or directory",
	} {
		_, err := token.LoadPublicKey(path)
		if err == nil || err.Error() != want {
			t.Errorf("LoadPublicKey(%s) = %v, want %q", filepath.Base(path), err, want)
		}
	}
}
