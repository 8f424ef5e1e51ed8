package pages

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// bookForm is the add and edit form, holding exactly what the seller typed so
// a refused form comes back as they left it.
type bookForm struct {
	ID          int64 // 0 for a new book
	Title       string
	Author      string
	Description string
	Price       string
	Stock       string
}

// Action is where the form posts.
func (f bookForm) Action() string {
	if f.ID == 0 {
		return "/books/new"
	}
	return "/books/" + strconv.FormatInt(f.ID, 10) + "/edit"
}

// readBookForm reads the form; err (from readForm) means the domain must
// not be called, and the form is shown again with it.
func readBookForm(c echo.Context) (bookForm, error) {
	f, err := readForm(c)
	return bookForm{Title: f.Get("title"), Author: f.Get("author"), Description: f.Get("description"),
		Price: f.Get("price"), Stock: f.Get("stock")}, err
}

// input turns the typed text into a listing; prices in exact cents.
func (f bookForm) input() (catalog.BookInput, error) {
	price, err := ParsePrice(f.Price)
	if err != nil {
		return catalog.BookInput{}, err
	}
	stock, err := strconv.Atoi(strings.TrimSpace(f.Stock))
	if err != nil {
		return catalog.BookInput{}, bookstore.Errorf(bookstore.EINVALID, "stock must be a whole number")
	}
	return catalog.BookInput{Title: f.Title, Author: f.Author, Description: f.Description, PriceCents: price, Stock: stock}, nil
}

func (h handlers) newBookForm(c echo.Context) error {
	return render(c, http.StatusOK, "book_form", "Sell a book", bookForm{Stock: "1"})
}

func (h handlers) createBook(c echo.Context) error {
	form, err := readBookForm(c)
	if err != nil {
		return renderFormError(c, "book_form", "Sell a book", form, err)
	}
	in, err := form.input()
	if err != nil {
		return renderFormError(c, "book_form", "Sell a book", form, err)
	}
	b, err := h.Catalog.CreateBook(c.Request().Context(), webctx.Caller(c), in)
	if err != nil {
		return renderFormError(c, "book_form", "Sell a book", form, err)
	}
	return done(c, fmt.Sprintf("“%s” is in the catalog. Add a cover to make it shine.", b.Title), bookURL(b.ID))
}

func (h handlers) editBookForm(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	b, err := h.Catalog.GetBook(c.Request().Context(), id)
	if err != nil {
		return fail(c, err)
	}
	// Only a courtesy: UpdateBook enforces the same rule on submit.
	if !webctx.Caller(c).Owns(b.SellerID) {
		return ErrorPage(c, http.StatusForbidden, "Only the seller or an admin can change this book.")
	}
	form := bookForm{ID: b.ID, Title: b.Title, Author: b.Author, Description: b.Description,
		Price: plainPrice(b.PriceCents), Stock: strconv.Itoa(b.Stock)}
	return render(c, http.StatusOK, "book_form", "Edit "+b.Title, form)
}

func (h handlers) updateBook(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	form, err := readBookForm(c)
	form.ID = id
	if err != nil {
		return renderFormError(c, "book_form", "Edit book", form, err)
	}
	in, err := form.input()
	if err != nil {
		return renderFormError(c, "book_form", "Edit book", form, err)
	}
	patch := catalog.BookPatch{Title: &in.Title, Author: &in.Author, Description: &in.Description,
		PriceCents: &in.PriceCents, Stock: &in.Stock}
	b, err := h.Catalog.UpdateBook(c.Request().Context(), webctx.Caller(c), id, patch)
	if err != nil {
		return renderFormError(c, "book_form", "Edit book", form, err)
	}
	return done(c, "Saved your changes.", bookURL(b.ID))
}

func (h handlers) deleteBook(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	if _, err := readForm(c); err != nil {
		return failBack(c, err, bookURL(id))
	}
	if err := h.Catalog.DeleteBook(c.Request().Context(), webctx.Caller(c), id); err != nil {
		return failBack(c, err, bookURL(id))
	}
	return done(c, "The book was removed from the catalog. Past orders keep their details.", "/my/books")
}

func (h handlers) uploadCover(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	if _, err := readForm(c); err != nil {
		return failBack(c, err, bookURL(id))
	}
	image, err := readCover(c)
	if err != nil {
		return failBack(c, err, bookURL(id))
	}
	if _, err := h.Catalog.SetCover(c.Request().Context(), webctx.Caller(c), id, image); err != nil {
		return failBack(c, err, bookURL(id))
	}
	return done(c, "Cover updated.", bookURL(id))
}

// readCover reads the uploaded file, at most one byte past the limit so the
// catalog can tell an oversized image from a fitting one.
func readCover(c echo.Context) ([]byte, error) {
	fh, err := c.FormFile("cover")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, bookstore.Errorf(bookstore.ETOOLARGE, "cover must be at most 2 MiB")
		}
		return nil, bookstore.Errorf(bookstore.EINVALID, "choose an image file to upload")
	}
	if fh.Size > catalog.MaxCoverBytes {
		return nil, bookstore.Errorf(bookstore.ETOOLARGE, "cover must be at most 2 MiB")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("open uploaded cover: %w", err)
	}
	defer f.Close()
	image, err := io.ReadAll(io.LimitReader(f, catalog.MaxCoverBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read uploaded cover: %w", err)
	}
	return image, nil
}

func bookURL(id int64) string { return "/books/" + strconv.FormatInt(id, 10) }
