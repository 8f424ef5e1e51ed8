package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeygenWritesAKeyPairOnce(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	out, errOut, code := runBinary(t, bin, nil, "keygen", "--out", dir)
	if code != 0 || !strings.Contains(out, "token_signing_key.pem") {
		t.Fatalf("keygen: exit %d, %q %q", code, out, errOut)
	}
	info, err := os.Stat(filepath.Join(dir, "token_signing_key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("signing key: %v, mode %v", err, info.Mode())
	}
	// Never overwrites: replacing the key would sign everyone out.
	_, errOut, code = runBinary(t, bin, nil, "keygen", "--out", dir)
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second keygen: exit %d, %q", code, errOut)
	}
	_, errOut, code = runBinary(t, bin, nil, "keygen")
	if code != 1 || !strings.Contains(errOut, "usage") {
		t.Fatalf("keygen without --out: exit %d, %q", code, errOut)
	}
}

func TestKeygenWritesAServiceKeyPair(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	out, errOut, code := runBinary(t, bin, nil, "keygen", "--service", "catalog", "--out", dir)
	if code != 0 || !strings.Contains(out, "catalog_service_key.pem") || !strings.Contains(out, "BOOKSTORE_CATALOG_SERVICE_PUBLIC_KEY_FILE") {
		t.Fatalf("keygen --service catalog: exit %d, %q %q", code, out, errOut)
	}
	info, err := os.Stat(filepath.Join(dir, "catalog_service_key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("service key: %v, mode %v", err, info.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog_service_public_key.pem")); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = runBinary(t, bin, nil, "keygen", "--service", "catalog", "--out", dir); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second keygen --service catalog: exit %d, %q", code, errOut)
	}
	if _, errOut, code = runBinary(t, bin, nil, "keygen", "--service", "billing", "--out", dir); code != 1 || !strings.Contains(errOut, "not auth, catalog or purchase") {
		t.Fatalf("keygen --service billing: exit %d, %q", code, errOut)
	}
}

func TestHealthcheckExitStatus(t *testing.T) {
	bin := buildBinary(t)
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" && r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer ready.Close()
	draining := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "draining", http.StatusServiceUnavailable)
	}))
	defer draining.Close()

	// The default URL is /readyz on BOOKSTORE_ADDR's port, on loopback.
	addr := "0.0.0.0:" + ready.URL[strings.LastIndex(ready.URL, ":")+1:]
	if _, errOut, code := runBinary(t, bin, []string{"BOOKSTORE_ADDR=" + addr}, "healthcheck"); code != 0 {
		t.Fatalf("healthy: exit %d, %s", code, errOut)
	}
	// --path picks another path there: liveness, for the Swarm stack.
	if _, errOut, code := runBinary(t, bin, []string{"BOOKSTORE_ADDR=" + addr}, "healthcheck", "--path", "/healthz"); code != 0 {
		t.Fatalf("healthy on /healthz: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, bin, []string{"BOOKSTORE_ADDR=" + addr}, "healthcheck", "--path", "/nope"); code != 1 || !strings.Contains(errOut, "404") {
		t.Fatalf("--path /nope: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, bin, []string{"BOOKSTORE_ADDR=" + addr}, "healthcheck", "--path", "healthz"); code != 1 || !strings.Contains(errOut, "must start with /") {
		t.Fatalf("--path without /: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, bin, nil, "healthcheck", "--url", draining.URL+"/readyz"); code != 1 || !strings.Contains(errOut, "503") {
		t.Fatalf("draining: exit %d, %s", code, errOut)
	}
	if _, _, code := runBinary(t, bin, nil, "healthcheck", "--url", "http://127.0.0.1:1/readyz"); code != 1 {
		t.Fatalf("nothing listening: exit %d", code)
	}
}

func TestServiceWithoutItsSettingsSaysWhichAreMissing(t *testing.T) {
	bin := buildBinary(t)
	_, errOut, code := runBinary(t, bin, []string{"BOOKSTORE_DB_DSN=sqlite:x.db"}, "catalog")
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d, want 1 with one line; stderr %q", code, errOut)
	}
	for _, want := range []string{"BOOKSTORE_AUTH_URL", "BOOKSTORE_SERVICE_TOKEN", "BOOKSTORE_TOKEN_PUBLIC_KEY_FILE"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not name %s: %q", want, errOut)
		}
	}
}
