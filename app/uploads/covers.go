package uploads

import (
	"context"
	"fmt"

	"github.com/tet-bookstore/bookstore/app/catalog"
)

// Covers is the catalog's cover storage: every upload is checked and
// re-encoded (ProcessCover) before it is written to the CoverDir with its
// thumbnail, so nothing a client sent is ever served byte for byte.
type Covers struct {
	dir *CoverDir
	// slots bounds how many uploads are decoded at once: a cover at the
	// pixel limit takes about 160 MB while it is scaled.
	slots chan struct{}
}

var _ catalog.CoverStorage = (*Covers)(nil)

// CoversOptions tune Covers.
type CoversOptions struct {
	// Parallel is how many uploads may be decoded at once; 0 means 2.
	Parallel int
}

// NewCovers returns the re-encoding storage over dir.
func NewCovers(dir *CoverDir, o CoversOptions) *Covers {
	if o.Parallel < 1 {
		o.Parallel = 2
	}
	return &Covers{dir: dir, slots: make(chan struct{}, o.Parallel)}
}

// Path is the directory the web server serves at /covers/.
func (c *Covers) Path() string { return c.dir.Path() }

// SaveCover re-encodes the image and stores it with its thumbnail; ext (the
// sniffed type) is ignored since the image's own header decides. Refusals
// are CheckCover's.
func (c *Covers) SaveCover(ctx context.Context, image []byte, _ string) (string, error) {
	if _, _, err := CheckCover(image); err != nil {
		return "", err // before waiting for a slot: refusing is cheap
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	cover, err := ProcessCover(image)
	<-c.slots
	if err != nil {
		return "", err
	}
	url, err := c.dir.saveWithThumb(ctx, cover.Full, cover.Thumb, cover.Ext)
	if err != nil {
		return "", fmt.Errorf("store cover: %w", err)
	}
	return url, nil
}

// DeleteCover removes a cover and its thumbnail.
func (c *Covers) DeleteCover(ctx context.Context, url string) error {
	return c.dir.DeleteCover(ctx, url)
}
