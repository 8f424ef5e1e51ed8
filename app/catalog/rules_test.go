package catalog

import (
	"bytes"
	"encoding/hex"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func validInput() BookInput {
	return BookInput{Title: "Cien años de soledad", Author: "Gabriel García Márquez", Description: "Macondo.", PriceCents: 2599, Stock: 3}
}

func TestValidateBook(t *testing.T) {
	tests := []struct {
		name   string
		change func(*BookInput)
		ok     bool
	}{
		{"valid", func(*BookInput) {}, true},
		{"empty title", func(in *BookInput) { in.Title = "" }, false},
		{"blank title", func(in *BookInput) { in.Title = " \t\n" }, false},
		{"title of 200 runes", func(in *BookInput) { in.Title = strings.Repeat("ñ", MaxTitleLength) }, true},
		{"title of 201 runes", func(in *BookInput) { in.Title = strings.Repeat("ñ", MaxTitleLength+1) }, false},
		{"no author", func(in *BookInput) { in.Author = "" }, true},
		{"author of 200 runes", func(in *BookInput) { in.Author = strings.Repeat("ñ", MaxAuthorLength) }, true},
		{"author of 201 runes", func(in *BookInput) { in.Author = strings.Repeat("ñ", MaxAuthorLength+1) }, false},
		{"no description", func(in *BookInput) { in.Description = "" }, true},
		{"description of 5000 runes", func(in *BookInput) { in.Description = strings.Repeat("ñ", MaxDescriptionLength) }, true},
		{"description of 5001 runes", func(in *BookInput) { in.Description = strings.Repeat("ñ", MaxDescriptionLength+1) }, false},
		{"free", func(in *BookInput) { in.PriceCents = 0 }, true},
		{"negative price", func(in *BookInput) { in.PriceCents = -1 }, false},
		{"maximum price", func(in *BookInput) { in.PriceCents = MaxPriceCents }, true},
		{"price over maximum", func(in *BookInput) { in.PriceCents = MaxPriceCents + 1 }, false},
		{"no stock", func(in *BookInput) { in.Stock = 0 }, true},
		{"negative stock", func(in *BookInput) { in.Stock = -1 }, false},
		{"maximum stock", func(in *BookInput) { in.Stock = MaxStock }, true},
		{"stock over maximum", func(in *BookInput) { in.Stock = MaxStock + 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			err := ValidateBook(in)
			if tt.ok && err != nil {
				t.Errorf("ValidateBook = %v, want nil", err)
			}
			if !tt.ok && bookstore.ErrorCode(err) != bookstore.EINVALID {
				t.Errorf("ValidateBook = %v, want %s", err, bookstore.EINVALID)
			}
		})
	}
}

func encode(t *testing.T, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 30, 30, 255})
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	return encode(t, func(w *bytes.Buffer, m image.Image) error { return jpeg.Encode(w, m, nil) })
}

func pngBytes(t *testing.T) []byte {
	return encode(t, func(w *bytes.Buffer, m image.Image) error { return png.Encode(w, m) })
}

// webpBytes is a real 1×1 lossless WebP file (the standard library has no encoder).
func webpBytes(t *testing.T) []byte {
	b, err := hex.DecodeString("524946461a000000574542505650384c0d0000002f0000001007100711118888fe0700")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSniffCover(t *testing.T) {
	gifBytes := encode(t, func(w *bytes.Buffer, m image.Image) error { return gif.Encode(w, m, nil) })
	hugeJPEG := append(jpegBytes(t), make([]byte, MaxCoverBytes)...)
	maxJPEG := append(jpegBytes(t), make([]byte, MaxCoverBytes)...)[:MaxCoverBytes]

	tests := []struct {
		name string
		data []byte
		ext  string
		code string
	}{
		{"jpeg", jpegBytes(t), ".jpg", ""},
		{"png", pngBytes(t), ".png", ""},
		{"webp", webpBytes(t), ".webp", ""},
		{"jpeg of exactly 2 MiB", maxJPEG, ".jpg", ""},
		{"jpeg one byte over 2 MiB", hugeJPEG[:MaxCoverBytes+1], "", bookstore.ETOOLARGE},
		{"empty", nil, "", bookstore.EUNSUPPORTED},
		// The client may call this cover.jpg and send image/jpeg: only bytes count.
		{"text named cover.jpg", []byte("definitely a jpeg, trust me\n"), "", bookstore.EUNSUPPORTED},
		{"html", []byte("<html><script>alert(1)</script></html>"), "", bookstore.EUNSUPPORTED},
		{"gif", gifBytes, "", bookstore.EUNSUPPORTED},
		{"pdf", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), "", bookstore.EUNSUPPORTED},
		{"wav (RIFF but not WEBP)", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "", bookstore.EUNSUPPORTED},
		{"truncated png signature", pngBytes(t)[:7], "", bookstore.EUNSUPPORTED},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "", bookstore.EUNSUPPORTED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ext, err := SniffCover(tt.data)
			if got := bookstore.ErrorCode(err); got != tt.code {
				t.Fatalf("SniffCover error = %v (code %q), want code %q", err, got, tt.code)
			}
			if ext != tt.ext {
				t.Errorf("ext = %q, want %q", ext, tt.ext)
			}
		})
	}
}
