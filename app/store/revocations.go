package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

type revocationRow struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	SessionID string    `gorm:"column:session_id"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	RevokedAt time.Time `gorm:"column:revoked_at"`
}

func (revocationRow) TableName() string { return "revoked_sessions" }

func (r revocationRow) domain() auth.Revocation {
	return auth.Revocation{ID: r.ID, SessionID: r.SessionID, ExpiresAt: r.ExpiresAt.UTC(), RevokedAt: r.RevokedAt.UTC()}
}

// SessionByHash returns an unexpired session.
func (s *AuthStore) SessionByHash(ctx context.Context, tokenHash string, now time.Time) (auth.StoredSession, error) {
	var rows []sessionRow
	err := s.db.conn(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, now.UTC()).Limit(1).Find(&rows).Error
	if err != nil {
		return auth.StoredSession{}, fmt.Errorf("select session: %w", err)
	}
	if len(rows) == 0 {
		return auth.StoredSession{}, bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	r := rows[0]
	return auth.StoredSession{TokenHash: r.TokenHash, UserID: r.UserID, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC()}, nil
}

// RevokeSession deletes the session and records its revocation with the
// session's expiry, both or neither; ENOTFOUND when there is no such session.
func (s *AuthStore) RevokeSession(ctx context.Context, tokenHash string, now time.Time) error {
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		var rows []sessionRow
		if err := tx.Where("token_hash = ?", tokenHash).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		// The delete, not the select, decides: of two concurrent logouts
		// of one session, the second waits for the first's row lock, then
		// deletes nothing and records nothing.
		res := tx.Where("token_hash = ?", tokenHash).Delete(&sessionRow{})
		if res.Error != nil {
			return res.Error
		}
		if len(rows) == 0 || res.RowsAffected == 0 {
			return bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
		}
		rev := revocationRow{SessionID: tokenHash, ExpiresAt: dbTime(rows[0].ExpiresAt), RevokedAt: dbTime(now)}
		return tx.Create(&rev).Error
	})
	switch {
	case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
		return err
	case err != nil:
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokedSessionsAfter lists up to limit revocations with an id above afterID.
func (s *AuthStore) RevokedSessionsAfter(ctx context.Context, afterID int64, limit int) ([]auth.Revocation, error) {
	var rows []revocationRow
	if err := s.db.conn(ctx).Where("id > ?", afterID).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	out := make([]auth.Revocation, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DeleteExpiredRevocations removes revocations whose session expired at or
// before now.
func (s *AuthStore) DeleteExpiredRevocations(ctx context.Context, now time.Time) error {
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		return tx.Where("expires_at <= ?", now.UTC()).Delete(&revocationRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("delete expired revocations: %w", err)
	}
	return nil
}
