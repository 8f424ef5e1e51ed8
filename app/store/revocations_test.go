package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/store"
)

// TestRevocations runs on SQLite and, when available, MySQL, like TestStore.
func TestRevocations(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := suite{b}
			t.Run("RevokeSession", s.testRevokeSession)
			t.Run("RevokeSessionConcurrently", s.testRevokeSessionConcurrently)
		})
	}
}

func (s suite) testRevokeSession(t *testing.T) {
	ctx := ctxT(t)
	st := store.NewAuthStore(s.fresh(t))
	u := newUser("rev@example.com")
	must(t, st.CreateUser(ctx, &u))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sessions := make([]auth.StoredSession, 3)
	for i := range sessions {
		sessions[i] = auth.StoredSession{TokenHash: auth.HashToken(string(rune('a' + i))), UserID: u.ID,
			ExpiresAt: now.Add(time.Duration(i+1) * time.Hour), CreatedAt: now}
		must(t, st.CreateSession(ctx, sessions[i]))
	}

	got, err := st.SessionByHash(ctx, sessions[0].TokenHash, now)
	must(t, err)
	if got != sessions[0] {
		t.Fatalf("SessionByHash = %+v, want %+v", got, sessions[0])
	}
	_, err = st.SessionByHash(ctx, sessions[0].TokenHash, sessions[0].ExpiresAt)
	wantCode(t, err, bookstore.ENOTFOUND)
	_, err = st.SessionByHash(ctx, auth.HashToken("never"), now)
	wantCode(t, err, bookstore.ENOTFOUND)

	revokedAt := now.Add(time.Minute)
	for _, ss := range sessions {
		must(t, st.RevokeSession(ctx, ss.TokenHash, revokedAt))
	}
	_, err = st.SessionUser(ctx, sessions[0].TokenHash, now)
	wantCode(t, err, bookstore.ENOTFOUND)
	wantCode(t, st.RevokeSession(ctx, sessions[0].TokenHash, revokedAt), bookstore.ENOTFOUND)
	wantCode(t, st.RevokeSession(ctx, auth.HashToken("never"), revokedAt), bookstore.ENOTFOUND)

	// Pages come in id order, resuming after the last id seen.
	page, err := st.RevokedSessionsAfter(ctx, 0, 2)
	must(t, err)
	if len(page) != 2 {
		t.Fatalf("first page = %+v, want 2 revocations", page)
	}
	rest, err := st.RevokedSessionsAfter(ctx, page[1].ID, 2)
	must(t, err)
	if len(rest) != 1 {
		t.Fatalf("second page = %+v, want 1 revocation", rest)
	}
	all := append(page, rest...)
	for i, r := range all {
		want := auth.Revocation{ID: r.ID, SessionID: sessions[i].TokenHash, ExpiresAt: sessions[i].ExpiresAt, RevokedAt: revokedAt}
		if r != want || (i > 0 && r.ID <= all[i-1].ID) {
			t.Fatalf("revocation %d = %+v, want %+v after id %d", i, r, want, all[max(i-1, 0)].ID)
		}
	}

	// The sweep drops only revocations whose session has expired by then.
	must(t, st.DeleteExpiredRevocations(ctx, sessions[1].ExpiresAt))
	left, err := st.RevokedSessionsAfter(ctx, 0, 10)
	must(t, err)
	if len(left) != 1 || left[0].SessionID != sessions[2].TokenHash {
		t.Fatalf("after the sweep = %+v, want only the last session's revocation", left)
	}
}

func (s suite) testRevokeSessionConcurrently(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	st := store.NewAuthStore(db)
	u := newUser("race@example.com")
	must(t, st.CreateUser(ctx, &u))
	now := time.Now().UTC()
	ss := auth.StoredSession{TokenHash: auth.HashToken("race"), UserID: u.ID, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	must(t, st.CreateSession(ctx, ss))

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = st.RevokeSession(ctx, ss.TokenHash, now) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch bookstore.ErrorCode(err) {
		case "":
			ok++
		case bookstore.ENOTFOUND:
		default:
			t.Fatalf("concurrent logout: %v", err)
		}
	}
	if ok != 1 || count(t, db, "revoked_sessions", "session_id = ?", ss.TokenHash) != 1 {
		t.Fatalf("%d logouts succeeded and %d revocations recorded, want 1 and 1", ok, count(t, db, "revoked_sessions", ""))
	}
}
