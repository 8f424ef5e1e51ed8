// Package store is the storage adapter: GORM implementations of the auth,
// catalog and purchase Store interfaces over SQLite (embedded, the default)
// or MySQL/MariaDB (production), plus versioned schema migrations that
// several instances may run at once.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Dialects the store speaks.
const (
	DialectSQLite = "sqlite"
	DialectMySQL  = "mysql"
)

// DB is an open, pinged database with the dialect it speaks.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	// where is the database for messages and lock names: the SQLite path or
	// the MySQL database name. Never holds a password.
	where string
	// local is what this process shares about a SQLite database; nil on
	// MySQL, where other instances write too.
	local *sqliteLocal
	// migrated are the modules Migrate brought up to date: Ready checks
	// their schema is still there.
	migratedMu sync.Mutex
	migrated   []Module
	// pages caches catalog pages: local.books on SQLite, this handle's own
	// short-lived cache on MySQL (cache.go).
	pages *bookListCache
}

// sqliteLocal is shared by every *DB this process opens on one SQLite file.
// SQLite deployments are a single instance, so this process sees every write.
type sqliteLocal struct {
	// writeMu serialises write transactions: SQLite allows one writer at a
	// time, and goroutines queue here instead of failing with "database is
	// locked".
	writeMu sync.Mutex
	// books caches catalog pages, invalidated by every write to books.
	books bookListCache
}

// defaultPingTimeout bounds Open's first contact with the database when the
// caller's context has no deadline.
const defaultPingTimeout = 10 * time.Second

// Open connects to the database named by dsn and pings it:
//
//	sqlite:PATH            an embedded SQLite file (created if missing)
//	sqlite::memory:        a private in-memory database (tests)
//	mysql://USER:PASS@HOST:PORT/DBNAME[?tls=true|skip-verify|preferred|NAME]
//
// Errors are one readable line and never contain the password.
func Open(ctx context.Context, dsn string) (*DB, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "mysql://"):
		return openMySQL(ctx, dsn)
	case dsn == "":
		return nil, errors.New("database DSN is empty: use sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME")
	}
	scheme, _, _ := strings.Cut(dsn, ":")
	if len(scheme) > 20 {
		scheme = scheme[:20]
	}
	return nil, fmt.Errorf("database DSN scheme %q is not supported: use sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME", scheme)
}

// Dialect is DialectSQLite or DialectMySQL.
func (db *DB) Dialect() string { return db.dialect }

// SQL gives the underlying pool, for pool metrics and health checks.
func (db *DB) SQL() *sql.DB { return db.sql }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database %s: %w", db.dialect, db.where, err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

// conn returns the GORM handle bound to ctx.
func (db *DB) conn(ctx context.Context) *gorm.DB { return db.gorm.WithContext(ctx) }

// write runs fn in one transaction, serialised per process on SQLite and
// retried a few times when the database reports a deadlock or a busy lock,
// which on MySQL can happen to any transaction under contention.
func (db *DB) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
			}
		}
		err = classify(db.writeOnce(ctx, fn)) // a failed BEGIN or COMMIT passes no GORM callback
		if !isRetryable(err) {
			return err
		}
	}
	return err
}

func (db *DB) writeOnce(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.local != nil {
		db.local.writeMu.Lock()
		defer db.local.writeMu.Unlock()
	}
	return db.conn(ctx).Transaction(fn)
}
