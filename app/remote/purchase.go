package remote

import (
	"context"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/rpc"
)

// PurchaseClient is the purchase service as a purchase.Service.
type PurchaseClient struct{ c *rpc.Client }

var _ purchase.Service = (*PurchaseClient)(nil)

// NewPurchaseClient returns a client of the purchase service.
func NewPurchaseClient(c *rpc.Client) *PurchaseClient { return &PurchaseClient{c: c} }

type purchaseID struct {
	ID int64 `json:"id"`
}

type payment struct {
	ID      int64                 `json:"id"`
	Payment purchase.PaymentInput `json:"payment"`
}

type delivery struct {
	ID       int64                  `json:"id"`
	Delivery purchase.DeliveryInput `json:"delivery"`
}

// Buy is retried only with an idempotency key: without one, a retry after a
// lost answer could buy twice.
func (c *PurchaseClient) Buy(ctx context.Context, caller bookstore.Caller, in purchase.BuyInput) (purchase.Purchase, error) {
	var p purchase.Purchase
	err := c.c.Call(ctx, "purchase.buy", caller, in, &p, rpc.Idempotency(in.IdempotencyKey != ""))
	return p, err
}

func (c *PurchaseClient) ListPurchases(ctx context.Context, caller bookstore.Caller) ([]purchase.Purchase, error) {
	var ps []purchase.Purchase
	err := c.c.Call(ctx, "purchase.list", caller, rpc.Empty{}, &ps, rpc.Retry)
	return ps, err
}

func (c *PurchaseClient) GetPurchase(ctx context.Context, caller bookstore.Caller, id int64) (purchase.Purchase, error) {
	var p purchase.Purchase
	err := c.c.Call(ctx, "purchase.get", caller, purchaseID{id}, &p, rpc.Retry)
	return p, err
}

// Cancel and Pay answer a repeat with the same result (a cancelled purchase
// stays cancelled; a paid one is not charged again), so they are retried.
func (c *PurchaseClient) Cancel(ctx context.Context, caller bookstore.Caller, id int64) (purchase.Purchase, error) {
	var p purchase.Purchase
	err := c.c.Call(ctx, "purchase.cancel", caller, purchaseID{id}, &p, rpc.Retry)
	return p, err
}

func (c *PurchaseClient) Pay(ctx context.Context, caller bookstore.Caller, id int64, in purchase.PaymentInput) (purchase.Purchase, error) {
	var p purchase.Purchase
	err := c.c.Call(ctx, "purchase.pay", caller, payment{ID: id, Payment: in}, &p, rpc.Retry)
	return p, err
}

func (c *PurchaseClient) ChooseDelivery(ctx context.Context, caller bookstore.Caller, id int64, in purchase.DeliveryInput) (purchase.Purchase, error) {
	var p purchase.Purchase
	err := c.c.Call(ctx, "purchase.choose_delivery", caller, delivery{ID: id, Delivery: in}, &p, rpc.Once)
	return p, err
}

func (c *PurchaseClient) Providers(ctx context.Context) ([]purchase.Provider, error) {
	var ps []purchase.Provider
	err := c.c.Call(ctx, "purchase.providers", nobody, rpc.Empty{}, &ps, rpc.Retry)
	return ps, err
}

// ServePurchase registers the purchase module's methods on s, all of them
// for the pages the two other services serve.
func ServePurchase(s *rpc.Server, svc purchase.Service) {
	pages := only(AuthService, CatalogService)
	rpc.Handle(s, "purchase.buy", pages, func(ctx context.Context, caller bookstore.Caller, in purchase.BuyInput) (purchase.Purchase, error) {
		return svc.Buy(ctx, caller, in)
	})
	rpc.Handle(s, "purchase.list", pages, func(ctx context.Context, caller bookstore.Caller, _ rpc.Empty) ([]purchase.Purchase, error) {
		return svc.ListPurchases(ctx, caller)
	})
	rpc.Handle(s, "purchase.get", pages, func(ctx context.Context, caller bookstore.Caller, in purchaseID) (purchase.Purchase, error) {
		return svc.GetPurchase(ctx, caller, in.ID)
	})
	rpc.Handle(s, "purchase.cancel", pages, func(ctx context.Context, caller bookstore.Caller, in purchaseID) (purchase.Purchase, error) {
		return svc.Cancel(ctx, caller, in.ID)
	})
	rpc.Handle(s, "purchase.pay", pages, func(ctx context.Context, caller bookstore.Caller, in payment) (purchase.Purchase, error) {
		return svc.Pay(ctx, caller, in.ID, in.Payment)
	})
	rpc.Handle(s, "purchase.choose_delivery", pages, func(ctx context.Context, caller bookstore.Caller, in delivery) (purchase.Purchase, error) {
		return svc.ChooseDelivery(ctx, caller, in.ID, in.Delivery)
	})
	rpc.Handle(s, "purchase.providers", pages, func(ctx context.Context, _ bookstore.Caller, _ rpc.Empty) ([]purchase.Provider, error) {
		return svc.Providers(ctx)
	})
}
