package model

import (
	"math/rand/v2"
	"testing"
)

// TestIm2colAgainstDefinition checks im2col entry by entry against its
// definition (cols[(c,ky,kx), s·Ho·Wo + p] = x[s, c, oy·S+ky−P, ox·S+kx−P],
// 0 outside) and col2im as its adjoint, ⟨im2col(x), d⟩ = ⟨x, col2im(d)⟩,
// for every path: wide, same padding, and strided rows with padding on
// either side.
func TestIm2colAgainstDefinition(t *testing.T) {
	for _, spec := range []string{
		"2x6x7-conv(3,3)", "2x6x6-conv(3,3,pad=1)", "2x9x9-conv(2,5,pad=2)", "2x7x6-conv(2,3,stride=2,pad=1)", "3x7x7-conv(2,1,stride=2)",
		"2x8x9-conv(2,3,stride=3,pad=2)", "1x5x5-conv(2,5,stride=2,pad=3)", "2x6x5-conv(2,2,pad=1)", "1x9x9-conv(2,3,stride=4)",
		"2x12x13-conv(2,3,stride=2,pad=1)", "3x11x11-conv(2,1,stride=2)", // stride-2 rows of 6 and 7: four at a time, then the rest
	} {
		t.Run(spec, func(t *testing.T) {
			sp := MustParseSpec(spec)
			m, err := NewZero[float64](sp)
			if err != nil {
				t.Fatal(err)
			}
			l := m.stack[0].(*conv[float64])
			const n = 2
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float64, n*l.c*l.h*l.w)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			cn := n * l.hwc
			cols := make([]float64, l.kk*cn)
			for i := range cols {
				cols[i] = 99 // im2col must write every entry
			}
			l.im2col(x, cols, n)
			d := make([]float64, len(cols))
			var lhs float64
			for c := 0; c < l.c; c++ {
				for ky := 0; ky < l.k; ky++ {
					for kx := 0; kx < l.k; kx++ {
						for s := 0; s < n; s++ {
							for oy := 0; oy < l.ho; oy++ {
								for ox := 0; ox < l.ww; ox++ {
									i := ((c*l.k+ky)*l.k+kx)*cn + s*l.hwc + oy*l.ww + ox
									d[i] = rng.NormFloat64()
									if ox >= l.wo { // a dropped column of the wide layout: its gradient is 0
										d[i] = 0
										continue
									}
									var want float64
									iy, ix := oy*l.stride+ky-l.pad, ox*l.stride+kx-l.pad
									if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
										want = x[((s*l.c+c)*l.h+iy)*l.w+ix]
									}
									if cols[i] != want {
										t.Fatalf("cols[c=%d ky=%d kx=%d s=%d oy=%d ox=%d] = %v, want %v", c, ky, kx, s, oy, ox, cols[i], want)
									}
									lhs += want * d[i]
								}
							}
						}
					}
				}
			}
			dx := make([]float64, len(x))
			l.col2im(d, dx, n)
			var rhs float64
			for i := range x {
				rhs += x[i] * dx[i]
			}
			if diff := lhs - rhs; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("⟨im2col(x), d⟩ = %v, ⟨x, col2im(d)⟩ = %v", lhs, rhs)
			}
		})
	}
}
