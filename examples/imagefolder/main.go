// Command imagefolder writes the embedded 8x8 digits as a folder of PNG
// files laid out as torchvision's ImageFolder reads them, for trying
// ptrain's -data folder:DIR without downloading anything:
//
//	go run ./examples/imagefolder /tmp/digits
//
// writes DIR/train/CLASS/NNNN.png (80% of the digits) and
// DIR/test/CLASS/NNNN.png (the rest), CLASS being "0" to "9". Each PNG is
// a gray 8×8 image of the digit's 0–16 levels scaled to 0–255.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/ptrain/ptrain/data"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./examples/imagefolder DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "imagefolder:", err)
		os.Exit(1)
	}
}

// write writes the digits' 80/20 split under dir.
func write(dir string) error {
	d, err := data.Digits()
	if err != nil {
		return err
	}
	train, test, err := d.Split(0.2, 1)
	if err != nil {
		return err
	}
	// One encoder for every image: its pool keeps the zlib writer, which
	// png.Encode would allocate afresh for each 8×8 image (the same bytes).
	enc := png.Encoder{BufferPool: new(pngPool)}
	made := map[string]bool{} // the class folders created
	var buf bytes.Buffer
	for _, s := range []struct {
		name string
		d    *data.Dataset
	}{{"train", train}, {"test", test}} {
		for i := range s.d.N {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for j := range img.Pix {
				img.Pix[j] = uint8(min(255, s.d.Value(i, j)*255+0.5)) // Value is the 0–16 level / 16
			}
			class := filepath.Join(dir, s.name, s.d.Classes[s.d.Labels[i]])
			if !made[class] {
				if err := os.MkdirAll(class, 0o755); err != nil {
					return err
				}
				made[class] = true
			}
			path := filepath.Join(class, fmt.Sprintf("%04d.png", i))
			buf.Reset()
			if err := enc.Encode(&buf, img); err != nil {
				return err
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o666); err != nil { // one write, not one per PNG chunk
				return err
			}
		}
	}
	fmt.Printf("wrote %d training and %d test images under %s\n", train.N, test.N, dir)
	return nil
}

// pngPool keeps one png.EncoderBuffer: write encodes one image at a time.
type pngPool struct{ b *png.EncoderBuffer }

func (p *pngPool) Get() *png.EncoderBuffer  { return p.b }
func (p *pngPool) Put(b *png.EncoderBuffer) { p.b = b }
