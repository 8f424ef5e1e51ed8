package store

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tet-bookstore/bookstore/app/catalog"
)

// Catalog pages are the busiest read of the store and, on SQLite, the
// pure-Go driver spends most of a page's time decoding rows. Since a SQLite
// database is written by this process only, pages can be remembered until
// the next write to books. Each write bumps a generation; a page is served
// from memory only if no write happened since it was read. The TTL bounds
// staleness should another process ever write the file (an operator's
// sqlite3 shell, say).
//
// On MySQL other instances write too, and this process cannot see their
// writes: there pages are kept only mysqlBookCacheTTL, so every instance
// shows the database's stock within a second, while a busy catalog costs
// the database a few queries a second instead of one per visitor. This
// process's own writes still show at once.
const (
	bookCacheTTL      = 2 * time.Second
	mysqlBookCacheTTL = 500 * time.Millisecond
	bookCacheEntries  = 128
)

type bookListCache struct {
	ttl     time.Duration // 0 means bookCacheTTL
	gen     atomic.Uint64
	mu      sync.Mutex
	entries map[catalog.Query]cachedPage
}

type cachedPage struct {
	gen   uint64
	at    time.Time
	items []catalog.Book
	total int64
}

func cacheKey(q catalog.Query) catalog.Query {
	q.Q = strings.ToLower(strings.TrimSpace(q.Q))
	return q
}

// generation is read before the database, so a page read while a write
// commits is stored under the older generation and never served.
func (c *bookListCache) generation() uint64 { return c.gen.Load() }

// invalidate is called after every committed write to books.
func (c *bookListCache) invalidate() { c.gen.Add(1) }

func (c *bookListCache) get(q catalog.Query) ([]catalog.Book, int64, bool) {
	c.mu.Lock()
	e, ok := c.entries[cacheKey(q)]
	c.mu.Unlock()
	ttl := c.ttl
	if ttl == 0 {
		ttl = bookCacheTTL
	}
	if !ok || e.gen != c.gen.Load() || time.Since(e.at) > ttl {
		return nil, 0, false
	}
	// A copy: callers may change the books they get.
	return append(make([]catalog.Book, 0, len(e.items)), e.items...), e.total, true
}

func (c *bookListCache) put(q catalog.Query, gen uint64, items []catalog.Book, total int64) {
	if gen != c.gen.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= bookCacheEntries {
		c.entries = make(map[catalog.Query]cachedPage) // searches are open-ended: start over rather than grow
	}
	c.entries[cacheKey(q)] = cachedPage{gen: gen, at: time.Now(), items: append([]catalog.Book(nil), items...), total: total}
}
