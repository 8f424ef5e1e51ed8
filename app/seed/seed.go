// Package seed fills an empty store with demo data, so a fresh `make run`
// shows a catalog worth browsing. It goes through the domain services like
// any other client, so demo books obey the same rules as real ones.
package seed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// LockName is the database lock the seed runs under, so instances starting
// together on one MySQL seed once.
const LockName = "bookstore_seed"

// SellerEmail is the demo seller's account; its password is random, since
// nobody needs to sign in as it.
const SellerEmail = "demo-seller@bookstore.local"

// Deps are what seeding needs.
type Deps struct {
	Auth    auth.Service
	Catalog catalog.Service
	// Users finds the demo seller when an earlier run created it.
	Users interface {
		UserByEmail(ctx context.Context, email string) (auth.User, error)
	}
	// WithLock runs fn holding a database-wide lock (store.DB.WithLock).
	WithLock func(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// Demo lists the demo books when the catalog is empty and reports how many
// it added (0 when there already were books).
func Demo(ctx context.Context, d Deps) (added int, err error) {
	err = d.WithLock(ctx, LockName, func(ctx context.Context) error {
		page, err := d.Catalog.ListBooks(ctx, catalog.Query{PerPage: 1})
		if err != nil {
			return err
		}
		if page.Total > 0 {
			return nil
		}
		seller, err := demoSeller(ctx, d)
		if err != nil {
			return err
		}
		for _, b := range Books {
			if _, err := d.Catalog.CreateBook(ctx, seller.Caller(), b); err != nil {
				return fmt.Errorf("demo book %q: %w", b.Title, err)
			}
			added++
		}
		return nil
	})
	if err != nil {
		return added, fmt.Errorf("seed demo data: %w", err)
	}
	return added, nil
}

func demoSeller(ctx context.Context, d Deps) (auth.User, error) {
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return auth.User{}, err
	}
	u, err := d.Auth.Register(ctx, auth.RegisterInput{Name: "Second Chapter Books", Email: SellerEmail, Password: hex.EncodeToString(pw)})
	if bookstore.ErrorCode(err) == bookstore.ECONFLICT {
		u, err = d.Users.UserByEmail(ctx, SellerEmail)
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("demo seller: %w", err)
	}
	return u, nil
}
