package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

func userOf(c echo.Context) (auth.User, bool) { return webctx.User(c) }

func (a api) register(c echo.Context) error {
	var in auth.RegisterInput
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := a.Auth.Register(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

// login answers the token in the body. It sets no cookie: API clients send
// the token as a bearer header, browsers log in through the HTML form.
func (a api) login(c echo.Context) error {
	var in auth.LoginInput
	if err := decode(c, &in); err != nil {
		return err
	}
	in.RemoteAddr = c.RealIP()
	s, err := a.Auth.Login(c.Request().Context(), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, s)
}

// logout revokes the session the request came with, whichever way it came.
func (a api) logout(c echo.Context) error {
	if err := a.Auth.Logout(c.Request().Context(), webctx.Token(c)); err != nil {
		return err
	}
	if !viaBearer(c) {
		webctx.ClearSessionCookie(c)
	}
	return noContent(c)
}

func (a api) me(c echo.Context) error {
	if err := requireUser(c); err != nil {
		return err
	}
	u, _ := userOf(c)
	return c.JSON(http.StatusOK, u)
}

func (a api) listUsers(c echo.Context) error {
	users, err := a.Auth.ListUsers(c.Request().Context(), webctx.Caller(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list[auth.User]{Items: users})
}
