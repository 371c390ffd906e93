package parallel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The AVX passes and the portable ones agree with float64 sums, and the
// copy is exact, for every length around the 16-element step.
func TestNormPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, avx := range []bool{false, true} {
		if avx && !haveAVX {
			continue
		}
		saved := haveAVX
		haveAVX = avx
		for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 100, applyBlock} {
			src, b := make([]float32, n), make([]float32, n)
			var wantSq, wantDiff float64
			for i := range src {
				src[i] = float32(rng.NormFloat64())
				b[i] = src[i] + float32(1e-3*rng.NormFloat64())
				wantSq += float64(src[i]) * float64(src[i])
				d := float64(src[i]) - float64(b[i])
				wantDiff += d * d
			}
			dst := make([]float32, n)
			sq := copySumSq(dst, src)
			for i := range src {
				if dst[i] != src[i] {
					t.Fatalf("AVX %v, n %d: copy differs at %d", avx, n, i)
				}
			}
			diff := diffSumSq(dst, b)
			if math.Abs(sq-wantSq) > 1e-6*wantSq || math.Abs(diff-wantDiff) > 1e-5*wantDiff {
				t.Errorf("AVX %v, n %d: Σx² %v (want %v), Σ(a−b)² %v (want %v)", avx, n, sq, wantSq, diff, wantDiff)
			}
		}
		haveAVX = saved
	}
}
