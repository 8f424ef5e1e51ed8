package pages

import (
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"
)

// sharedCache is how long browsers keep a file from the shared static
// directory: its URL carries no hash of its content, so not for good.
const sharedCache = "public, max-age=300"

// overridable are the embedded assets a file of the shared directory
// replaces. The others are cached for good under their content's hash, so
// a browser that fetched one would never see a replacement.
var overridable = map[string]bool{"favicon.svg": true}

// routeStatic serves the embedded assets at /static/, and the files of
// sharedDir (if any) that are new or replace an overridable one: an operator
// who drops a favicon or a logo there (on the shared file system, every
// instance at once) changes the store's look without a release.
func routeStatic(e *echo.Echo, sharedDir string) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	e.GET("/static/*", func(c echo.Context) error {
		name := c.Param("*")
		version, embedded := assetVersions[name]
		if (!embedded || overridable[name]) && serveShared(c, sharedDir, name) {
			return nil
		}
		if !embedded || strings.HasSuffix(name, "/") {
			return echo.ErrNotFound // no directory listings, nothing unversioned
		}
		// Asset URLs carry a hash of their content, so a changed file gets
		// a new URL and that URL can be cached for good, unless a shared
		// file may replace it under the same URL.
		cache := sharedCache
		if c.QueryParam("v") == version && !(sharedDir != "" && overridable[name]) {
			cache = "public, max-age=31536000, immutable"
		}
		c.Response().Header().Set(echo.HeaderCacheControl, cache)
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	e.GET("/favicon.ico", func(c echo.Context) error {
		if serveShared(c, sharedDir, "favicon.ico") {
			return nil
		}
		// Found, not Moved Permanently: browsers would keep a permanent
		// redirect past the day an operator adds a favicon.ico.
		return c.Redirect(http.StatusFound, assetURL("favicon.svg"))
	})
}

// serveShared answers with the regular file name under dir, if there is
// one. os.OpenInRoot keeps the lookup inside dir, whatever ".." or symbolic
// links the name holds.
func serveShared(c echo.Context, dir, name string) bool {
	if dir == "" || name == "" || strings.HasSuffix(name, "/") {
		return false
	}
	f, err := os.OpenInRoot(dir, name)
	if err != nil {
		return false // missing, or outside dir: the embedded assets answer
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	c.Response().Header().Set(echo.HeaderCacheControl, sharedCache)
	http.ServeContent(c.Response(), c.Request(), info.Name(), info.ModTime(), f)
	return true
}
