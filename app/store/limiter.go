package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/auth"
)

// LoginLimiter is auth.Limiter on the login_failures table: every instance
// of the monolith, and every replica of the auth service, counts the same
// attempts, so adding instances adds no guesses. A row counts the failed
// attempts of its window plus those still being checked.
type LoginLimiter struct {
	db     *DB
	limits auth.Limits
}

var _ auth.Limiter = (*LoginLimiter)(nil)

// NewLoginLimiter returns the shared limiter with the given limits.
func NewLoginLimiter(db *DB, limits auth.Limits) *LoginLimiter {
	return &LoginLimiter{db: db, limits: limits}
}

// Limits returns the limits.
func (l *LoginLimiter) Limits() auth.Limits { return l.limits }

type loginFailureRow struct {
	Key         string    `gorm:"column:limit_key;primaryKey"`
	Failures    int       `gorm:"column:failures"`
	WindowStart time.Time `gorm:"column:window_start"`
}

func (loginFailureRow) TableName() string { return "login_failures" }

// Take counts an attempt against every key, each in statements that cannot
// lose or overshoot a concurrent instance's count: increment only below the
// limit within the window, else restart an expired window, else insert (and
// on a racing insert, start over). When a key is at its limit, the attempts
// already taken for the other keys are given back and Take reports false.
func (l *LoginLimiter) Take(ctx context.Context, now time.Time, keys ...string) (bool, error) {
	now = dbTime(now)
	windowFrom := now.Add(-l.limits.Window)
	for i, key := range keys {
		ok, err := l.take(ctx, key, l.limits.Max(key), now, windowFrom)
		if err == nil && ok {
			continue
		}
		for _, taken := range keys[:i] {
			if rerr := l.Return(ctx, taken); rerr != nil && err == nil {
				err = rerr
			}
		}
		if err != nil {
			return false, fmt.Errorf("count login attempt: %w", err)
		}
		return false, nil
	}
	return true, nil
}

// Count counts an attempt against key with no limit, by the same
// statements as Take, then reads the count back. A concurrent attempt may
// be counted in between, so the count read is at least this attempt's place:
// parallel attempts are never told fewer failures than came before them.
func (l *LoginLimiter) Count(ctx context.Context, now time.Time, key string) (int, error) {
	now = dbTime(now)
	windowFrom := now.Add(-l.limits.Window)
	if _, err := l.take(ctx, key, math.MaxInt32, now, windowFrom); err != nil {
		return 0, fmt.Errorf("count login attempt: %w", err)
	}
	var rows []loginFailureRow
	if err := l.db.conn(ctx).Where("limit_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("read login attempt count: %w", err)
	}
	if len(rows) == 0 { // reset by a successful login in between
		return 1, nil
	}
	return rows[0].Failures, nil
}

func (l *LoginLimiter) take(ctx context.Context, key string, limit int, now, windowFrom time.Time) (bool, error) {
	for attempt := 0; attempt < 3; attempt++ {
		db := l.db.conn(ctx)
		res := db.Exec("UPDATE login_failures SET failures = failures + 1 WHERE limit_key = ? AND window_start > ? AND failures < ?", key, windowFrom, limit)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error == nil, res.Error
		}
		res = db.Exec("UPDATE login_failures SET failures = 1, window_start = ? WHERE limit_key = ? AND window_start <= ?", now, key, windowFrom)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error == nil, res.Error
		}
		var rows []loginFailureRow
		if err := db.Where("limit_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
			return false, err
		}
		if len(rows) > 0 {
			if rows[0].WindowStart.After(windowFrom) && rows[0].Failures >= limit {
				return false, nil
			}
			continue // changed between the statements: look again
		}
		err := l.db.write(ctx, func(tx *gorm.DB) error {
			return tx.Create(&loginFailureRow{Key: key, Failures: 1, WindowStart: now}).Error
		})
		if !isUniqueViolation(err) {
			return err == nil, err
		}
		// Another instance inserted the key first: count on top of theirs.
	}
	return false, fmt.Errorf("key %q kept changing under us", key)
}

// Return uncounts one attempt against key.
func (l *LoginLimiter) Return(ctx context.Context, key string) error {
	if err := l.db.conn(ctx).Exec("UPDATE login_failures SET failures = failures - 1 WHERE limit_key = ? AND failures > 0", key).Error; err != nil {
		return fmt.Errorf("uncount login attempt: %w", err)
	}
	return nil
}

// Reset forgets a key's attempts.
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
