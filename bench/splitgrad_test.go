package bench

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/num"
)

// A prototype of issue #24's second candidate, measured before building
// it: split each big dense layer's weight-gradient product across the
// workers by output units, instead of every worker computing the whole
// dW = dZᵀ·X over its own rows and the reduction then summing the
// workers' dW. BenchmarkWeightGradSplit times, for the MNIST MLP's two
// big layers (784→256 and 256→128), only what the two designs do
// differently, each with one hand-off between its two parts:
//
//   - perworker (what the trainer does): worker w computes both layers'
//     whole dW over its shard's rows into its own gradient buffer (beta
//     = 0); hand-off; worker w adds worker 1..W−1's buffers into worker
//     0's over its chunk (a 1/W share of those parameters), as phaseReduce
//     does with W = 2.
//   - splitk: hand-off (the other workers' dZ and X are ready); worker w
//     computes rows [o_w, o_{w+1}) of each dW over all the batch's rows
//     (K = batch), straight into worker 0's buffer. The shards' X and dZ
//     lie one after the other in one buffer per layer, so that the
//     product reads them as one matrix.
//   - splitchain: as splitk, but the rows are summed shard by shard —
//     rows of dW = shard 0's product (beta = 0), then + shard 1's (beta
//     = 1) ... — which on ptrain's kernels (c = 1·c + ab, one fused
//     multiply-add) is the bits of the per-worker products summed in
//     worker order: the exact design.
//
// Before the timed part of each iteration every worker rewrites its own
// shard's rows of X and dZ (so they come from its core's cache, as
// backward leaves them); that copy is outside cpu-ns. cpu-ns/op is the
// mean over the workers of each worker's CPU time in the two parts (its
// thread's, without the waits at the hand-offs); ns/op is wall time,
// hand-offs included, which on a loaded machine also measures the
// neighbours.
func BenchmarkWeightGradSplit(b *testing.B) {
	for _, batch := range []int{32, 64, 128, 256, 512} {
		for _, v := range []string{"perworker", "splitk", "splitchain"} {
			b.Run(fmt.Sprintf("batch=%d/%s", batch, v), func(b *testing.B) {
				g := newSplitGrad(batch, 2)
				g.bench(b, v)
			})
		}
	}
}

// splitLayers are the dense layers of MNISTSpec whose weight gradients the
// prototype computes: (out, in).
var splitLayers = [][2]int{{256, 784}, {128, 256}}

// splitGrad is the prototype's state: per layer the batch's X (n, in) and
// dZ (n, out), contiguous over the shards, their source rows, and each
// worker's gradient buffer of both layers' weights.
type splitGrad struct {
	n, w     int
	x, dz    [][]float32 // per layer
	srcX     [][]float32
	srcDZ    [][]float32
	grad     [][]float32 // per worker: every layer's dW, (out, in) each, one after the other
	off      []int       // per layer: its dW's offset in a gradient buffer
	size     int
	barrier  spinBarrier
	cpu      []time.Duration // per worker
	sinkSync sync.WaitGroup
}

func newSplitGrad(n, w int) *splitGrad {
	g := &splitGrad{n: n, w: w, barrier: spinBarrier{n: int32(w)}, cpu: make([]time.Duration, w)}
	for i, l := range splitLayers {
		out, in := l[0], l[1]
		g.x = append(g.x, num.Alloc[float32](n*in))
		g.dz = append(g.dz, num.Alloc[float32](n*out))
		sx, sd := make([]float32, n*in), make([]float32, n*out)
		randomFill(sx, uint64(10+i))
		randomFill(sd, uint64(20+i))
		g.srcX, g.srcDZ = append(g.srcX, sx), append(g.srcDZ, sd)
		g.off = append(g.off, g.size)
		g.size += out * in
	}
	for range w {
		g.grad = append(g.grad, num.Alloc[float32](g.size))
	}
	return g
}

// fill writes worker w's shard rows of every layer's X and dZ.
func (g *splitGrad) fill(w int) {
	lo, hi := data.Shard(g.n, g.w, w)
	for i, l := range splitLayers {
		out, in := l[0], l[1]
		copy(g.x[i][lo*in:hi*in], g.srcX[i][lo*in:hi*in])
		copy(g.dz[i][lo*out:hi*out], g.srcDZ[i][lo*out:hi*out])
	}
}

// own is perworker's first part: worker w's whole dW over its rows.
func (g *splitGrad) own(w int) {
	lo, hi := data.Shard(g.n, g.w, w)
	for i, l := range splitLayers {
		out, in := l[0], l[1]
		if hi > lo {
			num.Gemm(true, false, out, in, hi-lo, 1, g.dz[i][lo*out:], out, g.x[i][lo*in:], in, 0, g.grad[w][g.off[i]:], in)
		}
	}
}

// reduce is perworker's second part: worker w's chunk of the sum, in
// worker order, into worker 0's buffer.
func (g *splitGrad) reduce(w int) {
	lo, hi := data.Shard(g.size, g.w, w)
	for v := 1; v < g.w; v++ {
		num.Axpy(1, g.grad[v][lo:hi], g.grad[0][lo:hi])
	}
}

// split is splitk's (chain false) or splitchain's (chain true) part:
// worker w's rows of every layer's dW into worker 0's buffer.
func (g *splitGrad) split(w int, chain bool) {
	for i, l := range splitLayers {
		out, in := l[0], l[1]
		o0, o1 := data.Shard(out, g.w, w)
		c := g.grad[0][g.off[i]+o0*in:]
		if !chain {
			num.Gemm(true, false, o1-o0, in, g.n, 1, g.dz[i][o0:], out, g.x[i], in, 0, c, in)
			continue
		}
		beta := float32(0)
		for s := range g.w {
			lo, hi := data.Shard(g.n, g.w, s)
			if hi == lo {
				continue
			}
			num.Gemm(true, false, o1-o0, in, hi-lo, 1, g.dz[i][lo*out+o0:], out, g.x[i][lo*in:], in, beta, c, in)
			beta = 1
		}
	}
}

// step is one iteration of variant v on worker w.
func (g *splitGrad) step(w int, v string) {
	g.fill(w)
	g.barrier.wait()
	c0 := clockThreadCPU()
	if v == "perworker" {
		g.own(w)
	}
	c1 := clockThreadCPU()
	g.barrier.wait()
	c2 := clockThreadCPU()
	switch v {
	case "perworker":
		g.reduce(w)
	case "splitk":
		g.split(w, false)
	case "splitchain":
		g.split(w, true)
	}
	g.cpu[w] += c1 - c0 + clockThreadCPU() - c2
	g.barrier.wait() // nobody refills a shard another still reads
}

func (g *splitGrad) bench(b *testing.B, v string) {
	// Every worker runs b.N iterations: worker 0 under b.Loop, the others
	// told the count once the loop is over would be too late, so they run
	// until worker 0 says stop (iterations stay in lockstep through the
	// barrier).
	var stop atomic.Bool
	for w := 1; w < g.w; w++ {
		g.sinkSync.Add(1)
		go func() {
			defer g.sinkSync.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for {
				g.barrier.wait() // worker 0 decides, then everyone runs one step or leaves
				if stop.Load() {
					return
				}
				g.step(w, v)
			}
		}()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g.barrier.wait()
	g.step(0, v) // warm-up
	clear(g.cpu)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.barrier.wait()
		g.step(0, v)
	}
	b.StopTimer()
	stop.Store(true)
	g.barrier.wait()
	g.sinkSync.Wait()
	var cpu time.Duration
	for _, c := range g.cpu {
		cpu += c
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*g.w), "cpu-ns/op")
	b.ReportMetric(float64(g.cpu[0].Nanoseconds())/float64(b.N), "cpu0-ns/op")
}

// spinBarrier is a reusable barrier for n goroutines that waits by
// yielding, as the trainer's workers wait for a phase.
type spinBarrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Uint32
}

func (s *spinBarrier) wait() {
	g := s.gen.Load()
	if s.count.Add(1) == s.n {
		s.count.Store(0)
		s.gen.Add(1)
		return
	}
	for s.gen.Load() == g {
		runtime.Gosched()
	}
}

// TestWeightGradSplitChainIsExact checks the premise of splitchain: rows
// of dW summed shard by shard with beta = 1 equal, bit for bit, the
// per-worker products summed in worker order; and splitk's single
// product equals them up to rounding. The premise is one of ptrain's own
// kernels (model.WeightGrad's comment); gonum's GEMM, which -tags purego
// runs, does not keep it (there the chain gave 8.348382 where the sum of
// the products gave 8.348383).
func TestWeightGradSplitChainIsExact(t *testing.T) {
	if !num.OwnKernels() {
		t.Skip("the premise holds on ptrain's own GEMM kernels; this build or CPU runs another GEMM")
	}
	for _, c := range []struct{ n, w int }{{32, 2}, {64, 2}, {33, 3}, {3, 4}} {
		g := newSplitGrad(c.n, c.w)
		for w := range c.w {
			g.fill(w)
			g.own(w)
		}
		for w := range c.w {
			g.reduce(w)
		}
		want := append([]float32(nil), g.grad[0]...)
		clear(g.grad[0])
		for w := range c.w {
			g.split(w, true)
		}
		for i := range want {
			if g.grad[0][i] != want[i] {
				t.Fatalf("n=%d W=%d: chain element %d = %g, per-worker sum %g", c.n, c.w, i, g.grad[0][i], want[i])
			}
		}
		clear(g.grad[0])
		for w := range c.w {
			g.split(w, false)
		}
		for i := range want {
			if d := g.grad[0][i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("n=%d W=%d: split-K element %d = %g, per-worker sum %g", c.n, c.w, i, g.grad[0][i], want[i])
			}
		}
	}
}

// clockThreadCPU is the calling thread's CPU time from
// CLOCK_THREAD_CPUTIME_ID: to the nanosecond, where getrusage's
// (threadCPU) is too coarse for the tens of microseconds timed here.
func clockThreadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
