package services_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/services"
	"github.com/tet-bookstore/bookstore/app/token"
)

const (
	adminEmail    = "admin@test.local"
	adminPassword = "admin-password-for-tests"
	// csrfSecret is the CSRF secret every service of a test cluster shares.
	csrfSecret = "csrf-secret-shared-by-the-test-services"
)

// cluster is the three services, each on its own loopback port and its own
// database, calling one another over HTTP as in production.
type cluster struct {
	URL     map[config.Role]string
	Keys    string // the directory of every key pair, as `bookstore keygen` writes them
	stop    map[config.Role]context.CancelFunc
	stopped map[config.Role]chan error
}

// dsnFunc gives each service a fresh database.
type dsnFunc func(t testing.TB, role config.Role) string

func sqliteDSN(t testing.TB, role config.Role) string {
	return "sqlite:" + filepath.Join(t.TempDir(), string(role)+".db")
}

var roles = []config.Role{config.AuthService, config.CatalogService, config.PurchaseService}

func startCluster(t *testing.T, dsn dsnFunc, extra map[string]string) *cluster {
	t.Helper()
	keys := t.TempDir()
	if err := token.WriteKeyPair(keys); err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if err := token.WriteServiceKeyPair(keys, string(r)); err != nil {
			t.Fatal(err)
		}
	}
	listeners := map[config.Role]net.Listener{}
	c := &cluster{URL: map[config.Role]string{}, Keys: keys, stop: map[config.Role]context.CancelFunc{}, stopped: map[config.Role]chan error{}}
	for _, r := range roles {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners[r] = l
		c.URL[r] = "http://" + l.Addr().String()
	}
	uploads := t.TempDir()
	for _, r := range roles {
		env := map[string]string{
			"BOOKSTORE_ADDR":                     listeners[r].Addr().String(),
			"BOOKSTORE_DB_DSN":                   dsn(t, r),
			"BOOKSTORE_UPLOADS_DIR":              uploads,
			"BOOKSTORE_ADMIN_EMAIL":              adminEmail,
			"BOOKSTORE_ADMIN_PASSWORD":           adminPassword,
			"BOOKSTORE_BCRYPT_COST":              "4",
			"BOOKSTORE_SIGNUPS_PER_ADDRESS":      "10000", // every test client signs up from 127.0.0.1
			"BOOKSTORE_CSRF_SECRET":              csrfSecret,
			"BOOKSTORE_DRAIN_DELAY":              "0s",
			"BOOKSTORE_AUTH_URL":                 c.URL[config.AuthService],
			"BOOKSTORE_CATALOG_URL":              c.URL[config.CatalogService],
			"BOOKSTORE_PURCHASE_URL":             c.URL[config.PurchaseService],
			"BOOKSTORE_SERVICE_PRIVATE_KEY_FILE": filepath.Join(keys, token.ServicePrivateKeyFile(string(r))),
			"BOOKSTORE_TOKEN_PUBLIC_KEY_FILE":    filepath.Join(keys, token.PublicKeyFile),
			"BOOKSTORE_TOKEN_PRIVATE_KEY_FILE":   filepath.Join(keys, token.PrivateKeyFile),
		}
		for _, other := range roles {
			env[config.ServicePublicKeyVar(other)] = filepath.Join(keys, token.ServicePublicKeyFile(string(other)))
		}
		for k, v := range extra {
			env[k] = v
		}
		cfg, err := config.Load(r, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatalf("%s config: %v", r, err)
		}
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		p, err := services.New(ctx, cfg)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		sctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Serve(sctx, listeners[r]) }()
		c.stop[r], c.stopped[r] = stop, done
		t.Cleanup(func() { c.Stop(r) })
	}
	return c
}

// Stop shuts one service down gracefully and waits for it.
func (c *cluster) Stop(r config.Role) {
	if stop := c.stop[r]; stop != nil {
		stop()
		<-c.stopped[r]
		c.stop[r] = nil
	}
}

func hostOf(url string) string { return strings.TrimPrefix(url, "http://") }
