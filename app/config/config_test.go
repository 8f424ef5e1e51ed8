package config_test

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestDefaultsRunWithZeroSetup(t *testing.T) {
	c, err := config.FromLookup(lookup(nil))
	if err != nil {
		t.Fatalf("FromLookup(empty) = %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DBDSN != "sqlite:data/bookstore.db" || c.UploadsDir != "data/uploads" {
		t.Errorf("defaults = %+v", c)
	}
	if c.AdminEmail != "admin@bookstore.local" || c.AdminPassword != config.DevAdminPassword {
		t.Errorf("dev admin = %q / %q", c.AdminEmail, c.AdminPassword)
	}
	if c.DrainDelay != 0 || c.ShutdownTimeout != config.DefaultShutdownTimeout || c.LogLevel != slog.LevelInfo {
		t.Errorf("timings/level = %v %v %v", c.DrainDelay, c.ShutdownTimeout, c.LogLevel)
	}
	if len(c.TrustedProxies) != 2 || !c.TrustedProxies[0].Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("trusted proxies = %v, want loopback", c.TrustedProxies)
	}
	if c.SignupsPerAddress != config.DefaultSignupsPerAddress || c.CSRFSecret != "" {
		t.Errorf("sign-ups per address %d, CSRF secret set %v", c.SignupsPerAddress, c.CSRFSecret != "")
	}
}

func TestReadsEveryVariable(t *testing.T) {
	c, err := config.FromLookup(lookup(map[string]string{
		"BOOKSTORE_ENV":                 "production",
		"BOOKSTORE_ADDR":                "0.0.0.0:9000",
		"BOOKSTORE_DB_DSN":              "mysql://u:p@db:3306/shop",
		"BOOKSTORE_UPLOADS_DIR":         "/var/lib/bookstore",
		"BOOKSTORE_ADMIN_EMAIL":         "root@example.org",
		"BOOKSTORE_ADMIN_PASSWORD":      " a secret with spaces ",
		"BOOKSTORE_SEED_DEMO":           "yes",
		"BOOKSTORE_TRUSTED_PROXIES":     "10.0.0.0/8, 192.168.1.7",
		"BOOKSTORE_LOG_LEVEL":           "debug",
		"BOOKSTORE_SHUTDOWN_TIMEOUT":    "45s",
		"BOOKSTORE_DRAIN_DELAY":         "2s",
		"BOOKSTORE_BCRYPT_COST":         "12",
		"BOOKSTORE_SIGNUPS_PER_ADDRESS": "3",
		"BOOKSTORE_CSRF_SECRET":         "0123456789abcdef0123456789abcdef",
	}))
	if err != nil {
		t.Fatalf("FromLookup = %v", err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}
	if c.Addr != "0.0.0.0:9000" || c.DBDSN != "mysql://u:p@db:3306/shop" || c.UploadsDir != "/var/lib/bookstore" ||
		c.AdminEmail != "root@example.org" || c.AdminPassword != " a secret with spaces " || !c.SeedDemo ||
		c.LogLevel != slog.LevelDebug || c.ShutdownTimeout != 45*time.Second || c.DrainDelay != 2*time.Second ||
		c.BcryptCost != 12 || !c.Production() || len(c.TrustedProxies) != 2 || c.TrustedProxies[0] != want[0] || c.TrustedProxies[1] != want[1] {
		t.Errorf("config = %+v", c)
	}
	if c.SignupsPerAddress != 3 || c.CSRFSecret != "0123456789abcdef0123456789abcdef" {
		t.Errorf("sign-ups %d, CSRF secret set %v", c.SignupsPerAddress, c.CSRFSecret != "")
	}
}

// The CSRF key: from the secret when set (the same for every role), none
// for the monolith without one (it keeps one in its database), and the
// services, which share no other secret, refuse to start without one.
// Never the secret itself.
func TestCSRFKey(t *testing.T) {
	secret := strings.Repeat("s", 32)
	mono := config.Config{CSRFSecret: secret}
	svc := config.Config{Role: config.CatalogService, CSRFSecret: secret}
	if k := mono.CSRFKey(); len(k) != 32 || string(k) != string(svc.CSRFKey()) || string(k) == secret {
		t.Errorf("keys from one secret: %x and %x", k, svc.CSRFKey())
	}
	if (config.Config{}).CSRFKey() != nil {
		t.Error("the monolith without a secret derived a key")
	}
	for _, role := range []config.Role{config.AuthService, config.CatalogService, config.PurchaseService} {
		_, err := config.Load(role, lookup(map[string]string{}))
		if err == nil || !strings.Contains(err.Error(), "BOOKSTORE_CSRF_SECRET (or BOOKSTORE_CSRF_SECRET_FILE) is required by the services") {
			t.Errorf("%s without a CSRF secret: %v", role, err)
		}
	}
}

func TestProductionDefaultsDrainAndNeedsAPassword(t *testing.T) {
	c, err := config.FromLookup(lookup(map[string]string{"BOOKSTORE_DB_DSN": "mysql://u:p@db/shop", "BOOKSTORE_ADMIN_PASSWORD": "long-enough"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DrainDelay != config.DefaultDrainDelay {
		t.Errorf("DrainDelay with MySQL = %v, want %v", c.DrainDelay, config.DefaultDrainDelay)
	}
	c, err = config.FromLookup(lookup(map[string]string{"BOOKSTORE_TRUSTED_PROXIES": "none"}))
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Errorf("TRUSTED_PROXIES=none gives %v, %v", c.TrustedProxies, err)
	}
}

func TestInvalidValuesAreAllReportedByName(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"BOOKSTORE_DB_DSN": "postgres://x"}, []string{"BOOKSTORE_DB_DSN must be sqlite:PATH or mysql://"}},
		{map[string]string{"BOOKSTORE_DB_DSN": "mysql://u:p@h/db"}, []string{"BOOKSTORE_ADMIN_PASSWORD is required with MySQL"}},
		{map[string]string{"BOOKSTORE_ENV": "production"}, []string{"BOOKSTORE_ADMIN_PASSWORD is required in production"}},
		{map[string]string{"BOOKSTORE_ENV": "production", "BOOKSTORE_ADMIN_PASSWORD": config.DevAdminPassword}, []string{"development password"}},
		{map[string]string{"BOOKSTORE_ADMIN_PASSWORD": "short"}, []string{"at least 8"}},
		{map[string]string{"BOOKSTORE_ENV": "staging"}, []string{"BOOKSTORE_ENV must be"}},
		{map[string]string{"BOOKSTORE_ADDR": "8080"}, []string{"BOOKSTORE_ADDR"}},
		{map[string]string{"BOOKSTORE_ADDR": "host:http"}, []string{"BOOKSTORE_ADDR"}},
		{map[string]string{"BOOKSTORE_SEED_DEMO": "maybe", "BOOKSTORE_LOG_LEVEL": "loud"},
			[]string{`BOOKSTORE_SEED_DEMO="maybe": must be true or false`, `BOOKSTORE_LOG_LEVEL="loud"`}},
		{map[string]string{"BOOKSTORE_SHUTDOWN_TIMEOUT": "soon", "BOOKSTORE_DRAIN_DELAY": "-1s"},
			[]string{"BOOKSTORE_SHUTDOWN_TIMEOUT", "BOOKSTORE_DRAIN_DELAY must not be negative"}},
		{map[string]string{"BOOKSTORE_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, []string{`"nginx" is not a CIDR`}},
		{map[string]string{"BOOKSTORE_BCRYPT_COST": "99"}, []string{"BOOKSTORE_BCRYPT_COST must be between"}},
		{map[string]string{"BOOKSTORE_BCRYPT_COST": "ten"}, []string{"BOOKSTORE_BCRYPT_COST"}},
		{map[string]string{"BOOKSTORE_SIGNUPS_PER_ADDRESS": "-1"}, []string{"BOOKSTORE_SIGNUPS_PER_ADDRESS must not be negative"}},
		{map[string]string{"BOOKSTORE_CSRF_SECRET": "short"}, []string{"BOOKSTORE_CSRF_SECRET (or BOOKSTORE_CSRF_SECRET_FILE) must be at least 32"}},
	}
	for _, tt := range tests {
		_, err := config.FromLookup(lookup(tt.env))
		if err == nil {
			t.Errorf("%v: no error", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", tt.env, err, w)
			}
		}
	}
}

func TestOrderSettings(t *testing.T) {
	c, err := config.FromLookup(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if w, n := c.Orders(); w != 30*time.Minute || n != 5 {
		t.Errorf("default orders = %v, %d; want 30m, 5", w, n)
	}
	c, err = config.FromLookup(lookup(map[string]string{"BOOKSTORE_PAYMENT_WINDOW": "2h", "BOOKSTORE_MAX_OPEN_ORDERS": "12"}))
	if err != nil {
		t.Fatal(err)
	}
	if w, n := c.Orders(); w != 2*time.Hour || n != 12 {
		t.Errorf("orders = %v, %d; want 2h, 12", w, n)
	}
	if w, n := (config.Config{}).Orders(); w != config.DefaultPaymentWindow || n != config.DefaultMaxOpenOrders {
		t.Errorf("a Config built in code has orders %v, %d; want the defaults", w, n)
	}
	for env, want := range map[string]string{
		"BOOKSTORE_PAYMENT_WINDOW=10s": "BOOKSTORE_PAYMENT_WINDOW must be at least 1m",
		"BOOKSTORE_PAYMENT_WINDOW=x":   "BOOKSTORE_PAYMENT_WINDOW",
		"BOOKSTORE_MAX_OPEN_ORDERS=0":  "BOOKSTORE_MAX_OPEN_ORDERS",
		"BOOKSTORE_MAX_OPEN_ORDERS=-1": "BOOKSTORE_MAX_OPEN_ORDERS must be between 1 and 1000",
		"BOOKSTORE_MAX_OPEN_ORDERS=5k": "BOOKSTORE_MAX_OPEN_ORDERS",
	} {
		k, v, _ := strings.Cut(env, "=")
		_, err := config.FromLookup(lookup(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", env, err, want)
		}
	}
}
