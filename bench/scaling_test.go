package bench

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// The terms of the scaling model in bench/README.md ("A model of the step
// across workers"), each measured in CPU time of the benchmark's own
// thread, which holds up on the loaded shared machine where wall-clock
// ratios between 1 and 2 workers do not. bench/scaling.sh runs them and
// fits the model.

// scalingNets are the nets of the scaling model.
var scalingNets = []struct{ name, spec string }{{"mlp", MNISTSpec}, {"smallcnn", SmallCNN}}

// shardRows are the rows of one worker's shard at batch 32–512 over 1–16
// workers (batch ÷ W).
var shardRows = []int{2, 4, 8, 16, 32, 64, 128, 256, 512}

// BenchmarkShardCPU is what each of W workers computes in a step's first
// phase — reset its gradient, forward, loss gradient, backward — for a
// shard of n rows, as the trainer's workers do it: ResetGrad, and the
// dense weights packed once for all W (model.SharedPack; not with one
// worker). One workspace runs W passes one after the other on this
// thread, the first of which packs; cpu-ns/shard is the CPU time per
// worker. (One workspace, not W: W workers' gradient buffers would not fit
// one core's caches, where each worker has its own core's.) Fitted as
// a + p/W + b·n: b is the cost per row, p the packing the workers share,
// a the rest of what does not shrink with the shard (per-GEMM and
// per-layer overheads, the passes over the gradient buffer). Only W·n ≤
// 512 is run for W > 1. The sub-benchmarks named "plain" are a workspace
// on its own — ZeroGrad, each GEMM packing for itself — which is what
// every worker ran before issue #24: the model's "before".
func BenchmarkShardCPU(b *testing.B) {
	for _, net := range scalingNets {
		for _, n := range shardRows {
			b.Run(fmt.Sprintf("%s/rows=%d/plain", net.name, n), func(b *testing.B) { benchShardCPU(b, net.spec, n, 0) })
			for _, w := range []int{1, 2, 16} {
				if w > 1 && w*n > 512 {
					continue
				}
				b.Run(fmt.Sprintf("%s/rows=%d/workers=%d", net.name, n, w), func(b *testing.B) { benchShardCPU(b, net.spec, n, w) })
			}
		}
	}
}

// benchShardCPU runs BenchmarkShardCPU for w workers, or plain for w = 0.
func benchShardCPU(b *testing.B, spec string, n, w int) {
	sp := model.MustParseSpec(spec)
	m, err := model.New[float32](sp, 1)
	if err != nil {
		b.Fatal(err)
	}
	var pack *model.SharedPack[float32]
	if w > 1 {
		pack = model.NewSharedPack(m)
	}
	ws := model.NewWorkspace(m, n)
	ws.Pack = pack
	reset := ws.ResetGrad
	if w == 0 {
		w, reset = 1, ws.ZeroGrad
	}
	x := make([]float32, n*sp.Inputs)
	randomFill(x, 2)
	y := make([]float32, n*sp.Outputs())
	for r := 0; r < n; r++ {
		y[r*10+r%10] = 1
	}
	loss := model.DefaultLoss(sp)
	runtime.LockOSThread() // for threadCPU: the passes run on this goroutine
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	c0 := threadCPU()
	for b.Loop() {
		if pack != nil {
			pack.Invalidate()
		}
		for range w {
			reset()
			ws.Forward(x, n, true)
			ws.LossGrad(loss, y, float64(n*w))
			ws.Backward()
		}
	}
	cpu := threadCPU() - c0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*w), "cpu-ns/shard")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*w*n), "cpu-ns/row")
}

// BenchmarkStepCPU is a whole optimizer step with one worker (on this
// thread) at batch n: what it costs beyond BenchmarkShardCPU's rows=n,
// workers=1 is the step's tail — the reduction phase's pass over the
// gradient (finiteness check and Σg²), the optimizer and the per-layer
// statistics — of which W workers each do a 1/W chunk.
func BenchmarkStepCPU(b *testing.B) {
	for _, net := range scalingNets {
		for _, n := range []int{32, 128} {
			b.Run(fmt.Sprintf("%s/batch=%d", net.name, n), func(b *testing.B) { benchStepCPU(b, net.spec, n) })
		}
	}
}

// BenchmarkAddCPU is one addition of a gradient buffer into another, over
// the whole parameter vector: the all-reduce tree makes W−1 of them per
// step, split over W workers by chunk.
func BenchmarkAddCPU(b *testing.B) {
	for _, net := range scalingNets {
		p := model.MustParseSpec(net.spec).NumParams()
		b.Run(net.name, func(b *testing.B) {
			x, y := num.Alloc[float32](p), num.Alloc[float32](p)
			randomFill(x, 1)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			c0 := threadCPU()
			for b.Loop() {
				num.Axpy(1, x, y)
			}
			cpu := threadCPU() - c0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
