package uploads_test

import (
	"bytes"
	"image"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/uploads"
)

// FuzzCheckCover feeds arbitrary bytes to the cover checks: they never
// panic, refuse with a client error (never an internal one), never let
// through a header over the pixel limits, and whatever ProcessCover accepts
// comes out as images within the stored sizes. The seed corpus is in
// testdata/fuzz/FuzzCheckCover (small valid images, lying headers).
func FuzzCheckCover(f *testing.F) {
	f.Add(encodedPNG(f, 3, 4))
	f.Add(encodedJPEG(f, 5, 3))
	f.Add(pngDeclaring(f, 60000, 60000))
	f.Add(withEXIF(f, encodedJPEG(f, 4, 4), "GPS"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := uploads.CheckCover(data)
		if err != nil {
			switch bookstore.ErrorCode(err) {
			case bookstore.EUNSUPPORTED, bookstore.EUNPROCESSABLE, bookstore.ETOOLARGE:
			default:
				t.Fatalf("CheckCover: %v (code %q), want a client error", err, bookstore.ErrorCode(err))
			}
			return
		}
		if cfg.Width > catalog.MaxCoverSide || cfg.Height > catalog.MaxCoverSide || cfg.Width*cfg.Height > catalog.MaxCoverPixels {
			t.Fatalf("CheckCover let %d×%d through", cfg.Width, cfg.Height)
		}
		if cfg.Width*cfg.Height > 1<<20 {
			return // decoding a large accepted image is fine but slow; the limits are what is fuzzed
		}
		cover, err := uploads.ProcessCover(data)
		if err != nil {
			if c := bookstore.ErrorCode(err); c != bookstore.EUNPROCESSABLE && c != bookstore.EUNSUPPORTED {
				t.Fatalf("ProcessCover: %v (code %q)", err, c)
			}
			return
		}
		for side, b := range map[int][]byte{catalog.CoverSide: cover.Full, catalog.ThumbSide: cover.Thumb} {
			out, _, err := image.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("re-encoded cover does not decode: %v", err)
			}
			if out.Width > side || out.Height > side {
				t.Fatalf("re-encoded cover is %d×%d, over %d", out.Width, out.Height, side)
			}
		}
	})
}
