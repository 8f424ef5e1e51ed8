package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web"
)

// signedOutLate is a services-style identity client whose offline list has
// not caught up with a logout the issuer already knows about.
type signedOutLate struct {
	fakeAuth
	onlineCalls int
}

func (s *signedOutLate) AuthenticateOnline(context.Context, string) (auth.User, error) {
	s.onlineCalls++
	return auth.User{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "signed out")
}

// Reads trust the offline check; anything that changes state asks the issuer,
// so a signed-out token changes nothing even before the list catches up.
func TestStateChangingRequestsAskTheIssuer(t *testing.T) {
	id := &signedOutLate{fakeAuth: fakeAuth{users: map[string]auth.User{"late": {ID: 9, Name: "Nine", Role: bookstore.RoleUser}}}}
	srv := web.New(web.Options{}, web.Deps{Auth: id, Catalog: &fakeCatalog{}, Purchase: fakePurchase{},
		Ready: func(context.Context) error { return nil }})
	do := func(method, path, body string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer late")
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		return rec.Code
	}
	if got := do(http.MethodGet, "/api/v1/auth/me", ""); got != http.StatusOK || id.onlineCalls != 0 {
		t.Fatalf("GET: %d after %d online checks, want 200 from the offline check alone", got, id.onlineCalls)
	}
	if got := do(http.MethodPost, "/api/v1/books", `{"title":"x","price_cents":1,"stock":1}`); got != http.StatusUnauthorized || id.onlineCalls != 1 {
		t.Fatalf("POST: %d after %d online checks, want 401 from the issuer", got, id.onlineCalls)
	}
}
