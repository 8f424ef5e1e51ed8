package web_test

import (
	"context"
	"strings"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// Minimal fakes: the embedded interfaces are nil, so any method a test does
// not expect panics, which the server must survive.

type fakeAuth struct {
	auth.Service
	users map[string]auth.User // by token
}

func (f fakeAuth) Authenticate(_ context.Context, token string) (auth.User, error) {
	if u, ok := f.users[token]; ok {
		return u, nil
	}
	return auth.User{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "session expired or signed out; sign in again")
}

func (f fakeAuth) Login(_ context.Context, in auth.LoginInput) (auth.Session, error) {
	return auth.Session{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "wrong e-mail or password")
}

type fakeCatalog struct {
	catalog.Service
	created []catalog.BookInput
}

func (f *fakeCatalog) ListBooks(_ context.Context, q catalog.Query) (catalog.BookPage, error) {
	if strings.Contains(q.Q, "panic") {
		panic("a bug in the catalog")
	}
	return catalog.BookPage{Items: []catalog.Book{}, Page: 1, PerPage: 20}, nil
}

func (f *fakeCatalog) GetBook(_ context.Context, id int64) (catalog.Book, error) {
	return catalog.Book{ID: id, Title: "A book", SellerID: 1}, nil
}

func (f *fakeCatalog) CreateBook(_ context.Context, caller bookstore.Caller, in catalog.BookInput) (catalog.Book, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return catalog.Book{}, err
	}
	f.created = append(f.created, in)
	return catalog.Book{ID: 1, Title: in.Title, SellerID: caller.UserID}, nil
}

func (f *fakeCatalog) SetCover(_ context.Context, caller bookstore.Caller, id int64, image []byte) (catalog.Book, error) {
	if _, err := catalog.SniffCover(image); err != nil {
		return catalog.Book{}, err
	}
	return catalog.Book{ID: id, CoverURL: "/covers/0123456789abcdef.png"}, nil
}

type fakePurchase struct{ purchase.Service }
