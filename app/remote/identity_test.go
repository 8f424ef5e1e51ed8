package remote_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/remote"
	"github.com/tet-bookstore/bookstore/app/rpc"
	"github.com/tet-bookstore/bookstore/app/token"
)

var services = []string{remote.AuthService, remote.CatalogService, remote.PurchaseService}

// identities are a key pair per service, as `bookstore keygen --service` makes.
type identities map[string]ed25519.PrivateKey

func newIdentities(t *testing.T) identities {
	t.Helper()
	ids := identities{}
	for _, s := range services {
		_, priv, err := token.GenerateKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		ids[s] = priv
	}
	return ids
}

// server is the internal server of service, knowing the two others' keys;
// users' tokens are refused (these tests make calls on nobody's behalf).
func (ids identities) server(t *testing.T, service string) *rpc.Server {
	t.Helper()
	callers := map[string]ed25519.PublicKey{}
	for name, k := range ids {
		if name != service {
			callers[name] = k.Public().(ed25519.PublicKey)
		}
	}
	v, err := token.NewServiceVerifier(token.ServiceVerifierOptions{Service: service, Callers: callers})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rpc.NewServer(rpc.ServerOptions{Services: v})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client is from's client of the service to at url.
func (ids identities) client(from, to, url string) *rpc.Client {
	s, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: from, Key: ids[from]})
	if err != nil {
		panic(err)
	}
	return rpc.NewClient(to, url, s, rpc.ClientOptions{})
}

// Each route admits only the services that need it: what pages use is
// open to the two other services (every service serves every page), stock
// is the purchase service's alone, account look-up the catalog's (its demo
// seed), and ensure_admin is no route at all.
func TestRoutesAllowOnlyTheServicesThatNeedThem(t *testing.T) {
	ids := newIdentities(t)
	authSrv, catalogSrv, purchaseSrv := ids.server(t, remote.AuthService), ids.server(t, remote.CatalogService), ids.server(t, remote.PurchaseService)
	remote.ServeAuth(authSrv, nil) // the table only: nothing is called
	remote.ServeCatalog(catalogSrv, nil)
	remote.ServePurchase(purchaseSrv, nil)

	pagesOfAuth := []string{remote.CatalogService, remote.PurchaseService}
	pagesOfCatalog := []string{remote.AuthService, remote.PurchaseService}
	pagesOfPurchase := []string{remote.AuthService, remote.CatalogService}
	want := map[string][]string{
		"auth.register": pagesOfAuth, "auth.login": pagesOfAuth, "auth.authenticate": pagesOfAuth, "auth.logout": pagesOfAuth,
		"auth.renew": pagesOfAuth, "auth.list_users": pagesOfAuth,
		"auth.user_by_email": {remote.CatalogService}, "auth.revoked_after": {remote.CatalogService, remote.PurchaseService},

		"catalog.list_books": pagesOfCatalog, "catalog.get_book": pagesOfCatalog, "catalog.create_book": pagesOfCatalog,
		"catalog.update_book": pagesOfCatalog, "catalog.delete_book": pagesOfCatalog, "catalog.set_cover": pagesOfCatalog,
		"catalog.reserve_stock": {remote.PurchaseService}, "catalog.release_stock": {remote.PurchaseService},
		"catalog.abandon_stock": {remote.PurchaseService}, "catalog.confirm_stock": {remote.PurchaseService},
		"catalog.pending_reservations": {remote.PurchaseService},

		"purchase.buy": pagesOfPurchase, "purchase.list": pagesOfPurchase, "purchase.get": pagesOfPurchase,
		"purchase.cancel": pagesOfPurchase, "purchase.pay": pagesOfPurchase, "purchase.choose_delivery": pagesOfPurchase,
		"purchase.providers": pagesOfPurchase,
	}
	got := map[string][]string{}
	for _, s := range []*rpc.Server{authSrv, catalogSrv, purchaseSrv} {
		for m, callers := range s.Callers() {
			slices.Sort(callers)
			got[m] = callers
		}
	}
	for m, callers := range want {
		slices.Sort(callers)
		if !slices.Equal(got[m], callers) {
			t.Errorf("%s admits %v, want %v", m, got[m], callers)
		}
	}
	for m := range got {
		if _, ok := want[m]; !ok {
			t.Errorf("unexpected route %s (admits %v)", m, got[m])
		}
	}
	if _, ok := got["auth.ensure_admin"]; ok {
		t.Error("auth.ensure_admin is a route")
	}
}

// No service can ensure the admin account remotely (reset a password, make
// an admin): the client refuses without calling, and the route is absent.
func TestEnsureAdminIsNotReachableRemotely(t *testing.T) {
	ids := newIdentities(t)
	srv := ids.server(t, remote.AuthService)
	remote.ServeAuth(srv, nil)
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := remote.NewAuthClient(ids.client(remote.CatalogService, remote.AuthService, ts.URL), nil)
	_, err := c.EnsureAdmin(context.Background(), "Mallory", "victim@example.com", "new password!")
	if bookstore.ErrorCode(err) != bookstore.EFORBIDDEN || hits.Load() != 0 {
		t.Fatalf("EnsureAdmin through the client: %v (code %s), %d calls", err, bookstore.ErrorCode(err), hits.Load())
	}
	// Called by hand with a valid catalog token, the method does not exist.
	err = ids.client(remote.CatalogService, remote.AuthService, ts.URL).Call(context.Background(), "auth.ensure_admin", bookstore.Caller{},
		map[string]string{"name": "Mallory", "email": "victim@example.com", "password": "new password!"}, nil, rpc.Once)
	if bookstore.ErrorCode(err) != bookstore.ENOTFOUND || !strings.Contains(bookstore.ErrorMessage(err), "auth.ensure_admin") {
		t.Fatalf("auth.ensure_admin by hand: %v (code %s)", err, bookstore.ErrorCode(err))
	}
}
