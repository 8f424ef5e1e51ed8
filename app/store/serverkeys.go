package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
)

type serverKeyRow struct {
	Name      string    `gorm:"column:name;primaryKey"`
	Secret    string    `gorm:"column:secret"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (serverKeyRow) TableName() string { return "server_keys" }

// ServerKey returns the 32-byte secret named name, creating it at random
// the first time: every instance on this database gets the same key (of two
// instances creating it at once, the first insert wins and both read it).
// It is as secret as the database itself.
func (db *DB) ServerKey(ctx context.Context, name string) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		var rows []serverKeyRow
		if err := db.conn(ctx).Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("read server key %s: %w", name, err)
		}
		if len(rows) > 0 {
			key, err := hex.DecodeString(rows[0].Secret)
			if err != nil || len(key) != 32 {
				return nil, fmt.Errorf("server key %s is not 32 hex-encoded bytes", name)
			}
			return key, nil
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("new server key %s: %w", name, err)
		}
		err := db.write(ctx, func(tx *gorm.DB) error {
			return tx.Create(&serverKeyRow{Name: name, Secret: hex.EncodeToString(b), CreatedAt: dbTime(time.Now())}).Error
		})
		if err != nil && !isUniqueViolation(err) {
			return nil, fmt.Errorf("store server key %s: %w", name, err)
		}
		// Inserted, or another instance was first: read what is stored.
	}
	return nil, fmt.Errorf("server key %s: stored but not found", name)
}
