package pages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// adminUsers lists every account; the identity module refuses non-admins
// (403), so the page never decides that on its own.
func (h handlers) adminUsers(c echo.Context) error {
	users, err := h.Auth.ListUsers(c.Request().Context(), webctx.Caller(c))
	if err != nil {
		return fail(c, err)
	}
	return render(c, http.StatusOK, "admin_users", "Users", users)
}
