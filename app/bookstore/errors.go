// Package bookstore holds what every module of the store shares: the error
// vocabulary and the identity of whoever is calling. It imports no framework.
package bookstore

import (
	"errors"
	"fmt"
)

// Error codes. Each adapter maps them to its own vocabulary (HTTP statuses in
// one place of the web adapter) so domain code never speaks HTTP.
const (
	EINVALID       = "invalid"       // the input breaks a rule
	ENOTFOUND      = "not_found"     // no such thing, or not visible to the caller
	ECONFLICT      = "conflict"      // the state forbids it now (taken e-mail, no stock, already paid)
	EUNAUTHORIZED  = "unauthorized"  // no valid credentials
	EFORBIDDEN     = "forbidden"     // valid credentials, not allowed
	EPAYMENT       = "payment"       // the payment was declined
	ETOOLARGE      = "too_large"     // the upload is over its limit
	EUNSUPPORTED   = "unsupported"   // the content type is not accepted
	EUNPROCESSABLE = "unprocessable" // well-formed but refused as it is (an image too large to decode)
	ETOOMANY       = "too_many"      // rate limited
	EUNAVAILABLE   = "unavailable"   // a dependency is down; try again later
	EINTERNAL      = "internal"      // a bug or an unexpected failure
)

// Error is a domain error: a code for machines and a message for people.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain. Other
// errors may carry internals (SQL, paths), so people only see a generic text.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
