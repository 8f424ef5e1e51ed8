package auth_test

import (
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
)

func TestLoginLimiterKeys(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := auth.NewLoginLimiter(auth.Limits{PerAccount: 2, PerAddress: 3, Window: time.Minute})

	// Address keys get the address budget, even for an empty address.
	for _, key := range []string{"addr:192.0.2.1", "addr:"} {
		for i := 0; i < 2; i++ {
			l.Fail(now, key)
		}
		if !l.Allow(now, key) {
			t.Errorf("%q blocked after 2 failures; its limit is 3", key)
		}
		l.Fail(now, key)
		if l.Allow(now, key) {
			t.Errorf("%q allowed after 3 failures", key)
		}
	}

	l.Fail(now, "email:a@b.co")
	l.Fail(now, "email:a@b.co")
	if l.Allow(now, "email:a@b.co") {
		t.Error("account allowed after 2 failures")
	}
	// One blocked key blocks the attempt.
	if l.Allow(now, "email:other@b.co", "email:a@b.co") {
		t.Error("attempt allowed although one of its keys is blocked")
	}
	if !l.Allow(now.Add(time.Minute), "email:a@b.co") {
		t.Error("still blocked after the window")
	}
	// A failure after the window starts a new count.
	l.Fail(now.Add(time.Minute), "email:a@b.co")
	if !l.Allow(now.Add(time.Minute), "email:a@b.co") {
		t.Error("one failure in a new window blocks")
	}
	l.Reset("email:a@b.co")
	l.Fail(now.Add(time.Minute), "email:a@b.co")
	if !l.Allow(now.Add(time.Minute), "email:a@b.co") {
		t.Error("Reset did not forget the failures")
	}
}
