package store

// ForgetBookPages empties the catalog page cache, so benchmarks can measure
// the database path.
func ForgetBookPages(db *DB) {
	if db.local != nil {
		db.local.books.invalidate()
	}
}
