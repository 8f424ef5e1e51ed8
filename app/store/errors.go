package store

import (
	"errors"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// SQLite primary result codes (the low byte of extended codes).
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteConstraint = 19
)

// MySQL error numbers.
const (
	mysqlDuplicate       = 1062
	mysqlNoReferencedRow = 1452
	mysqlLockWaitTimeout = 1205
	mysqlDeadlock        = 1213
)

func sqliteCode(err error) (int, string, bool) {
	var e *gosqlite.Error
	if errors.As(err, &e) {
		return e.Code() & 0xff, e.Error(), true
	}
	return 0, "", false
}

func mysqlNumber(err error) (uint16, bool) {
	var e *mysql.MySQLError
	if errors.As(err, &e) {
		return e.Number, true
	}
	return 0, false
}

// isUniqueViolation reports a duplicate key on either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	if n, ok := mysqlNumber(err); ok {
		return n == mysqlDuplicate
	}
	if code, msg, ok := sqliteCode(err); ok {
		return code == sqliteConstraint && (strings.Contains(msg, "UNIQUE") || strings.Contains(msg, "PRIMARY KEY"))
	}
	return false
}

// isForeignKeyViolation reports a row pointing at a missing parent.
func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return true
	}
	if n, ok := mysqlNumber(err); ok {
		return n == mysqlNoReferencedRow
	}
	if code, msg, ok := sqliteCode(err); ok {
		return code == sqliteConstraint && strings.Contains(msg, "FOREIGN KEY")
	}
	return false
}

// isRetryable reports errors after which the whole transaction may simply
// run again: deadlocks and lock waits that gave up.
func isRetryable(err error) bool {
	if err == nil {
		return false
	}
	if n, ok := mysqlNumber(err); ok {
		return n == mysqlDeadlock || n == mysqlLockWaitTimeout
	}
	if code, _, ok := sqliteCode(err); ok {
		return code == sqliteBusy || code == sqliteLocked
	}
	return false
}
