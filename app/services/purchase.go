package services

import (
	"context"

	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/remote"
	"github.com/tet-bookstore/bookstore/app/serve"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/web"
)

// wirePurchase: purchases, payments and deliveries live here; stock is
// reserved in the catalog service, over HTTP, idempotently per purchase.
func (p *Process) wirePurchase(ctx context.Context) (web.Deps, error) {
	authClient, err := p.authClient()
	if err != nil {
		return web.Deps{}, err
	}
	inventory := remote.NewCatalogClient(p.client(remote.CatalogService, p.cfg.Services.CatalogURL))
	checkout := purchase.New(store.NewPurchaseStore(p.db), inventory, purchase.NewSimulatedProcessor())
	remote.ServePurchase(p.internal, checkout)
	every, after := p.cfg.Reconciling()
	checkout.SetReconcileAfter(after)
	window, maxOpen := p.cfg.Orders()
	checkout.SetPaymentWindow(window)
	checkout.SetMaxOpenOrders(maxOpen)
	p.background = append(p.background, serve.Every(every, func(ctx context.Context) {
		done, err := checkout.Reconcile(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("reconcile stock reservations and payments", "err", err)
		}
		if done.Confirmed+done.Released > 0 {
			p.log.Info("stock reservations reconciled", "confirmed", done.Confirmed, "released", done.Released)
		}
		if done.Paid+done.Refunded+done.Failed+done.Expired > 0 {
			p.log.Info("payments reconciled", "paid", done.Paid, "refunded", done.Refunded, "failed", done.Failed, "expired", done.Expired)
		}
	}))
	return web.Deps{Auth: authClient, Catalog: inventory, Purchase: checkout}, nil
}
