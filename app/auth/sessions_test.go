package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestEndSessionRecordsTheRevocation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.register(t, "Rita", "rita@example.com")
	s, err := e.login("rita@example.com", goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	sid := auth.HashToken(s.Token)

	got, err := e.acc.SessionUser(ctx, sid)
	if err != nil || got.ID != u.ID {
		t.Fatalf("SessionUser = %+v, %v", got, err)
	}
	ss, su, err := e.acc.Session(ctx, sid)
	if err != nil || su.ID != u.ID || !ss.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("Session = %+v %+v, %v; want user %d until %v", ss, su, err, u.ID, s.ExpiresAt)
	}

	e.clock.Advance(time.Minute)
	if err := e.acc.EndSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	_, err = e.acc.SessionUser(ctx, sid)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	_, _, err = e.acc.Session(ctx, sid)
	wantCode(t, err, bookstore.EUNAUTHORIZED)
	if err := e.acc.EndSession(ctx, sid); err != nil {
		t.Fatalf("a second logout: %v", err)
	}

	revs, err := e.acc.RevokedAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].SessionID != sid || !revs[0].ExpiresAt.Equal(s.ExpiresAt) || !revs[0].RevokedAt.Equal(e.clock.Now()) {
		t.Fatalf("revocations = %+v, want one for %s expiring %v", revs, sid, s.ExpiresAt)
	}
	if more, _ := e.acc.RevokedAfter(ctx, revs[0].ID, 10); len(more) != 0 {
		t.Fatalf("after the last id: %+v", more)
	}

	// Kept while a token of the session could be valid, swept after.
	if err := e.acc.SweepRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if revs, _ := e.acc.RevokedAfter(ctx, 0, 10); len(revs) != 1 {
		t.Fatal("the sweep removed a live revocation")
	}
	e.clock.Advance(time.Hour)
	if err := e.acc.SweepRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if revs, _ := e.acc.RevokedAfter(ctx, 0, 10); len(revs) != 0 {
		t.Fatalf("expired revocations not swept: %+v", revs)
	}
}

func TestRevokedAfterRejectsBadPages(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		after int64
		limit int
	}{{-1, 10}, {0, 0}, {0, auth.MaxRevocationsPage + 1}} {
		_, err := e.acc.RevokedAfter(context.Background(), c.after, c.limit)
		wantCode(t, err, bookstore.EINVALID)
	}
}
