package monolith_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tet-bookstore/bookstore/app/catalog"
)

// BenchmarkCatalogPage serves the 200-book catalog page, as JSON and as HTML,
// through the whole handler (middleware, database, templates). `make bench`
// measures the same page from a second process; this one finds regressions
// in the code path.
func BenchmarkCatalogPage(b *testing.B) {
	cfg := testConfig(b)
	app := newApp(b, cfg)
	ctx := context.Background()
	seller, err := app.Auth.Register(ctx, authInput("bench-seller@example.com"))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 200 {
		_, err := app.Catalog.CreateBook(ctx, seller.Caller(), catalog.BookInput{
			Title: fmt.Sprintf("Benchmark Volume %03d", i+1), Author: "Ada Lovelace",
			Description: "A well-kept second-hand copy.", PriceCents: int64(500 + i*37), Stock: 1 + i%9,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	h := app.Handler()
	for _, target := range []string{"/api/v1/books?per_page=200", "/books?per_page=200"} {
		b.Run(target, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", target, rec.Code)
				}
			}
		})
	}
}
