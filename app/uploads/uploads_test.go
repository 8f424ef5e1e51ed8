package uploads_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/uploads"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 1000)...)

func newDir(t *testing.T) (*uploads.CoverDir, string) {
	t.Helper()
	root := t.TempDir()
	c, err := uploads.NewCoverDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return c, root
}

func TestNewCoverDirCreatesCovers(t *testing.T) {
	c, root := newDir(t)
	want := filepath.Join(root, "covers")
	if c.Path() != want {
		t.Fatalf("Path() = %q, want %q", c.Path(), want)
	}
	fi, err := os.Stat(want)
	if err != nil || !fi.IsDir() {
		t.Fatalf("covers directory: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		t.Fatalf("covers directory is open to others: %v", perm)
	}
	if _, err := uploads.NewCoverDir(""); err == nil {
		t.Fatal("an empty directory name was accepted")
	}
}

// Saved covers get a fresh random name chosen by the server, hold exactly
// the bytes given, and leave no temporary file behind.
func TestSaveCover(t *testing.T) {
	c, _ := newDir(t)
	ctx := context.Background()
	url, err := c.SaveCover(ctx, png, ".png")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/covers/[0-9a-f]{32}\.png$`).MatchString(url) {
		t.Fatalf("url = %q", url)
	}
	got, err := os.ReadFile(filepath.Join(c.Path(), strings.TrimPrefix(url, "/covers/")))
	if err != nil || !bytes.Equal(got, png) {
		t.Fatalf("stored bytes differ (%v)", err)
	}
	url2, err := c.SaveCover(ctx, png, ".png")
	if err != nil || url2 == url {
		t.Fatalf("second save of the same image = %q, %v; want a new name", url2, err)
	}
	entries, _ := os.ReadDir(c.Path())
	if len(entries) != 2 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("covers directory holds %v, want just the two covers", names)
	}
	for _, ext := range []string{".jpg", ".webp"} {
		if _, err := c.SaveCover(ctx, png, ext); err != nil {
			t.Errorf("%s: %v", ext, err)
		}
	}
}

// The extension is one of three the server knows; nothing else (a client's
// file name, a path) can become part of a name.
func TestSaveCoverRefusesOtherExtensions(t *testing.T) {
	c, root := newDir(t)
	for _, ext := range []string{"", ".html", ".svg", "/../../evil.png", ".png/../../x", "../x.jpg"} {
		_, err := c.SaveCover(context.Background(), png, ext)
		if bookstore.ErrorCode(err) != bookstore.EUNSUPPORTED {
			t.Errorf("SaveCover with extension %q: %v", ext, err)
		}
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("refused saves left files: %v", files)
	}
}

// Concurrent readers of a cover being written see nothing or all of it:
// the file appears under its name only once complete (temp file + rename).
func TestSaveCoverIsAtomic(t *testing.T) {
	c, _ := newDir(t)
	big := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("cover"), 400_000)...) // 2 MB
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var partial []string
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			entries, _ := os.ReadDir(c.Path())
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue // the temporary file, never served: names starting with '.' are not covers
				}
				data, err := os.ReadFile(filepath.Join(c.Path(), e.Name()))
				if err == nil && len(data) != len(big) {
					mu.Lock()
					partial = append(partial, e.Name())
					mu.Unlock()
				}
			}
		}
	}()
	for i := 0; i < 10; i++ {
		if _, err := c.SaveCover(context.Background(), big, ".png"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(partial) > 0 {
		t.Fatalf("readers saw partly written covers: %v", partial)
	}
}

func TestDeleteCover(t *testing.T) {
	c, _ := newDir(t)
	ctx := context.Background()
	url, err := c.SaveCover(ctx, png, ".png")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteCover(ctx, url); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.Path(), strings.TrimPrefix(url, "/covers/"))); !os.IsNotExist(err) {
		t.Fatalf("cover still there: %v", err)
	}
	// Already gone is fine.
	if err := c.DeleteCover(ctx, url); err != nil {
		t.Fatalf("deleting a missing cover: %v", err)
	}
}

// DeleteCover touches only names the server made, in its own directory.
func TestDeleteCoverRefusesTraversal(t *testing.T) {
	c, root := newDir(t)
	ctx := context.Background()
	victims := map[string]string{
		filepath.Join(root, "secret.txt"):                       "keep me",
		filepath.Join(c.Path(), "notes.png"):                    "not a server name",
		filepath.Join(c.Path(), strings.Repeat("a", 32)+".gif"): "wrong extension",
	}
	for p, data := range victims {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, url := range []string{
		"/covers/../secret.txt",
		"/covers/..%2fsecret.txt",
		"/covers/notes.png",
		"/covers/" + strings.Repeat("a", 32) + ".gif",
		"/covers/" + strings.Repeat("A", 32) + ".png",
		"/covers/sub/" + strings.Repeat("a", 32) + ".png",
		"/etc/passwd",
		"../secret.txt",
		filepath.Join(root, "secret.txt"),
		"",
	} {
		err := c.DeleteCover(ctx, url)
		if bookstore.ErrorCode(err) != bookstore.EINVALID {
			t.Errorf("DeleteCover(%q) = %v, want a refusal", url, err)
		}
	}
	for p := range victims {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}
