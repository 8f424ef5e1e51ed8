package auth_test

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// fakeStore is an in-memory auth.Store with the contract of the real one:
// ECONFLICT for a taken e-mail, ENOTFOUND for missing users and sessions,
// expired sessions invisible. It records what it was given so tests can check
// that secrets never reach storage.
type fakeStore struct {
	mu       sync.Mutex
	nextID   int64
	users    map[int64]auth.User
	sessions map[string]auth.StoredSession // by token hash
	updates  int                           // UpdateUser calls
	revoked  []auth.Revocation             // in id order
	lastRev  int64                         // ids never reused, as AUTO_INCREMENT
}

func newFakeStore() *fakeStore {
	return &fakeStore{users: map[int64]auth.User{}, sessions: map[string]auth.StoredSession{}}
}

func (s *fakeStore) emailTaken(email string, except int64) bool {
	for _, u := range s.users {
		if u.Email == email && u.ID != except {
			return true
		}
	}
	return false
}

func (s *fakeStore) CreateUser(_ context.Context, u *auth.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.emailTaken(u.Email, 0) {
		return bookstore.Errorf(bookstore.ECONFLICT, "e-mail %s is already registered", u.Email)
	}
	s.nextID++
	u.ID = s.nextID
	s.users[u.ID] = *u
	return nil
}

func (s *fakeStore) UpdateUser(_ context.Context, u *auth.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	if _, ok := s.users[u.ID]; !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "user %d not found", u.ID)
	}
	if s.emailTaken(u.Email, u.ID) {
		return bookstore.Errorf(bookstore.ECONFLICT, "e-mail %s is already registered", u.Email)
	}
	s.users[u.ID] = *u
	return nil
}

func (s *fakeStore) UserByID(_ context.Context, id int64) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return auth.User{}, bookstore.Errorf(bookstore.ENOTFOUND, "user %d not found", id)
	}
	return u, nil
}

func (s *fakeStore) UserByEmail(_ context.Context, email string) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Email == email {
			return u, nil
		}
	}
	return auth.User{}, bookstore.Errorf(bookstore.ENOTFOUND, "no user with e-mail %s", email)
}

func (s *fakeStore) ListUsers(context.Context) ([]auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auth.User
	for _, u := range s.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *fakeStore) CreateSession(_ context.Context, ss auth.StoredSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[ss.UserID]; !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "user %d not found", ss.UserID)
	}
	if _, ok := s.sessions[ss.TokenHash]; ok {
		return bookstore.Errorf(bookstore.ECONFLICT, "session exists")
	}
	s.sessions[ss.TokenHash] = ss
	return nil
}

func (s *fakeStore) SessionUser(_ context.Context, tokenHash string, now time.Time) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[tokenHash]
	if !ok || !now.Before(ss.ExpiresAt) {
		return auth.User{}, bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	u, ok := s.users[ss.UserID]
	if !ok {
		return auth.User{}, bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	return u, nil
}

func (s *fakeStore) DeleteSession(_ context.Context, tokenHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[tokenHash]; !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	delete(s.sessions, tokenHash)
	return nil
}

func (s *fakeStore) DeleteExpiredSessions(_ context.Context, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, ss := range s.sessions {
		if !now.Before(ss.ExpiresAt) {
			delete(s.sessions, h)
		}
	}
	return nil
}

func (s *fakeStore) SessionByHash(_ context.Context, tokenHash string, now time.Time) (auth.StoredSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[tokenHash]
	if !ok || !now.Before(ss.ExpiresAt) {
		return auth.StoredSession{}, bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	return ss, nil
}

func (s *fakeStore) RevokeSession(_ context.Context, tokenHash string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[tokenHash]
	if !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "no such session")
	}
	delete(s.sessions, tokenHash)
	s.lastRev++
	s.revoked = append(s.revoked, auth.Revocation{ID: s.lastRev, SessionID: tokenHash, ExpiresAt: ss.ExpiresAt, RevokedAt: now})
	return nil
}

func (s *fakeStore) RevokedSessionsAfter(_ context.Context, afterID int64, limit int) ([]auth.Revocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auth.Revocation
	for _, r := range s.revoked {
		if r.ID > afterID && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeStore) DeleteExpiredRevocations(_ context.Context, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.revoked[:0]
	for _, r := range s.revoked {
		if now.Before(r.ExpiresAt) {
			kept = append(kept, r)
		}
	}
	s.revoked = kept
	return nil
}

func (s *fakeStore) user(email string) (auth.User, bool) {
	u, err := s.UserByEmail(context.Background(), email)
	return u, err == nil
}

func (s *fakeStore) storedSessions() []auth.StoredSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auth.StoredSession
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
