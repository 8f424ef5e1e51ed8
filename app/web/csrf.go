package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

// CSRF protection by double submit: every browser gets a random
// bookstore_csrf cookie, and a state-changing request must repeat its value
// in the "_csrf" form field or the X-CSRF-Token header. Another site can make
// a browser send the cookie but cannot read it, so it cannot repeat it.
const (
	CSRFCookie = "bookstore_csrf"
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// csrfTokenLen is the length of a base64url token of 32 random bytes.
const csrfTokenLen = 43

func csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !needsSession(c.Path()) {
			return next(c)
		}
		token := ""
		if ck, err := c.Cookie(CSRFCookie); err == nil && len(ck.Value) == csrfTokenLen {
			token = ck.Value
		} else if !isAPI(c) {
			// Pages hand out the token; API clients are scripts (bearer) or
			// pages' own scripts, which already hold the cookie.
			token = newCSRFToken()
			c.SetCookie(&http.Cookie{Name: CSRFCookie, Value: token, Path: "/", HttpOnly: true,
				SameSite: http.SameSiteLaxMode, Secure: webctx.IsTLS(c)})
		}
		webctx.SetCSRFToken(c, token)
		if safeMethod(c.Request().Method) || !csrfApplies(c) {
			return next(c)
		}
		sent, err := sentCSRFToken(c)
		if err != nil {
			return err
		}
		if sent == "" || token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return bookstore.Errorf(bookstore.EFORBIDDEN, "the form expired or did not come from this site (CSRF check failed); reload the page and try again")
		}
		return next(c)
	}
}

// csrfApplies: every HTML form post (log-in forms too, against login CSRF);
// API calls only when a browser's session cookie authenticated them. Bearer
// calls are exempt (no browser adds that header by itself), and anonymous API
// calls carry no identity to abuse.
func csrfApplies(c echo.Context) bool {
	if viaBearer(c) {
		return false
	}
	if isAPI(c) {
		_, signedIn := webctx.User(c)
		return signedIn
	}
	return true
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// sentCSRFToken reads the header, or else the form field. Reading a form
// reads the body, so an oversized upload is reported as such here.
func sentCSRFToken(c echo.Context) (string, error) {
	if h := c.Request().Header.Get(CSRFHeader); h != "" {
		return h, nil
	}
	req := c.Request()
	ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	var err error
	switch ct {
	case echo.MIMEMultipartForm:
		err = req.ParseMultipartForm(multipartMemory)
	case echo.MIMEApplicationForm:
		err = req.ParseForm()
	default:
		return "", nil
	}
	if err != nil {
		if tooLarge(err) {
			return "", errTooLarge(c)
		}
		return "", bookstore.Errorf(bookstore.EINVALID, "the form could not be read")
	}
	return req.PostFormValue(CSRFField), nil
}

func newCSRFToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
