package num_test

import (
	"fmt"
	"sync"

	"github.com/ptrain/ptrain/model/num"
)

// Two goroutines multiply their own rows by one weight matrix, Wᵀ, packed
// once: each packs the units it claims, both wait for the packing, then
// each runs its product on the shared panels (as the trainer's workers do
// with model.SharedPack). Where ptrain's kernels do not run, Units is 0 and
// GemmPackedB is Gemm.
func ExampleGemmPackedB() {
	const in, out = 3, 2
	w := []float32{1, 0, -1, 2, 1, 0} // W is (out 2, in 3), row-major
	xs := [][]float32{
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 0, 0, 0, 2, 2, 2, 3, 3, 3}, // 7 rows of 3
		{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1}, // 7 rows of 3
	}
	p := num.NewPackedB[float32](true, in, out) // op(b) = Wᵀ, in×out

	var mu sync.Mutex
	next := 0
	claim := func() int { // what an atomic counter does in model.SharedPack
		mu.Lock()
		defer mu.Unlock()
		next++
		return next - 1
	}
	var packed, done sync.WaitGroup
	packed.Add(2)
	zs := make([][]float32, 2)
	for g := range 2 {
		done.Go(func() {
			for u := claim(); u < p.Units(); u = claim() {
				p.PackUnit(u, w, in)
			}
			packed.Done()
			packed.Wait() // every unit is packed before any product reads them
			zs[g] = make([]float32, 7*out)
			num.GemmPackedB(7, 1, xs[g], in, p, w, in, 0, zs[g], out)
		})
	}
	done.Wait()
	fmt.Println(zs[0][:4], zs[1][:4])
	// Output: [-2 4 -2 13] [1 2 0 1]
}
