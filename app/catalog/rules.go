package catalog

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Limits of a listing.
const (
	MaxTitleLength       = 200
	MaxAuthorLength      = 200
	MaxDescriptionLength = 5000
	MaxPriceCents        = 100_000_000 // 1,000,000.00
	MaxStock             = 100_000
	MaxCoverBytes        = 2 << 20 // 2 MiB
	// A cover's declared size is checked before any pixel is decoded: a
	// small file can declare a picture that takes gigabytes to decode.
	MaxCoverPixels = 40_000_000
	MaxCoverSide   = 10_000
	// Covers are stored at most CoverSide pixels on their longer side, with
	// a thumbnail of at most ThumbSide for lists.
	CoverSide = 1200
	ThumbSide = 400
)

func trimInput(in BookInput) BookInput {
	in.Title = strings.TrimSpace(in.Title)
	in.Author = strings.TrimSpace(in.Author)
	in.Description = strings.TrimSpace(in.Description)
	return in
}

// ValidateBook checks a listing against the catalog's rules.
func ValidateBook(in BookInput) error {
	switch {
	case strings.TrimSpace(in.Title) == "": // callers outside this package may not have trimmed
		return bookstore.Errorf(bookstore.EINVALID, "title is required")
	case utf8.RuneCountInString(in.Title) > MaxTitleLength:
		return bookstore.Errorf(bookstore.EINVALID, "title must be at most %d characters", MaxTitleLength)
	case utf8.RuneCountInString(in.Author) > MaxAuthorLength:
		return bookstore.Errorf(bookstore.EINVALID, "author must be at most %d characters", MaxAuthorLength)
	case utf8.RuneCountInString(in.Description) > MaxDescriptionLength:
		return bookstore.Errorf(bookstore.EINVALID, "description must be at most %d characters", MaxDescriptionLength)
	case in.PriceCents < 0:
		return bookstore.Errorf(bookstore.EINVALID, "price must not be negative")
	case in.PriceCents > MaxPriceCents:
		return bookstore.Errorf(bookstore.EINVALID, "price must be at most %d cents", MaxPriceCents)
	case in.Stock < 0:
		return bookstore.Errorf(bookstore.EINVALID, "stock must not be negative")
	case in.Stock > MaxStock:
		return bookstore.Errorf(bookstore.EINVALID, "stock must be at most %d", MaxStock)
	}
	return nil
}

// SniffCover returns the file extension of a JPEG, PNG or WebP image judged by
// its bytes alone; the client's file name and content type are never trusted.
func SniffCover(image []byte) (ext string, err error) {
	if len(image) > MaxCoverBytes {
		return "", bookstore.Errorf(bookstore.ETOOLARGE, "cover must be at most 2 MiB")
	}
	switch {
	case len(image) >= 3 && bytes.Equal(image[:3], []byte{0xFF, 0xD8, 0xFF}):
		return ".jpg", nil
	case len(image) >= 8 && bytes.Equal(image[:8], []byte("\x89PNG\r\n\x1a\n")):
		return ".png", nil
	case len(image) >= 12 && bytes.Equal(image[:4], []byte("RIFF")) && bytes.Equal(image[8:12], []byte("WEBP")):
		return ".webp", nil
	}
	return "", bookstore.Errorf(bookstore.EUNSUPPORTED, "cover must be a JPEG, PNG or WebP image")
}

// CheckCoverSize refuses a cover whose header declares too many pixels
// (EUNPROCESSABLE), before anything decodes it.
func CheckCoverSize(width, height int) error {
	switch {
	case width < 1 || height < 1:
		return bookstore.Errorf(bookstore.EUNPROCESSABLE, "cover has no pixels")
	case width > MaxCoverSide || height > MaxCoverSide:
		return bookstore.Errorf(bookstore.EUNPROCESSABLE, "cover must be at most %d pixels on each side, not %d×%d", MaxCoverSide, width, height)
	case int64(width)*int64(height) > MaxCoverPixels:
		return bookstore.Errorf(bookstore.EUNPROCESSABLE, "cover must be at most %d megapixels, not %d×%d", MaxCoverPixels/1_000_000, width, height)
	}
	return nil
}
