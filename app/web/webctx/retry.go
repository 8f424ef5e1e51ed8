package webctx

import (
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// SetRetryAfter sends Retry-After (whole seconds, at least 1) when err says
// when to try again (a limit such as auth.ThrottledError); other errors
// change nothing.
func SetRetryAfter(c echo.Context, err error) {
	var ra interface{ RetryAfter() time.Duration }
	if err == nil || !errors.As(err, &ra) || c.Response().Committed {
		return
	}
	secs := int64((ra.RetryAfter() + time.Second - 1) / time.Second)
	c.Response().Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}
