package parallel

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// BenchmarkApplyStats is the optimizer phase (momentum SGD over the MNIST
// MLP's 235,146 float32 parameters, one worker) with the per-layer
// statistics on and off: their cost is the difference, as the rest of a
// step is unchanged but for a few vectorised dots in the reduction. The
// phase runs on the benchmark's goroutine, locked to its thread, so that
// its CPU time (cpu-ns/param) can be measured too: on a loaded machine it
// varies far less than wall time.
func BenchmarkApplyStats(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "stats=off"
		if on {
			name = "stats=on"
		}
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			m, _ := model.NewZero[float32](model.MustParseSpec("784-256:relu-128:relu-10:softmax"))
			_ = m.Initialize(1, model.InitAuto)
			opt, _ := optim.New[float32](optim.Defaults(optim.Momentum), len(m.Params))
			tr, _ := New(m, opt, Config{Workers: 1, Loss: model.CrossEntropy, NoLayerStats: !on})
			_ = tr.Run(context.Background(), func(s *Session[float32]) error {
				g := s.grads()[0]
				for i := range g {
					g[i] = 1e-3 * float32(i%7-3)
				}
				s.task.coef = 1
				b.ReportAllocs()
				c0 := threadCPU()
				for b.Loop() {
					opt.BeginLR(1e-6)
					tr.runPhase(0, phaseApply, &s.task)
				}
				cpu := threadCPU() - c0
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(m.Params)), "ns/param")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(len(m.Params)), "cpu-ns/param")
				return nil
			})
		})
	}
}

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
