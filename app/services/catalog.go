package services

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/remote"
	"github.com/tet-bookstore/bookstore/app/seed"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/uploads"
	"github.com/tet-bookstore/bookstore/app/web"
)

// SeedRetryInterval is how often the demo seed is retried while the auth
// service (which owns the demo seller's account) is not up yet.
var SeedRetryInterval = 5 * time.Second

// wireCatalog: books, stock and covers live here.
func (p *Process) wireCatalog(ctx context.Context) (web.Deps, error) {
	covers, err := uploads.NewCoverDir(p.cfg.UploadsDir)
	if err != nil {
		return web.Deps{}, err
	}
	// The gateway sends /static/ and /favicon.ico here, with the covers.
	static, err := uploads.SharedStaticDir(p.cfg.UploadsDir)
	if err != nil {
		return web.Deps{}, err
	}
	books := catalog.New(store.NewCatalogStore(p.db), uploads.NewCovers(covers, uploads.CoversOptions{}))
	books.SetQuotas(store.NewQuotaCounter(p.db), catalog.QuotaLimits{BooksPerHour: p.cfg.MaxBooksPerHour, UploadBytesPerHour: p.cfg.MaxUploadBytesPerHour})
	authClient, err := p.authClient()
	if err != nil {
		return web.Deps{}, err
	}
	remote.ServeCatalog(p.internal, books)
	if p.cfg.SeedDemo {
		p.background = append(p.background, p.seedDemo(seed.Deps{Auth: authClient, Catalog: books, Users: authClient, WithLock: p.db.WithLock}))
	}
	return web.Deps{
		Auth:      authClient,
		Catalog:   books,
		Purchase:  remote.NewPurchaseClient(p.client(remote.PurchaseService, p.cfg.Services.PurchaseURL)),
		CoversDir: covers.Path(),
		StaticDir: static,
	}, nil
}

// seedDemo seeds in the background, retrying until the auth service answers:
// services start in any order.
func (p *Process) seedDemo(d seed.Deps) func(ctx context.Context) {
	return func(ctx context.Context) {
		for {
			n, err := seed.Demo(ctx, d)
			if err == nil {
				if n > 0 {
					p.log.Info("demo data seeded", "books", n)
				}
				return
			}
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("demo seed postponed", "err", err, "retry_in", SeedRetryInterval.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(SeedRetryInterval):
			}
		}
	}
}
