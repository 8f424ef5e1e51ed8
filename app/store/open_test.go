package store_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

const secret = "s3cr3t-Pa55"

// A bad or unreachable DSN is one readable line that never shows the password.
func TestOpenBadDSN(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ dsn, want string }{
		{"", "empty"},
		{"postgres://ada:" + secret + "@db/books", "not supported"},
		{"sqlite:", "file path"},
		{"sqlite:" + dir, "is a directory"},
		{"sqlite:/proc/no/such/dir/x.db", "directory"},
		{"mysql://ada:" + secret + "@127.0.0.1:1/books", "open mysql database ada@127.0.0.1:1/books"},
		{"mysql://ada:" + secret + "@127.0.0.1:3306/", "no database name"},
		{"mysql://:" + secret + "@127.0.0.1:3306/books", "no user"},
		{"mysql://ada:" + secret + "@127.0.0.1:port/books", "not a valid URL"},
		{"mysql://ada:" + secret + "@127.0.0.1:3306/books?charset=latin1", "not supported"},
		{"mysql://ada:" + secret + "@127.0.0.1:3306/books?tls=no-such-config", "mysql DSN"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		db, err := store.Open(ctx, c.dsn)
		cancel()
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", c.dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("Open(%q) = %q, want it to mention %q", c.dsn, msg, c.want)
		}
		if strings.Contains(msg, secret) || strings.Contains(msg, url.QueryEscape(secret)) {
			t.Errorf("Open(%q) error shows the password: %q", c.dsn, msg)
		}
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("Open(%q) error spans lines: %q", c.dsn, msg)
		}
	}
}

// Open gives up at the caller's deadline when the server does not answer.
func TestOpenHonoursDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	// 192.0.2.0/24 is reserved for documentation: nothing answers there.
	db, err := store.Open(ctx, "mysql://ada:"+secret+"@192.0.2.1:3306/books")
	if err == nil {
		db.Close()
		t.Fatal("Open of an unroutable address succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Open took %v past a 500ms deadline", d)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error shows the password: %v", err)
	}
}

// Wrong credentials against the real server: the server's refusal, without
// the password.
func TestOpenMySQLWrongPassword(t *testing.T) {
	u, err := url.Parse(testenv.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := store.Open(ctx, u.String())
	if err == nil {
		db.Close()
		t.Skip("the test server accepts any password for this user")
	}
	msg := err.Error()
	if strings.Contains(msg, secret) || strings.ContainsAny(msg, "\r\n") || !strings.Contains(msg, "open mysql database") {
		t.Fatalf("error = %q", msg)
	}
}

func TestOpenSQLiteCreatesDirectoryAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "nested", "bookstore.db")
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must(t, db.Migrate(ctx, store.Modules()...))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	var mode string
	must(t, db.SQL().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
	var fk int
	must(t, db.SQL().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	if fk != 1 {
		t.Fatal("foreign keys are off")
	}
	must(t, db.Ping(ctx))
	if db.Dialect() != store.DialectSQLite {
		t.Fatalf("dialect = %q", db.Dialect())
	}
}
