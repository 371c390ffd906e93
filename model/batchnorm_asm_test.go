package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBatchNormPassesSameBitsWithAndWithoutAVX2 checks that the float32
// normalisation, input gradient and sums give the same bits in assembly
// as in the Go loops, for every length around the vector widths, and
// that the sums are the sums.
func TestBatchNormPassesSameBitsWithAndWithoutAVX2(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2 assembly on this machine or build")
	}
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	rng := rand.New(rand.NewPCG(3, 4))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 3)
		}
		return v
	}
	terms := [5]float64{0.3, 1 / math.Sqrt(2.7), 1.3 / math.Sqrt(2.7), -0.07, 0.21}
	for n := 0; n <= 35; n++ {
		x, dz, dx0 := vec(n), vec(n), vec(n)
		a, b := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		var z, dx [2][]float32
		var sums [2][4]float64
		for k, asm := range []bool{false, true} {
			haveAVX2 = asm
			sums[k][0], sums[k][1] = sumF64(x), sqDevF64(x, 0.3)
			sums[k][2], sums[k][3] = gradSumsF64(dz, x, 0.3)
			z[k] = make([]float32, n)
			affinePlane(x, z[k], a, b)
			dx[k] = slices.Clone(dx0)
			addInputGrad(x, dz, dx[k], &terms)
		}
		var want [4]float64
		for i := range n {
			want[0] += float64(x[i])
			want[1] += (float64(x[i]) - 0.3) * (float64(x[i]) - 0.3)
			want[2] += float64(dz[i])
			want[3] += float64(dz[i]) * (float64(x[i]) - 0.3)
		}
		for q := range want {
			if math.Float64bits(sums[0][q]) != math.Float64bits(sums[1][q]) || math.Abs(sums[0][q]-want[q]) > 1e-12*(1+math.Abs(want[q])) {
				t.Fatalf("n=%d: sum %d is %v in assembly, %v in Go, want %v", n, q, sums[1][q], sums[0][q], want[q])
			}
		}
		for i := range n {
			if math.Float32bits(z[0][i]) != math.Float32bits(z[1][i]) {
				t.Fatalf("n=%d: normalised %d is %v in assembly, %v in Go", n, i, z[1][i], z[0][i])
			}
			if math.Float32bits(dx[0][i]) != math.Float32bits(dx[1][i]) || dx[0][i] == dx0[i] {
				t.Fatalf("n=%d: input gradient %d is %v in assembly, %v in Go (was %v)", n, i, dx[1][i], dx[0][i], dx0[i])
			}
		}
	}
}
