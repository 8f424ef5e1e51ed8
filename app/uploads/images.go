package uploads

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP for image.DecodeConfig and image.Decode

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
)

// jpegQuality keeps photos sharp at a fraction of a camera file's size.
const jpegQuality = 85

// Cover is an uploaded image made fit to serve: decoded and encoded again
// by the server, so nothing the uploader's file carried besides its pixels
// (EXIF, GPS position, comments, colour profiles, trailing bytes) survives,
// at most catalog.CoverSide pixels on its longer side, with a thumbnail of
// at most catalog.ThumbSide for lists.
type Cover struct {
	Full, Thumb []byte
	// Ext is the files' extension: ".png" for PNG uploads (lossless, keeps
	// transparency), ".jpg" for JPEG and WebP (no pure-Go WebP encoder is
	// good enough to keep the format).
	Ext string
}

// CheckCover reads only the image's header and refuses, before a single
// pixel is decoded, anything that is not a JPEG, PNG or WebP (EUNSUPPORTED)
// or that declares more pixels than catalog.CheckCoverSize allows
// (EUNPROCESSABLE): a 2 KB file can declare 60000×60000 pixels.
func CheckCover(data []byte) (image.Config, string, error) {
	if len(data) > catalog.MaxCoverBytes {
		return image.Config{}, "", bookstore.Errorf(bookstore.ETOOLARGE, "cover must be at most 2 MiB")
	}
	if _, err := catalog.SniffCover(data); err != nil {
		return image.Config{}, "", err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return image.Config{}, "", bookstore.Errorf(bookstore.EUNPROCESSABLE, "cover is not a readable JPEG, PNG or WebP image")
	}
	switch format {
	case "jpeg", "png", "webp":
	default:
		return image.Config{}, "", bookstore.Errorf(bookstore.EUNSUPPORTED, "cover must be a JPEG, PNG or WebP image")
	}
	if err := catalog.CheckCoverSize(cfg.Width, cfg.Height); err != nil {
		return image.Config{}, "", err
	}
	return cfg, format, nil
}

// ProcessCover checks the header (CheckCover), decodes the image, scales it
// down and encodes the cover and its thumbnail.
func ProcessCover(data []byte) (Cover, error) {
	cfg, format, err := CheckCover(data)
	if err != nil {
		return Cover{}, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Cover{}, bookstore.Errorf(bookstore.EUNPROCESSABLE, "cover image is damaged and cannot be read")
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		// The header checked is not the image decoded: refuse rather than trust either.
		return Cover{}, bookstore.Errorf(bookstore.EUNPROCESSABLE, "cover image is damaged and cannot be read")
	}
	encode, ext := encodeJPEG, ".jpg"
	if format == "png" {
		encode, ext = encodePNG, ".png"
	} else {
		img = opaque(img) // JPEG has no transparency: WebP's goes on white
	}
	full := fit(img, catalog.CoverSide)
	thumb := fit(full, catalog.ThumbSide)
	c := Cover{Ext: ext}
	if c.Full, err = encode(full); err != nil {
		return Cover{}, fmt.Errorf("encode cover: %w", err)
	}
	if c.Thumb, err = encode(thumb); err != nil {
		return Cover{}, fmt.Errorf("encode cover thumbnail: %w", err)
	}
	return c, nil
}

// fit scales img down (never up) so its longer side is at most side.
func fit(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	if w >= h {
		w, h = side, max(1, h*side/w)
	} else {
		w, h = max(1, w*side/h), side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h)) // the resampler's fast paths write RGBA
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// opaque lays an image that may be transparent over white.
func opaque(img image.Image) image.Image {
	if _, ok := img.(*image.YCbCr); ok { // JPEG's own: never transparent, keep it as it is
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
	return buf.Bytes(), err
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	err := png.Encode(&buf, img)
	return buf.Bytes(), err
}
