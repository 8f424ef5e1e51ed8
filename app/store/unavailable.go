package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// More SQLite primary result codes: the file cannot be read or written.
const (
	sqliteError    = 1 // generic; "no such table" when the schema is gone
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// MySQL error numbers of a server that is going, gone or without our schema.
const (
	mysqlTooManyConnections = 1040
	mysqlNoDatabaseSelected = 1046
	mysqlUnknownDatabase    = 1049
	mysqlServerShutdown     = 1053
	mysqlNoSuchTable        = 1146
	mysqlQueryInterrupted   = 1317
	mysqlConnectionKilled   = 1927
	mysqlReadOnly           = 1290 // --read-only during a failover
	mysqlGone               = 2006
	mysqlLostConnection     = 2013
)

// errUnavailable is what people see of a database outage.
var errUnavailable = bookstore.Errorf(bookstore.EUNAVAILABLE, "the store's database is unavailable; try again shortly")

// unavailableError keeps the driver's error for logs and errors.Is/As
// (unique violations, retries) while its code says EUNAVAILABLE.
type unavailableError struct{ cause error }

func (e unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e unavailableError) Unwrap() []error { return []error{errUnavailable, e.cause} }

// classify marks errors that mean the database cannot be reached or has
// lost the schema (a server down, restarting or failing over, a dropped
// database, a SQLite file gone, locked past the busy timeout or damaged)
// as EUNAVAILABLE, so they are a 503 to try again rather than a 500 that
// looks like a bug. Anything else is returned as it is.
func classify(err error) error {
	if err == nil || bookstore.ErrorCode(err) == bookstore.EUNAVAILABLE || !isUnavailable(err) {
		return err
	}
	return unavailableError{cause: err}
}

func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the request gave up, not the database
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // refused, reset, unreachable, DNS, timeouts dialling
	}
	if n, ok := mysqlNumber(err); ok {
		switch n {
		case mysqlTooManyConnections, mysqlNoDatabaseSelected, mysqlUnknownDatabase, mysqlServerShutdown,
			mysqlNoSuchTable, mysqlQueryInterrupted, mysqlConnectionKilled, mysqlReadOnly, mysqlGone, mysqlLostConnection:
			return true
		}
		return false
	}
	if code, msg, ok := sqliteCode(err); ok {
		switch code {
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteCorrupt, sqliteCantOpen, sqliteNotADB:
			return true
		case sqliteError:
			return strings.Contains(msg, "no such table")
		}
	}
	return false
}

// registerClassifier makes every GORM statement's error go through classify,
// so each store method reports an outage as EUNAVAILABLE without saying so.
func registerClassifier(g *gorm.DB) error {
	mark := func(tx *gorm.DB) {
		if tx.Error != nil {
			tx.Error = classify(tx.Error)
		}
	}
	cb := g.Callback()
	for name, err := range map[string]error{
		"create": cb.Create().After("*").Register("bookstore:classify", mark),
		"query":  cb.Query().After("*").Register("bookstore:classify", mark),
		"update": cb.Update().After("*").Register("bookstore:classify", mark),
		"delete": cb.Delete().After("*").Register("bookstore:classify", mark),
		"row":    cb.Row().After("*").Register("bookstore:classify", mark),
		"raw":    cb.Raw().After("*").Register("bookstore:classify", mark),
	} {
		if err != nil {
			return fmt.Errorf("register %s error classifier: %w", name, err)
		}
	}
	return nil
}

// Ready checks what serving needs: the database answers and every module
// this process migrated still has its schema at the version it expects (a
// cheap indexed read of schema_migrations, and of one row of each module's
// first table), so an instance whose database was dropped or wiped leaves
// the load balancer. Errors are EUNAVAILABLE.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database %s: %w", db.dialect, db.where, unavailableError{cause: err})
	}
	db.migratedMu.Lock()
	modules := append([]Module(nil), db.migrated...)
	db.migratedMu.Unlock()
	for _, m := range modules {
		var n int64
		last := len(m.Migrations)
		err := db.conn(ctx).Raw("SELECT COUNT(*) FROM schema_migrations WHERE module = ? AND version = ?", m.Name, last).Scan(&n).Error
		if err == nil && n == 0 {
			err = fmt.Errorf("schema of module %s is not at version %d", m.Name, last)
		}
		if err == nil && m.Probe != "" {
			var one []int
			err = db.conn(ctx).Raw("SELECT 1 FROM " + m.Probe + " LIMIT 1").Scan(&one).Error
		}
		if err != nil {
			return fmt.Errorf("check %s schema in %s database %s: %w", m.Name, db.dialect, db.where, unavailableError{cause: err})
		}
	}
	return nil
}
