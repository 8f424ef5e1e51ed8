package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/store"
)

// BenchmarkListBooks loads the catalog page of `make bench` straight from
// the store: 200 books, all on one page. "db" reads the database every time;
// "cached" is a repeated page, served from memory until a write (on MySQL
// for at most 500 ms).
func BenchmarkListBooks(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db := open(b, be.dsn(b))
			must(b, db.Migrate(ctx, store.Modules()...))
			st := store.NewCatalogStore(db)
			for i := range 200 {
				createBook(b, st, fmt.Sprintf("Book %03d", i), fmt.Sprintf("Author %d", i%17), int64(500+i), 5, int64(1+i%7))
			}
			q := catalog.Query{Page: 1, PerPage: 200}
			load := func(b *testing.B) {
				items, total, err := st.ListBooks(ctx, q)
				if err != nil || len(items) != 200 || total != 200 {
					b.Fatalf("%d items, total %d, %v", len(items), total, err)
				}
			}
			b.Run("db", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					store.ForgetBookPages(db)
					load(b)
				}
			})
			b.Run("cached", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					load(b)
				}
			})
		})
	}
}
