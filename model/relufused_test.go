package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestReLUFusedPassesMatchSeparatePasses: batch norm's normalisation with
// its ReLU, and a residual sum with its ReLU, each in one pass (reluFused),
// give the bits of the separate passes they replace — affinePlane then
// reluForward; a copy, addTo and reluForward — on every length up to a
// few vectors, with and without AVX2, −0 and values that round to ±0
// included.
func TestReLUFusedPassesMatchSeparatePasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		func() {
			defer func(h bool) { haveAVX2 = h }(haveAVX2)
			haveAVX2 = asm
			for n := 0; n <= 35; n++ {
				x, y := make([]float32, n), make([]float32, n)
				for i := range x {
					x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					switch i % 7 {
					case 3:
						x[i] = float32(math.Copysign(0, -1))
					case 5:
						y[i] = -x[i] // a sum of exactly 0
					}
				}
				ta, tb := float32(1.7), float32(-0.3)
				want, got := make([]float32, n), make([]float32, n)
				affinePlane(x, want, ta, tb)
				reluForward(want, want)
				affineReLUPlane(x, got, ta, tb)
				same(t, "affine", asm, want, got)
				copy(want, x)
				addTo(want, y)
				reluForward(want, want)
				addReLU(got, x, y)
				same(t, "sum", asm, want, got)
			}
		}()
	}
}

func same(t *testing.T, what string, asm bool, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s (asm %v, n %d): [%d] = %v, want %v", what, asm, len(want), i, got[i], want[i])
		}
	}
}
