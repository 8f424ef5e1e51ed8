// Package uploads keeps uploaded files on disk. Names are always made by
// the server; nothing the client sends (file name, content type) reaches
// the file system.
package uploads

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// URLPrefix is where the web server serves the covers directory.
const URLPrefix = "/covers/"

// coverName is the only shape of name SaveCover makes, and so the only one
// DeleteCover touches: 32 lowercase hex digits and a known image extension.
var coverName = regexp.MustCompile(`^[0-9a-f]{32}\.(jpg|png|webp)$`)

// CoverDir stores book covers as DIR/covers/<random hex><ext>.
type CoverDir struct {
	dir string
}

var _ catalog.CoverStorage = (*CoverDir)(nil)

// NewCoverDir creates DIR/covers (mode 0750) if needed.
func NewCoverDir(dir string) (*CoverDir, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("uploads directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("uploads directory %s: %w", dir, err)
	}
	covers := filepath.Join(abs, "covers")
	if err := os.MkdirAll(covers, 0o750); err != nil {
		return nil, fmt.Errorf("create covers directory: %w", err)
	}
	return &CoverDir{dir: covers}, nil
}

// SharedStaticDir creates DIR/static (mode 0755) if needed and returns it:
// files an operator puts there (a favicon, a logo) are served at /static/
// ahead of the embedded assets. On a shared uploads directory (EFS, the
// Swarm's NFS volume) every instance serves the same ones.
func SharedStaticDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("shared static directory: %w", err)
	}
	static := filepath.Join(abs, "static")
	if err := os.MkdirAll(static, 0o755); err != nil {
		return "", fmt.Errorf("create shared static directory: %w", err)
	}
	return static, nil
}

// Path is the directory the web server serves at /covers/.
func (c *CoverDir) Path() string { return c.dir }

// SaveCover writes the image under a fresh random name, atomically (see
// writeFile), as it is: Covers is the storage that re-encodes uploads first.
func (c *CoverDir) SaveCover(ctx context.Context, image []byte, ext string) (string, error) {
	switch ext {
	case ".jpg", ".png", ".webp":
	default:
		return "", bookstore.Errorf(bookstore.EUNSUPPORTED, "cover extension %q is not supported", ext)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	base, err := randomName()
	if err != nil {
		return "", err
	}
	if err := c.writeFile(base+ext, image); err != nil {
		return "", err
	}
	return URLPrefix + base + ext, nil
}

// saveWithThumb writes a cover and its thumbnail under one fresh name, the
// thumbnail first, so a cover that exists always has its thumbnail.
func (c *CoverDir) saveWithThumb(ctx context.Context, full, thumb []byte, ext string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	base, err := randomName()
	if err != nil {
		return "", err
	}
	if err := c.writeFile(base+ThumbSuffix+ext, thumb); err != nil {
		return "", err
	}
	if err := c.writeFile(base+ext, full); err != nil {
		os.Remove(filepath.Join(c.dir, base+ThumbSuffix+ext))
		return "", err
	}
	return URLPrefix + base + ext, nil
}

func randomName() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random cover name: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeFile writes a file atomically: the bytes go to a temporary file in
// the same directory, are synced, and the file is renamed into place, so a
// reader never sees half a cover.
func (c *CoverDir) writeFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(c.dir, ".upload-*.tmp")
	if err != nil {
		return fmt.Errorf("create cover file: %w", err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(fmt.Errorf("write cover file: %w", err))
	}
	if err := tmp.Chmod(0o640); err != nil {
		return fail(fmt.Errorf("chmod cover file: %w", err))
	}
	if err := tmp.Sync(); err != nil {
		return fail(fmt.Errorf("sync cover file: %w", err))
	}
	if err := tmp.Close(); err != nil {
		return fail(fmt.Errorf("close cover file: %w", err))
	}
	if err := os.Rename(tmpName, filepath.Join(c.dir, name)); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("move cover file into place: %w", err)
	}
	syncDir(c.dir) // the rename itself survives a crash only once the directory is synced
	return nil
}

// DeleteCover removes a cover SaveCover made, and its thumbnail if it has
// one. Anything that is not one of its names (other directories, "..",
// foreign files) is refused untouched; a missing file is not an error.
func (c *CoverDir) DeleteCover(_ context.Context, url string) error {
	name, ok := strings.CutPrefix(url, URLPrefix)
	if !ok || !coverName.MatchString(name) {
		return bookstore.Errorf(bookstore.EINVALID, "not a cover this server stored: %q", url)
	}
	ext := filepath.Ext(name)
	for _, n := range []string{strings.TrimSuffix(name, ext) + ThumbSuffix + ext, name} {
		err := os.Remove(filepath.Join(c.dir, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete cover %s: %w", n, err)
		}
	}
	return nil
}

// ThumbSuffix comes before the extension of a cover's thumbnail:
// /covers/NAME.jpg has its thumbnail at /covers/NAME-thumb.jpg. Covers saved
// before thumbnails existed have none; the web server then serves the cover.
const ThumbSuffix = "-thumb"

// ThumbURL is the URL of a cover's thumbnail ("" for no cover).
func ThumbURL(coverURL string) string {
	if coverURL == "" {
		return ""
	}
	ext := filepath.Ext(coverURL)
	return strings.TrimSuffix(coverURL, ext) + ThumbSuffix + ext
}

func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
