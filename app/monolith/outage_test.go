package monolith_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/tet-bookstore/bookstore/app/monolith"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// A database that is lost is an outage, not a bug: /readyz takes the
// instance out of the load balancer, and every page and API call that needs
// the database is a 503 with Retry-After and a message, never a 500.
func TestLostDatabaseIs503(t *testing.T) {
	cases := []struct {
		name string
		// lose takes the app's database away (privately: never the shared server).
		lose func(t *testing.T, app *monolith.App, dsn string)
		dsn  func(t testing.TB) string
	}{
		{"SQLite file deleted", loseSQLiteFile, nil},
		{"MySQL database dropped", dropMySQLDatabase, testenv.MySQL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			if tc.dsn != nil {
				cfg.DBDSN = tc.dsn(t)
			}
			app := newApp(t, cfg)
			h := app.Handler()
			if rec := do(h, "GET", "/readyz", "", nil, ""); rec.Code != http.StatusOK {
				t.Fatalf("/readyz before = %d %s", rec.Code, rec.Body)
			}
			tc.lose(t, app, cfg.DBDSN)

			for _, target := range []string{"/readyz", "/api/v1/books/1", "/books/1", "/api/v1/purchases"} {
				var header http.Header
				if target == "/api/v1/purchases" {
					header = http.Header{"Authorization": {"Bearer some-token"}}
				}
				rec := do(h, "GET", target, "", header, "")
				if rec.Code != http.StatusServiceUnavailable {
					t.Errorf("GET %s = %d %.200s, want 503", target, rec.Code, rec.Body)
					continue
				}
				body := rec.Body.String()
				if strings.Contains(body, "sql") || strings.Contains(body, "internal error") {
					t.Errorf("GET %s leaks details or says internal error: %.300s", target, body)
				}
				if target == "/readyz" {
					continue
				}
				if rec.Header().Get("Retry-After") == "" {
					t.Errorf("GET %s: 503 without Retry-After", target)
				}
				if strings.HasPrefix(target, "/api/") && !strings.Contains(body, `"error":"the store's database is unavailable`) {
					t.Errorf("GET %s body %s", target, body)
				}
			}
			if rec := do(h, "GET", "/healthz", "", nil, ""); rec.Code != http.StatusOK {
				t.Errorf("/healthz = %d, want 200: the process is fine, restarting it would not help", rec.Code)
			}
		})
	}
}

// loseSQLiteFile deletes the database file and puts a directory in its
// place, then makes the pool reconnect, as a process whose volume was
// wiped or remounted would.
func loseSQLiteFile(t *testing.T, app *monolith.App, dsn string) {
	t.Helper()
	path := strings.TrimPrefix(dsn, "sqlite:")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "not-a-database"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pool := app.DB().SQL()
	pool.SetMaxIdleConns(0) // the open connections still see the deleted file; new ones do not
	pool.SetMaxIdleConns(4)
}

// dropMySQLDatabase drops the app's own throwaway database.
func dropMySQLDatabase(t *testing.T, _ *monolith.App, dsn string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE `"+strings.TrimPrefix(u.Path, "/")+"`"); err != nil {
		t.Fatal(err)
	}
}
