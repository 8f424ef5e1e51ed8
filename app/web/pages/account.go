package pages

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// accountForm is what the register and login forms show again after an
// error. Passwords are never sent back.
type accountForm struct {
	Name  string
	Email string
	Next  string
}

func (h handlers) registerForm(c echo.Context) error {
	return render(c, http.StatusOK, "register", "Create an account", accountForm{Next: c.QueryParam("next")})
}

func (h handlers) register(c echo.Context) error {
	f, err := readForm(c)
	in := auth.RegisterInput{Name: f.Get("name"), Email: f.Get("email"), Password: f.Get("password")}
	form := accountForm{Name: in.Name, Email: in.Email, Next: f.Get("next")}
	if err != nil {
		return renderFormError(c, "register", "Create an account", form, err)
	}
	u, err := h.Auth.Register(c.Request().Context(), in)
	if err != nil {
		return renderFormError(c, "register", "Create an account", form, err)
	}
	to := "/login"
	if n := safeNext(form.Next); n != "/" {
		to += "?next=" + url.QueryEscape(n)
	}
	return done(c, "Welcome, "+u.Name+"! Your account is ready: log in to start.", to)
}

func (h handlers) loginForm(c echo.Context) error {
	if _, ok := webctx.User(c); ok {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return render(c, http.StatusOK, "login", "Log in", accountForm{Next: c.QueryParam("next")})
}

func (h handlers) login(c echo.Context) error {
	f, err := readForm(c)
	in := auth.LoginInput{Email: f.Get("email"), Password: f.Get("password"), RemoteAddr: c.RealIP()}
	form := accountForm{Email: in.Email, Next: f.Get("next")}
	if err != nil {
		return renderFormError(c, "login", "Log in", form, err)
	}
	s, err := h.Auth.Login(c.Request().Context(), in)
	if err != nil {
		return renderFormError(c, "login", "Log in", form, err)
	}
	webctx.SetSessionCookie(c, s)
	return done(c, "Welcome back, "+s.User.Name+"!", safeNext(form.Next))
}

func (h handlers) logout(c echo.Context) error {
	err := h.Auth.Logout(c.Request().Context(), webctx.Token(c))
	// The browser forgets the session even if revoking it failed.
	webctx.ClearSessionCookie(c)
	if err != nil {
		return fail(c, err)
	}
	return done(c, "You are logged out. See you soon!", "/")
}

// renderFormError shows a form again, with what the person typed and why it
// was refused, under the status the domain error maps to.
func renderFormError(c echo.Context, name, title string, data any, err error) error {
	status := webctx.Status(err)
	webctx.SetRetryAfter(c, status, err)
	if status >= 500 || status == http.StatusForbidden || status == http.StatusNotFound {
		return fail(c, err)
	}
	return render(c, status, name, title, data, webctx.Flash{Kind: "error", Message: sentence(bookstore.ErrorMessage(err))})
}
