package monolith_test

import (
	"context"
	"testing"

	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/seed"
)

// TestDemoSeedOnceOnEmptyCatalog: demo books appear on an empty store, and
// a restart (or a second instance) on the same database adds none.
func TestDemoSeedOnceOnEmptyCatalog(t *testing.T) {
	cfg := testConfig(t)
	cfg.SeedDemo = true
	first := newApp(t, cfg)
	page, err := first.Catalog.ListBooks(context.Background(), catalog.Query{PerPage: catalog.MaxPerPage})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != int64(len(seed.Books)) || len(seed.Books) < 20 {
		t.Fatalf("demo catalog has %d books, want %d (≥ 20)", page.Total, len(seed.Books))
	}
	for _, b := range page.Items {
		if b.SellerID == 0 || b.Title == "" || b.Author == "" || b.PriceCents <= 0 {
			t.Errorf("demo book %+v", b)
		}
	}
	first.Close()

	second := newApp(t, cfg)
	page, err = second.Catalog.ListBooks(context.Background(), catalog.Query{PerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != int64(len(seed.Books)) {
		t.Errorf("after a restart the catalog has %d books, want still %d", page.Total, len(seed.Books))
	}
}

func TestNoSeedWhenDisabled(t *testing.T) {
	app := newApp(t, testConfig(t))
	page, err := app.Catalog.ListBooks(context.Background(), catalog.Query{PerPage: 1})
	if err != nil || page.Total != 0 {
		t.Errorf("catalog without seeding = %d books, %v", page.Total, err)
	}
}
