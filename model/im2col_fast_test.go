package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestIm2colBitsMatchDefinition: im2col and col2im in float32 give the
// definition's bits — im2col the input values and +0 in the padding,
// col2im every gradient summed in (ky, kx) order — with the AVX2 loops and
// with the Go loops: "same" convolutions at stride 1, which mask the
// edges (edgeMasks), and strided or unevenly padded ones, which
// gather, for planes whose sizes leave every remainder of 8 lanes.
func TestIm2colBitsMatchDefinition(t *testing.T) {
	for _, spec := range []string{
		"2x6x6-conv(3,3,pad=1)", "1x7x7-conv(2,3,pad=1)", "3x5x9-conv(2,3,pad=1)", "2x9x9-conv(2,5,pad=2)",
		"1x11x3-conv(2,3,pad=1)", "2x4x4-conv(2,1)", "1x28x28-conv(2,3,pad=1)", "1x14x14-conv(3,3,pad=1)",
		"2x28x28-conv(2,3,stride=2,pad=1)", "2x14x14-conv(2,3,stride=2,pad=1)", "3x14x14-conv(2,1,stride=2)",
		"2x7x6-conv(2,3,stride=2,pad=1)", "2x8x9-conv(2,3,stride=3,pad=2)", "1x5x5-conv(2,5,stride=2,pad=3)",
		"2x6x5-conv(2,2,pad=1)", "1x9x9-conv(2,3,stride=4)", "2x12x13-conv(2,3,stride=2,pad=1)",
	} {
		for _, asm := range []bool{false, true} {
			if asm && !haveAVX2 {
				continue
			}
			t.Run(spec+map[bool]string{false: "/go", true: "/avx2"}[asm], func(t *testing.T) {
				defer func(h bool) { haveAVX2 = h }(haveAVX2)
				haveAVX2 = asm
				m, err := NewZero[float32](MustParseSpec(spec))
				if err != nil {
					t.Fatal(err)
				}
				l := m.stack[0].(*conv[float32])
				if l.wide() {
					t.Fatalf("%s has the wide layout", spec)
				}
				const n = 3
				rng := rand.New(rand.NewPCG(3, 4))
				x := make([]float32, n*l.c*l.h*l.w)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
					if i%5 == 0 {
						x[i] = float32(math.Copysign(0, -1)) // −0 must come through as −0
					}
				}
				cn := n * l.hwc
				cols, d, dx := make([]float32, l.kk*cn), make([]float32, l.kk*cn), make([]float32, len(x))
				for i := range d {
					d[i] = float32(rng.NormFloat64())
				}
				checkIm2colDefinition(t, spec, l, x, cols, d, dx, n, func(_ string, f func()) { f() })
			})
		}
	}
}

// TestMaskedCopyAndAdd checks the masked loops on every length up to a few
// vectors and on masks with both kinds of word, with and without AVX2.
func TestMaskedCopyAndAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		func() {
			defer func(h bool) { haveAVX2 = h }(haveAVX2)
			haveAVX2 = asm
			for n := 0; n <= 35; n++ {
				src, mask, dst, acc := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				want, wantAcc := make([]float32, n), make([]float32, n)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
					acc[i] = float32(rng.NormFloat64())
					wantAcc[i] = acc[i]
					if rng.IntN(3) > 0 {
						mask[i] = allOnes[float32]()
						want[i] = src[i]
						wantAcc[i] += src[i]
					}
					dst[i] = 7
				}
				maskedCopy(dst, src, mask)
				maskedAdd(acc, src, mask)
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(want[i]) || math.Float32bits(acc[i]) != math.Float32bits(wantAcc[i]) {
						t.Fatalf("asm %v, n %d, i %d: copy %v (want %v), add %v (want %v)", asm, n, i, dst[i], want[i], acc[i], wantAcc[i])
					}
				}
			}
		}()
	}
}

// TestPlaneSumsMatchSum4: the bias gradient's plane sums, four planes at
// a time in assembly, are sum4's bits for every plane, on plane sizes
// with every remainder of 4 and plane counts with every remainder of 4.
func TestPlaneSumsMatchSum4(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		func() {
			defer func(h bool) { haveAVX2 = h }(haveAVX2)
			haveAVX2 = asm
			for _, hw := range []int{1, 2, 3, 4, 5, 7, 8, 13, 49, 196} {
				for planes := 0; planes <= 9; planes++ {
					x := make([]float32, planes*hw)
					for i := range x {
						x[i] = float32(rng.NormFloat64())
						if i%11 == 0 {
							x[i] = float32(math.Copysign(0, -1))
						}
					}
					out := make([]float32, planes)
					planeSums(x, hw, out)
					for i := range out {
						if want := sum4(x[i*hw : (i+1)*hw]); math.Float32bits(out[i]) != math.Float32bits(want) {
							t.Fatalf("asm %v, hw %d, planes %d: plane %d sums to %v, sum4 %v", asm, hw, planes, i, out[i], want)
						}
					}
				}
			}
		}()
	}
}

// checkIm2colDefinition runs im2col on samples x of layer l into cols (set
// to NaN first: every entry must be written) and col2im of d into dx
// (cleared by the caller, or holding earlier gradients, never −0), each
// through run (which may turn a fault into a failure), and compares both
// with the definition bit for bit: cols with x's value at each tap, 0
// outside (−0 kept), and dx with each entry of d added in index order to
// what it held. The wide layout's dropped columns of d are zeroed
// first: they carry no gradient.
func checkIm2colDefinition[T float32 | float64](t *testing.T, name string, l *conv[T], x, cols, d, dx []T, n int, run func(what string, f func())) {
	t.Helper()
	cn := n * l.hwc
	for i := range cols {
		cols[i] = T(math.NaN())
	}
	run(name+": im2col", func() { l.im2col(x, cols, n) })
	want := append([]T(nil), dx...)
	for c := 0; c < l.c; c++ {
		for ky := 0; ky < l.k; ky++ {
			for kx := 0; kx < l.k; kx++ {
				for s := 0; s < n; s++ {
					for oy := 0; oy < l.ho; oy++ {
						for ox := 0; ox < l.ww; ox++ {
							i := ((c*l.k+ky)*l.k+kx)*cn + s*l.hwc + oy*l.ww + ox
							if ox >= l.wo {
								d[i] = 0
								continue
							}
							iy, ix := oy*l.stride+ky-l.pad, ox*l.stride+kx-l.pad
							var v T
							if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
								j := ((s*l.c+c)*l.h+iy)*l.w + ix
								v = x[j]
								want[j] += d[i]
							}
							if bitsOf(cols[i]) != bitsOf(v) {
								t.Fatalf("%s: cols[c=%d ky=%d kx=%d s=%d oy=%d ox=%d] = %v, want %v", name, c, ky, kx, s, oy, ox, cols[i], v)
							}
						}
					}
				}
			}
		}
	}
	run(name+": col2im", func() { l.col2im(d, dx, n) })
	for i := range dx {
		if bitsOf(dx[i]) != bitsOf(want[i]) {
			t.Fatalf("%s: col2im: dx[%d] = %v, want %v", name, i, dx[i], want[i])
		}
	}
}

func bitsOf[T float32 | float64](v T) uint64 {
	if f, ok := any(v).(float32); ok {
		return uint64(math.Float32bits(f))
	}
	return math.Float64bits(float64(v))
}
