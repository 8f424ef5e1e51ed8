package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
)

func TestLoginLimiterKeys(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := auth.NewLoginLimiter(auth.Limits{PerAccount: 2, PerAddress: 3, Window: time.Minute})

	// Address keys get the address budget, even for an empty address.
	for _, key := range []string{"addr:192.0.2.1", "addr:"} {
		for i := 0; i < 2; i++ {
			l.Fail(ctx, now, key)
		}
		if !allowed(t, l, now, key) {
			t.Errorf("%q blocked after 2 failures; its limit is 3", key)
		}
		l.Fail(ctx, now, key)
		if allowed(t, l, now, key) {
			t.Errorf("%q allowed after 3 failures", key)
		}
	}

	l.Fail(ctx, now, "email:a@b.co")
	l.Fail(ctx, now, "email:a@b.co")
	if allowed(t, l, now, "email:a@b.co") {
		t.Error("account allowed after 2 failures")
	}
	// One blocked key blocks the attempt.
	if allowed(t, l, now, "email:other@b.co", "email:a@b.co") {
		t.Error("attempt allowed although one of its keys is blocked")
	}
	if !allowed(t, l, now.Add(time.Minute), "email:a@b.co") {
		t.Error("still blocked after the window")
	}
	// A failure after the window starts a new count.
	l.Fail(ctx, now.Add(time.Minute), "email:a@b.co")
	if !allowed(t, l, now.Add(time.Minute), "email:a@b.co") {
		t.Error("one failure in a new window blocks")
	}
	l.Reset(ctx, "email:a@b.co")
	l.Fail(ctx, now.Add(time.Minute), "email:a@b.co")
	if !allowed(t, l, now.Add(time.Minute), "email:a@b.co") {
		t.Error("Reset did not forget the failures")
	}
}

func allowed(t *testing.T, l auth.Limiter, now time.Time, keys ...string) bool {
	t.Helper()
	ok, err := l.Allow(context.Background(), now, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
