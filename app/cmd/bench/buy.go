package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// buyAndPay buys one copy of the fixture's bestseller and pays for it with
// the test card, as a script on the JSON API would.
func buyAndPay(ctx context.Context, c *http.Client, base string, fx fixture) error {
	body, err := callCtx(ctx, c, base, fx.token, "/api/v1/purchases",
		map[string]any{"book_id": fx.buyID, "quantity": 1}, http.StatusCreated)
	if err != nil {
		return err
	}
	var p struct{ ID int64 }
	if err := json.Unmarshal(body, &p); err != nil || p.ID == 0 {
		return fmt.Errorf("purchase answered without an id: %.200s", body)
	}
	_, err = callCtx(ctx, c, base, fx.token, fmt.Sprintf("/api/v1/purchases/%d/payment", p.ID),
		map[string]any{"method": "card", "card_number": "4242 4242 4242 4242", "card_holder": "Bench Buyer"}, http.StatusOK)
	return err
}
