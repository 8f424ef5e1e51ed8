package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// QuotaWindow is the period the listing and upload quotas count over.
const QuotaWindow = time.Hour

// Quota counts what a user used in a window, shared by every instance.
type Quota interface {
	// Take adds amount to key's use if it stays within limit in the
	// current window; otherwise it takes nothing and says how long until
	// the window ends.
	Take(ctx context.Context, key string, amount, limit int64, window time.Duration, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// QuotaLimits are each user's allowance per QuotaWindow; 0 means no limit.
// Admins have none.
type QuotaLimits struct {
	BooksPerHour       int64
	UploadBytesPerHour int64
}

// SetQuotas turns on the per-user quotas (the monolith and the catalog
// service do; without it nothing is limited).
func (c *Catalog) SetQuotas(q Quota, limits QuotaLimits) {
	c.quota, c.limits = q, limits
}

// takeQuota refuses with ETOOMANY (and when to try again) once the caller
// used up what limit allows in this window.
func (c *Catalog) takeQuota(ctx context.Context, caller bookstore.Caller, kind string, amount, limit int64, refusal string) error {
	if c.quota == nil || limit <= 0 || caller.IsAdmin() {
		return nil
	}
	ok, wait, err := c.quota.Take(ctx, fmt.Sprintf("%s:%d", kind, caller.UserID), amount, limit, QuotaWindow, c.now())
	if err != nil {
		return fmt.Errorf("count %s of user %d: %w", kind, caller.UserID, err)
	}
	if !ok {
		minutes := max(1, int((wait+time.Minute-1)/time.Minute))
		return bookstore.WithRetryAfter(bookstore.Errorf(bookstore.ETOOMANY, "%s; try again in %d minutes", refusal, minutes), wait)
	}
	return nil
}

// sizeText says a byte count the way people read it.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
