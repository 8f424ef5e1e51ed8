package pages

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func serveStatic(t *testing.T, sharedDir, target string) *httptest.ResponseRecorder {
	t.Helper()
	e := echo.New()
	routeStatic(e, sharedDir)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// Files in the shared static directory (on the shared file system in
// objectives 2 and 3) are served ahead of the embedded ones, and never
// anything outside it.
func TestSharedStaticFilesComeFirst(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "favicon.ico"), "shared-ico")
	write(filepath.Join(dir, "favicon.svg"), "<svg>shared</svg>")
	write(filepath.Join(dir, "logo.png"), "shared-logo")
	write(filepath.Join(dir, "app.css"), "shared-css")
	write(filepath.Join(outside, "secret.txt"), "secret")
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}

	rec := serveStatic(t, dir, "/favicon.ico")
	if rec.Code != http.StatusOK || rec.Body.String() != "shared-ico" {
		t.Errorf("/favicon.ico = %d %q, want the shared file", rec.Code, rec.Body.String())
	}
	rec = serveStatic(t, dir, assetURL("favicon.svg"))
	if rec.Code != http.StatusOK || rec.Body.String() != "<svg>shared</svg>" {
		t.Errorf("favicon.svg = %d %q, want the shared file", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get(echo.HeaderCacheControl); strings.Contains(cc, "immutable") {
		t.Errorf("a shared file is cached for good (%q): its URL's version is the embedded file's", cc)
	}
	if rec := serveStatic(t, dir, "/static/logo.png"); rec.Code != http.StatusOK || rec.Body.String() != "shared-logo" {
		t.Errorf("a new shared file = %d %q, want it served", rec.Code, rec.Body.String())
	}
	// app.css is cached for good under its hash: a shared one could never
	// reach a browser that has it, so it does not replace it.
	rec = serveStatic(t, dir, assetURL("app.css"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), ".btn-primary") || !strings.Contains(rec.Header().Get(echo.HeaderCacheControl), "immutable") {
		t.Errorf("app.css = %d %q, want the embedded file, cached for good", rec.Code, rec.Header().Get(echo.HeaderCacheControl))
	}
	// Even before a shared favicon.svg exists, the embedded one is not
	// cached for good when a shared directory could replace it.
	if cc := serveStatic(t, t.TempDir(), assetURL("favicon.svg")).Header().Get(echo.HeaderCacheControl); strings.Contains(cc, "immutable") {
		t.Errorf("an overridable favicon.svg is cached for good: %q", cc)
	}
	for _, target := range []string{"/static/leak.txt", "/static/sub/", "/static/sub", "/static/../" + filepath.Base(outside) + "/secret.txt"} {
		if rec := serveStatic(t, dir, target); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("%s = %d %q, want 404", target, rec.Code, rec.Body.String())
		}
	}

	// Without a shared directory, or without the file in it: the embedded favicon.
	for _, shared := range []string{"", t.TempDir()} {
		rec := serveStatic(t, shared, "/favicon.ico")
		if rec.Code != http.StatusFound || rec.Header().Get(echo.HeaderLocation) != assetURL("favicon.svg") {
			t.Errorf("shared %q: /favicon.ico = %d → %q, want a redirect to the embedded favicon", shared, rec.Code, rec.Header().Get(echo.HeaderLocation))
		}
	}
}
