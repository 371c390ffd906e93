package num

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// blockDotShapes are the products a·bᵀ (m×n×k, b n×k) of the trainer: the
// dense forwards x·Wᵀ of the MLP 784-256-128-10 at 16–128 rows per worker,
// the small CNN's dense layer and the classifiers, and the convolutions'
// weight gradients (gemmBlockDot's with fewer than 32 columns, and with
// 4–16 rows through MatMulABtFixedRows).
var blockDotShapes = [][3]int{
	{16, 256, 784}, {32, 256, 784}, {64, 256, 784}, {128, 256, 784}, {512, 256, 784},
	{16, 128, 256}, {32, 128, 256}, {64, 128, 256}, {256, 128, 256},
	{16, 10, 128}, {32, 10, 128}, {64, 10, 128},
	{16, 128, 1600}, {64, 128, 1600},
	{16, 10, 84}, {64, 10, 64}, {64, 10, 784}, {16, 2, 300}, {1, 10, 784}, // LeNet-5's and ResNet-8's classifiers
	{32, 9, 1456}, {6, 25, 1568}, {32, 16, 1176}, {16, 9, 2352}, // convolutions' weight gradients dZ·colsᵀ
	{64, 288, 572}, {16, 150, 560}, {16, 144, 784}, {16, 144, 1568}, {32, 144, 784}, {32, 288, 784}, {64, 288, 784}, {64, 576, 784}, {32, 16, 1568}, {64, 32, 784}, {32, 144, 588}, {32, 288, 588}, {64, 288, 539}, {64, 576, 392}, {64, 32, 637},
}

// BenchmarkGemmBlockDot compares, one thread, CPU time, the paths a·bᵀ can
// take on each instruction set: "packed" is gemmPacked with its packing of
// b, "prepacked" GemmPackedB on a packing made beforehand (what a worker
// pays when others have packed everything), "dot" gemmDot's 3×3 blocks,
// "blockdot" gemmBlockDot.
//
//	go test -run XXX -bench GemmBlockDot -count 3 ./model/num
func BenchmarkGemmBlockDot(b *testing.B) {
	for _, impl := range gemmImpls(b) {
		if impl == nil || impl.bdot.s == nil {
			continue
		}
		for _, s := range blockDotShapes {
			for _, path := range []string{"packed", "prepacked", "dot", "blockdot"} {
				name := fmt.Sprintf("%s/%dx%dx%d/%s", impl.name, s[0], s[1], s[2], path)
				b.Run("f32/"+name, func(b *testing.B) { withISA(impl, func() { benchBlockDot[float32](b, s, path) }) })
				b.Run("f64/"+name, func(b *testing.B) { withISA(impl, func() { benchBlockDot[float64](b, s, path) }) })
			}
		}
	}
}

func benchBlockDot[T Float](b *testing.B, s [3]int, path string) {
	m, n, k := s[0], s[1], s[2]
	rng := rand.New(rand.NewPCG(1, 2))
	x, w, c := randSlice[T](rng, m*k), randSlice[T](rng, n*k), randSlice[T](rng, m*n)
	var f func()
	switch path {
	case "packed":
		f = func() { gemmPacked(false, true, m, n, k, 1, x, k, w, k, 1, c, n) }
	case "prepacked":
		p := newPackedB[T](true, k, n)
		packAll(p, w, k)
		if !p.Usable(m) {
			b.Skip("no packing for this shape")
		}
		f = func() { GemmPackedB(m, 1, x, k, p, w, k, 1, c, n) }
	case "dot":
		f = func() { gemmDot(m, n, k, 1, x, k, w, k, 1, c, n) }
	default:
		f = func() { gemmBlockDot(m, n, k, 1, x, k, w, k, 1, c, n) }
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	c0 := threadCPU()
	for b.Loop() {
		f()
	}
	reportFlops(b, 2*float64(m*n*k), threadCPU()-c0)
}
