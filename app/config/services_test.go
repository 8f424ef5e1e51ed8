package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
)

func serviceEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"BOOKSTORE_DB_DSN":                           "mysql://catalog:pw@db:3306/catalog",
		"BOOKSTORE_AUTH_URL":                         "http://auth:8080",
		"BOOKSTORE_CATALOG_URL":                      "http://catalog:8080",
		"BOOKSTORE_PURCHASE_URL":                     "http://purchase:8080",
		"BOOKSTORE_TOKEN_PUBLIC_KEY_FILE":            "/run/secrets/token_public_key",
		"BOOKSTORE_SERVICE_PRIVATE_KEY_FILE":         "/run/secrets/service_key",
		"BOOKSTORE_AUTH_SERVICE_PUBLIC_KEY_FILE":     "/run/secrets/auth_service_public_key",
		"BOOKSTORE_CATALOG_SERVICE_PUBLIC_KEY_FILE":  "/run/secrets/catalog_service_public_key",
		"BOOKSTORE_PURCHASE_SERVICE_PUBLIC_KEY_FILE": "/run/secrets/purchase_service_public_key",
		"BOOKSTORE_CSRF_SECRET":                      "csrf-secret-shared-by-the-services",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestCatalogServiceNeedsNoAdminPassword(t *testing.T) {
	c, err := config.Load(config.CatalogService, lookup(serviceEnv(nil)))
	if err != nil {
		t.Fatalf("Load(catalog) = %v", err)
	}
	if c.Services.CatalogURL != "http://catalog:8080" || c.Services.TokenTTL != config.DefaultTokenTTL {
		t.Fatalf("services = %+v", c.Services)
	}
	// The auth service creates the admin, so it needs the password and the signing key.
	_, err = config.Load(config.AuthService, lookup(serviceEnv(nil)))
	for _, want := range []string{"BOOKSTORE_ADMIN_PASSWORD", "BOOKSTORE_TOKEN_PRIVATE_KEY_FILE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(auth) without %s = %v", want, err)
		}
	}
}

func TestServiceSettingsAreValidated(t *testing.T) {
	_, err := config.Load(config.PurchaseService, lookup(serviceEnv(map[string]string{
		"BOOKSTORE_CATALOG_URL":   "catalog:8080",
		"BOOKSTORE_SERVICE_TOKEN": "short",
		"BOOKSTORE_TOKEN_TTL":     "48h",
	})))
	for _, want := range []string{"BOOKSTORE_CATALOG_URL", "BOOKSTORE_SERVICE_TOKEN", "BOOKSTORE_TOKEN_TTL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	// The monolith ignores them.
	if _, err := config.FromLookup(lookup(map[string]string{"BOOKSTORE_SERVICE_TOKEN": "short"})); err != nil {
		t.Errorf("monolith: %v", err)
	}
}

// Each service has a key of its own and the others' public keys; the
// shared secret they replace is refused with a message naming them.
func TestServiceIdentitySettings(t *testing.T) {
	c, err := config.Load(config.PurchaseService, lookup(serviceEnv(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Services.ServiceKeyFile != "/run/secrets/service_key" ||
		c.Services.ServicePublicKeyFiles[config.AuthService] != "/run/secrets/auth_service_public_key" ||
		c.Services.ServicePublicKeyFiles[config.CatalogService] != "/run/secrets/catalog_service_public_key" {
		t.Fatalf("services = %+v", c.Services)
	}
	// Purchase is called by auth and catalog, so it needs their keys, not its own.
	_, err = config.Load(config.PurchaseService, lookup(serviceEnv(map[string]string{
		"BOOKSTORE_SERVICE_PRIVATE_KEY_FILE": "", "BOOKSTORE_CATALOG_SERVICE_PUBLIC_KEY_FILE": "", "BOOKSTORE_PURCHASE_SERVICE_PUBLIC_KEY_FILE": "",
	})))
	for _, want := range []string{"BOOKSTORE_SERVICE_PRIVATE_KEY_FILE", "BOOKSTORE_CATALOG_SERVICE_PUBLIC_KEY_FILE", "keygen --service"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "BOOKSTORE_PURCHASE_SERVICE_PUBLIC_KEY_FILE") {
		t.Errorf("purchase needs no public key of its own: %v", err)
	}
	for _, legacy := range []string{"BOOKSTORE_SERVICE_TOKEN", "BOOKSTORE_SERVICE_TOKEN_FILE"} {
		secret := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(secret, []byte(strings.Repeat("s", 40)), 0o600); err != nil {
			t.Fatal(err)
		}
		v := strings.Repeat("s", 40)
		if strings.HasSuffix(legacy, "_FILE") {
			v = secret
		}
		_, err := config.Load(config.CatalogService, lookup(serviceEnv(map[string]string{legacy: v})))
		for _, want := range []string{"BOOKSTORE_SERVICE_TOKEN", "no longer read", "BOOKSTORE_SERVICE_PRIVATE_KEY_FILE", "_SERVICE_PUBLIC_KEY_FILE"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s set: error %v does not name %s", legacy, err, want)
			}
		}
	}
}

func TestSettingsFromFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "admin_password")
	if err := os.WriteFile(secret, []byte("from-a-docker-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.FromLookup(lookup(map[string]string{
		"BOOKSTORE_DB_DSN":              "mysql://u:p@db/shop",
		"BOOKSTORE_ADMIN_PASSWORD_FILE": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminPassword != "from-a-docker-secret" {
		t.Fatalf("admin password = %q, want the file's content without its newline", c.AdminPassword)
	}
	_, err = config.FromLookup(lookup(map[string]string{"BOOKSTORE_DB_DSN_FILE": filepath.Join(dir, "missing")}))
	if err == nil || !strings.Contains(err.Error(), "BOOKSTORE_DB_DSN_FILE") {
		t.Fatalf("missing file: %v", err)
	}
}

// Tests and tools build a Config in code; without a Role it is the monolith's.
func TestConfigWithoutRoleIsTheMonolith(t *testing.T) {
	c := config.Config{Env: "development", Addr: "127.0.0.1:0", DBDSN: "sqlite:x.db", UploadsDir: "u",
		AdminEmail: "a@b.c", AdminPassword: "long-enough", ShutdownTimeout: time.Second}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestReconcilerSettings(t *testing.T) {
	c, err := config.FromLookup(lookup(map[string]string{"BOOKSTORE_RECONCILE_INTERVAL": "2s", "BOOKSTORE_RECONCILE_AFTER": "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	if every, after := c.Reconciling(); every != 2*time.Second || after != 5*time.Second {
		t.Fatalf("Reconciling() = %s, %s", every, after)
	}
	if every, after := (config.Config{}).Reconciling(); every != config.DefaultReconcileInterval || after != config.DefaultReconcileAfter {
		t.Fatalf("defaults = %s, %s", every, after)
	}
	_, err = config.FromLookup(lookup(map[string]string{"BOOKSTORE_RECONCILE_AFTER": "10ms"}))
	if err == nil || !strings.Contains(err.Error(), "BOOKSTORE_RECONCILE_AFTER") {
		t.Fatalf("10ms: %v", err)
	}
}
