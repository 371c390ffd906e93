package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// writePNG writes img as a PNG file at path, making its folders.
func writePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// grayPNG is a 2×3 gray image whose pixels are all v.
func grayPNG(v uint8) image.Image {
	img := image.NewGray(image.Rect(0, 0, 2, 3))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstValues is the first raw value of every sample: the tests' images
// are uniform, so it names the file a sample came from.
func firstValues(d *Dataset) []int {
	var v []int
	for i := range d.N {
		v = append(v, int(d.U8[i*d.Features]))
	}
	return v
}

func TestReadFolderFindsClassesAndFiles(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "b", "x.png"), grayPNG(20))
	writePNG(t, filepath.Join(dir, "b", "a", "deep", "y.PNG"), grayPNG(21)) // nested, upper-case ending
	writePNG(t, filepath.Join(dir, "b", "a.png"), grayPNG(22))              // path order: b/a.png before b/a/deep/y.PNG
	writePNG(t, filepath.Join(dir, "a", "z.png"), grayPNG(10))
	writePNG(t, filepath.Join(dir, "a", ".hidden.png"), grayPNG(99))
	writePNG(t, filepath.Join(dir, "a", ".cache", "w.png"), grayPNG(98))
	writeFile(t, filepath.Join(dir, "a", "notes.txt"), "not an image")
	writePNG(t, filepath.Join(dir, ".git", "objects", "q.png"), grayPNG(97)) // a hidden folder is no class
	writeFile(t, filepath.Join(dir, "README.md"), "a file beside the classes")
	writePNG(t, filepath.Join(dir, "Ünïcödé 猫", "ß.png"), grayPNG(30))
	f, err := ReadFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := f.Train
	if want := []string{"a", "b", "Ünïcödé 猫"}; !slices.Equal(d.Classes, want) {
		t.Errorf("classes %q, want %q", d.Classes, want)
	}
	if got, want := firstValues(d), []int{10, 22, 21, 20, 30}; !slices.Equal(got, want) {
		t.Errorf("samples (by pixel value) %v, want %v", got, want)
	}
	if want := []int32{0, 1, 1, 1, 2}; !slices.Equal(d.Labels, want) {
		t.Errorf("labels %v, want %v", d.Labels, want)
	}
	if f.Skipped != 2 { // .hidden.png and notes.txt; .cache is a hidden folder, skipped whole
		t.Errorf("skipped %d files, want 2", f.Skipped)
	}
	if f.Shape != [3]int{1, 3, 2} || d.Features != 6 || f.Val != nil || f.Test != nil {
		t.Errorf("shape %v, %d features, val %v, test %v", f.Shape, d.Features, f.Val, f.Test)
	}
	if !strings.HasSuffix(f.Files[1], filepath.Join("b", "a.png")) || len(f.Files) != 5 {
		t.Errorf("files %q", f.Files)
	}
	if err := d.Validate(); err != nil {
		t.Error(err)
	}
}

func TestReadFolderSplits(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []struct {
		split string
		v     uint8
	}{{"train", 1}, {"val", 2}, {"test", 3}} {
		writePNG(t, filepath.Join(dir, s.split, "cat", "1.png"), grayPNG(s.v))
		writePNG(t, filepath.Join(dir, s.split, "dog", "1.png"), grayPNG(s.v+10))
		writePNG(t, filepath.Join(dir, s.split, "dog", "2.png"), grayPNG(s.v+20))
	}
	f, err := ReadFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d    *Dataset
		want []int
	}{{f.Train, []int{1, 11, 21}}, {f.Val, []int{2, 12, 22}}, {f.Test, []int{3, 13, 23}}} {
		if c.d == nil {
			t.Fatal("a split is missing")
		}
		if got := firstValues(c.d); !slices.Equal(got, c.want) || !slices.Equal(c.d.Labels, []int32{0, 1, 1}) || !slices.Equal(c.d.Classes, []string{"cat", "dog"}) {
			t.Errorf("%s: samples %v labels %v classes %q, want %v", c.d.Name, got, c.d.Labels, c.d.Classes, c.want)
		}
	}

	// Without val/, there are two splits.
	if err := os.RemoveAll(filepath.Join(dir, "val")); err != nil {
		t.Fatal(err)
	}
	if f, err = ReadFolder(dir, FolderOptions{}); err != nil || f.Val != nil || f.Test == nil || f.Train.N != 3 {
		t.Fatalf("train and test: %+v, %v", f, err)
	}
	// A class missing from test/, or one that train/ lacks.
	if err := os.RemoveAll(filepath.Join(dir, "test", "dog")); err != nil {
		t.Fatal(err)
	}
	expectError(t, dir, FolderOptions{}, `no folder for class "dog"`, filepath.Join(dir, "test"))
	writePNG(t, filepath.Join(dir, "test", "dog", "1.png"), grayPNG(3))
	writePNG(t, filepath.Join(dir, "test", "emu", "1.png"), grayPNG(3))
	expectError(t, dir, FolderOptions{}, `class folder "emu" is not a class of`, filepath.Join(dir, "test", "emu"))
	// A model's classes: emu is unknown to it.
	expectError(t, dir, FolderOptions{Classes: []string{"cat", "dog"}}, `class "emu" is not one of the model's 2 classes (cat, dog)`)
	// Known classes take the model's labels, whichever folders there are.
	if err := os.RemoveAll(filepath.Join(dir, "test", "emu")); err != nil {
		t.Fatal(err)
	}
	f, err = ReadFolder(dir, FolderOptions{Classes: []string{"ant", "cat", "dog"}})
	if err != nil || !slices.Equal(f.Train.Labels, []int32{1, 2, 2}) {
		t.Fatalf("with the model's classes: %v, %v", f, err)
	}
}

// expectError reads dir with opt and checks that the error says each of
// want.
func expectError(t *testing.T, dir string, opt FolderOptions, want ...string) error {
	t.Helper()
	_, err := ReadFolder(dir, opt)
	if err == nil {
		t.Fatalf("%s: no error, want one saying %q", dir, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	return err
}

func TestReadFolderErrors(t *testing.T) {
	dir := t.TempDir()
	expectError(t, filepath.Join(dir, "none"), FolderOptions{}, filepath.Join(dir, "none"))
	writeFile(t, filepath.Join(dir, "file"), "x")
	expectError(t, filepath.Join(dir, "file"), FolderOptions{}, "not a folder")
	expectError(t, dir, FolderOptions{}, "no class folders")

	writePNG(t, filepath.Join(dir, "a", "1.png"), grayPNG(1))
	writeFile(t, filepath.Join(dir, "b", "readme.txt"), "no images here")
	expectError(t, dir, FolderOptions{}, filepath.Join(dir, "b"), `class "b" holds no image files`)

	big := image.NewGray(image.Rect(0, 0, 3, 3))
	writePNG(t, filepath.Join(dir, "b", "2.png"), big)
	err := expectError(t, dir, FolderOptions{}, filepath.Join(dir, "b", "2.png"), "3×3", "2×3", filepath.Join(dir, "a", "1.png"))
	var se *SizeError
	if !errors.As(err, &se) {
		t.Errorf("%v: not a *SizeError", err)
	}
	f, err := ReadFolder(dir, FolderOptions{Height: 4, Width: 5})
	if err != nil || f.Shape != [3]int{1, 4, 5} || f.Train.N != 2 {
		t.Fatalf("resized: %+v, %v", f, err)
	}
	// The resized uniform image stays uniform.
	for _, v := range f.Train.U8[:20] {
		if v != 1 {
			t.Fatalf("resized uniform image: %v", f.Train.U8[:20])
		}
	}

	writeFile(t, filepath.Join(dir, "b", "3.png"), "\x89PNG\r\n\x1a\nnot really")
	os.Remove(filepath.Join(dir, "b", "2.png"))
	expectError(t, dir, FolderOptions{}, filepath.Join(dir, "b", "3.png"))
	writeFile(t, filepath.Join(dir, "b", "4.jpg"), "plain text with an image's name")
	writePNG(t, filepath.Join(dir, "b", "5.png"), grayPNG(5))
	f, err = ReadFolder(dir, FolderOptions{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Bad) != 2 || !strings.Contains(f.Bad[0].Error(), "3.png") || !strings.Contains(f.Bad[1].Error(), "4.jpg: not an image") {
		t.Errorf("bad files: %v", f.Bad)
	}
	if got := firstValues(f.Train); !slices.Equal(got, []int{1, 5}) || !slices.Equal(f.Train.Labels, []int32{0, 1}) || len(f.Files) != 2 {
		t.Errorf("after skipping: samples %v, labels %v, files %q", got, f.Train.Labels, f.Files)
	}
	for _, o := range []FolderOptions{{Channels: 2}, {Height: 3}, {Height: -1, Width: -1}, {Height: 1 << 20, Width: 1 << 20}} {
		if _, err := ReadFolder(dir, o); err == nil {
			t.Errorf("options %+v: no error", o)
		}
	}
}

// pixelFixture is an entry of testdata/images/pixels.json (make.py).
type pixelFixture struct {
	Shape  [3]int
	Values []float64
}

func readPixelFixtures(t *testing.T) map[string]pixelFixture {
	b, err := os.ReadFile(filepath.Join("testdata", "images", "pixels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx map[string]pixelFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// TestImagePixelsMatchTorchvision compares the values the readers give
// with torchvision's ToTensor of PIL's image: exactly for PNG and gray
// JPEG (in float32, as training fills rows; 16-bit in float64), within 2
// levels of 255 for colour JPEG, whose YCbCr-to-RGB rounding differs
// between Go and libjpeg (and with 4:2:0 chroma, so does upsampling: see
// make.py).
func TestImagePixelsMatchTorchvision(t *testing.T) {
	fx := readPixelFixtures(t)
	for _, tc := range []struct {
		key      string
		channels int
		tol      float64 // in levels of 255
	}{
		{"gray8.png", 0, 0}, {"gray8.png:RGB", 3, 0}, {"gray16.png", 0, 0}, {"rgb.png", 0, 0}, {"rgb.png:L", 1, 0},
		{"rgba.png", 0, 0}, {"paletted.png", 0, 0}, {"gray.jpg", 0, 0}, {"rgb.jpg", 0, 2},
	} {
		want, ok := fx[tc.key]
		if !ok {
			t.Fatalf("%s: not in pixels.json", tc.key)
		}
		file, _, _ := strings.Cut(tc.key, ":")
		d, shape, _, _, err := ReadImages([]string{filepath.Join("testdata", "images", file)}, FolderOptions{Channels: tc.channels})
		if err != nil {
			t.Fatal(err)
		}
		if shape != want.Shape || d.Features != len(want.Values) {
			t.Fatalf("%s: shape %v, torchvision's %v", tc.key, shape, want.Shape)
		}
		row := make([]float32, d.Features)
		FillRow(d, 0, row)
		worst := 0.0
		for j, w := range want.Values {
			got := float64(row[j])
			if file == "gray16.png" {
				got = d.F64[j] // 16-bit values are exact in float64 only
				if d.Scale != nil || d.Shift != nil {
					t.Fatalf("%s: a transform on float64 pixels", tc.key)
				}
			} else if tc.tol == 0 {
				got = float64(float32(got))
				w = float64(float32(w))
			}
			worst = max(worst, math.Abs(got-w))
		}
		if worst > tc.tol/255+1e-7 || (tc.tol == 0 && worst != 0) {
			t.Errorf("%s: max |Δ| %g (%.2f levels) from torchvision's ToTensor", tc.key, worst, worst*255)
		}
	}
}

// TestReadFolderMixedImages: one colour image among gray ones makes every
// sample three channels (gray replicated); one 16-bit image makes the
// values float64 (8-bit ones /255).
func TestReadFolderMixedImages(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a", "1.png"), grayPNG(51))
	col := image.NewNRGBA(image.Rect(0, 0, 2, 3))
	for i := 0; i < len(col.Pix); i += 4 {
		col.Pix[i], col.Pix[i+1], col.Pix[i+2], col.Pix[i+3] = 10, 20, 30, 0 // transparent: the colour stays
	}
	writePNG(t, filepath.Join(dir, "a", "2.png"), col)
	writePNG(t, filepath.Join(dir, "a", "3.png"), grayPNG(52))
	f, err := ReadFolder(dir, FolderOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	d := f.Train
	if f.Shape != [3]int{3, 3, 2} || d.N != 3 {
		t.Fatalf("shape %v, %d samples", f.Shape, d.N)
	}
	want := []uint8{51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51,
		10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20, 30, 30, 30, 30, 30, 30}
	if !slices.Equal(d.U8[:36], want) || d.U8[36] != 52 || d.U8[53] != 52 {
		t.Errorf("mixed gray and colour: %v", d.U8)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 2, 3))
	for i := 0; i < len(g16.Pix); i += 2 {
		g16.Pix[i], g16.Pix[i+1] = 0x12, 0x34
	}
	writePNG(t, filepath.Join(dir, "a", "4.png"), g16)
	f, err = ReadFolder(dir, FolderOptions{Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	d = f.Train
	if d.F64 == nil || d.U8 != nil || d.Scale != nil {
		t.Fatal("a 16-bit image among 8-bit ones: want float64 values without a transform")
	}
	if d.F64[0] != 51.0/255 || d.F64[6] != float64(luma(10, 20, 30))/255 || d.F64[18] != float64(0x1234)/65535 {
		t.Errorf("values %v", d.F64)
	}
}

// TestReadFolderRefusesHugeImagesBeforeDecoding: a PNG that declares
// 100000×100000 pixels and a JPEG that declares 65000×65000 (bombs: a
// few hundred bytes each) are refused from their headers, with an error
// naming them, allocating next to nothing.
func TestReadFolderRefusesHugeImagesBeforeDecoding(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a", "0.png"), grayPNG(1))
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	bomb := setPNGSize(t, b.Bytes(), 100000, 100000)
	writeFile(t, filepath.Join(dir, "a", "1.png"), string(bomb))
	jpg, err := os.ReadFile(filepath.Join("testdata", "images", "gray.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	jbomb := setJPEGSize(t, jpg, 65000, 65000)
	writeFile(t, filepath.Join(dir, "b", "1.jpg"), string(jbomb))
	for _, c := range []struct {
		file string
		skip bool
	}{{filepath.Join(dir, "a", "1.png"), false}, {filepath.Join(dir, "b", "1.jpg"), true}} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, _, _, _, err := ReadImages([]string{c.file}, FolderOptions{})
		runtime.ReadMemStats(&m1)
		if err == nil || !strings.Contains(err.Error(), c.file) || !strings.Contains(err.Error(), "more than the 16777216 pixels allowed") {
			t.Errorf("%s: %v", c.file, err)
		}
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 4<<20 {
			t.Errorf("%s: %d bytes allocated to refuse it", c.file, a)
		}
	}
	// Beside an image of the folder's size, the bombs are refused by
	// size alone, and with SkipBad skipped.
	writePNG(t, filepath.Join(dir, "b", "2.png"), grayPNG(2))
	f, err := ReadFolder(dir, FolderOptions{SkipBad: true})
	if err != nil || len(f.Bad) != 2 || f.Train.N != 2 {
		t.Fatalf("%+v, %v", f, err)
	}
}

// setPNGSize rewrites a PNG's IHDR width and height (and its CRC).
func setPNGSize(t testing.TB, b []byte, w, h uint32) []byte {
	b = slices.Clone(b)
	if string(b[12:16]) != "IHDR" {
		t.Fatal("no IHDR")
	}
	put32(b[16:], w)
	put32(b[20:], h)
	put32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// setJPEGSize rewrites the height and width of a JPEG's SOF0 marker.
func setJPEGSize(t testing.TB, b []byte, w, h uint16) []byte {
	b = slices.Clone(b)
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	b[i+5], b[i+6], b[i+7], b[i+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
	return b
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func TestColorModelsOfFixtures(t *testing.T) {
	// The fixtures cover the decoders' image types that planes8 and
	// planes16 special-case.
	want := map[string]string{"gray8.png": "*image.Gray", "gray16.png": "*image.Gray16", "rgb.png": "*image.RGBA",
		"rgba.png": "*image.NRGBA", "paletted.png": "*image.Paletted", "gray.jpg": "*image.Gray", "rgb.jpg": "*image.YCbCr"}
	dec := newImageDecoder(DefaultMaxPixels)
	for f, typ := range want {
		img, err := dec.decode(filepath.Join("testdata", "images", f), image.Point{}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", img); got != typ {
			t.Errorf("%s decodes to %s, want %s", f, got, typ)
		}
	}
}

// TestPlanesUnpremultiply: a premultiplied colour (image.RGBA, as BMP and
// TIFF decoders give) is stored with its colour as PIL keeps it, not
// darkened by its alpha.
func TestPlanesUnpremultiply(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	copy(img.Pix, []uint8{50, 25, 0, 128, 10, 20, 30, 255})
	got := make([]uint8, 6)
	planes8(img, 3, got)
	if want := []uint8{99, 10, 49, 20, 0, 30}; !slices.Equal(got, want) {
		t.Errorf("planes %v, want %v", got, want)
	}
}

// TestFolderFilesListsWhatReadFolderReads: FolderFiles lists the files
// ReadFolder reads, in its sample order, also where a split lacks one of
// train/'s classes — no dataset of its own, but one that ReadFolder reads
// with a model's classes (FolderOptions.Classes). FolderFiles listed it
// with train/'s classes and failed.
func TestFolderFilesListsWhatReadFolderReads(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "train", "cat", "1.png"), grayPNG(1))
	writePNG(t, filepath.Join(dir, "train", "dog", "1.png"), grayPNG(2))
	writePNG(t, filepath.Join(dir, "test", "dog", "1.png"), grayPNG(3))
	writePNG(t, filepath.Join(dir, "test", "dog", "2.png"), grayPNG(4))
	f, err := ReadFolder(dir, FolderOptions{Classes: []string{"cat", "dog"}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := FolderFiles(dir)
	if err != nil || !slices.Equal(files, f.Files) || len(files) != 4 {
		t.Fatalf("FolderFiles: %q, %v; ReadFolder with the classes read %q", files, err, f.Files)
	}
	// Without split folders, likewise; no class folders is still an error.
	for _, sub := range []string{"train", "test"} {
		got, err := FolderFiles(filepath.Join(dir, sub))
		if err != nil || len(got) != map[string]int{"train": 2, "test": 2}[sub] {
			t.Errorf("FolderFiles(%s): %q, %v", sub, got, err)
		}
	}
	if _, err := FolderFiles(filepath.Join(dir, "test", "dog")); err == nil || !strings.Contains(err.Error(), "no class folders") {
		t.Errorf("a folder of images, not of class folders: %v, want no class folders", err)
	}
}
