//go:build linux

package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/ptrain/ptrain/internal/guardmem"
)

// The fast paths of im2col and col2im (im2col_fast.go) load and store
// whole vectors and gather through tables of offsets; these tests place
// every slice they hand them against an inaccessible page, so that a load
// or store past either end of a slice faults (turned into a test failure
// by debug.SetPanicOnFault) instead of silently reading or overwriting a
// neighbour, and compare the results with the definition on random shapes.

// guarded returns n zero elements that end where an inaccessible page
// begins (atEnd) or begin where one ends.
func guarded[T any](t *testing.T, n int, atEnd bool) []T { return guardmem.Slice[T](t, n, atEnd) }

// guardedCopy is guarded filled with a copy of s.
func guardedCopy[T any](t *testing.T, s []T, atEnd bool) []T {
	g := guarded[T](t, len(s), atEnd)
	copy(g, s)
	return g
}

// noFault runs f, failing the test with what instead of crashing where f
// touches an inaccessible page.
func noFault(t *testing.T, what string, f func()) {
	t.Helper()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: %v", what, r)
		}
	}()
	f()
}

// randomConvSpec draws a convolution over small and odd planes: kernels
// 1 to 7, strides 1 to 3, paddings up to 4 (some as wide as the kernel),
// H ≠ W, planes smaller than a vector, and ResNet-8's 28×28; it returns
// "" for a shape with no output.
func randomConvSpec(rng *rand.Rand) string {
	c, h, w := 1+rng.IntN(3), 1+rng.IntN(20), 1+rng.IntN(20)
	if rng.IntN(8) == 0 {
		h, w = 28, 28
	}
	k := []int{1, 2, 3, 3, 4, 5, 7}[rng.IntN(7)]
	s, pad := 1+rng.IntN(3), rng.IntN(min(k, 4))
	if rng.IntN(3) == 0 {
		s = 2
	}
	if rng.IntN(5) == 0 {
		pad = rng.IntN(5) // as wide as the kernel or wider: rows and columns wholly in the padding
	}
	if h+2*pad < k || w+2*pad < k {
		return ""
	}
	return fmt.Sprintf("%dx%dx%d-conv(%d,%d,stride=%d,pad=%d)", c, h, w, 1+rng.IntN(2), k, s, pad)
}

// TestIm2colRandomShapesStayInBoundsAndMatchDefinition: on random shapes,
// im2col writes the definition's bits into every entry of cols and col2im
// adds every gradient into dx in the definition's order, with the AVX2
// paths and the Go loops, float32 and float64, while x, cols and dx each
// lie against an inaccessible page on one side or the other.
func TestIm2colRandomShapesStayInBoundsAndMatchDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	shapes := 0
	for shapes < 300 {
		spec := randomConvSpec(rng)
		if spec == "" {
			continue
		}
		shapes++
		atEnd := shapes%2 == 0
		t.Run(spec, func(t *testing.T) { // its pages are unmapped when it ends
			for _, asm := range []bool{false, true} {
				if asm && !haveAVX2 {
					continue
				}
				checkIm2colGuarded[float32](t, spec, asm, atEnd, rng)
				if !asm {
					checkIm2colGuarded[float64](t, spec, asm, atEnd, rng)
				}
			}
		})
	}
}

func checkIm2colGuarded[T float32 | float64](t *testing.T, spec string, asm, atEnd bool, rng *rand.Rand) {
	t.Helper()
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	haveAVX2 = asm
	m, err := NewZero[T](MustParseSpec(spec))
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	l := m.stack[0].(*conv[T])
	name := fmt.Sprintf("%s (%T, asm %v, guard at end %v)", spec, T(0), asm, atEnd)
	n := 1 + rng.IntN(3)
	x := guarded[T](t, n*l.c*l.h*l.w, atEnd)
	for i := range x {
		x[i] = T(rng.NormFloat64())
		if rng.IntN(5) == 0 {
			x[i] = T(math.Copysign(0, -1)) // −0 must come through as −0
		}
	}
	cn := n * l.hwc
	cols, d, dx := guarded[T](t, l.kk*cn, atEnd), guarded[T](t, l.kk*cn, !atEnd), guarded[T](t, len(x), !atEnd)
	for i := range d {
		d[i] = T(rng.NormFloat64())
	}
	checkIm2colDefinition(t, name, l, x, cols, d, dx, n, func(what string, f func()) { noFault(t, what, f) })
}

// TestStride2PlaneStaysInsideItsPlane calls the stride-2 kernels on one
// sample's plane and output row, each cut to its exact length against an
// inaccessible page, for every (ky, kx) of random stride-2 shapes: what
// they write must be the definition (stride2Plane) or the definition's
// sums (stride2AddPlane), and nothing outside.
func TestStride2PlaneStaysInsideItsPlane(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(23, 24))
	for shapes := 0; shapes < 200; {
		h, w := 1+rng.IntN(40), 1+rng.IntN(40)
		k := []int{1, 2, 3, 5, 7}[rng.IntN(5)]
		pad := rng.IntN(min(k, 4))
		if rng.IntN(5) == 0 {
			pad = rng.IntN(5)
		}
		if h+2*pad < k || w+2*pad < k {
			continue
		}
		shapes++
		spec := fmt.Sprintf("1x%dx%d-conv(1,%d,stride=2,pad=%d)", h, w, k, pad)
		m, err := NewZero[float32](MustParseSpec(spec))
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		l := m.stack[0].(*conv[float32])
		t.Run(spec, func(t *testing.T) { checkStride2Guarded(t, spec, l, rng) })
	}
}

func checkStride2Guarded(t *testing.T, spec string, l *conv[float32], rng *rand.Rand) {
	h, w, k, pad := l.h, l.w, l.k, l.pad
	for _, atEnd := range []bool{false, true} {
		plane, out := guarded[float32](t, h*w, atEnd), guarded[float32](t, l.hw, atEnd)
		in, dx := guarded[float32](t, l.hw, !atEnd), guarded[float32](t, h*w, !atEnd)
		for i := range plane {
			plane[i] = float32(rng.NormFloat64())
		}
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				lo, hi := l.span(kx)
				for i := range out {
					out[i] = float32(math.NaN())
				}
				name := fmt.Sprintf("%s ky %d kx %d (guard at end %v)", spec, ky, kx, atEnd)
				var took bool
				noFault(t, name+": stride2Plane", func() { took = l.stride2Plane(plane, out, ky, kx, lo, hi) })
				for i := range in {
					in[i] = float32(rng.NormFloat64())
				}
				clear(dx)
				var tookAdd bool
				noFault(t, name+": stride2AddPlane", func() { tookAdd = l.stride2AddPlane(dx, in, ky, kx, lo, hi) })
				if took != tookAdd {
					t.Fatalf("%s: stride2Plane took it: %v, stride2AddPlane: %v", name, took, tookAdd)
				}
				want := make([]float32, h*w)
				for oy := 0; oy < l.ho; oy++ {
					for ox := 0; ox < l.wo; ox++ {
						iy, ix := 2*oy+ky-pad, 2*ox+kx-pad
						var v float32
						if iy >= 0 && iy < h && ix >= 0 && ix < w {
							v = plane[iy*w+ix]
							want[iy*w+ix] += in[oy*l.wo+ox]
						}
						if took && math.Float32bits(out[oy*l.wo+ox]) != math.Float32bits(v) {
							t.Fatalf("%s: out[%d, %d] = %v, want %v", name, oy, ox, out[oy*l.wo+ox], v)
						}
					}
				}
				if !took {
					for i, v := range out {
						if !math.IsNaN(float64(v)) {
							t.Fatalf("%s: stride2Plane declined but wrote out[%d]", name, i)
						}
					}
				}
				for i := range dx {
					if !tookAdd {
						want[i] = 0
					}
					if math.Float32bits(dx[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: dx[%d] = %v, want %v", name, i, dx[i], want[i])
					}
				}
			}
		}
	}
}

// TestGatherPlaneStaysInBounds: gatherPlane on random tables (−1 included)
// over planes of every size up to a few vectors, each slice against an
// inaccessible page, gives plane[idx] or +0, and writes no further than
// len(idx).
func TestGatherPlaneStaysInBounds(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	for size := 1; size <= 40; size++ {
		for _, atEnd := range []bool{false, true} {
			n := rng.IntN(3 * size)
			plane := guarded[float32](t, size, atEnd)
			for i := range plane {
				plane[i] = float32(rng.NormFloat64())
			}
			idx := guarded[int32](t, n, !atEnd)
			for i := range idx {
				idx[i] = int32(rng.IntN(size+1)) - 1
			}
			out := guarded[float32](t, n, atEnd)
			name := fmt.Sprintf("plane %d, %d outputs, guard at end %v", size, n, atEnd)
			noFault(t, name, func() { gatherPlane(out, plane, idx) })
			for i, j := range idx {
				var v float32
				if j >= 0 {
					v = plane[j]
				}
				if math.Float32bits(out[i]) != math.Float32bits(v) {
					t.Fatalf("%s: out[%d] = %v, want %v", name, i, out[i], v)
				}
			}
		}
	}
}

// TestVectorLoopsStayInBounds runs the other vector loops of the conv's
// and the fused ReLUs' fast paths (masked copy and add, plane sums,
// affine+ReLU, sum+ReLU) on every length up to a few vectors with every
// slice against an inaccessible page, and compares them with their Go
// loops.
func TestVectorLoopsStayInBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for n := 0; n <= 40; n++ {
		for _, atEnd := range []bool{false, true} {
			src, mask, acc, y := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range src {
				src[i], acc[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
				if rng.IntN(2) == 0 {
					mask[i] = allOnes[float32]()
				}
			}
			want := map[string][]float32{}
			for _, asm := range []bool{false, true} {
				if asm && !haveAVX2 {
					continue
				}
				func() {
					defer func(h bool) { haveAVX2 = h }(haveAVX2)
					haveAVX2 = asm
					gs, gm, gy := guardedCopy(t, src, atEnd), guardedCopy(t, mask, !atEnd), guardedCopy(t, y, atEnd)
					got := map[string][]float32{}
					cp := guarded[float32](t, n, !atEnd)
					noFault(t, fmt.Sprintf("maskedCopy n %d", n), func() { maskedCopy(cp, gs, gm) })
					got["maskedCopy"] = cp
					ad := guardedCopy(t, acc, atEnd)
					noFault(t, fmt.Sprintf("maskedAdd n %d", n), func() { maskedAdd(ad, gs, gm) })
					got["maskedAdd"] = ad
					af := guarded[float32](t, n, !atEnd)
					noFault(t, fmt.Sprintf("affineReLUPlane n %d", n), func() { affineReLUPlane(gs, af, 1.3, -0.2) })
					got["affineReLUPlane"] = af
					ar := guarded[float32](t, n, !atEnd)
					noFault(t, fmt.Sprintf("addReLU n %d", n), func() { addReLU(ar, gs, gy) })
					got["addReLU"] = ar
					for hw := 1; hw <= 9; hw++ {
						planes := n / hw
						ps := guarded[float32](t, planes, !atEnd)
						noFault(t, fmt.Sprintf("planeSums hw %d planes %d", hw, planes), func() { planeSums(gs[len(gs)-planes*hw:], hw, ps) })
						got[fmt.Sprint("planeSums", hw)] = ps
					}
					for k, v := range got {
						w, ok := want[k]
						if !ok {
							want[k] = append([]float32(nil), v...)
							continue
						}
						for i := range w {
							if math.Float32bits(w[i]) != math.Float32bits(v[i]) {
								t.Fatalf("%s n %d (guard at end %v): asm [%d] = %v, Go %v", k, n, atEnd, i, v[i], w[i])
							}
						}
					}
				}()
			}
		}
	}
}
