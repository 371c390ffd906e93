package parallel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// withAVX runs f with the AVX passes off and, where the CPU has them, on.
func withAVX(t *testing.T, f func(t *testing.T, avx bool)) {
	for _, avx := range []bool{false, true} {
		if avx && !haveAVX {
			continue
		}
		saved := haveAVX
		haveAVX = avx
		f(t, avx)
		haveAVX = saved
	}
}

// The check's Σx² agrees with a float64 sum, is NaN or Inf when an element
// is, and the fused addition gives the bits of the addition followed by
// the sum, at every length around the 16-element step and the block.
func TestCheckPasses(t *testing.T) {
	withAVX(t, func(t *testing.T, avx bool) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{0, 1, 15, 16, 17, 33, 100, sqBlock - 1, sqBlock, sqBlock + 17, 3*sqBlock + 5} {
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			var want float64
			for _, v := range x {
				want += float64(v) * float64(v)
			}
			if got := sumSq(x); math.Abs(got-want) > 1e-6*want {
				t.Errorf("AVX %v, n %d: Σx² = %v, want %v", avx, n, got, want)
			}
			apart := slices.Clone(y)
			num.Axpy(1, x, apart)
			wantSq := sumSq(apart)
			gotSq := addSumSq(y, x)
			if math.Float64bits(gotSq) != math.Float64bits(wantSq) || !slices.Equal(y, apart) {
				t.Errorf("AVX %v, n %d: fused Σ(y+x)² = %v, apart %v (or the sums differ)", avx, n, gotSq, wantSq)
			}
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
				if n == 0 {
					continue
				}
				x[n-1] = bad
				if s := sumSq(x); !math.IsNaN(s) && !math.IsInf(s, 0) {
					t.Errorf("AVX %v, n %d: Σx² = %v with %v in x", avx, n, s, bad)
				}
				x[n-1] = 0
			}
		}
	})
}

// treeSumSq adds along the tree and sums exactly as treeSum followed by
// chunkSumSq, per layer too, for 1 to 5 workers (some without rows), and
// for chunks that start or end inside a layer.
func TestTreeSumSqMatchesApart(t *testing.T) {
	for workers := 1; workers <= 5; workers++ {
		m, err := model.New[float32](model.MustParseSpec("64-128:relu-10:softmax"), 5)
		if err != nil {
			t.Fatal(err)
		}
		opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
		tr, err := New(m, opt, Config{Workers: workers, Loss: model.CrossEntropy, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		withAVX(t, func(t *testing.T, avx bool) {
			rng := rand.New(rand.NewPCG(5, uint64(workers)))
			for active := 1; active <= workers; active++ {
				for _, c := range [][2]int{{0, len(m.Params)}, {0, 100}, {100, 8400}, {8319, 8321}, {5000, len(m.Params)}} {
					for _, ws := range tr.ws {
						for i := range ws.Grad {
							ws.Grad[i] = float32(rng.NormFloat64())
						}
					}
					saved := make([][]float32, workers)
					for w, ws := range tr.ws {
						saved[w] = slices.Clone(ws.Grad)
					}
					order := treeOrder(workers, active)
					tr.treeSum(order, c[0], c[1])
					want := tr.chunkSumSq(workers-1, c, tr.ws[0].Grad[c[0]:c[1]], false)
					wantLayers := slices.Clone(tr.st.grad[workers-1])
					wantSum := slices.Clone(tr.ws[0].Grad)
					for w, ws := range tr.ws {
						copy(ws.Grad, saved[w])
					}
					got := tr.treeSumSq(order, 0, c, false)
					if math.Float64bits(got) != math.Float64bits(want) || !slices.Equal(tr.st.grad[0], wantLayers) || !slices.Equal(tr.ws[0].Grad, wantSum) {
						t.Errorf("AVX %v, %d workers, %d active, chunk %v: fused Σg² %v (layers %v), apart %v (%v), or the sums differ",
							avx, workers, active, c, got, tr.st.grad[0], want, wantLayers)
					}
				}
			}
		})
	}
}
