package monolith_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/monolith"
)

const (
	adminEmail    = "admin@test.local"
	adminPassword = "admin-password-for-tests"
)

// testConfig is a monolith on a fresh SQLite file in a temporary directory.
func testConfig(t testing.TB) config.Config {
	t.Helper()
	dir := t.TempDir()
	return config.Config{
		Env:             "development",
		Addr:            "127.0.0.1:0",
		DBDSN:           "sqlite:" + filepath.Join(dir, "bookstore.db"),
		UploadsDir:      filepath.Join(dir, "uploads"),
		AdminEmail:      adminEmail,
		AdminPassword:   adminPassword,
		TrustedProxies:  config.DefaultTrustedProxies,
		ShutdownTimeout: 10 * time.Second,
		BcryptCost:      4, // the minimum: tests hash many passwords
		// Every test client signs up from 127.0.0.1.
		SignupsPerAddress: 10_000,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func newApp(t testing.TB, cfg config.Config) *monolith.App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := monolith.New(ctx, cfg)
	if err != nil {
		t.Fatalf("monolith.New: %v", err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// serve runs the app's handler on an httptest server.
func serve(t testing.TB, app *monolith.App) string {
	t.Helper()
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// do sends a request straight to the handler, from remoteAddr.
func do(h http.Handler, method, target, remoteAddr string, header http.Header, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if remoteAddr != "" {
		req.RemoteAddr = remoteAddr
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// logBuffer collects an app's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func authInput(email string) auth.RegisterInput {
	return auth.RegisterInput{Name: "Test User", Email: email, Password: "correct horse battery"}
}
