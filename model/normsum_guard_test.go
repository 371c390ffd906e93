//go:build linux

package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNormSumKernelsStayInsideTheirSlices: the residual sum's pass over
// normalised terms (affine2AddReLU) and batch norm's ReLU mask
// (reluMaskPlane), with every slice against an inaccessible page at
// either end, load and store nothing past them and give the Go loops'
// bits, on every length up to a few vectors, in float32 (the assembly's
// type) with and without AVX2.
func TestNormSumKernelsStayInsideTheirSlices(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		for n := 0; n <= 35; n++ {
			x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i], d[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			f := [4]float32{1.25, -0.5, 0.75, 0.25}
			want, wantD := make([]float32, n), slices.Clone(d)
			func() {
				defer func(h bool) { haveAVX2 = h }(haveAVX2)
				haveAVX2 = false
				affine2AddReLU(want, x, y, &f)
				reluMaskPlane(x, wantD, f[0], f[1])
			}()
			for _, atEnd := range []bool{false, true} {
				gx, gy, ga := guardedCopy(t, x, atEnd), guardedCopy(t, y, atEnd), guarded[float32](t, n, atEnd)
				gd := guardedCopy(t, d, atEnd)
				func() {
					defer func(h bool) { haveAVX2 = h }(haveAVX2)
					haveAVX2 = asm
					noFault(t, "affine2AddReLU", func() { affine2AddReLU(ga, gx, gy, &f) })
					noFault(t, "reluMaskPlane", func() { reluMaskPlane(gx, gd, f[0], f[1]) })
				}()
				for i := range want {
					if math.Float32bits(ga[i]) != math.Float32bits(want[i]) || math.Float32bits(gd[i]) != math.Float32bits(wantD[i]) {
						t.Fatalf("AVX2 %v, n %d, guard at end %v: [%d] = %v, %v; want %v, %v", asm, n, atEnd, i, ga[i], gd[i], want[i], wantD[i])
					}
				}
			}
		}
	}
}
