//go:build linux

package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIm2colPlanesStayInsideTheGroup runs the paths that unroll a row of
// several samples in one kernel call (im2col_planes.go) on groups of 2 to 5
// samples, with x and dx each ending (or beginning) at an inaccessible
// page: the masked "same" copies, whose shifted source runs past both ends
// of x under a clear mask, and the stride-2 rows, whose last row of each
// sample but the last loads up to two rows into the next plane and stores
// (or adds +0) past it. cols start as NaN, and dx holds earlier gradients
// (nonzero, and +0), so the +0 added past a span lands on values; every
// tap's row must be the definition's bits. The stride-2 shapes must take
// the batched path and reach into the next plane.
func TestIm2colPlanesStayInsideTheGroup(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: a plane per call only")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	reached := 0
	for _, spec := range []string{
		"1x7x7-conv(1,3,pad=1)", "3x5x9-conv(2,3,pad=1)", "2x9x4-conv(1,5,pad=2)", "1x3x2-conv(1,7,pad=3)",
		"2x2x3-conv(1,3,pad=1)", "2x4x4-conv(1,1)", "1x14x14-conv(1,3,pad=1)",
		"1x28x28-conv(1,3,stride=2,pad=1)", "2x14x14-conv(1,3,stride=2,pad=1)", "2x7x7-conv(1,3,stride=2,pad=1)",
		"3x14x14-conv(1,1,stride=2)", "1x13x9-conv(1,5,stride=2,pad=2)", "2x12x13-conv(1,3,stride=2,pad=1)",
		"1x5x5-conv(1,3,stride=2)", "2x6x17-conv(1,7,stride=2,pad=3)",
	} {
		m, err := NewZero[float32](MustParseSpec(spec))
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		l := m.stack[0].(*conv[float32])
		if l.stride == 1 && l.taps == nil {
			t.Fatalf("%s: no tap masks", spec)
		}
		if l.stride == 2 {
			taken, into := l.stride2Taps()
			if taken == 0 && spec != "1x5x5-conv(1,3,stride=2)" { // the one declined: 2 outputs a row
				t.Fatalf("%s: no tap takes the stride-2 kernel", spec)
			}
			reached += into
		}
		for _, n := range []int{2, 3, 5} {
			for _, atEnd := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/n=%d/end=%v", spec, n, atEnd), func(t *testing.T) {
					x := guarded[float32](t, n*l.c*l.h*l.w, atEnd)
					for i := range x {
						x[i] = float32(rng.NormFloat64())
						if rng.IntN(5) == 0 {
							x[i] = float32(math.Copysign(0, -1))
						}
					}
					cn := n * l.hwc
					cols, d, dx := guarded[float32](t, l.kk*cn, !atEnd), guarded[float32](t, l.kk*cn, !atEnd), guarded[float32](t, len(x), atEnd)
					for i := range d {
						d[i] = float32(rng.NormFloat64())
					}
					for i := range dx {
						if rng.IntN(4) != 0 { // the rest +0
							dx[i] = float32(rng.NormFloat64())
						}
					}
					checkIm2colDefinition(t, spec, l, x, cols, d, dx, n, func(what string, f func()) { noFault(t, what, f) })
				})
			}
		}
	}
	if reached == 0 {
		t.Fatal("no stride-2 tap's last row reaches past its plane")
	}
}

// stride2Taps counts the taps of a stride-2 convolution that take the
// stride-2 kernels, and of those the ones whose last row's loads reach
// past the plane.
func (l *conv[T]) stride2Taps() (taken, into int) {
	plane, out := make([]float32, l.h*l.w), make([]float32, l.hw)
	for ky := range l.k {
		for kx := range l.k {
			lo, hi := l.span(kx)
			if !l.stride2Plane(plane, out, ky, kx, lo, hi) {
				continue
			}
			taken++
			y1 := min(l.ho, ceilDiv(l.h+l.pad-ky, 2))
			if (2*(y1-1)+ky-l.pad)*l.w+2*lo+kx-l.pad+16*((hi-lo+7)/8) > l.h*l.w {
				into++
			}
		}
	}
	return taken, into
}

// TestSamePlanesKernelAddressesOnlyX: for every tap and channel of random
// "same" convolutions and groups of 1 to 4 samples, the samples whose rows
// samePlanes hands to maskedPlanes32AVX have all their vector loads inside
// the group's x — the masked lanes included, which may fault on an AMD
// processor (its manual leaves that to the implementation) where they
// address memory outside x — and every other sample: on planes larger
// than the shift, all but the first and last.
func TestSamePlanesKernelAddressesOnlyX(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for shapes := 0; shapes < 300; {
		k := []int{1, 3, 5, 7}[rng.IntN(4)]
		spec := fmt.Sprintf("%dx%dx%d-conv(1,%d,pad=%d)", 1+rng.IntN(3), 1+rng.IntN(12), 1+rng.IntN(12), k, k/2)
		m, err := NewZero[float32](MustParseSpec(spec))
		if err != nil {
			continue
		}
		shapes++
		l := m.stack[0].(*conv[float32])
		if l.taps == nil {
			t.Fatalf("%s: no tap masks", spec)
		}
		hw, lds := l.h*l.w, l.c*l.h*l.w
		for n := 1; n <= 4; n++ {
			for c := range l.c {
				for ky := range l.k {
					for kx := range l.k {
						off := (ky-l.pad)*l.w + kx - l.pad
						p0, p1 := l.samePlanesInside(c, off, n)
						for p := range n {
							lo, hi := p*lds+c*hw+off, p*lds+c*hw+off+hw&^7
							if inside := lo >= 0 && hi <= n*lds; inside != (p >= p0 && p < p1) {
								t.Fatalf("%s n %d c %d ky %d kx %d: sample %d's vectors load x[%d, %d) of [0, %d), and the kernel takes [%d, %d)", spec, n, c, ky, kx, p, lo, hi, n*lds, p0, p1)
							}
						}
						if hw >= l.pad*l.w+l.pad+8 && (p0 > 1 || p1 < n-1) {
							t.Fatalf("%s n %d c %d ky %d kx %d: the kernel takes samples [%d, %d) only", spec, n, c, ky, kx, p0, p1)
						}
					}
				}
			}
		}
	}
}
