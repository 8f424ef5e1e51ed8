package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/uploads"
	"github.com/tet-bookstore/bookstore/app/web/webctx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is what every template gets: the layout's needs plus the page's own
// Data. Templates reach the layout fields through $ inside ranges.
type page struct {
	Name    string // template name, also <body data-page>
	Title   string
	Nav     string // which nav link is the current page
	User    *auth.User
	CSRF    string
	Flashes []webctx.Flash
	Next    string // where "Log in" brings the visitor back to, if anywhere
	Data    any
}

// templates are parsed once, when the program starts: each page is the
// shared layout and partials plus its own file defining "content".
var templates, partials = mustParseTemplates()

// assetVersions maps a static file to a hash of its content, appended to its
// URL so browsers may cache it for long and still see a new release at once.
var assetVersions = hashAssets()

var funcs = template.FuncMap{
	"money":    FormatPrice,
	"asset":    assetURL,
	"mod":      func(a int64, b int64) int64 { return a % b },
	"thumb":    uploads.ThumbURL,
	"status":   statusLabel,
	"title":    titleCase,
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
	"flashKind": func(k string) string {
		if k == "success" {
			return "success"
		}
		return "error"
	},
}

func mustParseTemplates() (map[string]*template.Template, *template.Template) {
	base := template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	partials := template.Must(base.Clone())
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	m := make(map[string]*template.Template, len(files))
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		m[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
	}
	return m, partials
}

func hashAssets() map[string]string {
	v := map[string]string{}
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
}

func assetURL(name string) string {
	return "/static/" + name + "?v=" + assetVersions[name]
}

// navOf says which nav link a page belongs to.
var navOf = map[string]string{
	"home": "home", "books": "catalog", "book": "catalog", "book_form": "sell", "my_books": "my_books",
	"orders": "orders", "order": "orders", "admin_users": "admin", "login": "login", "register": "register",
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := buffers.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() < 1<<20 { // do not keep rare huge buffers alive
		buffers.Put(b)
	}
}

// render executes a page into a buffer first, so a template failure becomes
// a clean error page instead of half a document. extra are messages for this
// response only (an invalid form), shown with any queued flashes.
func render(c echo.Context, status int, name, title string, data any, extra ...webctx.Flash) error {
	return renderCards(c, status, name, title, data, nil, extra...)
}

// renderCards is render for pages listing books: their cards go where the
// page has the cardSlot marker.
func renderCards(c echo.Context, status int, name, title string, data any, books []catalog.Book, extra ...webctx.Flash) error {
	t, ok := templates[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	p := page{Name: name, Title: title, Nav: navOf[name], CSRF: webctx.CSRFToken(c),
		Flashes: append(webctx.Flashes(c), extra...), Data: data}
	if r := c.Request(); r.Method == http.MethodGet && name != "home" && name != "login" && name != "register" && name != "error" {
		p.Next = r.URL.RequestURI()
	}
	if u, ok := webctx.User(c); ok {
		p.User = &u
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	out := buf
	if books != nil {
		out = getBuffer()
		defer putBuffer(out)
		if err := spliceCards(out, buf.Bytes(), books); err != nil {
			return err
		}
	}
	// Pages show who is signed in and one-time messages: never cache them.
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.HTMLBlob(status, out.Bytes())
}

// ErrorPage renders an error in the site layout with the given status. The
// web server's central error handler calls it for HTML requests, so unknown
// routes, CSRF failures and panics look like the rest of the store.
func ErrorPage(c echo.Context, status int, message string) error {
	if c.Response().Committed {
		return nil
	}
	if message == "" {
		message = http.StatusText(status)
	}
	data := struct {
		Status  int
		Heading string
		Message string
	}{status, errorHeading(status), sentence(message)}
	if err := render(c, status, "error", data.Heading, data); err != nil {
		slog.ErrorContext(c.Request().Context(), "render error page", "err", err, "request_id", webctx.RequestID(c))
		return c.String(status, message)
	}
	return nil
}

func errorHeading(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusUnauthorized:
		return "Please log in"
	case http.StatusTooManyRequests:
		return "Slow down"
	case http.StatusRequestEntityTooLarge:
		return "That file is too large"
	case http.StatusUnsupportedMediaType:
		return "That file type is not accepted"
	case http.StatusBadRequest:
		return "Please check what you sent"
	case http.StatusConflict:
		return "That cannot be done now"
	case http.StatusServiceUnavailable:
		return "Back in a moment"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// sentence makes a domain message ("quantity must be at least 1") read as a
// sentence on a page.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
