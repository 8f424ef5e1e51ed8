package apitest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
)

// testCoverReencoded: covers are the server's own re-encoding, never the
// uploaded bytes: a header declaring a decompression bomb is refused before
// decoding, and a photo's EXIF (GPS position included) is gone.
func (s *suite) testCoverReencoded(t *testing.T) {
	seller, _ := s.signUp(t, "Photographer")
	b := s.newBook(t, seller, "The Road", 1500, 1)
	route := path("/api/v1/books/%d/cover", b.ID)

	res := seller.upload("PUT", route, "cover", "bomb.png", "image/png", pngDeclaring(t, 60000, 60000), http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.Body), "pixels") {
		t.Errorf("422 body %s does not say why", res.Body)
	}

	const gps = "GPS\x00N 59deg 26' 12.3\" E 24deg 45' 11.1\""
	photo := jpegWithEXIF(t, gps)
	got := decodeInto[book](t, seller.upload("PUT", route, "cover", "photo.jpg", "image/jpeg", photo, http.StatusOK))
	for _, url := range []string{got.CoverURL, strings.TrimSuffix(got.CoverURL, ".jpg") + "-thumb.jpg"} {
		res := newClient(t, s.base).send("GET", url, "", nil)
		if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET %s = %d %q", url, res.Status, res.Header.Get("Content-Type"))
		}
		if bytes.Contains(res.Body, []byte("Exif")) || bytes.Contains(res.Body, []byte("59deg")) {
			t.Errorf("%s still carries the uploaded EXIF/GPS bytes", url)
		}
		if _, err := jpeg.Decode(bytes.NewReader(res.Body)); err != nil {
			t.Errorf("%s is not a JPEG: %v", url, err)
		}
	}
}

// pngDeclaring is a tiny PNG whose header (with a valid checksum) declares w×h.
func pngDeclaring(t *testing.T, w, h uint32) []byte {
	t.Helper()
	b := pngImage(t)
	ihdr := b[16:29]
	binary.BigEndian.PutUint32(ihdr[0:4], w)
	binary.BigEndian.PutUint32(ihdr[4:8], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegWithEXIF is a small JPEG with an APP1 Exif segment, as cameras write.
func jpegWithEXIF(t *testing.T, payload string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 24)), nil); err != nil {
		t.Fatal(err)
	}
	jpg := buf.Bytes()
	seg := append([]byte("Exif\x00\x00"), payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xFF, 0xE1, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}
