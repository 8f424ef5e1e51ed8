package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/store"
)

func newUser(email string) auth.User {
	return auth.User{Name: "User " + email, Email: email, Role: bookstore.RoleUser, PasswordHash: "$2a$10$hash-of-" + email}
}

func (s suite) testUsers(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewAuthStore(s.fresh(t))

	ada := newUser("ada@example.com")
	must(t, st.CreateUser(ctx, &ada))
	if ada.ID == 0 || ada.CreatedAt.IsZero() {
		t.Fatalf("created user has no ID or time: %+v", ada)
	}
	bob := newUser("bob@example.com")
	must(t, st.CreateUser(ctx, &bob))

	// A taken e-mail is a conflict, detected by the unique index.
	dup := newUser("ada@example.com")
	wantCode(t, st.CreateUser(ctx, &dup), bookstore.ECONFLICT)

	got, err := st.UserByID(ctx, ada.ID)
	must(t, err)
	if got != ada {
		t.Fatalf("UserByID = %+v, want %+v", got, ada)
	}
	got, err = st.UserByEmail(ctx, "bob@example.com")
	must(t, err)
	if got != bob {
		t.Fatalf("UserByEmail = %+v, want %+v", got, bob)
	}
	_, err = st.UserByID(ctx, 999999)
	wantCode(t, err, bookstore.ENOTFOUND)
	_, err = st.UserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, bookstore.ENOTFOUND)

	// UpdateUser writes every field; writing the same values again still
	// finds the row (MySQL counts matched rows, not changed ones).
	ada.Role, ada.PasswordHash, ada.Name = bookstore.RoleAdmin, "new-hash", "Ada L."
	must(t, st.UpdateUser(ctx, &ada))
	must(t, st.UpdateUser(ctx, &ada))
	got, _ = st.UserByID(ctx, ada.ID)
	if got.Role != bookstore.RoleAdmin || got.PasswordHash != "new-hash" || got.Name != "Ada L." {
		t.Fatalf("after update: %+v", got)
	}
	bob.Email = "ada@example.com"
	wantCode(t, st.UpdateUser(ctx, &bob), bookstore.ECONFLICT)
	ghost := newUser("ghost@example.com")
	ghost.ID = 999999
	wantCode(t, st.UpdateUser(ctx, &ghost), bookstore.ENOTFOUND)

	users, err := st.ListUsers(ctx)
	must(t, err)
	if len(users) != 2 || users[0].ID != ada.ID || users[1].ID != bob.ID {
		t.Fatalf("ListUsers = %+v", users)
	}
}

func (s suite) testSessions(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewAuthStore(s.fresh(t))
	u := newUser("ses@example.com")
	must(t, st.CreateUser(ctx, &u))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	hash := func(s string) string { return auth.HashToken(s) }

	live := auth.StoredSession{TokenHash: hash("live"), UserID: u.ID, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	old := auth.StoredSession{TokenHash: hash("old"), UserID: u.ID, ExpiresAt: now.Add(-time.Second), CreatedAt: now.Add(-time.Hour)}
	must(t, st.CreateSession(ctx, live))
	must(t, st.CreateSession(ctx, old))
	wantCode(t, st.CreateSession(ctx, live), bookstore.ECONFLICT)
	wantCode(t, st.CreateSession(ctx, auth.StoredSession{TokenHash: hash("orphan"), UserID: 999999,
		ExpiresAt: now.Add(time.Hour), CreatedAt: now}), bookstore.ENOTFOUND)

	got, err := st.SessionUser(ctx, live.TokenHash, now)
	must(t, err)
	if got.ID != u.ID || got.Email != u.Email {
		t.Fatalf("SessionUser = %+v", got)
	}
	// Expiry is exclusive and compares instants, whatever the zone.
	_, err = st.SessionUser(ctx, live.TokenHash, now.Add(time.Hour))
	wantCode(t, err, bookstore.ENOTFOUND)
	bogota := time.FixedZone("COT", -5*3600)
	if _, err := st.SessionUser(ctx, live.TokenHash, now.Add(59*time.Minute).In(bogota)); err != nil {
		t.Fatalf("a live session looked expired from another time zone: %v", err)
	}
	_, err = st.SessionUser(ctx, old.TokenHash, now)
	wantCode(t, err, bookstore.ENOTFOUND)
	_, err = st.SessionUser(ctx, hash("never"), now)
	wantCode(t, err, bookstore.ENOTFOUND)

	// Clean-up removes only expired sessions.
	must(t, st.DeleteExpiredSessions(ctx, now))
	wantCode(t, st.DeleteSession(ctx, old.TokenHash), bookstore.ENOTFOUND)
	if _, err := st.SessionUser(ctx, live.TokenHash, now); err != nil {
		t.Fatalf("clean-up removed a live session: %v", err)
	}

	must(t, st.DeleteSession(ctx, live.TokenHash))
	_, err = st.SessionUser(ctx, live.TokenHash, now)
	wantCode(t, err, bookstore.ENOTFOUND)
	wantCode(t, st.DeleteSession(ctx, live.TokenHash), bookstore.ENOTFOUND)
	if strings.Contains(live.TokenHash, "live") {
		t.Fatal("test is storing tokens, not hashes")
	}
}
