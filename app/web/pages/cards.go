package pages

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/tet-bookstore/bookstore/app/catalog"
)

// The catalog page shows up to 200 books, and html/template spends about
// 8 µs on each card (reflection for every field and escaper), most of the
// page's cost. So cards are rendered once per version of a book by
// html/template itself, with the same escaping, and their bytes spliced
// into the page where the page template has the cardSlot marker. User text
// can never forge the marker: escaped text holds no "<".

// cardSlot is where a page's book cards go.
const cardSlot = "<bookstore-cards></bookstore-cards>"

// cardKey is every field a card shows; any change renders the card anew.
type cardKey struct {
	ID         int64
	Title      string
	Author     string
	CoverURL   string
	PriceCents int64
	Stock      int
}

// maxCards bounds the cache (a card is about 700 bytes); when full it starts
// again, which costs one slower page.
const maxCards = 20_000

var cards = struct {
	sync.RWMutex
	m map[cardKey][]byte
}{m: make(map[cardKey][]byte)}

// card returns the HTML of one book card.
func card(b catalog.Book) ([]byte, error) {
	k := cardKey{b.ID, b.Title, b.Author, b.CoverURL, b.PriceCents, b.Stock}
	cards.RLock()
	html, ok := cards.m[k]
	cards.RUnlock()
	if ok {
		return html, nil
	}
	var buf bytes.Buffer
	if err := partials.ExecuteTemplate(&buf, "book-card", b); err != nil {
		return nil, fmt.Errorf("render card of book %d: %w", b.ID, err)
	}
	html = buf.Bytes()
	cards.Lock()
	if len(cards.m) >= maxCards {
		cards.m = make(map[cardKey][]byte)
	}
	cards.m[k] = html
	cards.Unlock()
	return html, nil
}

// spliceCards writes page to out with the cards of books in place of the
// cardSlot marker (the page may have none: an empty listing).
func spliceCards(out *bytes.Buffer, page []byte, books []catalog.Book) error {
	i := bytes.Index(page, []byte(cardSlot))
	if i < 0 {
		out.Write(page)
		return nil
	}
	out.Write(page[:i])
	for _, b := range books {
		html, err := card(b)
		if err != nil {
			return err
		}
		out.Write(html)
	}
	out.Write(page[i+len(cardSlot):])
	return nil
}
