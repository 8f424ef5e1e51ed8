package webctx

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Flash is a one-time message shown on the next page a browser loads.
type Flash struct {
	Kind    string `json:"k"` // "success" or "error"
	Message string `json:"m"`
}

const flashCookie = "bookstore_flash"

// AddFlash queues a message for the next page. It lives in a short cookie,
// so it survives a redirect to any instance behind the load balancer.
func AddFlash(c echo.Context, kind, message string) {
	flashes := append(pending(c), Flash{Kind: kind, Message: message})
	if len(flashes) > 5 {
		flashes = flashes[len(flashes)-5:]
	}
	c.Set(flashCookie, flashes)
	b, _ := json.Marshal(flashes)
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(c), MaxAge: 60})
}

// Flashes returns the queued messages and clears them.
func Flashes(c echo.Context) []Flash {
	flashes := pending(c)
	if _, err := c.Cookie(flashCookie); err == nil {
		c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	c.Set(flashCookie, []Flash(nil))
	return flashes
}

func pending(c echo.Context) []Flash {
	if f, ok := c.Get(flashCookie).([]Flash); ok {
		return f
	}
	ck, err := c.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var flashes []Flash
	if json.Unmarshal(b, &flashes) != nil {
		return nil
	}
	return flashes
}
