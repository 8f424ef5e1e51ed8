package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// buy decodes into purchase.BuyInput, which has no price field: whatever
// price the client sends is dropped here and the catalog's price is used. An
// Idempotency-Key header makes a retry return the first attempt's purchase.
func (a api) buy(c echo.Context) error {
	var in purchase.BuyInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		in.IdempotencyKey = key
	}
	p, err := a.Purchase.Buy(c.Request().Context(), webctx.Caller(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (a api) listPurchases(c echo.Context) error {
	ps, err := a.Purchase.ListPurchases(c.Request().Context(), webctx.Caller(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list[purchase.Purchase]{Items: ps})
}

func (a api) getPurchase(c echo.Context) error {
	id, err := pathID(c, "purchase")
	if err != nil {
		return err
	}
	p, err := a.Purchase.GetPurchase(c.Request().Context(), webctx.Caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a api) cancel(c echo.Context) error {
	id, err := pathID(c, "purchase")
	if err != nil {
		return err
	}
	p, err := a.Purchase.Cancel(c.Request().Context(), webctx.Caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a api) pay(c echo.Context) error {
	id, err := pathID(c, "purchase")
	if err != nil {
		return err
	}
	var in purchase.PaymentInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := a.Purchase.Pay(c.Request().Context(), webctx.Caller(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a api) chooseDelivery(c echo.Context) error {
	id, err := pathID(c, "purchase")
	if err != nil {
		return err
	}
	var in purchase.DeliveryInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := a.Purchase.ChooseDelivery(c.Request().Context(), webctx.Caller(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a api) providers(c echo.Context) error {
	ps, err := a.Purchase.Providers(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list[purchase.Provider]{Items: ps})
}
