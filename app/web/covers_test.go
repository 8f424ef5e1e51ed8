package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestCoverThumbnails(t *testing.T) {
	e := newEnv(t)
	const hex = "0123456789abcdef0123456789abcdef"
	files := map[string]string{
		hex + ".jpg":                            "full jpeg",
		hex + "-thumb.jpg":                      "thumb jpeg",
		"ffff0000ffff0000ffff0000ffff0000.webp": "legacy webp, stored before thumbnails",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(e.covers, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		path, body, contentType string
		status                  int
	}{
		{"/covers/" + hex + ".jpg", "full jpeg", "image/jpeg", http.StatusOK},
		{"/covers/" + hex + "-thumb.jpg", "thumb jpeg", "image/jpeg", http.StatusOK},
		// An old cover has no thumbnail: lists show the cover itself.
		{"/covers/ffff0000ffff0000ffff0000ffff0000-thumb.webp", "legacy webp, stored before thumbnails", "image/webp", http.StatusOK},
		{"/covers/ffff0000ffff0000ffff0000ffff0001-thumb.webp", "", "", http.StatusNotFound},
		{"/covers/" + hex + "-thumb-thumb.jpg", "", "", http.StatusNotFound},
		{"/covers/" + hex + "-thumbx.jpg", "", "", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			rec := e.do(req{method: http.MethodGet, target: tc.path})
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			if rec.Body.String() != tc.body || rec.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("got %q as %q, want %q as %q", rec.Body.String(), rec.Header().Get("Content-Type"), tc.body, tc.contentType)
			}
		})
	}
}
