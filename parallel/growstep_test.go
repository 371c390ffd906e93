package parallel

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// TestGrowingWithinAStepKeepsTheAccumulation: a micro-batch larger than
// the ones before it in the same step makes reserve replace every
// worker's workspace between micro-batches; the step must equal that of a
// trainer sized for it from the start, bit for bit — the gradient
// accumulated so far carried over, the shared packing of the dense
// weights wired to the new workspaces, workers without rows in the first
// micro-batch (with and without batch norm) cleared — also when every
// gradient buffer starts out NaN (a step that failed its check leaves
// such), which a part neither cleared nor written by ResetGrad and
// Backward would keep.
func TestGrowingWithinAStepKeepsTheAccumulation(t *testing.T) {
	rows := func(seed uint64, n, in, out int) (x, y []float32) {
		rng := rand.New(rand.NewPCG(seed, 3))
		x, y = make([]float32, n*in), make([]float32, n*out)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for r := 0; r < n; r++ {
			y[r*out+rng.IntN(out)] = 1
		}
		return x, y
	}
	for _, spec := range []string{"64-96:relu-80:relu-10:softmax", "64-96:relu-bn-80:relu-10:softmax"} {
		for _, sizes := range [][]int{{2, 40, 7}, {1, 1, 60}} {
			run := func(presize, poison bool) []float32 {
				m, _ := model.New[float32](model.MustParseSpec(spec), 1)
				opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
				tr, err := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy, Seed: 4})
				if err != nil {
					t.Fatal(err)
				}
				if presize {
					tr.reserve(20)
				}
				err = tr.Run(context.Background(), func(s *Session[float32]) error {
					if poison {
						for _, g := range s.grads() {
							for i := range g {
								g[i] = float32(math.NaN())
							}
						}
					}
					for step := range 2 {
						var bs []Batch[float32]
						for i, n := range sizes {
							x, y := rows(uint64(step*10+i), n, 64, 10)
							bs = append(bs, Batch[float32]{X: x, Y: y, N: n})
						}
						if _, err := s.Step(bs...); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return m.Params
			}
			grown, sized, poisoned := run(false, false), run(true, false), run(true, true)
			if !slices.Equal(grown, sized) || !slices.Equal(sized, poisoned) {
				t.Errorf("%s, micro-batches %v on 3 workers: grown within the step equals sized %v; NaN-started equals clean %v",
					spec, sizes, slices.Equal(grown, sized), slices.Equal(sized, poisoned))
			}
		}
	}
}
