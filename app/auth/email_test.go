package auth_test

import (
	"context"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" means refused
	}{
		{"plain", "ana@example.com", "ana@example.com"},
		{"trimmed and lower-cased", "  Ana@Example.COM ", "ana@example.com"},
		{"fullwidth letter", "\uff41na@example.com", "ana@example.com"},
		{"fullwidth capital and at sign domain", "\uff21NA@\uff25xample.com", "ana@example.com"},
		{"NFD local part is NFC", "jose\u0301@example.com", "jos\u00e9@example.com"},
		{"NFC local part stays", "jos\u00e9@example.com", "jos\u00e9@example.com"},
		{"Unicode capital folded", "JOS\u00c9@example.com", "jos\u00e9@example.com"},
		{"punycode domain shown in Unicode", "ana@xn--bcher-kva.de", "ana@b\u00fccher.de"},
		{"Unicode domain", "ana@B\u00dcCHER.de", "ana@b\u00fccher.de"},
		{"plus and dots kept", "a.b+shop@example.com", "a.b+shop@example.com"},
		{"soft hyphen refused", "bo\u00adb@example.com", ""},
		{"zero-width space refused", "bo\u200bb@example.com", ""},
		{"zero-width joiner refused", "bo\u200db@example.com", ""},
		{"word joiner refused", "bo\u2060b@example.com", ""},
		{"bidi override refused", "bo\u202eb@example.com", ""},
		{"byte-order mark refused", "\ufeffbob@example.com", ""},
		{"emoji refused", "bob\U0001F600@example.com", ""},
		{"inner space refused", "an a@example.com", ""},
		{"invalid UTF-8 refused", "bo\xffb@example.com", ""},
		{"control character refused", "bo\x01b@example.com", ""},
		{"empty", "", ""},
		{"no at sign", "ana.example.com", ""},
		{"no local part", "@example.com", ""},
		{"no domain", "ana@", ""},
		{"display name", "Ana <ana@example.com>", ""},
		{"two addresses", "a@b.co, c@d.co", ""},
		{"quoted local part", `"a b"@example.com`, ""},
		{"domain without dot", "ana@localhost", ""},
		{"domain ending in dot", "ana@example.", ""},
		{"empty label", "ana@example..com", ""},
		{"underscore in domain", "ana@ex_ample.com", ""},
		{"label over 63", "ana@" + strings.Repeat("b", 64) + ".com", ""},
		{"over 254", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + "." + strings.Repeat("e", 10) + ".com", ""},
		{"400 characters", strings.Repeat("a", 390) + "@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.NormalizeEmail(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizeEmail(%q) = %q, want refused", tt.in, got)
				}
				wantCode(t, err, bookstore.EINVALID)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			again, err := auth.NormalizeEmail(got)
			if err != nil || again != got {
				t.Errorf("not idempotent: NormalizeEmail(%q) = %q, %v", got, again, err)
			}
		})
	}
}

// Addresses a person reads as the same are one account: registering
// another spelling is a conflict and logging in with it opens the first
// account; look-alikes with invisible characters are refused outright.
func TestLookAlikeEmailsAreOneAccount(t *testing.T) {
	tests := []struct {
		name, first, other string
		otherCode          string // ECONFLICT: same account; EINVALID: refused
	}{
		{"soft hyphen", "bob@example.com", "bo\u00adb@example.com", bookstore.EINVALID},
		{"fullwidth", "ana@example.com", "\uff41na@example.com", bookstore.ECONFLICT},
		{"NFC then NFD", "jos\u00e9@example.com", "jose\u0301@example.com", bookstore.ECONFLICT},
		{"NFD then NFC", "jose\u0301@example.com", "jos\u00e9@example.com", bookstore.ECONFLICT},
		{"punycode then Unicode domain", "ana@xn--bcher-kva.de", "ana@b\u00fccher.de", bookstore.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.register(t, "First", tt.first)
			_, err := e.acc.Register(context.Background(), auth.RegisterInput{Name: "Other", Email: tt.other, Password: goodPassword})
			wantCode(t, err, tt.otherCode)
			if n := len(e.store.users); n != 1 {
				t.Fatalf("store holds %d users, want 1", n)
			}
			s, err := e.login(tt.other, goodPassword, "192.0.2.1")
			if tt.otherCode == bookstore.EINVALID {
				wantCode(t, err, bookstore.EINVALID)
				return
			}
			if err != nil || s.User.ID != u.ID {
				t.Errorf("login as %q = user %d, %v; want user %d", tt.other, s.User.ID, err, u.ID)
			}
		})
	}
}

func TestLoginRefusesAnOverlongEmail(t *testing.T) {
	e := newEnv(t)
	_, err := e.login(strings.Repeat("a", 400)+"@example.com", goodPassword, "192.0.2.1")
	wantCode(t, err, bookstore.EINVALID)
}

func TestEnsureAdminNormalisesTheEmail(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "Ana", "ana@example.com")
	admin, err := e.acc.EnsureAdmin(context.Background(), "Admin", "\uff41NA@Example.com", "admin-password")
	if err != nil {
		t.Fatal(err)
	}
	if admin.ID != u.ID || admin.Role != bookstore.RoleAdmin || len(e.store.users) != 1 {
		t.Errorf("EnsureAdmin = user %d role %s (%d users), want user %d made admin", admin.ID, admin.Role, len(e.store.users), u.ID)
	}
}

// FuzzNormalizeEmail: never a panic; an accepted address is idempotent,
// short enough for its column, valid UTF-8 without invisible characters,
// and refused ones are EINVALID.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ana@example.com", " Ana@Example.COM ", "\uff41na@example.com", "jose\u0301@example.com",
		"bo\u00adb@example.com", "ana@xn--bcher-kva.de", "a@b", "\"a b\"@example.com", "a@@b.co", "a@b.co.", "ana@ex\u00e4mple.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := auth.NormalizeEmail(s)
		if err != nil {
			if bookstore.ErrorCode(err) != bookstore.EINVALID {
				t.Fatalf("NormalizeEmail(%q): %v, want EINVALID", s, err)
			}
			return
		}
		again, err := auth.NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, which normalises to %q, %v", s, got, again, err)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > auth.MaxEmailLength || strings.Count(got, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q: not a storable address", s, got)
		}
		for _, r := range got {
			if unicode.In(r, unicode.Cf, unicode.Cc, unicode.Zs, unicode.Other_Default_Ignorable_Code_Point) {
				t.Fatalf("NormalizeEmail(%q) = %q keeps %U", s, got, r)
			}
		}
	})
}
