package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/catalog"
)

// QuotaModule is the usage_quotas table: what each user used of a quota in
// the current window (books listed, cover bytes uploaded). Its own module,
// migrated wherever the catalog is (the monolith, the catalog service).
var QuotaModule = Module{Name: "quota", Probe: "usage_quotas", Migrations: []Migration{
	{Version: 1, Name: "create usage_quotas", Up: func(tx *gorm.DB, d string) error {
		return run(tx, d, `CREATE TABLE IF NOT EXISTS usage_quotas (
				quota_key VARCHAR(100) NOT NULL PRIMARY KEY,
				used BIGINT NOT NULL,
				window_start {{time}} NOT NULL
			){{opts}}`)
	}},
}}

// QuotaCounter is catalog.Quota on usage_quotas: every instance counts in
// the same rows, so adding instances adds no allowance. Windows are fixed:
// a window starts with the first use after the previous one ended.
type QuotaCounter struct{ db *DB }

var _ catalog.Quota = (*QuotaCounter)(nil)

// NewQuotaCounter returns the shared counter.
func NewQuotaCounter(db *DB) *QuotaCounter { return &QuotaCounter{db: db} }

type quotaRow struct {
	Key         string    `gorm:"column:quota_key;primaryKey"`
	Used        int64     `gorm:"column:used"`
	WindowStart time.Time `gorm:"column:window_start"`
}

func (quotaRow) TableName() string { return "usage_quotas" }

// Take counts amount against key if it fits under limit within the window,
// with statements that cannot overshoot a concurrent instance's count:
// add only while it fits, else restart an expired window, else insert (and
// on a racing insert, start over). When it does not fit, it reports how
// long until the window ends.
func (q *QuotaCounter) Take(ctx context.Context, key string, amount, limit int64, window time.Duration, now time.Time) (bool, time.Duration, error) {
	now = dbTime(now)
	if amount > limit {
		return false, window, nil
	}
	from := now.Add(-window)
	for attempt := 0; attempt < 3; attempt++ {
		db := q.db.conn(ctx)
		res := db.Exec("UPDATE usage_quotas SET used = used + ? WHERE quota_key = ? AND window_start > ? AND used + ? <= ?", amount, key, from, amount, limit)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error == nil, 0, wrapQuota(key, res.Error)
		}
		res = db.Exec("UPDATE usage_quotas SET used = ?, window_start = ? WHERE quota_key = ? AND window_start <= ?", amount, now, key, from)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error == nil, 0, wrapQuota(key, res.Error)
		}
		var rows []quotaRow
		if err := db.Where("quota_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
			return false, 0, wrapQuota(key, err)
		}
		if len(rows) > 0 {
			if start := rows[0].WindowStart.UTC(); start.After(from) && rows[0].Used+amount > limit {
				return false, start.Add(window).Sub(now), nil
			}
			continue // changed between the statements: look again
		}
		err := q.db.write(ctx, func(tx *gorm.DB) error {
			return tx.Create(&quotaRow{Key: key, Used: amount, WindowStart: now}).Error
		})
		if !isUniqueViolation(err) {
			return err == nil, 0, wrapQuota(key, err)
		}
	}
	return false, 0, fmt.Errorf("quota %q kept changing under us", key)
}

// Sweep deletes rows whose window ended before the longest window ago.
func (q *QuotaCounter) Sweep(ctx context.Context, now time.Time, window time.Duration) error {
	if err := q.db.conn(ctx).Exec("DELETE FROM usage_quotas WHERE window_start <= ?", dbTime(now.Add(-window))).Error; err != nil {
		return fmt.Errorf("delete old quota counts: %w", err)
	}
	return nil
}

func wrapQuota(key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("count quota %s: %w", key, err)
}
