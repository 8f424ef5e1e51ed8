package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/auth"
)

// LoginLimiter is auth.Limiter on the login_failures table: every instance
// of the monolith, and every replica of the auth service, counts the same
// failures, so adding instances adds no guesses.
type LoginLimiter struct {
	db     *DB
	limits auth.Limits
}

var _ auth.Limiter = (*LoginLimiter)(nil)

// NewLoginLimiter returns the shared limiter with the given limits.
func NewLoginLimiter(db *DB, limits auth.Limits) *LoginLimiter {
	return &LoginLimiter{db: db, limits: limits}
}

type loginFailureRow struct {
	Key         string    `gorm:"column:limit_key;primaryKey"`
	Failures    int       `gorm:"column:failures"`
	WindowStart time.Time `gorm:"column:window_start"`
}

func (loginFailureRow) TableName() string { return "login_failures" }

// Allow reports whether every key is under its limit in its current window.
func (l *LoginLimiter) Allow(ctx context.Context, now time.Time, keys ...string) (bool, error) {
	var rows []loginFailureRow
	if err := l.db.conn(ctx).Where("limit_key IN ?", keys).Find(&rows).Error; err != nil {
		return false, fmt.Errorf("read failed logins: %w", err)
	}
	for _, r := range rows {
		if now.Sub(r.WindowStart) < l.limits.Window && r.Failures >= l.limits.Max(r.Key) {
			return false, nil
		}
	}
	return true, nil
}

// Fail counts a failure against every key, each in one statement that
// cannot lose a concurrent instance's count: increment within the window,
// else restart the window, else insert (and on a racing insert, increment).
func (l *LoginLimiter) Fail(ctx context.Context, now time.Time, keys ...string) error {
	now = dbTime(now)
	windowFrom := now.Add(-l.limits.Window)
	for _, key := range keys {
		if err := l.fail(ctx, key, now, windowFrom); err != nil {
			return fmt.Errorf("count failed login: %w", err)
		}
	}
	return nil
}

func (l *LoginLimiter) fail(ctx context.Context, key string, now, windowFrom time.Time) error {
	for attempt := 0; attempt < 3; attempt++ {
		db := l.db.conn(ctx)
		res := db.Exec("UPDATE login_failures SET failures = failures + 1 WHERE limit_key = ? AND window_start > ?", key, windowFrom)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		res = db.Exec("UPDATE login_failures SET failures = 1, window_start = ? WHERE limit_key = ? AND window_start <= ?", now, key, windowFrom)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		err := l.db.write(ctx, func(tx *gorm.DB) error {
			return tx.Create(&loginFailureRow{Key: key, Failures: 1, WindowStart: now}).Error
		})
		if !isUniqueViolation(err) {
			return err
		}
		// Another instance inserted the key first: count on top of theirs.
	}
	return fmt.Errorf("key %q kept changing under us", key)
}

// Reset forgets a key's failures.
func (l *LoginLimiter) Reset(ctx context.Context, key string) error {
	if err := l.db.conn(ctx).Exec("DELETE FROM login_failures WHERE limit_key = ?", key).Error; err != nil {
		return fmt.Errorf("reset failed logins: %w", err)
	}
	return nil
}

// Sweep deletes counts whose window has passed; the session sweep runs it.
func (l *LoginLimiter) Sweep(ctx context.Context, now time.Time) error {
	err := l.db.conn(ctx).Exec("DELETE FROM login_failures WHERE window_start <= ?", dbTime(now.Add(-l.limits.Window))).Error
	if err != nil {
		return fmt.Errorf("delete old failed-login counts: %w", err)
	}
	return nil
}
