package store

// ForgetBookPages empties the catalog page cache, so benchmarks can measure
// the database path.
func ForgetBookPages(db *DB) {
	if db.pages != nil {
		db.pages.invalidate()
	}
}
