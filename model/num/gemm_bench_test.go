package num

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// gemmShape is one GEMM the trainer runs: c = op(a)·op(b), op(a) m×k.
type gemmShape struct {
	name    string
	ta, tb  bool
	m, n, k int
}

// trainShapes are the products of BenchmarkTrainStep (MNIST MLP
// 784-256-128-10, 64 rows per worker: batch 128 on 2 workers, and 128) and
// BenchmarkTrainStepCNN's small CNN and LeNet-5 at batch 128, with the
// group of samples conv.go unrolls at once (cn columns: 2 samples of the
// small CNN's first convolution, 1456; 4 of its second, 572; 2 and 4 of
// LeNet-5's, 1568 and 560), and ResNet-8's at batch 64 or 128 (3×3 convs
// with padding 1 and the 1×1 stride-2 shortcuts; conv.go's groups in
// float32: 3 samples of the stem's 784 pixels, 1 of 16→16's, 3 of the
// 14×14 layers', 11 of 32→64's 49, 8 of 64→64's; 6 and 13 for the
// shortcuts). The stem has no dX.
var trainShapes = []gemmShape{
	{"mlp-fwd1", false, true, 64, 256, 784},
	{"mlp-fwd1-128", false, true, 128, 256, 784},
	{"mlp-fwd1-16", false, true, 16, 256, 784}, // batch 32 on 2 workers
	{"mlp-dw1-16", true, false, 256, 784, 16},
	{"mlp-dx2-16", false, false, 16, 256, 128},
	{"mlp-fwd2", false, true, 64, 128, 256},
	{"mlp-dw1", true, false, 256, 784, 64},
	{"mlp-dw2", true, false, 128, 256, 64},
	{"mlp-dx2", false, false, 64, 256, 128},
	{"mlp-fwd1-32", false, true, 32, 256, 784},
	{"mlp-fwd1-256", false, true, 256, 256, 784},
	{"mlp-fwd1-512", false, true, 512, 256, 784},
	{"mlp-dw1-32", true, false, 256, 784, 32},
	{"mlp-dw1-128", true, false, 256, 784, 128},
	{"mlp-dw1-512", true, false, 256, 784, 512},
	{"mlp-fwd2-16", false, true, 16, 128, 256},
	{"mlp-dw2-16", true, false, 128, 256, 16},
	{"mlp-fwd3-16", false, true, 16, 10, 128},
	{"mlp-fwd3-64", false, true, 64, 10, 128},
	{"mlp-dw3-64", true, false, 10, 128, 64},
	{"mlp-dx3-64", false, false, 64, 128, 10},
	{"cnn-fc1-fwd-16", false, true, 16, 128, 1600},
	{"cnn-fc1-fwd-64", false, true, 64, 128, 1600},
	{"cnn-fc1-dw-64", true, false, 128, 1600, 64},
	{"cnn-fc1-dx-64", false, false, 64, 1600, 128},
	{"cnn-conv1-fwd", false, false, 32, 1456, 9},
	{"cnn-conv1-dw", false, true, 32, 9, 1456},
	{"cnn-conv2-fwd", false, false, 64, 572, 288},
	{"cnn-conv2-dw", false, true, 64, 288, 572},
	{"cnn-conv2-dx", true, false, 288, 572, 64},
	{"lenet-conv1-fwd", false, false, 6, 1568, 25},
	{"lenet-conv1-dw", false, true, 6, 25, 1568},
	{"lenet-conv2-fwd", false, false, 16, 560, 150},
	{"lenet-conv2-dw", false, true, 16, 150, 560},
	{"lenet-conv2-dx", true, false, 150, 560, 16},
	{"res-stem-fwd", false, false, 16, 2352, 9},
	{"res-stem-dw", false, true, 16, 9, 2352},
	{"res-c16-fwd", false, false, 16, 784, 144},
	{"res-c16-dw", false, true, 16, 144, 784},
	{"res-c16-dx", true, false, 144, 784, 16},
	{"res-c16s2-fwd", false, false, 32, 588, 144},
	{"res-c16s2-dw", false, true, 32, 144, 588},
	{"res-c16s2-dx", true, false, 144, 588, 32},
	{"res-c32-fwd", false, false, 32, 588, 288},
	{"res-c32-dw", false, true, 32, 288, 588},
	{"res-c32-dx", true, false, 288, 588, 32},
	{"res-c32s2-fwd", false, false, 64, 539, 288},
	{"res-c32s2-dw", false, true, 64, 288, 539},
	{"res-c32s2-dx", true, false, 288, 539, 64},
	{"res-c64-fwd", false, false, 64, 392, 576},
	{"res-c64-dw", false, true, 64, 576, 392},
	{"res-c64-dx", true, false, 576, 392, 64},
	{"res-sc32-fwd", false, false, 32, 1176, 16},
	{"res-sc32-dw", false, true, 32, 16, 1176},
	{"res-sc32-dx", true, false, 16, 1176, 32},
	{"res-sc64-fwd", false, false, 64, 637, 32},
	{"res-sc64-dw", false, true, 64, 32, 637},
	{"res-sc64-dx", true, false, 32, 637, 64},
}

// BenchmarkGemmShapes runs every trainer shape, float32 and float64, on
// every implementation of this build, single-threaded: "GFLOP/s" per wall second and "cpuGFLOP/s"
// per second of the thread's CPU time (the one to trust on a busy machine).
func BenchmarkGemmShapes(b *testing.B) {
	b.Logf("BLAS backend: %s", Backend())
	for _, impl := range gemmImpls(b) {
		name := implName(impl)
		if impl == nil && strings.HasPrefix(Backend(), "OpenBLAS") {
			name = "openblas"
		}
		for _, s := range trainShapes {
			b.Run(fmt.Sprintf("impl=%s/f32/%s", name, s.name), func(b *testing.B) { withISA(impl, func() { benchShape[float32](b, s) }) })
		}
		// float64 on the same shapes (its conv groups hold half as many
		// samples; the kernels see the same m and k).
		for _, s := range trainShapes {
			b.Run(fmt.Sprintf("impl=%s/f64/%s", name, s.name), func(b *testing.B) { withISA(impl, func() { benchShape[float64](b, s) }) })
		}
	}
}

func benchShape[T Float](b *testing.B, s gemmShape) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []T {
		x := Alloc[T](n)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		return x
	}
	a, bb, c := fill(s.m*s.k), fill(s.k*s.n), fill(s.m*s.n)
	lda, ldb := s.k, s.n
	if s.ta {
		lda = s.m
	}
	if s.tb {
		ldb = s.k
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	c0 := threadCPU()
	// A convolution's weight gradient runs as model/conv.go runs it: its
	// rows are output channels, which MatMulABtFixedRows may look at.
	dw := !s.ta && s.tb && strings.HasSuffix(s.name, "-dw")
	for b.Loop() {
		if dw {
			MatMulABtFixedRows(1, View(s.m, s.k, a), View(s.n, s.k, bb), 0, View(s.m, s.n, c))
			continue
		}
		Gemm(s.ta, s.tb, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
	}
	reportFlops(b, 2*float64(s.m*s.n*s.k), threadCPU()-c0)
}

// reportFlops reports flops per op over wall and CPU time.
func reportFlops(b *testing.B, flops float64, cpu time.Duration) {
	b.ReportMetric(float64(b.N)*flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)*flops/cpu.Seconds()/1e9, "cpuGFLOP/s")
	}
}

// BenchmarkFMAPeak is the machine's float32 FMA peak per core on each
// instruction set: a loop of independent register-only FMAs. A kernel's
// fraction of peak is its GFLOP/s over this one's, from the same run.
func BenchmarkFMAPeak(b *testing.B) {
	for _, impl := range gemmImpls(b) {
		loop, flops := fmaPeak(impl)
		if loop == nil {
			continue
		}
		b.Run(impl.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := threadCPU()
			for b.Loop() {
				loop(1000)
			}
			reportFlops(b, 1000*float64(flops), threadCPU()-c0)
		})
	}
}
