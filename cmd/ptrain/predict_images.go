package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// predictStdin is predict's standard input (run's stdin), read through one
// buffer by both the image-list sniffing here and openRows.
var predictStdin io.Reader = os.Stdin

// isImageName reports whether a file name ends in one of
// data.ImageExtensions.
func isImageName(name string) bool {
	return slices.Contains(data.ImageExtensions, strings.ToLower(filepath.Ext(strings.TrimSpace(name))))
}

// openImages opens predict's -input as images if it is: a folder (its
// image files, recursively, sorted by path), an image file, or "-" whose
// first line names an image file (then one path a line). ok is false for
// any other input, which is read as rows (openRows); for "-" the bytes
// peeked stay readable through stdin.
func openImages(path string, ck *checkpoint) (src *rowStream, ok bool, err error) {
	var next func(n int) ([]string, error) // the next up to n files; none at the end
	switch fi, serr := os.Stat(path); {
	case path == "-":
		br := bufio.NewReaderSize(predictStdin, 1<<16)
		predictStdin = br
		line, _ := br.Peek(4096)
		first, _, _ := strings.Cut(string(line), "\n")
		if !isImageName(strings.TrimSuffix(first, "\r")) {
			return nil, false, nil
		}
		sc := bufio.NewScanner(br)
		sc.Buffer(make([]byte, 0, 4096), 1<<16)
		lineNo := 0
		next = func(n int) ([]string, error) {
			var files []string
			for len(files) < n && sc.Scan() {
				lineNo++
				if p := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r")); p != "" {
					files = append(files, p)
				}
			}
			if err := sc.Err(); err != nil {
				return files, fmt.Errorf("-input -: line %d: %w", lineNo+1, err)
			}
			return files, nil
		}
	case serr == nil && fi.IsDir():
		files, _, err := data.ImageFiles(path)
		if err != nil {
			return nil, true, err
		}
		if len(files) == 0 {
			return nil, true, fmt.Errorf("-input %s: no image files (%s) in the folder", path, strings.Join(data.ImageExtensions, " "))
		}
		next = listed(files)
	case isImageName(path):
		next = listed([]string{path})
	default:
		return nil, false, nil
	}
	src, err = imageRows(path, next, ck)
	return src, true, err
}

// listed hands out files in order.
func listed(files []string) func(n int) ([]string, error) {
	return func(n int) ([]string, error) {
		k := min(n, len(files))
		batch := files[:k]
		files = files[k:]
		return batch, nil
	}
}

// imageRows decodes the files next hands out a batch at a time, as the
// checkpoint's run read its images: its channels, and its -resize (without
// one, every image must have the model's size).
func imageRows(name string, next func(n int) ([]string, error), ck *checkpoint) (*rowStream, error) {
	c := ck.cfg
	opt := data.FolderOptions{Channels: c.Channels}
	shape := ck.Spec.Shape
	if len(shape) == 3 {
		opt.Channels = shape[0]
		if c.Resize != "" {
			opt.Height, opt.Width = shape[1], shape[2]
		}
	} else if h, w, err := parseResize(c.Resize); err == nil {
		opt.Height, opt.Width = h, w
	}
	inputs := ck.Spec.Inputs
	var files []string // the batch's
	var f64 []float64
	src := &rowStream{name: name, features: inputs, key: "file"}
	src.rowName = func(i int) string { return files[i] }
	src.fill = func(ds *data.Dataset, n int) error {
		ds.N = 0
		batch, err := next(n)
		if len(batch) == 0 {
			if err != nil {
				return err
			}
			return io.EOF
		}
		files = batch
		d, got, _, _, rerr := data.ReadImages(batch, opt)
		if rerr != nil {
			return rerr
		}
		if len(shape) == 3 && !slices.Equal(got[:], shape) {
			return fmt.Errorf("%s: %s images, the model takes %s (its run had -resize %q)", batch[0], shapeString(got[:]), shapeString(shape), c.Resize)
		}
		if d.Features != inputs {
			return fmt.Errorf("%s: %s images = %d values, the model takes %d features", batch[0], shapeString(got[:]), d.Features, inputs)
		}
		ds.N = d.N
		ds.U8, ds.F64 = d.U8, d.F64
		f64 = ck.streamPixels(ds, f64)
		return err
	}
	src.close = func() error { return nil }
	return src, nil
}

// streamPixels is pixelsAsTrained for a batch of predict's rows: ds
// carries the checkpoint's transform, set once for the whole input, which
// it keeps (pixelsAsTrained drops a reader's 1/255 with the 8-bit values
// it scales).
func (ck *checkpoint) streamPixels(ds *data.Dataset, buf []float64) []float64 {
	sc, sh := ds.Scale, ds.Shift
	buf = ck.pixelsAsTrained(ds, buf)
	ds.Scale, ds.Shift = sc, sh
	return buf
}

// pixelsAsTrained puts the pixels of images d (read by data.ReadImages or
// ReadFolder: 8-bit values, or float ones in [0, 1] when one image is
// 16-bit) in the units ck's model was trained on, before its transform:
// a model of float pixels in [0, 1] (a folder of 16-bit images:
// metaPixels, or, in a checkpoint older than it, no transform at all)
// takes 8-bit ones as v/255, written into buf (grown as needed and
// returned); one trained on 8-bit values (every other image source) takes
// 16-bit ones in 8-bit units, v·255/65535, in place.
func (ck *checkpoint) pixelsAsTrained(d *data.Dataset, buf []float64) []float64 {
	unit := ck.unitPix || (ck.transform().Scale == nil && ck.cfg.Normalize == "none")
	switch {
	case unit && d.U8 != nil:
		buf = slices.Grow(buf[:0], len(d.U8))[:len(d.U8)]
		for i, v := range d.U8 {
			buf[i] = float64(v) / 255
		}
		d.U8, d.F64 = nil, buf
		d.Scale, d.Shift = nil, nil // the reader's 1/255 is in the values now
	case !unit && d.F64 != nil:
		for i := range d.F64 {
			d.F64[i] *= 255
		}
	}
	return buf
}
