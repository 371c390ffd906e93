package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// MNISTSpec is the MLP every benchmark and comparison here uses.
const MNISTSpec = "784-256:relu-128:relu-10:softmax"

var batches = []int{32, 128, 512}

// flopsPerSample counts the multiply-adds of the three GEMMs per layer
// (forward, weight gradient, input gradient — the first layer has no input
// gradient) at 2 flops each.
func flopsPerSample(sp model.Spec) float64 {
	var f float64
	in := sp.Inputs
	for i, l := range sp.Layers {
		mult := 3.0
		if i == 0 {
			mult = 2
		}
		f += mult * 2 * float64(in*l.Units)
		in = l.Units
	}
	return f
}

func randomFill[T num.Float](x []T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range x {
		x[i] = T(rng.Float64()) // non-zero: gonum skips zero elements of A
	}
}

func benchForwardBackward[T num.Float](b *testing.B, batch int) {
	sp := model.MustParseSpec(MNISTSpec)
	m, _ := model.New[T](sp, 1)
	ws := model.NewWorkspace(m, batch)
	x := make([]T, batch*sp.Inputs)
	randomFill(x, 2)
	y := make([]T, batch*sp.Outputs())
	for r := 0; r < batch; r++ {
		y[r*10+r%10] = 1
	}
	runtime.LockOSThread() // for threadCPU: the pass runs on this goroutine
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := threadCPU()
	for b.Loop() {
		ws.ZeroGrad()
		ws.Forward(x, batch, true)
		ws.LossGrad(model.CrossEntropy, y, float64(batch))
		ws.Backward()
	}
	cpu := (threadCPU() - c0).Seconds()
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/s, "samples/s")
	b.ReportMetric(float64(b.N*batch)*flopsPerSample(sp)/s/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N*batch)*flopsPerSample(sp)/cpu/1e9, "cpuGFLOP/s")
	}
}

// BenchmarkForwardBackward is one forward and backward pass of the MNIST
// MLP on one core.
func BenchmarkForwardBackward(b *testing.B) {
	for _, batch := range batches {
		b.Run(fmt.Sprintf("f32/batch=%d", batch), func(b *testing.B) { benchForwardBackward[float32](b, batch) })
		b.Run(fmt.Sprintf("f64/batch=%d", batch), func(b *testing.B) { benchForwardBackward[float64](b, batch) })
	}
}

func benchGemm[T num.Float](b *testing.B, m, n, k int) {
	a, w, c := make([]T, m*k), make([]T, n*k), make([]T, m*n)
	randomFill(a, 1)
	randomFill(w, 2)
	b.ReportAllocs()
	for b.Loop() {
		num.Gemm(false, true, m, n, k, 1, a, k, w, k, 0, c, n)
	}
	b.ReportMetric(float64(b.N)*2*float64(m*n*k)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm is the GEMM of the MLP's first layer, x (batch, 784) times
// Wᵀ with W (256, 784): the peak the forward/backward benchmark is held to.
func BenchmarkGemm(b *testing.B) {
	b.Logf("BLAS backend: %s", num.Backend())
	for _, batch := range batches {
		b.Run(fmt.Sprintf("f32/%dx784x256", batch), func(b *testing.B) { benchGemm[float32](b, batch, 256, 784) })
		b.Run(fmt.Sprintf("f64/%dx784x256", batch), func(b *testing.B) { benchGemm[float64](b, batch, 256, 784) })
	}
}

// BenchmarkGemmParallel runs the 128×784×256 GEMM on every core at once,
// each goroutine with its own buffers: the ceiling that data-parallel
// workers can reach together (compare with BenchmarkGemm, one core).
func BenchmarkGemmParallel(b *testing.B) {
	b.Run("f32/128x784x256", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			a, w, c := make([]float32, 128*784), make([]float32, 256*784), make([]float32, 128*256)
			randomFill(a, 1)
			randomFill(w, 2)
			for pb.Next() {
				num.Gemm(false, true, 128, 256, 784, 1, a, 784, w, 784, 0, c, 256)
			}
		})
		b.ReportMetric(float64(b.N)*2*128*256*784/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
