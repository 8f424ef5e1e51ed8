package uploads_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	stdpng "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/uploads"
)

func picture(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	return img
}

func encodedPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := stdpng.Encode(&buf, picture(w, h)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodedJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, picture(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngDeclaring rewrites a PNG's IHDR (with a valid checksum) to declare w×h.
func pngDeclaring(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encodedPNG(t, 2, 2)
	ihdr := b[8+8 : 8+8+13] // after the signature, the chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:4], w)
	binary.BigEndian.PutUint32(ihdr[4:8], h)
	binary.BigEndian.PutUint32(b[8+8+13:], crc32.ChecksumIEEE(b[8+4:8+8+13]))
	return b
}

// jpegDeclaring rewrites a baseline JPEG's frame header to declare w×h.
func jpegDeclaring(t testing.TB, w, h uint16) []byte {
	t.Helper()
	b := encodedJPEG(t, 8, 8)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// withEXIF inserts an APP1 Exif segment (GPS position included) after SOI,
// as a phone's camera does.
func withEXIF(t testing.TB, jpg []byte, payload string) []byte {
	t.Helper()
	seg := append([]byte("Exif\x00\x00"), payload...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func TestCheckCoverRefusesDeclaredSizes(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		code string
	}{
		{"PNG 60000×60000 in a few bytes", pngDeclaring(t, 60000, 60000), bookstore.EUNPROCESSABLE},
		{"PNG 10001 wide", pngDeclaring(t, 10001, 10), bookstore.EUNPROCESSABLE},
		{"PNG 8000×6000 is 48 megapixels", pngDeclaring(t, 8000, 6000), bookstore.EUNPROCESSABLE},
		{"JPEG 60000×60000", jpegDeclaring(t, 60000, 60000), bookstore.EUNPROCESSABLE},
		{"JPEG 10001 high", jpegDeclaring(t, 100, 10001), bookstore.EUNPROCESSABLE},
		{"PNG signature then garbage", append([]byte("\x89PNG\r\n\x1a\n"), "garbage"...), bookstore.EUNPROCESSABLE},
		{"text", []byte("<svg onload=alert(1)>"), bookstore.EUNSUPPORTED},
		{"PNG 10000×4000 is allowed", pngDeclaring(t, 10000, 4000), ""},
		{"real JPEG", encodedJPEG(t, 30, 20), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := uploads.CheckCover(tc.data)
			if got := bookstore.ErrorCode(err); got != tc.code {
				t.Fatalf("CheckCover: code %q (%v), want %q", got, err, tc.code)
			}
			if tc.code == "" {
				return
			}
			if _, err := uploads.ProcessCover(tc.data); bookstore.ErrorCode(err) != tc.code {
				t.Fatalf("ProcessCover: %v, want code %q", err, tc.code)
			}
		})
	}
	_, _, err := uploads.CheckCover(pngDeclaring(t, 60000, 60000))
	if msg := bookstore.ErrorMessage(err); !strings.Contains(msg, "10000 pixels") {
		t.Errorf("message %q does not say the limit", msg)
	}
}

func TestProcessCoverStripsMetadata(t *testing.T) {
	const secret = "GPS\x00N 59deg 26' 12.3\" E 24deg 45' 11.1\" owner:jane.doe@example.com"
	in := withEXIF(t, encodedJPEG(t, 64, 48), secret)
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("the test's JPEG with EXIF does not decode: %v", err)
	}
	cover, err := uploads.ProcessCover(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range [][]byte{cover.Full, cover.Thumb} {
		for _, leak := range []string{"Exif", "GPS", "jane.doe", "59deg"} {
			if bytes.Contains(out, []byte(leak)) {
				t.Errorf("re-encoded cover still contains %q", leak)
			}
		}
	}
	if cover.Ext != ".jpg" {
		t.Errorf("ext %q, want .jpg", cover.Ext)
	}
}

func TestProcessCoverScalesDown(t *testing.T) {
	cases := []struct {
		name                    string
		data                    []byte
		ext                     string
		fullW, fullH            int
		thumbW, thumbH          int
		decodeFull, decodeThumb func([]byte) (image.Image, error)
	}{
		{"wide PNG", encodedPNG(t, 1500, 750), ".png", 1200, 600, 400, 200, decodePNG, decodePNG},
		{"tall JPEG", encodedJPEG(t, 500, 1500), ".jpg", 400, 1200, 133, 400, decodeJPEG, decodeJPEG},
		{"small PNG is never scaled up", encodedPNG(t, 300, 200), ".png", 300, 200, 300, 200, decodePNG, decodePNG},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cover, err := uploads.ProcessCover(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if cover.Ext != tc.ext {
				t.Errorf("ext %q, want %q", cover.Ext, tc.ext)
			}
			wantSize(t, "cover", cover.Full, tc.decodeFull, tc.fullW, tc.fullH)
			wantSize(t, "thumbnail", cover.Thumb, tc.decodeThumb, tc.thumbW, tc.thumbH)
		})
	}
}

func decodePNG(b []byte) (image.Image, error)  { return stdpng.Decode(bytes.NewReader(b)) }
func decodeJPEG(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }

func wantSize(t *testing.T, what string, b []byte, decode func([]byte) (image.Image, error), w, h int) {
	t.Helper()
	img, err := decode(b)
	if err != nil {
		t.Fatalf("%s does not decode: %v", what, err)
	}
	if got := img.Bounds().Size(); got != image.Pt(w, h) {
		t.Errorf("%s is %v, want %dx%d", what, got, w, h)
	}
}

func TestCoversSavesThumbnailAndDeletesBoth(t *testing.T) {
	dir, err := uploads.NewCoverDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	covers := uploads.NewCovers(dir, uploads.CoversOptions{})
	ctx := context.Background()
	url, err := covers.SaveCover(ctx, encodedJPEG(t, 900, 1800), ".jpg")
	if err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir.Path(), strings.TrimPrefix(url, uploads.URLPrefix))
	thumb := filepath.Join(dir.Path(), strings.TrimPrefix(uploads.ThumbURL(url), uploads.URLPrefix))
	for _, f := range []string{full, thumb} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(thumb)
	wantSize(t, "stored thumbnail", b, decodeJPEG, catalog.ThumbSide/2, catalog.ThumbSide)
	if _, err := covers.SaveCover(ctx, pngDeclaring(t, 60000, 60000), ".png"); bookstore.ErrorCode(err) != bookstore.EUNPROCESSABLE {
		t.Errorf("a declared 60000×60000 PNG: %v, want unprocessable", err)
	}
	if err := covers.DeleteCover(ctx, url); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{full, thumb} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s still there after DeleteCover (%v)", f, err)
		}
	}
	entries, _ := os.ReadDir(dir.Path())
	if len(entries) != 0 {
		t.Errorf("left in the covers directory: %v", entries)
	}
}

func TestThumbURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"/covers/ab12.jpg": "/covers/ab12-thumb.jpg",
		"/covers/ab12.png": "/covers/ab12-thumb.png",
	} {
		if got := uploads.ThumbURL(in); got != want {
			t.Errorf("ThumbURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkProcessCover: a camera-sized JPEG (2000×3000, 6 MP) re-encoded
// to its 1200 px cover and 400 px thumbnail.
func BenchmarkProcessCover(b *testing.B) {
	data := encodedJPEG(b, 2000, 3000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := uploads.ProcessCover(data); err != nil {
			b.Fatal(err)
		}
	}
}
