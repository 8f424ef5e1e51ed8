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
		for i := 0; i < 3; i++ {
			if !take(t, l, now, key) {
				t.Errorf("%q refused attempt %d; its limit is 3", key, i+1)
			}
		}
		if take(t, l, now, key) {
			t.Errorf("%q allowed a 4th attempt", key)
		}
	}

	take(t, l, now, "email:a@b.co")
	take(t, l, now, "email:a@b.co")
	if take(t, l, now, "email:a@b.co") {
		t.Error("account allowed a 3rd attempt")
	}
	// One key at its limit refuses the attempt, and counts nothing against
	// the others.
	for i := 0; i < 3; i++ {
		if take(t, l, now, "email:other@b.co", "email:a@b.co") {
			t.Fatal("attempt allowed although one of its keys is at its limit")
		}
	}
	if !take(t, l, now, "email:other@b.co") || !take(t, l, now, "email:other@b.co") {
		t.Error("refused attempts counted against the other key")
	}
	if !take(t, l, now.Add(time.Minute), "email:a@b.co") {
		t.Error("still refused after the window")
	}
	// Return uncounts one attempt; Reset forgets them all.
	take(t, l, now.Add(time.Minute), "email:a@b.co") // 2 of 2
	must(t, l.Return(ctx, "email:a@b.co"))
	if !take(t, l, now.Add(time.Minute), "email:a@b.co") {
		t.Error("Return did not give the attempt back")
	}
	must(t, l.Reset(ctx, "email:a@b.co"))
	if !take(t, l, now.Add(time.Minute), "email:a@b.co") || !take(t, l, now.Add(time.Minute), "email:a@b.co") {
		t.Error("Reset did not forget the attempts")
	}
}

func take(t *testing.T, l auth.Limiter, now time.Time, keys ...string) bool {
	t.Helper()
	ok, err := l.Take(context.Background(), now, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
