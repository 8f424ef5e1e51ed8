package bookstore

import (
	"errors"
	"time"
)

// retryAfter is a domain error with how long the caller should wait.
type retryAfter struct {
	err   *Error
	after time.Duration
}

func (e *retryAfter) Error() string       { return e.err.Error() }
func (e *retryAfter) Unwrap() error       { return e.err }
func (e *retryAfter) wait() time.Duration { return e.after }

// WithRetryAfter attaches to a domain error (a quota's ETOOMANY) how long
// until trying again can succeed; adapters say it (HTTP Retry-After).
func WithRetryAfter(err *Error, after time.Duration) error {
	return &retryAfter{err: err, after: after}
}

// RetryAfter returns the wait WithRetryAfter attached to err's chain.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retryAfter
	if errors.As(err, &r) {
		return r.wait(), true
	}
	return 0, false
}
