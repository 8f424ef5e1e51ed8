package web

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// coverName is what the cover storage names files: random hex, "-thumb" for
// a thumbnail, and an image extension. Anything else (dot files, paths,
// temporary files) is not served.
var coverName = regexp.MustCompile(`^[0-9a-f]{8,64}(-thumb)?\.(jpg|png|webp)$`)

const thumbSuffix = "-thumb" // uploads.ThumbSuffix

var coverTypes = map[string]string{".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}

// routeCovers serves uploaded covers. Their names are random and never
// reused (a new cover gets a new name), so they can be cached for a year.
// A cover stored before thumbnails were made has none: its thumbnail's URL
// serves the cover itself, so old books keep their pictures in lists.
func (s *Server) routeCovers(e *echo.Echo) {
	dir := s.deps.CoversDir
	e.GET("/covers/:name", func(c echo.Context) error {
		name := c.Param("name")
		if dir == "" || !coverName.MatchString(name) {
			return echo.ErrNotFound
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil && strings.Contains(name, thumbSuffix) {
			name = strings.Replace(name, thumbSuffix, "", 1)
			f, err = os.Open(filepath.Join(dir, name))
		}
		if err != nil {
			return echo.ErrNotFound
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, coverTypes[filepath.Ext(name)])
		h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(c.Response(), c.Request(), name, st.ModTime(), f)
		return nil
	})
}
