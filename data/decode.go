package data

import (
	"fmt"
	"image"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// images is loadImages's result: a dataset of features alone and the
// sample shape.
type images struct {
	Dataset
	shape [3]int
}

// sideImage is what a sample could not write into the shared 8-bit rows:
// its pixels when it is wider (16-bit) or has more channels than the rows
// were laid out for, or its error.
type sideImage struct {
	u8   []uint8  // three planes of a colour image in rows laid out gray
	u16  []uint16 // wideC planes of a 16-bit image
	c16  int
	err  error
	done bool
}

// loadImages decodes files into one dataset of features. The row layout
// (size and channels) comes from opt or the first file that decodes;
// files that need more are kept aside and the rows laid out again at the
// end, which for a folder of one kind of image never happens.
func loadImages(files []string, opt FolderOptions) (*images, []int, []error, error) {
	dec := newImageDecoder(opt.maxPixels())
	resize := opt.Height > 0
	size := image.Pt(opt.Width, opt.Height)
	// The first file that decodes sets the size and the first guess of
	// the channels.
	c := opt.Channels
	var first string
	for _, f := range files {
		img, err := dec.decode(f, size, resize)
		if err != nil {
			if opt.SkipBad {
				continue
			}
			return nil, nil, nil, err
		}
		if !resize {
			size = img.Bounds().Size()
		}
		if c == 0 {
			c = 1
			if !isGrayImage(img) {
				c = 3
			}
		}
		first = f
		break
	}
	if first == "" {
		return nil, nil, nil, fmt.Errorf("none of the %d image files decoded", len(files))
	}
	n := size.X * size.Y
	rows := make([]uint8, len(files)*c*n)
	side := make([]sideImage, len(files))
	var next, done atomic.Int64
	var failed atomic.Bool
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(files))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := newImageDecoder(opt.maxPixels())
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				s := &side[i]
				s.err = loadOne(dec, files[i], size, resize, opt.Channels, c, rows[i*c*n:(i+1)*c*n], s)
				if se, ok := s.err.(*SizeError); ok {
					se.Ref = first
				}
				if s.err != nil && !opt.SkipBad {
					failed.Store(true)
				}
				s.done = true
				done.Add(1)
			}
		}()
	}
	if opt.Progress != nil {
		stop := make(chan struct{})
		go func() { wg.Wait(); close(stop) }()
		tick := time.NewTicker(100 * time.Millisecond)
	wait:
		for {
			select {
			case <-stop:
				break wait
			case <-tick.C:
				opt.Progress(int(done.Load()), len(files))
			}
		}
		tick.Stop()
	}
	wg.Wait()
	var bad []error
	var kept []int
	anyWide, colour := false, false
	for i := range side {
		s := &side[i]
		switch {
		case s.err != nil && !opt.SkipBad:
			return nil, nil, nil, s.err // the first in file order, of those decoded
		case s.err != nil:
			bad = append(bad, s.err)
		case s.done:
			kept = append(kept, i)
			anyWide = anyWide || s.u16 != nil
			colour = colour || s.u8 != nil || s.c16 == 3
		}
	}
	if opt.Progress != nil {
		opt.Progress(len(files), len(files))
	}
	if len(kept) == 0 {
		return nil, nil, nil, fmt.Errorf("none of the %d image files decoded", len(files))
	}
	outC := c
	if colour && opt.Channels == 0 {
		outC = 3
	}
	out := &images{shape: [3]int{outC, size.Y, size.X}}
	d := &out.Dataset
	d.N, d.Features = len(kept), outC*n
	if anyWide {
		d.F64 = make([]float64, d.N*d.Features)
		for r, i := range kept {
			dst := d.F64[r*d.Features : (r+1)*d.Features]
			s := &side[i]
			for ch := range outC {
				p := dst[ch*n : (ch+1)*n]
				switch {
				case s.u16 != nil:
					src := s.u16[min(ch, s.c16-1)*n:]
					for k := range p {
						p[k] = float64(src[k]) / 65535
					}
				case s.u8 != nil:
					for k := range p {
						p[k] = float64(s.u8[ch*n+k]) / 255
					}
				default:
					src := rows[i*c*n+min(ch, c-1)*n:]
					for k := range p {
						p[k] = float64(src[k]) / 255
					}
				}
			}
		}
		return out, kept, bad, nil
	}
	if outC == c {
		// Compact the rows of the samples kept, in place.
		f := c * n
		for r, i := range kept {
			if r != i {
				copy(rows[r*f:(r+1)*f], rows[i*f:(i+1)*f])
			}
		}
		d.U8 = slices.Clip(rows[:len(kept)*f])
	} else {
		d.U8 = make([]uint8, d.N*d.Features)
		for r, i := range kept {
			dst := d.U8[r*d.Features : (r+1)*d.Features]
			if s := &side[i]; s.u8 != nil {
				copy(dst, s.u8)
				continue
			}
			for ch := range outC {
				copy(dst[ch*n:(ch+1)*n], rows[i*n:(i+1)*n])
			}
		}
	}
	d.Scale = make([]float64, d.Features)
	for j := range d.Scale {
		d.Scale[j] = 1.0 / 255
	}
	return out, kept, bad, nil
}

// loadOne decodes file into row (c planes of size) or, if it needs more,
// into s. forced is FolderOptions.Channels.
func loadOne(dec *imageDecoder, file string, size image.Point, resize bool, forced, c int, row []uint8, s *sideImage) error {
	img, err := dec.decode(file, size, resize)
	if err != nil {
		return err
	}
	if resize {
		img = resizeImage(img, size)
	}
	n := size.X * size.Y
	ic := c
	if forced == 0 && c == 1 && !isGrayImage(img) {
		ic = 3 // a colour image among gray ones so far
	}
	switch {
	case isWideImage(img):
		s.u16, s.c16 = make([]uint16, ic*n), ic
		planes16(img, ic, s.u16)
	case ic != c:
		s.u8 = make([]uint8, ic*n)
		planes8(img, ic, s.u8)
	default:
		planes8(img, c, row)
	}
	return nil
}
