package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mysqlConfig turns the store's URL form (mysql://USER:PASS@HOST:PORT/DB)
// into the driver's configuration, without a database.
func mysqlConfig(server string) (*mysql.Config, *url.URL, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		return nil, nil, fmt.Errorf("local: MySQL server %q must look like mysql://USER:PASS@HOST:PORT/", redact(server))
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.Timeout = 3 * time.Second
	return cfg, u, nil
}

// redact hides a DSN's password, for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// createDatabase creates a fresh bookstore_local_<random> database on the
// server and returns its DSN and a function that drops it. An unreachable
// server is one line saying so.
func createDatabase(ctx context.Context, server string) (dsn, name string, drop func() error, err error) {
	return createNamedDatabase(ctx, server, "bookstore_local_"+randomHex(6))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createNamedDatabase is createDatabase with the name chosen by the caller
// (letters, digits and underscores only).
func createNamedDatabase(ctx context.Context, server, name string) (dsn, _ string, drop func() error, err error) {
	cfg, u, err := mysqlConfig(server)
	if err != nil {
		return "", "", nil, err
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", "", nil, fmt.Errorf("local: MySQL server %s: %w", u.Host, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return "", "", nil, fmt.Errorf("local: MariaDB/MySQL at %s is not reachable (%v); start it (Debian: apt-get install mariadb-server) or name another with --mysql or LOCAL_MYSQL_DSN", u.Host, oneLine(err))
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return "", "", nil, fmt.Errorf("local: create database %s on %s: %v", name, u.Host, oneLine(err))
	}
	drop = func() error {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return err
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("local: drop database %s on %s: %v", name, u.Host, oneLine(err))
		}
		return nil
	}
	d := *u
	d.Path = "/" + name
	return d.String(), name, drop, nil
}

// adminEnv is the apps' environment with an admin password: MySQL makes the
// app require one, and a rehearsal should start without setup. A generated
// password goes to a 0600 file in Dir, never to the log.
func (t *Topology) adminEnv(o Options, dsn string) ([]string, error) {
	if !strings.HasPrefix(dsn, "mysql://") {
		return o.Environ, nil
	}
	if _, ok := lookupEnv(o.Environ, "BOOKSTORE_ADMIN_PASSWORD"); ok {
		return o.Environ, nil
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(b)
	file := filepath.Join(o.Dir, "admin-password")
	if err := os.WriteFile(file, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("local: write the generated admin password: %w", err)
	}
	t.AdminPasswordFile = file
	return append(append([]string{}, o.Environ...), "BOOKSTORE_ADMIN_PASSWORD="+password), nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
