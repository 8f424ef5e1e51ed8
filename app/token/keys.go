package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The files `bookstore keygen` writes: the private key only the auth service
// reads, and the public key every service verifies with.
const (
	PrivateKeyFile = "token_signing_key.pem"
	PublicKeyFile  = "token_public_key.pem"
)

// GenerateKeyPair returns a new Ed25519 key pair.
func GenerateKeyPair() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate token signing key: %w", err)
	}
	return pub, priv, nil
}

// ServicePrivateKeyFile and ServicePublicKeyFile are the files
// `bookstore keygen --service NAME` writes: the key only that service reads
// (it signs its calls to the others), and the public key the services it
// calls verify them with.
func ServicePrivateKeyFile(service string) string { return service + "_service_key.pem" }

// ServicePublicKeyFile: see ServicePrivateKeyFile.
func ServicePublicKeyFile(service string) string { return service + "_service_public_key.pem" }

// WriteKeyPair generates a key pair into dir: PrivateKeyFile (PKCS#8, mode
// 0600) and PublicKeyFile (PKIX, mode 0644). It never overwrites a key:
// replacing the signing key signs every user out, which deserves a deliberate
// rm first.
func WriteKeyPair(dir string) error {
	return writePair("token", filepath.Join(dir, PrivateKeyFile), filepath.Join(dir, PublicKeyFile))
}

// WriteServiceKeyPair generates service's own key pair into dir, as
// ServicePrivateKeyFile (0600) and ServicePublicKeyFile (0644); like
// WriteKeyPair it never overwrites a key.
func WriteServiceKeyPair(dir, service string) error {
	if !serviceNamePattern.MatchString(service) {
		return fmt.Errorf("service key: %q is not a service name (lower-case letters, digits, -)", service)
	}
	return writePair(service+" service", filepath.Join(dir, ServicePrivateKeyFile(service)), filepath.Join(dir, ServicePublicKeyFile(service)))
}

func writePair(label, privPath, pubPath string) error {
	pub, priv, err := GenerateKeyPair()
	if err != nil {
		return err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode %s signing key: %w", label, err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode %s public key: %w", label, err)
	}
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s key %s already exists; remove it first to replace the key pair", label, p)
		}
	}
	if err := writeNew(privPath, "PRIVATE KEY", privDER, 0o600); err != nil {
		return fmt.Errorf("%s signing key %s: %w", label, privPath, err)
	}
	if err := writeNew(pubPath, "PUBLIC KEY", pubDER, 0o644); err != nil {
		_ = os.Remove(privPath) // half a pair is useless
		return fmt.Errorf("%s public key %s: %w", label, pubPath, err)
	}
	return nil
}

func writeNew(path, blockType string, der []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return pathless(err)
	}
	err = pem.Encode(f, &pem.Block{Type: blockType, Bytes: der})
	if err == nil {
		err = f.Chmod(mode) // exact, whatever the umask
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return pathless(err)
	}
	return nil
}

// LoadPrivateKey reads an Ed25519 private key from a PKCS#8 PEM file.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	return loadPrivate("token signing key", path)
}

// LoadPublicKey reads an Ed25519 public key from a PKIX PEM file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	return loadPublic("token public key", path)
}

// LoadServicePrivateKey reads service's own key (PKCS#8 PEM).
func LoadServicePrivateKey(service, path string) (ed25519.PrivateKey, error) {
	return loadPrivate(service+" service key", path)
}

// LoadServicePublicKey reads service's public key (PKIX PEM).
func LoadServicePublicKey(service, path string) (ed25519.PublicKey, error) {
	return loadPublic(service+" service public key", path)
}

func loadPrivate(label, path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", label, path, pathless(err))
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", label, path, err)
	}
	return key, nil
}

func loadPublic(label, path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", label, path, pathless(err))
	}
	key, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", label, path, err)
	}
	return key, nil
}

var (
	errNotPrivate = errors.New("not an Ed25519 PKCS#8 PEM key")
	errNotPublic  = errors.New("not an Ed25519 PKIX PEM public key")
)

// ParsePrivateKey decodes an Ed25519 private key in PKCS#8 PEM.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errNotPrivate
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errNotPrivate
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errNotPrivate
	}
	return key, nil
}

// ParsePublicKey decodes an Ed25519 public key in PKIX PEM.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errNotPublic
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errNotPublic
	}
	key, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errNotPublic
	}
	return key, nil
}

// pathless drops the path an *fs.PathError repeats, since messages here
// already start with it.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
