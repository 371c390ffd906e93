package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestVectorKernelsMatchGoLoops runs every float32 update with the
// assembly (where this machine has it) and with the Go loops alone, over
// lengths around the 8-lane block, and requires the same bits: both do the
// same operations in the same order, so any difference is a bug in one.
func TestVectorKernelsMatchGoLoops(t *testing.T) {
	if !haveAVX {
		t.Skip("no vector kernels on this machine")
	}
	kernels := []struct {
		name string
		run  func(p, g, a, b []float32)
	}{
		{"adam", adamKernel{b1: 0.9, b2: 0.999, eps: 1e-8, stepSize: 0.003, bc2: 0.2, decay: 1}.run32},
		{"adamw", adamKernel{b1: 0.8, b2: 0.99, eps: 1e-6, stepSize: 0.01, bc2: 0.7, decay: 0.999}.run32},
		{"rmsprop", func(p, g, a, _ []float32) { rmspropKernel{lr: 0.01, alpha: 0.99, eps: 1e-8}.run32(p, g, a, nil) }},
		{"rmsprop+momentum", rmspropKernel{lr: 0.01, alpha: 0.9, eps: 1e-8, mu: 0.9}.run32},
		{"momentum", func(p, g, a, _ []float32) { momentumKernel{lr: 0.05, mu: 0.9}.run32(p, g, a) }},
		{"nesterov", func(p, g, a, _ []float32) { momentumKernel{lr: 0.05, mu: 0.8, nesterov: true}.run32(p, g, a) }},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int, nonNeg bool) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-6)))
			if nonNeg {
				x[i] = float32(math.Abs(float64(x[i])))
			}
		}
		return x
	}
	defer func(h bool) { haveAVX = h }(haveAVX)
	for _, k := range kernels {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 64, 1000, 4099} {
			p, g, a, b := fill(n, false), fill(n, false), fill(n, true), fill(n, false)
			var got, want [4][]float32
			for i, vec := range []bool{true, false} {
				haveAVX = vec
				c := [4][]float32{append([]float32(nil), p...), g, append([]float32(nil), a...), append([]float32(nil), b...)}
				for step := 0; step < 3; step++ {
					k.run(c[0], c[1], c[2], c[3])
				}
				if i == 0 {
					got = c
				} else {
					want = c
				}
			}
			for buf, name := range []string{"params", "", "state a", "state b"} {
				for i := range got[buf] {
					if math.Float32bits(got[buf][i]) != math.Float32bits(want[buf][i]) {
						t.Fatalf("%s, n=%d: %s[%d] = %v with the vector loop, %v with the Go loop", k.name, n, name, i, got[buf][i], want[buf][i])
					}
				}
			}
		}
	}
}
