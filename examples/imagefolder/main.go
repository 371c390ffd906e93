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
	for _, s := range []struct {
		name string
		d    *data.Dataset
	}{{"train", train}, {"test", test}} {
		for i := range s.d.N {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for j := range img.Pix {
				img.Pix[j] = uint8(min(255, s.d.Value(i, j)*255+0.5)) // Value is the 0–16 level / 16
			}
			path := filepath.Join(dir, s.name, s.d.Classes[s.d.Labels[i]], fmt.Sprintf("%04d.png", i))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			err = png.Encode(f, img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
	fmt.Printf("wrote %d training and %d test images under %s\n", train.N, test.N, dir)
	return nil
}
