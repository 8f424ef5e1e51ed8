package remote_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/remote"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/uploads"
)

// The reservation methods keep their contract over HTTP: the purchase
// service sees the same answers, error codes included, as the monolith's
// in-process catalog.
func TestReservationsOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, store.CatalogModule); err != nil {
		t.Fatal(err)
	}
	covers, err := uploads.NewCoverDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := catalog.New(store.NewCatalogStore(db), covers)
	ids := newIdentities(t)
	srv := ids.server(t, remote.CatalogService)
	remote.ServeCatalog(srv, svc)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := remote.NewCatalogClient(ids.client(remote.PurchaseService, remote.CatalogService, ts.URL))

	seller := bookstore.Caller{UserID: 1}
	b, err := svc.CreateBook(ctx, seller, catalog.BookInput{Title: "Ficciones", Author: "Jorge Luis Borges", PriceCents: 1500, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	stock := func() int {
		t.Helper()
		got, err := client.GetBook(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Stock
	}
	code := func(err error) string { return bookstore.ErrorCode(err) }

	if _, err := client.ReserveStock(ctx, "kept", b.ID, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ReserveStock(ctx, "given-up", b.ID, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ReserveStock(ctx, "too-many", b.ID, 9); code(err) != bookstore.ECONFLICT {
		t.Fatalf("reserving more than the stock: %v, want ECONFLICT", err)
	}
	if err := client.ConfirmStock(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := client.AbandonStock(ctx, "kept"); code(err) != bookstore.ECONFLICT {
		t.Fatalf("abandoning a confirmed reservation: %v, want ECONFLICT", err)
	}
	pending, err := client.PendingReservations(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || len(pending) != 1 || pending[0].Key != "given-up" {
		t.Fatalf("pending = %+v, %v; want only given-up", pending, err)
	}
	if err := client.AbandonStock(ctx, "given-up"); err != nil {
		t.Fatal(err)
	}
	if err := client.ConfirmStock(ctx, "given-up"); code(err) != bookstore.ECONFLICT {
		t.Fatalf("confirming an abandoned reservation: %v, want ECONFLICT", err)
	}
	if got := stock(); got != 3 {
		t.Fatalf("stock = %d, want 3 (2 kept)", got)
	}
	if err := client.ReleaseStock(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	if got := stock(); got != 5 {
		t.Fatalf("stock = %d after releasing, want 5", got)
	}

	// Only the purchase service moves stock: the auth service, a trusted
	// caller of the catalog's book methods, is refused there.
	asAuth := remote.NewCatalogClient(ids.client(remote.AuthService, remote.CatalogService, ts.URL))
	if _, err := asAuth.GetBook(ctx, b.ID); err != nil {
		t.Fatalf("auth reading a book: %v", err)
	}
	if _, err := asAuth.ReserveStock(ctx, "by-auth", b.ID, 5); err == nil || !strings.Contains(err.Error(), "does not allow this service") {
		t.Fatalf("auth reserving stock: %v, want refused", err)
	}
	if got := stock(); got != 5 {
		t.Fatalf("stock = %d after auth's refused reservation, want 5", got)
	}
}
