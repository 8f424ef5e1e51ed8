// Package webctx is what every web handler, JSON or HTML, needs to know about
// a request: who is calling, its CSRF token, its flash messages, and which
// HTTP status a domain error maps to (decided here and nowhere else).
package webctx

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

const (
	userKey      = "bookstore.user"
	tokenKey     = "bookstore.token"
	csrfKey      = "bookstore.csrf"
	requestIDKey = "bookstore.request_id"
)

// SetUser records the authenticated user and the session token it came
// with, also in the request's context, where calls to other services find
// it and carry it (the microservices trust no other proof of a user).
func SetUser(c echo.Context, u auth.User, token string) {
	c.Set(userKey, u)
	c.Set(tokenKey, token)
	c.SetRequest(c.Request().WithContext(bookstore.WithUserToken(c.Request().Context(), token)))
}

// User returns the signed-in user, if any.
func User(c echo.Context) (auth.User, bool) {
	u, ok := c.Get(userKey).(auth.User)
	return u, ok
}

// Caller returns the domain identity of the request (zero for visitors).
func Caller(c echo.Context) bookstore.Caller {
	if u, ok := User(c); ok {
		return u.Caller()
	}
	return bookstore.Caller{}
}

// Token returns the session token the request authenticated with.
func Token(c echo.Context) string {
	t, _ := c.Get(tokenKey).(string)
	return t
}

// SetCSRFToken records the token forms must echo back.
func SetCSRFToken(c echo.Context, token string) { c.Set(csrfKey, token) }

// CSRFToken returns the token to put in a form's hidden "_csrf" field or an
// X-CSRF-Token header.
func CSRFToken(c echo.Context) string {
	t, _ := c.Get(csrfKey).(string)
	return t
}

// SetRequestID records the request's id (also sent as X-Request-ID).
func SetRequestID(c echo.Context, id string) { c.Set(requestIDKey, id) }

// RequestID returns the request's id.
func RequestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// Status maps a domain error to its HTTP status.
func Status(err error) int {
	switch bookstore.ErrorCode(err) {
	case "":
		return http.StatusOK
	case bookstore.EINVALID:
		return http.StatusBadRequest
	case bookstore.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case bookstore.EPAYMENT:
		return http.StatusPaymentRequired
	case bookstore.EFORBIDDEN:
		return http.StatusForbidden
	case bookstore.ENOTFOUND:
		return http.StatusNotFound
	case bookstore.ECONFLICT:
		return http.StatusConflict
	case bookstore.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case bookstore.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case bookstore.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case bookstore.ETOOMANY:
		return http.StatusTooManyRequests
	case bookstore.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// defaultRetryAfter is what a 503 (a database or service down) tells
// clients to wait: long enough for a restart or failover to be noticed.
const defaultRetryAfter = 5 * time.Second

// SetRetryAfter says when to try again on a 503 or 429: the wait the domain
// attached (bookstore.WithRetryAfter, a quota's window), else 5 s for a 503.
func SetRetryAfter(c echo.Context, status int, err error) {
	if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
		return
	}
	h := c.Response().Header()
	if h.Get("Retry-After") != "" {
		return
	}
	wait, ok := bookstore.RetryAfter(err)
	if !ok {
		if status != http.StatusServiceUnavailable {
			return
		}
		wait = defaultRetryAfter
	}
	h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
}
