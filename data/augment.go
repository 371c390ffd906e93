package data

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/model/num"
)

// Augment is a random transform of image rows, applied as a training row
// is filled (FillRowAugmented), never stored: torchvision's
//
//	RandomCrop((H, W), padding=Crop)   if Crop > 0
//	RandomHorizontalFlip(0.5)          if Flip
//	RandomVerticalFlip(0.5)            if VFlip
//	RandomErasing()                    if Erase (p 0.5, scale (0.02, 0.33), ratio (0.3, 3.3), value 0)
//
// in that order, on the raw features of a C×H×W sample (the dataset's
// transform, which plays the part of ToTensor and Normalize, comes after:
// a padded pixel is a raw 0), except erasing, which like torchvision's
// comes after the transform: an erased value is 0 in the row. The draws of sample i in epoch e come from
// (Seed, e, i) alone — not from the worker, the rank or the position in
// the batch — so W workers, MPI ranks and a resumed run fill the same rows.
type Augment struct {
	C, H, W int    // the sample's shape; C·H·W must be the dataset's Features
	Crop    int    // zero padding P of the random crop; 0 for no crop
	Flip    bool   // horizontal flip with probability 1/2
	VFlip   bool   // vertical flip with probability 1/2
	Erase   bool   // random erasing with torchvision's defaults
	Seed    uint64 // the run's seed
}

// ParseAugment reads a comma-separated list of crop=P, flip, vflip and
// erase (the -augment flag). The shape and seed are left for the caller to set.
func ParseAugment(s string) (Augment, error) {
	var a Augment
	seen := map[string]bool{}
	for _, op := range strings.Split(s, ",") {
		name, arg, hasArg := strings.Cut(strings.TrimSpace(op), "=")
		if seen[name] {
			return a, fmt.Errorf("augmentation %q: %s given twice", s, name)
		}
		seen[name] = true
		switch {
		case name == "crop" && hasArg:
			p, err := strconv.Atoi(arg)
			if err != nil || p < 1 || p > 1024 {
				return a, fmt.Errorf("augmentation %q: crop=%s: want a padding in [1, 1024] pixels", s, arg)
			}
			a.Crop = p
		case name == "flip" && !hasArg:
			a.Flip = true
		case name == "vflip" && !hasArg:
			a.VFlip = true
		case name == "erase" && !hasArg:
			a.Erase = true
		default:
			return a, fmt.Errorf("augmentation %q: unknown operation %q: want crop=P, flip, vflip or erase, comma-separated", s, op)
		}
	}
	return a, nil
}

// String is the -augment form of a (without the shape and seed).
func (a *Augment) String() string {
	var ops []string
	if a.Crop > 0 {
		ops = append(ops, "crop="+strconv.Itoa(a.Crop))
	}
	if a.Flip {
		ops = append(ops, "flip")
	}
	if a.VFlip {
		ops = append(ops, "vflip")
	}
	if a.Erase {
		ops = append(ops, "erase")
	}
	return strings.Join(ops, ",")
}

// SetShape sets the sample shape from a model's input shape (C, H, W); a
// flat input cannot be augmented.
func (a *Augment) SetShape(shape []int) error {
	if len(shape) != 3 {
		return fmt.Errorf("augmentation %s needs images: the model's input is flat, not C×H×W (write it as CxHxW in the spec, e.g. 1x28x28-…)", a)
	}
	a.C, a.H, a.W = shape[0], shape[1], shape[2]
	return nil
}

// Draw is the random choice for one sample: the crop's offset into the
// padded image, each in [0, 2·Crop], the flips, and the box erased (rows
// EY to EY+EH−1, columns EX to EX+EW−1; EH 0 for none).
type Draw struct {
	DY, DX         int
	Flip, VFlip    bool
	EY, EX, EH, EW int
}

// Draw returns the choice for sample i in epoch epoch. It is a pure
// function of (a.Seed, epoch, i): a splitmix64 hash chain, whose first
// output gives the crop's offsets and second the flips. (The modulo's bias
// is below 2⁻⁵⁰ for any padding allowed.)
func (a *Augment) Draw(epoch, i int) Draw {
	k := mix64(mix64(mix64(a.Seed^0xa0761d6478bd642f)^uint64(epoch)) ^ uint64(i))
	var d Draw
	if a.Crop > 0 {
		n := uint64(2*a.Crop + 1)
		d.DY, d.DX = int(k%n), int((k>>32)%n)
	}
	f := mix64(k)
	d.Flip = a.Flip && f&1 != 0
	d.VFlip = a.VFlip && f&2 != 0
	if a.Erase && f&4 != 0 {
		d.EY, d.EX, d.EH, d.EW = eraseBox(a.H, a.W, f)
	}
	return d
}

// eraseBox is RandomErasing.get_params with its defaults, its uniform
// draws taken from the hash chain after k: up to 10 tries of an area of
// 2–33% of the image and an aspect ratio log-uniform in [0.3, 3.3],
// rounded half to even as Python's round, until the box fits inside the
// image; none if no try fits.
func eraseBox(h, w int, k uint64) (ey, ex, eh, ew int) {
	uniform := func() float64 {
		k = mix64(k)
		return float64(k>>11) / (1 << 53)
	}
	lo, hi := math.Log(0.3), math.Log(3.3)
	for range 10 {
		area := float64(h*w) * (0.02 + 0.31*uniform())
		ratio := math.Exp(lo + (hi-lo)*uniform())
		eh = int(math.RoundToEven(math.Sqrt(area * ratio)))
		ew = int(math.RoundToEven(math.Sqrt(area / ratio)))
		if eh < h && ew < w {
			k = mix64(k)
			ey = int(k % uint64(h-eh+1))
			ex = int((k >> 32) % uint64(w-ew+1))
			return ey, ex, eh, ew
		}
	}
	return 0, 0, 0, 0
}

// mix64 is splitmix64's finaliser: a bijection of 64-bit words whose
// outputs for consecutive inputs look independent.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Check reports whether a fits d: C·H·W features and a padding smaller
// than the image.
func (a *Augment) Check(d *Dataset) error {
	if a.C < 1 || a.H < 1 || a.W < 1 || a.C*a.H*a.W != d.Features {
		return fmt.Errorf("augmentation %s: a %d×%d×%d image, %s has %d features", a, a.C, a.H, a.W, d.Name, d.Features)
	}
	return nil
}

// FillRowAugmented writes sample i of d into dst (len Features) as FillRow
// does, transformed by a's draw for (epoch, i). Out[c, y, x] is the raw
// value at (c, y', x') with y' = (VFlip ? H−1−y : y) + DY − Crop and
// x' = (Flip ? W−1−x : x) + DX − Crop, or 0 outside the image, then the
// dataset's transform of feature (c, y, x): the same float64 operations as
// FillRow, so an identity draw gives FillRow's bits. It allocates nothing.
func FillRowAugmented[T num.Float](d *Dataset, i int, a *Augment, epoch int, dst []T) {
	fillDraw(d, i, a, a.Draw(epoch, i), dst)
}

// fillDraw is FillRowAugmented with the draw given.
func fillDraw[T num.Float](d *Dataset, i int, a *Augment, dr Draw, dst []T) {
	if dr.DY == a.Crop && dr.DX == a.Crop && !dr.Flip && !dr.VFlip {
		FillRow(d, i, dst)
	} else {
		fillMoved(d, i, a, dr, dst)
	}
	if dr.EH > 0 {
		for c := range a.C {
			for y := dr.EY; y < dr.EY+dr.EH; y++ {
				row := dst[(c*a.H+y)*a.W:]
				clear(row[dr.EX : dr.EX+dr.EW])
			}
		}
	}
}

// fillMoved fills the row of a draw that crops or flips.
func fillMoved[T num.Float](d *Dataset, i int, a *Augment, dr Draw, dst []T) {
	h, w, f := a.H, a.W, d.Features
	dst = dst[:f]
	var u8 []uint8
	var f64 []float64
	if d.U8 != nil {
		u8 = d.U8[i*f : (i+1)*f]
	} else {
		f64 = d.F64[i*f : (i+1)*f]
	}
	// raw is the source value at plane offset p, or 0 outside the image.
	raw := func(p int) float64 {
		if u8 != nil {
			return float64(u8[p])
		}
		return f64[p]
	}
	for c := range a.C {
		plane := c * h * w
		for y := range h {
			sy := y
			if dr.VFlip {
				sy = h - 1 - y
			}
			sy += dr.DY - a.Crop
			row := dst[plane+y*w : plane+(y+1)*w]
			for x := range row {
				j := plane + y*w + x
				v := 0.0
				if sy >= 0 && sy < h {
					sx := x
					if dr.Flip {
						sx = w - 1 - x
					}
					if sx += dr.DX - a.Crop; sx >= 0 && sx < w {
						v = raw(plane + sy*w + sx)
					}
				}
				if d.Scale != nil {
					v *= d.Scale[j]
				}
				if d.Shift != nil {
					v += d.Shift[j]
				}
				row[x] = T(v)
			}
		}
	}
}
