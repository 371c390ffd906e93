package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registered with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the largest image, in pixels (width × height), that
// the image readers decode unless told otherwise: 4096×4096. A file that
// declares more is refused from its header, before anything is allocated
// for its pixels.
const DefaultMaxPixels = 1 << 24

// imageDecoder decodes image files one at a time with a buffer of its own;
// each loading goroutine has one.
type imageDecoder struct {
	br        *bufio.Reader
	maxPixels int
}

func newImageDecoder(maxPixels int) *imageDecoder {
	return &imageDecoder{br: bufio.NewReaderSize(nil, 64<<10), maxPixels: maxPixels}
}

// decode reads the image in file. The header is read first (DecodeConfig)
// and the file refused if it declares more than maxPixels pixels, or a
// size other than want's when want is not zero and resize is false: such a
// file costs a few bytes of reading, never its declared size in memory.
func (dec *imageDecoder) decode(file string, want image.Point, resize bool) (image.Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec.br.Reset(f)
	cfg, format, err := image.DecodeConfig(dec.br)
	if err != nil {
		return nil, imageError(file, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > dec.maxPixels/cfg.Height {
		return nil, &DecodeError{File: file, Err: fmt.Errorf("a %s image of %d×%d pixels: more than the %d pixels allowed, or none", format, cfg.Width, cfg.Height, dec.maxPixels)}
	}
	if want != (image.Point{}) && !resize && (cfg.Width != want.X || cfg.Height != want.Y) {
		return nil, &SizeError{File: file, Size: image.Pt(cfg.Width, cfg.Height), Want: want}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	dec.br.Reset(f)
	img, _, err := image.Decode(dec.br)
	if err != nil {
		return nil, imageError(file, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, &DecodeError{File: file, Err: fmt.Errorf("the header says %d×%d pixels, the image has %d×%d", cfg.Width, cfg.Height, b.Dx(), b.Dy())}
	}
	return img, nil
}

// imageError names the file of a decoding error and says what a file of
// an unknown format was expected to be.
func imageError(file string, err error) error {
	if err == image.ErrFormat {
		return &DecodeError{File: file, Err: errors.New("not an image in a format read here (PNG, JPEG, GIF, BMP, TIFF, WebP)")}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &DecodeError{File: file, Err: err}
}

// DecodeError is an image file that does not decode, or declares a size
// it cannot have: what FolderOptions.SkipBad leaves out (with SizeError).
type DecodeError struct {
	File string
	Err  error
}

func (e *DecodeError) Error() string { return e.File + ": " + e.Err.Error() }

func (e *DecodeError) Unwrap() error { return e.Err }

// SizeError is an image whose size differs from the dataset's.
type SizeError struct {
	File string
	Size image.Point // the file's width and height
	Want image.Point // the dataset's: that of its first image
	Ref  string      // the first image, if known
}

func (e *SizeError) Error() string {
	ref := ""
	if e.Ref != "" {
		ref = " (that of " + e.Ref + ")"
	}
	return fmt.Sprintf("%s is %d×%d pixels (width×height), the images before it %d×%d%s: every image must have one size, or be resized", e.File, e.Size.X, e.Size.Y, e.Want.X, e.Want.Y, ref)
}

// isGrayImage reports whether img holds gray levels only, by its type:
// PNG's and JPEG's grayscale images. A paletted image is colour even if
// its palette is gray, as for PIL (mode P).
func isGrayImage(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	return false
}

// isWideImage reports whether img has 16 bits per sample.
func isWideImage(img image.Image) bool {
	switch img.(type) {
	case *image.Gray16, *image.RGBA64, *image.NRGBA64:
		return true
	}
	return false
}

// resizeImage scales img to size with bilinear interpolation
// (golang.org/x/image/draw.BiLinear; close to, not pixel-equal to, PIL's
// resize), into a gray or a non-premultiplied colour image, 8 or 16 bits
// as img. img is returned as it is if it has that size already.
func resizeImage(img image.Image, size image.Point) image.Image {
	if img.Bounds().Size() == size {
		return img
	}
	r := image.Rectangle{Max: size}
	var dst draw.Image
	switch gray, wide := isGrayImage(img), isWideImage(img); {
	case gray && wide:
		dst = image.NewGray16(r)
	case gray:
		dst = image.NewGray(r)
	case wide:
		dst = image.NewNRGBA64(r)
	default:
		dst = image.NewNRGBA(r)
	}
	draw.BiLinear.Scale(dst, r, img, img.Bounds(), draw.Src, nil)
	return dst
}

// luma is PIL's conversion of 8-bit RGB to L (ITU-R 601-2, rounded), which
// torchvision's Grayscale and convert('L') use.
func luma(r, g, b uint32) uint8 {
	return uint8((r*19595 + g*38470 + b*7471 + 0x8000) >> 16)
}

// luma16 is luma for 16-bit samples.
func luma16(r, g, b uint32) uint16 {
	return uint16((uint64(r)*19595 + uint64(g)*38470 + uint64(b)*7471 + 0x8000) >> 16)
}

// planes8 writes the 8-bit pixels of img as c planes (c is 1 or 3) of
// H×W values into dst: gray replicated into three planes, colour reduced to
// PIL's luma for one; alpha is dropped and colour is not premultiplied
// (PIL's convert). 16-bit samples are cut to their high byte.
func planes8(img image.Image, c int, dst []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	dst = dst[:c*n]
	put := func(k int, r, g, bl uint8) {
		if c == 1 {
			dst[k] = luma(uint32(r), uint32(g), uint32(bl))
			return
		}
		dst[k], dst[n+k], dst[2*n+k] = r, g, bl
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			copy(dst[y*w:], row)
			if c == 3 {
				copy(dst[n+y*w:], row)
				copy(dst[2*n+y*w:], row)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				put(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				if row[4*x+3] == 255 {
					put(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
				} else {
					p := color.NRGBAModel.Convert(color.RGBA{row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]}).(color.NRGBA)
					put(y*w+x, p.R, p.G, p.B)
				}
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, col := range m.Palette {
			p := color.NRGBAModel.Convert(col).(color.NRGBA)
			pal[i] = [3]uint8{p.R, p.G, p.B}
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				put(y*w+x, pal[v][0], pal[v][1], pal[v][2])
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(y*w+x, r, g, bl)
			}
		}
	default:
		for y := range h {
			for x := range w {
				p := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				put(y*w+x, uint8(p.R>>8), uint8(p.G>>8), uint8(p.B>>8))
			}
		}
	}
}

// planes16 is planes8 for images with 16-bit samples.
func planes16(img image.Image, c int, dst []uint16) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	dst = dst[:c*n]
	for y := range h {
		for x := range w {
			k := y*w + x
			var r, g, bl uint16
			if gm, ok := img.(*image.Gray16); ok {
				v := gm.Gray16At(b.Min.X+x, b.Min.Y+y).Y
				r, g, bl = v, v, v
			} else {
				p := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				r, g, bl = p.R, p.G, p.B
			}
			if c == 1 {
				if r == g && g == bl {
					dst[k] = r
				} else {
					dst[k] = luma16(uint32(r), uint32(g), uint32(bl))
				}
				continue
			}
			dst[k], dst[n+k], dst[2*n+k] = r, g, bl
		}
	}
}
