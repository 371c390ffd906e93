package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadImages feeds hostile files to the folder loader's decoding: any
// bytes give a dataset whose shape fits its values or an error naming the
// file — never a panic — and no file may make it decode more than
// MaxPixels pixels. Seeds: the fixtures, truncated ones, and a PNG and a
// JPEG declaring enormous sizes.
func FuzzReadImages(f *testing.F) {
	for _, name := range []string{"gray8.png", "gray16.png", "rgb.png", "rgba.png", "paletted.png", "gray.jpg", "rgb.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", "images", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:len(b)-5])
		if strings.HasSuffix(name, ".png") {
			f.Add(setPNGSize(f, b, 100000, 100000))
		} else {
			f.Add(setJPEGSize(f, b, 65000, 65000))
		}
	}
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("BM"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file := filepath.Join(t.TempDir(), "f.png")
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		const maxPixels = 1 << 16
		d, shape, kept, _, err := ReadImages([]string{file}, FolderOptions{MaxPixels: maxPixels, Workers: 1})
		if err != nil {
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(kept) != 1 || d.N != 1 || shape[0]*shape[1]*shape[2] != d.Features || shape[1]*shape[2] > maxPixels {
			t.Fatalf("shape %v, %d features, %d samples", shape, d.Features, d.N)
		}
		if len(d.U8)+len(d.F64) != d.Features || (d.U8 != nil) == (d.F64 != nil) {
			t.Fatalf("%d and %d values for %d features", len(d.U8), len(d.F64), d.Features)
		}
		for _, v := range d.F64 {
			if v < 0 || v > 1 {
				t.Fatalf("value %g outside [0, 1]", v)
			}
		}
	})
}
