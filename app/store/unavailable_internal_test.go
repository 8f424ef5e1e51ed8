package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestClassifyOutages(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"bad connection", fmt.Errorf("query: %w", driver.ErrBadConn), bookstore.EUNAVAILABLE},
		{"connection refused", refused, bookstore.EUNAVAILABLE},
		{"mysql invalid connection", mysql.ErrInvalidConn, bookstore.EUNAVAILABLE},
		{"mysql server shutdown", &mysql.MySQLError{Number: 1053}, bookstore.EUNAVAILABLE},
		{"mysql table gone (dropped database)", &mysql.MySQLError{Number: 1146}, bookstore.EUNAVAILABLE},
		{"mysql unknown database", &mysql.MySQLError{Number: 1049}, bookstore.EUNAVAILABLE},
		{"mysql duplicate key is no outage", &mysql.MySQLError{Number: 1062}, bookstore.EINTERNAL},
		{"client cancelled is no outage", context.Canceled, bookstore.EINTERNAL},
		{"deadline is no outage", fmt.Errorf("query: %w", context.DeadlineExceeded), bookstore.EINTERNAL},
		{"a bug stays a bug", errors.New("unsupported data type"), bookstore.EINTERNAL},
		{"domain error kept", bookstore.Errorf(bookstore.ENOTFOUND, "no book"), bookstore.ENOTFOUND},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			if code := bookstore.ErrorCode(got); code != tc.want {
				t.Fatalf("code %q, want %q", code, tc.want)
			}
			if !errors.Is(got, tc.err) && bookstore.ErrorCode(tc.err) != bookstore.ENOTFOUND {
				t.Errorf("the driver's error is lost from the chain")
			}
			if tc.want == bookstore.EUNAVAILABLE && bookstore.ErrorMessage(got) != "the store's database is unavailable; try again shortly" {
				t.Errorf("message %q", bookstore.ErrorMessage(got))
			}
		})
	}
	if !isUniqueViolation(classify(&mysql.MySQLError{Number: 1062})) {
		t.Error("classify hides a unique violation")
	}
}
