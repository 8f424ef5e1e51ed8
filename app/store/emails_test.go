package store_test

import (
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/store"
)

// authBefore is the auth module up to the step before e-mails were
// normalised (version 5).
func authBefore() store.Module {
	return store.Module{Name: store.AuthModule.Name, Migrations: store.AuthModule.Migrations[:4]}
}

// insertUsers writes users with e-mails exactly as given, the way an older
// version may have stored them, and returns their ids.
func insertUsers(t *testing.T, db *store.DB, emails ...string) []int64 {
	t.Helper()
	as := store.NewAuthStore(db)
	ids := make([]int64, len(emails))
	for i, e := range emails {
		u := auth.User{Name: "User", Email: e, Role: bookstore.RoleUser, PasswordHash: "hash"}
		must(t, as.CreateUser(ctxT(t), &u))
		ids[i] = u.ID
	}
	return ids
}

// TestMigrationNormalisesEmails: stored addresses are rewritten to the
// normaliser's spelling, and afterwards only that spelling matches (on
// MySQL too, whose unicode_ci collation would equate jose and josé).
func TestMigrationNormalisesEmails(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := open(t, b.dsn(t))
			must(t, db.Migrate(ctx, authBefore()))
			stored := []string{"\uff41na@example.com", "jose\u0301@example.com", "carl@xn--bcher-kva.de", "dora@example.com"}
			want := []string{"ana@example.com", "jos\u00e9@example.com", "carl@b\u00fccher.de", "dora@example.com"}
			ids := insertUsers(t, db, stored...)
			must(t, db.Migrate(ctx, store.Modules()...))
			as := store.NewAuthStore(db)
			for i, e := range want {
				u, err := as.UserByEmail(ctx, e)
				if err != nil || u.ID != ids[i] || u.Email != e {
					t.Errorf("UserByEmail(%q) = user %d %q, %v; want user %d (stored as %q)", e, u.ID, u.Email, err, ids[i], stored[i])
				}
			}
			_, err := as.UserByEmail(ctx, "jose@example.com")
			wantCode(t, err, bookstore.ENOTFOUND)
			u := auth.User{Name: "Jose", Email: "jose@example.com", Role: bookstore.RoleUser, PasswordHash: "hash"}
			must(t, as.CreateUser(ctx, &u)) // another mailbox than josé's
		})
	}
}

// TestMigrationReportsEmailsItCannotNormalise: two rows normalising to one
// address, or a row the normaliser refuses, stop the step with an error
// naming the users, and nothing is changed; once resolved it runs.
func TestMigrationReportsEmailsItCannotNormalise(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := open(t, b.dsn(t))
			must(t, db.Migrate(ctx, authBefore()))
			// Distinct even under MySQL's unicode_ci, the same once normalised.
			ids := insertUsers(t, db, "ana@xn--bcher-kva.de", "eve@example.com", "ana@b\u00fccher.de", "bo\u00adb@example.com")
			err := db.Migrate(ctx, store.Modules()...)
			if err == nil {
				t.Fatal("migration merged or dropped colliding e-mails without a word")
			}
			msg := err.Error()
			for _, part := range []string{
				"users 1, 3 are all \"ana@b\u00fccher.de\"",
				"user 4 (\"bo\\u00adb@example.com\")",
			} {
				if !strings.Contains(msg, part) {
					t.Errorf("error %q does not say %q", msg, part)
				}
			}
			if ids[0] != 1 || ids[2] != 3 || ids[3] != 4 {
				t.Fatalf("ids = %v, the test expects 1..4", ids)
			}
			if v, err := db.AppliedVersion(ctx, store.AuthModule.Name); err != nil || v != 4 {
				t.Errorf("auth at version %d, %v; want 4", v, err)
			}
			for _, e := range []string{"ana@xn--bcher-kva.de", "ana@b\u00fccher.de", "bo\u00adb@example.com"} {
				if n := count(t, db, "users", "email = ?", e); n != 1 {
					t.Errorf("%d users with %q after the failed step, want it unchanged", n, e)
				}
			}
			// The operator resolves them; the next start-up migrates.
			for _, stmt := range []string{"UPDATE users SET email = 'ana2@example.com' WHERE id = 3", "DELETE FROM users WHERE id = 4"} {
				if _, err := db.SQL().ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			must(t, db.Migrate(ctx, store.Modules()...))
			if n := count(t, db, "users", "email = ?", "ana@b\u00fccher.de"); n != 1 {
				t.Errorf("%d users with the normalised address, want 1", n)
			}
		})
	}
}
