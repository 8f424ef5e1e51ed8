package pages

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// homeBooks is how many of the latest books the home page shows.
const homeBooks = 10

func (h handlers) home(c echo.Context) error {
	res, err := h.Catalog.ListBooks(c.Request().Context(), catalog.Query{Page: 1, PerPage: homeBooks})
	if err != nil {
		return fail(c, err)
	}
	return renderCards(c, http.StatusOK, "home", "", res, res.Items)
}

// listing is a page of books with its search and pagination.
type listing struct {
	Q       string
	Page    catalog.BookPage
	Pager   pager
	PerPage int
}

func (h handlers) catalog(c echo.Context) error {
	q := catalog.Query{Q: c.QueryParam("q"), Page: intQuery(c, "page", 1), PerPage: perPage(c)}
	res, err := h.Catalog.ListBooks(c.Request().Context(), q)
	if err != nil {
		return fail(c, err)
	}
	title := "Catalog"
	if q.Q != "" {
		title = "Search: " + q.Q
	}
	return renderCards(c, http.StatusOK, "books", title,
		listing{Q: q.Q, Page: res, Pager: newPager("/books", q.Q, res), PerPage: res.PerPage}, res.Items)
}

func (h handlers) myBooks(c echo.Context) error {
	q := catalog.Query{SellerID: webctx.Caller(c).UserID, Page: intQuery(c, "page", 1), PerPage: perPage(c)}
	res, err := h.Catalog.ListBooks(c.Request().Context(), q)
	if err != nil {
		return fail(c, err)
	}
	return renderCards(c, http.StatusOK, "my_books", "My books",
		listing{Page: res, Pager: newPager("/my/books", "", res), PerPage: res.PerPage}, res.Items)
}

func perPage(c echo.Context) int {
	return min(intQuery(c, "per_page", catalog.DefaultPerPage), catalog.MaxPerPage)
}

// bookView is the book page: what a visitor, a buyer or the seller sees.
type bookView struct {
	Book      catalog.Book
	IsSeller  bool // the caller listed it
	CanManage bool // the seller or an admin
}

func (h handlers) book(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	b, err := h.Catalog.GetBook(c.Request().Context(), id)
	if err != nil {
		return fail(c, err)
	}
	caller := webctx.Caller(c)
	v := bookView{Book: b, IsSeller: caller.SignedIn() && caller.UserID == b.SellerID, CanManage: caller.Owns(b.SellerID)}
	return render(c, http.StatusOK, "book", b.Title, v)
}

// pager is the navigation between the pages of a listing.
type pager struct {
	Prev, Next string // "" when there is none
	Links      []pageLink
	From, To   int64 // which results this page shows, from 1
	Total      int64
}

type pageLink struct {
	Num     int
	URL     string
	Current bool
	Gap     bool // an ellipsis between distant page numbers
}

func newPager(base, q string, res catalog.BookPage) pager {
	per := int64(max(res.PerPage, 1))
	pages := int((res.Total + per - 1) / per)
	p := pager{Total: res.Total}
	if len(res.Items) > 0 {
		p.From = int64(res.Page-1)*per + 1
		p.To = p.From + int64(len(res.Items)) - 1
	}
	link := func(n int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if res.PerPage != catalog.DefaultPerPage {
			v.Set("per_page", strconv.Itoa(res.PerPage))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	if res.Page > 1 {
		p.Prev = link(min(res.Page-1, max(pages, 1)))
	}
	if res.Page < pages {
		p.Next = link(res.Page + 1)
	}
	if pages <= 1 {
		return p
	}
	// First, last and two either side of the current page; gaps between.
	last := 0
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < res.Page-2 || n > res.Page+2) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Links = append(p.Links, pageLink{Gap: true})
		}
		p.Links = append(p.Links, pageLink{Num: n, URL: link(n), Current: n == res.Page})
		last = n
	}
	return p
}
