package store

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMySQLConfig(t *testing.T) {
	cfg, err := mysqlConfig("mysql://shop:p%40ss@db.example.com/bookstore?tls=true")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.User != "shop" || cfg.Passwd != "p@ss":
		t.Errorf("credentials = %q %q", cfg.User, cfg.Passwd)
	case cfg.Addr != "db.example.com:3306" || cfg.DBName != "bookstore":
		t.Errorf("address = %q, database = %q", cfg.Addr, cfg.DBName)
	case !cfg.ParseTime || cfg.Loc != time.UTC:
		t.Error("times are not parsed as UTC")
	case cfg.Collation != "utf8mb4_unicode_ci":
		t.Errorf("collation = %q", cfg.Collation)
	case !cfg.ClientFoundRows:
		t.Error("RowsAffected would count changed rows, not matched ones")
	case !cfg.InterpolateParams:
		t.Error("every query would cost a prepare, an execute and a close")
	case cfg.TLSConfig != "true" || cfg.TLS == nil || cfg.TLS.ServerName != "db.example.com":
		t.Errorf("tls = %q %+v", cfg.TLSConfig, cfg.TLS)
	case cfg.Timeout == 0 || cfg.ReadTimeout == 0 || cfg.WriteTimeout == 0:
		t.Error("no network timeouts")
	}
	for _, v := range []string{"skip-verify", "preferred", "false"} {
		if _, err := mysqlConfig("mysql://u:p@h:3307/d?tls=" + v); err != nil {
			t.Errorf("tls=%s: %v", v, err)
		}
	}
	if cfg, err := mysqlConfig("mysql://u:@[::1]:3307/d"); err != nil || cfg.Addr != "[::1]:3307" || cfg.Passwd != "" {
		t.Errorf("IPv6 with empty password: %+v %v", cfg, err)
	}
}

func TestLockNameFitsMySQL(t *testing.T) {
	db := &DB{where: "a_rather_long_database_name_that_goes_on_and_on_and_on"}
	if n := db.lockName("bookstore_migrate"); len(n) > 64 {
		t.Fatalf("lock name %q is %d characters; MySQL allows 64", n, len(n))
	}
	short := &DB{where: "shop"}
	if n := short.lockName("bookstore_migrate"); n != "shop.bookstore_migrate" {
		t.Fatalf("lock name = %q", n)
	}
}

// A CA bundle outside the system store (Amazon RDS's, in a container) is
// trusted when the DSN names it, and only then.
func TestMySQLConfigWithCABundle(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test RDS Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "rds-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := mysqlConfig("mysql://u:p@cluster.example.com:3306/d?tls=true&ca=" + caFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil || cfg.TLS.ServerName != "cluster.example.com" || cfg.TLS.InsecureSkipVerify {
		t.Fatalf("tls = %+v", cfg.TLS)
	}
	cert, _ := x509.ParseCertificate(der)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: cfg.TLS.RootCAs}); err != nil {
		t.Fatalf("the bundle's CA is not trusted: %v", err)
	}
	for dsn, want := range map[string]string{
		"mysql://u:p@h/d?ca=" + caFile:                                   "needs tls=true",
		"mysql://u:p@h/d?tls=true&ca=" + caFile + ".missing":             "no such file",
		"mysql://u:p@h/d?tls=true&ca=" + filepath.Join(t.TempDir(), "x"): "no such file",
	} {
		if _, err := mysqlConfig(dsn); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", dsn, err, want)
		}
	}
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o644)
	if _, err := mysqlConfig("mysql://u:p@h/d?tls=true&ca=" + notPEM); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("not a PEM: %v", err)
	}
}
