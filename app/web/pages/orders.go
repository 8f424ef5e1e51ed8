package pages

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

func (h handlers) buy(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	f, err := readForm(c)
	if err != nil {
		return failBack(c, err, bookURL(id))
	}
	qty, err := formInt(f, "quantity", "quantity")
	if err != nil {
		return failBack(c, err, bookURL(id))
	}
	p, err := h.Purchase.Buy(c.Request().Context(), webctx.Caller(c), purchase.BuyInput{BookID: id, Quantity: qty})
	if err != nil {
		return failBack(c, err, bookURL(id))
	}
	return done(c, "Order placed and the books are reserved for you. Pay below to complete it.", orderURL(p.ID))
}

func (h handlers) orders(c echo.Context) error {
	ps, err := h.Purchase.ListPurchases(c.Request().Context(), webctx.Caller(c))
	if err != nil {
		return fail(c, err)
	}
	return render(c, http.StatusOK, "orders", "My orders", ps)
}

// orderView is one order with the delivery choices once it is paid.
type orderView struct {
	P         purchase.Purchase
	Providers []purchase.Provider
}

func (h handlers) order(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	ctx := c.Request().Context()
	p, err := h.Purchase.GetPurchase(ctx, webctx.Caller(c), id)
	if err != nil {
		return fail(c, err)
	}
	v := orderView{P: p}
	if p.Status == purchase.StatusPaid { // the delivery form needs the carriers
		if v.Providers, err = h.Purchase.Providers(ctx); err != nil {
			return fail(c, err)
		}
	}
	return render(c, http.StatusOK, "order", fmt.Sprintf("Order #%d", p.ID), v)
}

func (h handlers) pay(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	f, err := readForm(c)
	if err != nil {
		return failBack(c, err, orderURL(id))
	}
	in := purchase.PaymentInput{Method: "card", CardNumber: f.Get("card_number"), CardHolder: f.Get("card_holder")}
	if _, err := h.Purchase.Pay(c.Request().Context(), webctx.Caller(c), id, in); err != nil {
		return failBack(c, err, orderURL(id))
	}
	return done(c, "Payment received, thank you! Now choose how to deliver it.", orderURL(id))
}

func (h handlers) delivery(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	f, err := readForm(c)
	if err != nil {
		return failBack(c, err, orderURL(id))
	}
	provider, err := strconv.ParseInt(f.Get("provider_id"), 10, 64)
	if err != nil || provider < 1 {
		webctx.AddFlash(c, "error", "Choose one of the delivery providers.")
		return c.Redirect(http.StatusSeeOther, orderURL(id))
	}
	in := purchase.DeliveryInput{ProviderID: provider, Address: f.Get("address")}
	p, err := h.Purchase.ChooseDelivery(c.Request().Context(), webctx.Caller(c), id, in)
	if err != nil {
		return failBack(c, err, orderURL(id))
	}
	name := "the carrier"
	if p.Delivery != nil {
		name = p.Delivery.ProviderName
	}
	return done(c, "On its way! Your order ships with "+name+".", orderURL(id))
}

func (h handlers) cancel(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return fail(c, err)
	}
	if _, err := readForm(c); err != nil {
		return failBack(c, err, orderURL(id))
	}
	if _, err := h.Purchase.Cancel(c.Request().Context(), webctx.Caller(c), id); err != nil {
		return failBack(c, err, orderURL(id))
	}
	return done(c, "Order cancelled; the books are back on the shelf.", orderURL(id))
}

func orderURL(id int64) string { return "/orders/" + strconv.FormatInt(id, 10) }

// statusLabel names a purchase status for people.
func statusLabel(s purchase.Status) string {
	switch s {
	case purchase.StatusPendingPayment:
		return "Awaiting payment"
	case purchase.StatusPaid:
		return "Paid"
	case purchase.StatusShipped:
		return "Shipped"
	case purchase.StatusCancelled:
		return "Cancelled"
	}
	return string(s)
}
