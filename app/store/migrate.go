package store

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Migration is one versioned, additive step of a module's schema. Steps are
// never edited once released: a change is a new step with the next version,
// so a database at any earlier version upgrades without losing data.
type Migration struct {
	Version int
	Name    string
	// Up applies the step inside a transaction (on MySQL, DDL commits
	// implicitly, so statements are written to be safe to repeat).
	Up func(tx *gorm.DB, dialect string) error
}

// Module is the schema of one domain module: its name in schema_migrations
// and its migrations in version order, starting at 1.
type Module struct {
	Name       string
	Migrations []Migration
	// Probe is a table of the module that DB.Ready reads one row of (a
	// name from this code, never from input).
	Probe string
}

// migrateLock is the database lock every migrating instance takes.
const migrateLock = "bookstore_migrate"

type migrationRow struct {
	Module    string    `gorm:"column:module;primaryKey"`
	Version   int       `gorm:"column:version;primaryKey"`
	Name      string    `gorm:"column:name"`
	AppliedAt time.Time `gorm:"column:applied_at"`
}

func (migrationRow) TableName() string { return "schema_migrations" }

func (m Module) validate() error {
	if m.Name == "" || len(m.Name) > 64 {
		return fmt.Errorf("module name %q must be 1 to 64 characters", m.Name)
	}
	for i, mg := range m.Migrations {
		if mg.Version != i+1 {
			return fmt.Errorf("module %s: migration %d has version %d; versions must be 1, 2, 3, ...", m.Name, i+1, mg.Version)
		}
		if mg.Up == nil {
			return fmt.Errorf("module %s: migration %d has no Up", m.Name, mg.Version)
		}
	}
	return nil
}

// Migrate brings the modules' schemas up to date. It holds a database lock
// (GET_LOCK on MySQL) for the whole run, so instances starting together
// apply each step exactly once; each step and its schema_migrations row are
// written in one transaction.
func (db *DB) Migrate(ctx context.Context, modules ...Module) error {
	for _, m := range modules {
		if err := m.validate(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return db.WithLock(ctx, migrateLock, func(ctx context.Context) error {
		if err := db.conn(ctx).Exec(db.ddl(`CREATE TABLE IF NOT EXISTS schema_migrations (
			module VARCHAR(64) NOT NULL,
			version INT NOT NULL,
			name VARCHAR(200) NOT NULL,
			applied_at {{time}} NOT NULL,
			PRIMARY KEY (module, version)
		){{opts}}`)).Error; err != nil {
			return fmt.Errorf("migrate: create schema_migrations: %w", err)
		}
		for _, m := range modules {
			if err := db.migrateModule(ctx, m); err != nil {
				return err
			}
			db.migratedMu.Lock()
			db.migrated = append(db.migrated, m)
			db.migratedMu.Unlock()
		}
		return nil
	})
}

func (db *DB) migrateModule(ctx context.Context, m Module) error {
	for _, mg := range m.Migrations {
		applied := false
		err := db.writeOnce(ctx, func(tx *gorm.DB) error {
			// Checked inside the transaction: on SQLite it began IMMEDIATE,
			// so even another process cannot apply the step in between.
			var n int64
			if err := tx.Model(&migrationRow{}).Where("module = ? AND version = ?", m.Name, mg.Version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := mg.Up(tx, db.dialect); err != nil {
				return err
			}
			applied = true
			return tx.Create(&migrationRow{Module: m.Name, Version: mg.Version, Name: mg.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("migrate %s to version %d (%s): %w", m.Name, mg.Version, mg.Name, err)
		}
		if applied {
			slog.InfoContext(ctx, "schema migration applied", "module", m.Name, "version", mg.Version, "name", mg.Name)
		}
	}
	return nil
}

// AppliedVersion returns the highest migration version recorded for module
// (0 when none).
func (db *DB) AppliedVersion(ctx context.Context, module string) (int, error) {
	var v *int
	err := db.conn(ctx).Model(&migrationRow{}).Where("module = ?", module).Select("MAX(version)").Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("applied version of %s: %w", module, err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// defaultLockWait bounds how long WithLock waits when ctx has no deadline.
const defaultLockWait = 2 * time.Minute

// WithLock runs fn while holding the named lock. On MySQL it is a GET_LOCK
// on a dedicated connection, so it excludes every instance using the same
// database; on SQLite it excludes the goroutines of this process (SQLite
// deployments are single-instance). EUNAVAILABLE when the wait runs out.
func (db *DB) WithLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if db.dialect == DialectMySQL {
		return db.withMySQLLock(ctx, name, fn)
	}
	return db.withProcessLock(ctx, name, fn)
}

func (db *DB) lockName(name string) string {
	// Locks are server-wide in MySQL: scope them to this database so two
	// databases on one server do not wait for each other.
	full := db.where + "." + name
	if len(full) <= 64 {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	return "bookstore." + hex.EncodeToString(sum[:])[:40]
}

func (db *DB) withMySQLLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	wait := defaultLockWait
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: get a connection: %w", name, err)
	}
	defer conn.Close()
	lock := db.lockName(name)
	var got *int64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", lock, secs).Scan(&got); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	if got == nil || *got != 1 {
		return bookstore.Errorf(bookstore.EUNAVAILABLE, "lock %s: still held by another instance after %ds", name, secs)
	}
	defer func() {
		// Released on the same connection that took it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", lock); err != nil {
			slog.WarnContext(ctx, "release database lock", "lock", name, "err", err)
			// Never hand a connection that may still hold the lock back to
			// the pool: discard it, and the server releases the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(ctx)
}

// processLocks are the SQLite locks: one channel per database and name.
var processLocks = struct {
	sync.Mutex
	m map[string]chan struct{}
}{m: map[string]chan struct{}{}}

func (db *DB) withProcessLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	key := db.where + "\x00" + name
	if db.where == ":memory:" {
		key = fmt.Sprintf("%p\x00%s", db, name) // each in-memory database is private
	}
	processLocks.Lock()
	ch, ok := processLocks.m[key]
	if !ok {
		ch = make(chan struct{}, 1)
		processLocks.m[key] = ch
	}
	processLocks.Unlock()
	wait := defaultLockWait
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("lock %s: %w", name, ctx.Err())
	case <-timer.C:
		return bookstore.Errorf(bookstore.EUNAVAILABLE, "lock %s: still held after %s", name, wait)
	}
	defer func() { <-ch }()
	return fn(ctx)
}

var errNoRows = errors.New("no rows")
