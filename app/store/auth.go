package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// AuthStore implements auth.Store on the users and sessions tables.
type AuthStore struct{ db *DB }

var _ auth.Store = (*AuthStore)(nil)

// NewAuthStore returns the auth module's storage.
func NewAuthStore(db *DB) auth.Store { return &AuthStore{db: db} }

func emailTaken(email string) error {
	return bookstore.Errorf(bookstore.ECONFLICT, "e-mail %s is already registered", email)
}

// CreateUser inserts u and sets its ID; ECONFLICT when the e-mail is taken.
func (s *AuthStore) CreateUser(ctx context.Context, u *auth.User) error {
	row := userToRow(u)
	row.ID = 0
	err := s.db.write(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error })
	if isUniqueViolation(err) {
		return emailTaken(u.Email)
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	u.ID, u.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// UpdateUser writes every field of u; ENOTFOUND for an unknown ID.
func (s *AuthStore) UpdateUser(ctx context.Context, u *auth.User) error {
	var n int64
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&userRow{}).Where("id = ?", u.ID).Updates(map[string]any{
			"name": u.Name, "email": u.Email, "role": u.Role, "password_hash": u.PasswordHash,
		})
		n = res.RowsAffected
		return res.Error
	})
	switch {
	case isUniqueViolation(err):
		return emailTaken(u.Email)
	case err != nil:
		return fmt.Errorf("update user %d: %w", u.ID, err)
	case n == 0:
		return bookstore.Errorf(bookstore.ENOTFOUND, "user %d not found", u.ID)
	}
	return nil
}

// UserByID returns one user.
func (s *AuthStore) UserByID(ctx context.Context, id int64) (auth.User, error) {
	return s.userWhere(ctx, fmt.Sprintf("user %d not found", id), "id = ?", id)
}

// UserByEmail returns the user with that (normalised) e-mail.
func (s *AuthStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return s.userWhere(ctx, fmt.Sprintf("no user with e-mail %s", email), "email = ?", email)
}

func (s *AuthStore) userWhere(ctx context.Context, notFound string, query string, args ...any) (auth.User, error) {
	var rows []userRow
	if err := s.db.conn(ctx).Where(query, args...).Limit(1).Find(&rows).Error; err != nil {
		return auth.User{}, fmt.Errorf("select user: %w", err)
	}
	if len(rows) == 0 {
		return auth.User{}, bookstore.Errorf(bookstore.ENOTFOUND, "%s", notFound)
	}
	return rows[0].domain(), nil
}

// ListUsers returns every user, oldest first.
func (s *AuthStore) ListUsers(ctx context.Context) ([]auth.User, error) {
	var rows []userRow
	if err := s.db.conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users := make([]auth.User, len(rows))
	for i, r := range rows {
		users[i] = r.domain()
	}
	return users, nil
}

// CreateSession stores a session by its token hash; ENOTFOUND when the user
// does not exist, ECONFLICT when the hash is already stored.
func (s *AuthStore) CreateSession(ctx context.Context, ss auth.StoredSession) error {
	row := sessionRow{TokenHash: ss.TokenHash, UserID: ss.UserID, ExpiresAt: dbTime(ss.ExpiresAt), CreatedAt: dbTime(ss.CreatedAt)}
	err := s.db.write(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error })
	switch {
	case isForeignKeyViolation(err):
		return bookstore.Errorf(bookstore.ENOTFOUND, "user %d not found", ss.UserID)
	case isUniqueViolation(err):
		return bookstore.Errorf(bookstore.ECONFLICT, "session already exists")
	case err != nil:
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionUser returns the user of an unexpired session.
func (s *AuthStore) SessionUser(ctx context.Context, tokenHash string, now time.Time) (auth.User, error) {
	var rows []userRow
	err := s.db.conn(ctx).Table("users").Select("users.*").
		Joins("JOIN sessions ON sessions.user_id = users.id").
		Where("sessions.token_hash = ? AND sessions.expires_at > ?", tokenHash, now.UTC()).
		Limit(1).Find(&rows).Error
	if err != nil {
		return auth.User{}, fmt.Errorf("select session: %w", err)
	}
	if len(rows) == 0 {
		return auth.User{}, bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	return rows[0].domain(), nil
}

// DeleteSession revokes a session; ENOTFOUND when there is none.
func (s *AuthStore) DeleteSession(ctx context.Context, tokenHash string) error {
	var n int64
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		res := tx.Where("token_hash = ?", tokenHash).Delete(&sessionRow{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if n == 0 {
		return bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired at or before now.
func (s *AuthStore) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		return tx.Where("expires_at <= ?", now.UTC()).Delete(&sessionRow{}).Error
	})
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
