package bookstore_test

import (
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestCaller(t *testing.T) {
	anon := bookstore.Caller{}
	// A role without an id is not a session: it must not grant anything.
	anonClaimingAdmin := bookstore.Caller{Role: bookstore.RoleAdmin}
	user := bookstore.Caller{UserID: 7, Role: bookstore.RoleUser}
	admin := bookstore.Caller{UserID: 1, Role: bookstore.RoleAdmin}

	tests := []struct {
		name     string
		c        bookstore.Caller
		signedIn bool
		isAdmin  bool
		ownsOwn  bool // Owns(7)
		ownsZero bool // Owns(0): an anonymous "owner" must never match
		ownsElse bool // Owns(8)
	}{
		{"anonymous", anon, false, false, false, false, false},
		{"anonymous with admin role", anonClaimingAdmin, false, false, false, false, false},
		{"user 7", user, true, false, true, false, false},
		{"admin", admin, true, true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.SignedIn(); got != tt.signedIn {
				t.Errorf("SignedIn = %v, want %v", got, tt.signedIn)
			}
			if got := tt.c.IsAdmin(); got != tt.isAdmin {
				t.Errorf("IsAdmin = %v, want %v", got, tt.isAdmin)
			}
			if got := tt.c.Owns(7); got != tt.ownsOwn {
				t.Errorf("Owns(7) = %v, want %v", got, tt.ownsOwn)
			}
			if got := tt.c.Owns(0); got != tt.ownsZero {
				t.Errorf("Owns(0) = %v, want %v", got, tt.ownsZero)
			}
			if got := tt.c.Owns(8); got != tt.ownsElse {
				t.Errorf("Owns(8) = %v, want %v", got, tt.ownsElse)
			}
			err := tt.c.RequireSignedIn()
			if tt.signedIn && err != nil {
				t.Errorf("RequireSignedIn = %v, want nil", err)
			}
			if !tt.signedIn && bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
				t.Errorf("RequireSignedIn = %v, want %s", err, bookstore.EUNAUTHORIZED)
			}
		})
	}
}
