// Package testenv decides what a test does when something it needs from the
// machine (MySQL, Chromium, nginx, shellcheck) is missing: outside CI it is
// skipped with the reason printed; under CI=true the test fails, so CI can
// never go green without running it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test outside CI and fails it under CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required under CI=true: %s", msg)
	}
	t.Skipf("skipped: %s", msg)
}

// Tool returns the path of an executable, or skips/fails through Missing.
func Tool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, "%s not found on PATH (Debian: apt-get install %s)", strings.Join(names, " or "), names[0])
	return ""
}

// MySQLServerDSN is the server in BOOKSTORE_TEST_MYSQL_DSN
// (mysql://USER:PASS@HOST:PORT/DBNAME); the database name in it is ignored.
const mysqlEnv = "BOOKSTORE_TEST_MYSQL_DSN"

// MySQL creates a fresh, empty database on the test MySQL server and returns
// its DSN in the store's URL form (mysql://USER:PASS@HOST:PORT/DBNAME). The
// database is dropped when the test ends.
func MySQL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(mysqlEnv)
	if raw == "" {
		Missing(t, "%s is not set (e.g. mysql://root:@127.0.0.1:3306/bookstore_test)", mysqlEnv)
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "mysql" {
		t.Fatalf("%s must look like mysql://USER:PASS@HOST:PORT/DBNAME", mysqlEnv)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open test MySQL: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		Missing(t, "test MySQL at %s is not reachable: %v", u.Host, err)
		return ""
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "bookstore_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS `" + name + "`")
	})
	u.Path = "/" + name
	return u.String()
}

// Docker returns the docker CLI once an engine answers it (DOCKER_HOST or
// the default socket), or skips/fails through Missing.
func Docker(t testing.TB) string {
	t.Helper()
	docker := Tool(t, "docker")
	if docker == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, docker, "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		Missing(t, "no Docker engine answers (DOCKER_HOST=%q; .ci/run starts one): %v: %s", os.Getenv("DOCKER_HOST"), err, strings.TrimSpace(string(out)))
		return ""
	}
	return docker
}
